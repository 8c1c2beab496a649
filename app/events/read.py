"""Read the outbox back: decoded changes (for the worker) and field history (for people)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from app.fieldtypes import field_type
from app.i18n import translate
from app.metadata.spec import EntitySpec, FieldSpec
from app.security.scoped import Records

from .values import from_json


@dataclass
class Change:
    """One outbox event, values decoded to what the fields hold."""

    id: int
    entity: str
    record_id: int
    kind: str  # created | updated | deleted
    changes: dict[str, tuple[Any, Any]]  # field -> (old, new)
    actor_id: int | None
    automation: str | None
    depth: int
    created_on: dt.datetime

    def old(self, name: str) -> Any:
        return self.changes[name][0] if name in self.changes else None

    def new(self, name: str) -> Any:
        return self.changes[name][1] if name in self.changes else None


def decode(row: Any, entity: EntitySpec) -> Change:
    raw = json.loads(row.changes)
    changes = {name: (from_json(entity.field_map.get(name), pair[0]), from_json(entity.field_map.get(name), pair[1]))
               for name, pair in raw.items()}
    return Change(row.id, row.entity, row.record_id, row.kind, changes, row.actor_id, row.automation,
                  row.depth or 0, row.created_on)


def record_events(session: Any, table: sa.Table, entity: str, record_id: int) -> list[Any]:
    return list(session.execute(sa.select(table).where(table.c.entity == entity, table.c.record_id == record_id)
                                .order_by(table.c.id)))


def field_history(session: Any, models: Any, entity: EntitySpec, record_id: int, access: Any = None,
                  lang: str | None = None) -> list[dict[str, Any]]:
    """Who changed which field when, old → new, oldest first; fields hidden from `access` left out."""
    table = models.core["crm_event"]
    user = models.user_model
    hidden = set(access.hidden_fields(entity)) if access is not None else set()
    rows = session.execute(
        sa.select(table, user.username, user.first_name, user.last_name)
        .outerjoin(user, user.id == table.c.actor_id)
        .where(table.c.entity == entity.name, table.c.record_id == record_id)
        .order_by(table.c.id)).all()
    names = _user_names(session, user, entity, rows)
    titles = _link_titles(session, models, entity, rows, access, lang)
    shown = _Shown(models.spec, lang, names, titles)
    result = []
    for row in rows:
        full = f"{row.first_name or ''} {row.last_name or ''}".strip() or row.username
        for name, (old, new) in json.loads(row.changes).items():
            if name in hidden or name not in entity.field_map:
                continue
            f = entity.field(name)
            result.append({
                "event": row.id, "kind": row.kind, "on": row.created_on.isoformat(), "field": name,
                "label": f.label.get(lang), "old": old, "new": new,
                "old_text": shown(f, old), "new_text": shown(f, new),
                "by": row.automation and f"⚙ {row.automation}" or full, "by_username": row.username,
                "automation": row.automation,
            })
    return result


def _user_names(session: Any, user: Any, entity: EntitySpec, rows: list[Any]) -> dict[Any, str]:
    """Display names of the users that user fields (the owner too) held in these events, in one query."""
    user_fields = {f.name for f in entity.field_map.values() if f.type == "user"}
    ids: set[int] = set()
    for row in rows:
        for name, pair in json.loads(row.changes).items():
            if name in user_fields:
                ids.update(v for v in pair if isinstance(v, int) and not isinstance(v, bool))
    if not ids:
        return {}
    found = session.execute(sa.select(user.id, user.username, user.first_name, user.last_name)
                            .where(user.id.in_(ids))).all()
    return {u.id: f"{u.first_name or ''} {u.last_name or ''}".strip() or u.username for u in found}


def _link_titles(session: Any, models: Any, entity: EntitySpec, rows: list[Any], access: Any,
                 lang: str | None) -> dict[tuple[str, Any], str]:
    """Titles of the records that link fields held in these events, one query per linked entity,
    as `access` may see them (out of scope: `#12 (restricted)`, never the title)."""
    links = {f.name: f.to for f in entity.field_map.values() if f.type in ("link", "links") and f.to}
    wanted: dict[str, set[Any]] = {}
    for row in rows:
        for name, pair in json.loads(row.changes).items():
            if name in links:
                for value in pair:
                    ids = value if isinstance(value, list) else [value]
                    wanted.setdefault(links[name], set()).update(i for i in ids if isinstance(i, int))
    titles: dict[tuple[str, Any], str] = {}
    for target, ids in wanted.items():
        found = Records(access, models, target).titles(session, ids, lang)
        titles.update(((target, pk), title) for pk, title in found.items())
    return titles


@dataclass
class _Shown:
    """A stored value as the record page shows it, as plain text: each field type's own text
    (¥1,280.00, 25%, a choice's label, a moment on the CRM's clock), people by name, links by title."""

    spec: Any
    lang: str | None
    names: dict[Any, str]
    titles: dict[tuple[str, Any], str]

    def __call__(self, f: FieldSpec, value: Any) -> str:
        if value is None or value == "" or value == []:
            return "—"
        if f.type == "user":  # people by name, as the history's "by" column
            return self.names.get(value, str(value))
        if f.type in ("link", "links"):
            ids = value if isinstance(value, list) else [value]
            return ", ".join(self.titles.get((f.to or "", pk), f"#{pk}") for pk in ids)
        if isinstance(value, bool):
            return translate("yes" if value else "no", self.lang)
        try:
            typed = from_json(f, value)
            return field_type(f.type).card_text(f, typed, self.spec, self.lang or "en")
        except (ArithmeticError, TypeError, ValueError):  # a value an older field type stored
            return str(value)
