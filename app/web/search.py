"""Global search: one query text, every entity the user may read, results grouped by entity.

Each entity is searched in its title field and its `list.search` paths, through
the scoped query layer (`Records`): rows out of the user's read scope never
match, and a path the user may not see (a hidden field, or a field of a linked
record they may not read) is neither searched nor shown. The text is normalised
as typed values are (NFKC: full-width letters and digits become plain ones;
trimmed, inner spaces collapsed), then per field as that field's normalisers
store values (a phone typed `138 0013 8000` is looked for as `+8613800138000`,
and as its digits), and matched case-insensitively as a substring. A `choice` field also matches by its
labels in the user's language (searching "Online" finds 线上咨询 labelled "Online inquiry").

Bounded: one SELECT per readable entity, each with LIMIT `per_entity + 1` (the
extra row says "more"), so the statement count depends on the metadata, never on
the data.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa

from app.fieldtypes import field_type
from app.metadata.spec import EntitySpec, FieldSpec
from app.records.normalise import NormaliseError, normalise_value
from app.security.scoped import Records

# Field types whose stored value is text a search can match.
USER_COLUMNS = ("username", "first_name", "last_name")
PER_ENTITY = 5
MAX_PER_ENTITY = 50
MAX_QUERY = 200  # characters; longer text is cut, not refused


def normalise_query(raw: Any) -> str:
    """The text as fields store it: NFKC (全角 → half-width), trimmed, single spaces."""
    text = unicodedata.normalize("NFKC", str(raw or ""))
    return re.sub(r"\s+", " ", text).strip()[:MAX_QUERY]


@dataclass
class Hit:
    id: Any
    title: str
    url: str


@dataclass
class Group:
    """One entity's matches: its name and label, the first hits, and whether there are more."""

    entity: str
    label: str
    hits: list[Hit] = field(default_factory=list)
    more: bool = False

    def as_json(self, query: str) -> dict[str, Any]:
        return {"entity": self.entity, "label": self.label, "more": self.more,
                "list_url": f"/crm/{self.entity}/list/?" + urlencode({"q": query}),
                "results": [{"id": h.id, "title": h.title, "url": h.url} for h in self.hits]}


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_paths(entity: EntitySpec) -> list[str]:
    """The title field, then the entity's search fields, each once."""
    return list(dict.fromkeys([entity.title_field, *entity.list.search]))


def variants(f: FieldSpec | None, text: str) -> list[str]:
    """What to look for in one field: the text, and the text as the field's normalisers store it
    (`138 0013 8000` → `+8613800138000`); for a phone, its digits too (a part of a number)."""
    found = [text]
    if f is not None and f.normalise:
        try:
            value = normalise_value(f, text)
        except NormaliseError:  # a part of a value (half a phone number) is not a value: the text stays
            value = None
        if isinstance(value, str) and value:
            found.append(value)
    if f is not None and f.type == "phone":
        digits = re.sub(r"\D", "", text)
        if len(digits) >= 3:
            found.append(digits)
    return list(dict.fromkeys(found))


def _like(column: Any, f: FieldSpec | None, text: str, lang: str = "en") -> Any:
    """The column contains the text (or a normalised variant); a choice column also matches
    the values whose label in the user's language contains it."""
    matches = [column.ilike(f"%{_escape_like(v)}%", escape="\\") for v in variants(f, text)]
    labelled = f.values_labelled(text, lang) if f is not None and f.type == "choice" else []
    if labelled:
        matches.append(column.in_(labelled))
    return sa.or_(*matches)


def _clause(access: Any, models: Any, entity: EntitySpec, path: str, text: str, lang: str = "en") -> Any:
    """`path` contains the text, or None when the path cannot be searched (or seen)."""
    if access is not None and access.path_hidden(models.spec, entity, path):
        return None
    model = models.model(entity.name)
    head, _, tail = path.partition(".")
    f: FieldSpec | None = entity.field_map.get(head)
    if f is None and not tail:
        column = getattr(model, head, None)  # a built-in column (id, created_on...) is not text
        return None if column is None else _like(sa.cast(column, sa.String), None, text)
    if f is None or not f.has_column:
        return None
    if not tail:
        if not field_type(f.type).searchable:
            return None
        return _like(getattr(model, f.column_name), f, text, lang)
    if f.type == "user":
        if tail not in USER_COLUMNS:
            return None
        user = models.user_model
        inner = sa.select(user.id).where(_like(getattr(user, tail), None, text))
        return getattr(model, f.column_name).in_(inner)
    if f.type != "link":
        return None
    target = models.spec.entity(f.target)
    leaf = target.field_map.get(tail)
    if leaf is None or not leaf.has_column or not field_type(leaf.type).searchable:
        return None
    target_model = models.model(target.name)
    inner = sa.select(target_model.id).where(_like(getattr(target_model, leaf.column_name), leaf, text, lang))
    # matching through a linked record the user may not read would reveal it
    return getattr(model, f.column_name).in_(Records(access, models, target.name).where(inner))


def _title_column(entity: EntitySpec, model: Any, access: Any) -> Any:
    title = entity.field_map.get(entity.title_field)
    if title is None or not title.has_column or title.is_link:
        return None
    if access is not None and entity.title_field in access.hidden_fields(entity):
        return None
    return getattr(model, title.column_name)


def search(session: Any, access: Any, models: Any, raw: Any, per_entity: int = PER_ENTITY, lang: str = "en",
           entities: list[str] | None = None) -> tuple[str, list[Group]]:
    """(normalised text, groups with at least one hit), entities in metadata order.

    `access=None` searches unrestricted (CLI); a request passes the user's Access.
    """
    text = normalise_query(raw)
    if not text:
        return text, []
    per_entity = max(1, min(int(per_entity), MAX_PER_ENTITY))
    groups: list[Group] = []
    for entity in models.spec.entities:
        if entities is not None and entity.name not in entities:
            continue
        if access is not None and access.scope(entity.name, "read") == "no":
            continue
        clauses = [c for c in (_clause(access, models, entity, p, text, lang) for p in search_paths(entity))
                   if c is not None]
        if not clauses:
            continue
        model = models.model(entity.name)
        title = _title_column(entity, model, access)
        records = Records(access, models, entity.name)
        columns = [model.id] + ([title] if title is not None else [])
        stmt = records.select(*columns).where(sa.or_(*clauses)).order_by(model.id.desc()).limit(per_entity + 1)
        rows = session.execute(stmt).all()
        if not rows:
            continue
        group = Group(entity.name, entity.plural.get(lang), more=len(rows) > per_entity)
        for row in rows[:per_entity]:
            shown = _shown_title(entity, row[1] if title is not None else None, lang)
            group.hits.append(Hit(row[0], shown or f"#{row[0]}", f"/crm/{entity.name}/show/{row[0]}"))
        groups.append(group)
    return text, groups


def _shown_title(entity: EntitySpec, value: Any, lang: str) -> str:
    if value in (None, ""):
        return ""
    f = entity.field_map.get(entity.title_field)
    return f.choice_label(str(value), lang) if f is not None and f.type == "choice" else str(value)

