"""A row's cells as the typed values a record command takes.

Text goes through the same `parse_value` as the API; on top, what people put in
spreadsheets: choice labels in any language (`官网` for web), Excel dates (a date
cell or a serial number), 是/否, a link by its target's title (or a unique field the
import names), a user by login or display name. An empty cell sets nothing.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from app.metadata.spec import EntitySpec, FieldSpec
from app.records.parse import FieldValueError, parse_value

from .files import cell_text
from .mapping import ImportPlan
from .messages import text

EXCEL_EPOCH = dt.datetime(1899, 12, 30)
TRUE_WORDS = {"true", "yes", "y", "1", "是", "真", "对", "✓"}
FALSE_WORDS = {"false", "no", "n", "0", "否", "假", "错", "✗"}
DATE_SEPARATORS = re.compile(r"^(\d{4})[/.年-](\d{1,2})[/.月-](\d{1,2})日?(.*)$")
LIST_SPLIT = re.compile(r"\s*[;；\n]\s*")


class CellReader:
    """Turns the cells of one import's rows into values and errors, by field."""

    def __init__(self, ctx: Any, entity: EntitySpec, plan: ImportPlan, lang: str | None):
        self.ctx, self.entity, self.plan, self.lang = ctx, entity, plan, lang
        self.columns = plan.field_columns()
        self._targets: dict[tuple[str, str], Any] = {}
        self._target_keys: dict[str, tuple[EntitySpec, FieldSpec | None]] = {}  # link field -> `_target_key`
        self._users: dict[str, list[int]] | None = None

    def read(self, cells: list[Any]) -> tuple[dict[str, Any], dict[str, list[str]]]:
        values: dict[str, Any] = {}
        errors: dict[str, list[str]] = {}
        for name, index in self.columns.items():
            raw = cells[index] if index < len(cells) else ""
            if raw == "" or raw is None:
                continue
            f = self.entity.field(name)
            try:
                values[name] = self.value(f, raw)
            except FieldValueError as exc:
                errors[name] = [str(exc)]
        return values, errors

    def value(self, f: FieldSpec, raw: Any) -> Any:
        if f.type in ("link", "links"):
            ids = [self._target(f, name) for name in self.link_names(f, raw)]
            if f.type == "link":
                return ids[0] if ids else None  # a cell of spaces: no link (it was an IndexError)
            return ids
        if f.type == "user":
            return self._user(cell_text(raw).strip())
        if f.type in ("date", "datetime"):
            return parse_value(f, _moment_text(f, raw), self.lang)
        if f.type == "boolean":
            word = cell_text(raw).strip().casefold()
            if isinstance(raw, bool):
                return raw
            if word in TRUE_WORDS or word in FALSE_WORDS:
                return word in TRUE_WORDS
            return parse_value(f, word, self.lang)
        if f.type == "choice":
            return parse_value(f, _choice(f, cell_text(raw).strip()), self.lang)
        if f.type == "multichoice":
            items = [p for p in re.split(r"\s*[;；,，\n]\s*", cell_text(raw).strip()) if p]
            return parse_value(f, [_choice(f, p) for p in items], self.lang)
        if f.type in ("decimal", "money", "percent") and isinstance(raw, float):
            return parse_value(f, str(Decimal(repr(raw))), self.lang)
        return parse_value(f, cell_text(raw) if f.type == "text" else cell_text(raw).strip(), self.lang)

    # -- links by natural key ------------------------------------------------------------
    @staticmethod
    def link_names(f: FieldSpec, raw: Any) -> list[str]:
        """The target names a link cell holds (several, `;`-separated, for a links field)."""
        parts = [raw] if f.type == "link" else LIST_SPLIT.split(cell_text(raw).strip())
        return [cell_text(p).strip() for p in parts if cell_text(p).strip()]

    def _target_key(self, f: FieldSpec) -> tuple[EntitySpec, FieldSpec | None]:
        """The target entity and the field a cell names it by (None: the entity is titled by its id);
        worked out once a link field (asked for every name a batch resolves)."""
        found = self._target_keys.get(f.name)
        if found is None:
            target = self.ctx.models.spec.entity(f.target)
            key = self.plan.link_keys.get(f.name) or target.title_field
            found = self._target_keys[f.name] = (target, target.field(key) if key in target.field_map else None)
        return found

    def _cache_key(self, f: FieldSpec, value: str) -> tuple[str, str]:
        tf = self._target_key(f)[1]
        return f.name, value.casefold() if tf is not None and tf.unique_ignore_case else value

    def _target(self, f: FieldSpec, value: str) -> int:
        key = self._cache_key(f, value)
        if key not in self._targets:
            self._targets[key] = self._find_target(f, value)
        found = self._targets[key]
        if isinstance(found, FieldValueError):
            raise found
        return found

    def _search(self, f: FieldSpec, values: list[str]) -> dict[str, list[int]]:
        """Ids (up to 3) of the records each value names, among those the user may read."""
        target, tf = self._target_key(f)
        assert tf is not None
        model = self.ctx.models.model(target.name)
        column = getattr(model, tf.column_name)
        if tf.unique_ignore_case:
            stmt = sa.select(model.id, sa.func.lower(column)).where(
                sa.func.lower(column).in_(sorted({v.casefold() for v in values})))
        else:
            stmt = sa.select(model.id, column).where(column.in_(values))
        if self.ctx.access is not None:  # a record the user cannot read is not found
            stmt = self.ctx.access.records(self.ctx.models, target.name).where(stmt)
        found: dict[str, list[int]] = {}
        for record_id, value in self.ctx.session.execute(stmt.order_by(model.id)):
            ids = found.setdefault(str(value).casefold() if tf.unique_ignore_case else str(value), [])
            if len(ids) < 3:
                ids.append(record_id)
        return found

    def _answer(self, f: FieldSpec, value: str, ids: list[int]) -> Any:
        label = self.ctx.models.spec.entity(f.target).label.get(self.lang)
        if not ids:
            return FieldValueError(text("no_target", self.lang, entity=label, value=value))
        if len(ids) > 1:
            return FieldValueError(text("many_targets", self.lang, n=len(ids), entity=label, value=value))
        return ids[0]

    def _find_target(self, f: FieldSpec, value: str) -> Any:
        target, tf = self._target_key(f)
        if tf is None:  # an entity titled by its id: the id itself
            return int(value) if value.isascii() and value.isdigit() and len(value) < 19 else FieldValueError(
                text("no_target", self.lang, entity=target.label.get(self.lang), value=value))
        return self._answer(f, value, self._search(f, [value]).get(self._cache_key(f, value)[1], []))

    def prefetch_targets(self, f: FieldSpec, names: set[str]) -> set[int]:
        """Resolve the names not resolved yet in one query; the ids all of `names` found."""
        if self._target_key(f)[1] is None:
            return set()
        missing = sorted({n for n in names if self._cache_key(f, n) not in self._targets})
        if missing:
            found = self._search(f, missing)
            for name in missing:
                key = self._cache_key(f, name)
                self._targets[key] = self._answer(f, name, found.get(key[1], []))
        return {found for n in names if isinstance(found := self._targets[self._cache_key(f, n)], int)}

    # -- users by login or name ----------------------------------------------------------
    def _user(self, value: str) -> int:
        if self._users is None:
            self._users = {}
            user = self.ctx.models.user_model
            for u in self.ctx.session.scalars(sa.select(user)):
                first, last = (u.first_name or "").strip(), (u.last_name or "").strip()
                for name in {u.username, f"{first} {last}".strip(), f"{last}{first}", f"{first}{last}",
                             f"{last} {first}".strip()}:
                    if name:
                        self._users.setdefault(name.casefold(), []).append(u.id)
        ids = sorted(set(self._users.get(value.casefold(), [])))
        if len(ids) != 1:
            raise FieldValueError(text("no_user", self.lang, value=value))
        return ids[0]


def _choice(f: FieldSpec, value: str) -> str:
    """A choice's value from its value or any of its labels (case ignored)."""
    folded = value.casefold()
    for choice in f.choices:
        if folded == choice.value.casefold() or any(folded == label.casefold() for _, label in choice.label.values):
            return choice.value
    return value


def _moment_text(f: FieldSpec, raw: Any) -> str:
    """ISO text of a date cell, an Excel serial number, or a date typed with / . or 年月日."""
    if isinstance(raw, (int, float)) and not isinstance(raw, bool) and 1 <= raw < 2958466:
        raw = EXCEL_EPOCH + dt.timedelta(days=float(raw))
    if isinstance(raw, dt.datetime):
        return raw.date().isoformat() if f.type == "date" else raw.isoformat()
    if isinstance(raw, dt.date):
        return raw.isoformat()
    value = cell_text(raw).strip()
    match = DATE_SEPARATORS.match(value)
    if match:
        year, month, day, rest = match.groups()
        value = f"{int(year):04d}-{int(month):02d}-{int(day):02d}" + (("T" + rest.strip()) if rest.strip() else "")
    return value
