"""Field rules applied to what a response shows: hidden fields never leave the server.

FAB fixes columns, forms and schemas at start-up; these helpers cut them
per request from the user's Access, for lists, record pages, forms, API
bodies (including the body a PUT returns), filters, ordering and exports.
"""

from __future__ import annotations

from typing import Any

from app.metadata.spec import CrmSpec, EntitySpec
from app.security.access import Access

from .schemas import weighted


def visible(spec: CrmSpec, entity: EntitySpec, columns: list[str], access: Access) -> list[str]:
    """The columns (fields or link.field paths) this user may see."""
    return [c for c in columns if not access.path_hidden(spec, entity, c)]


def hidden_keys(entity: EntitySpec, access: Access) -> frozenset[str]:
    """The keys a record's JSON loses for this user: hidden fields and what derives from them.
    Worked out once per request and entity (a list strips every row with the same set)."""
    key = ("hidden_keys", entity.name)
    if key not in access._cache:
        hidden = set(access.hidden_fields(entity))
        pair = weighted(entity)
        if pair and hidden & set(pair):  # a derived value would reveal what it is made of
            hidden.add(f"weighted_{pair[0]}")
        access._cache[key] = frozenset(hidden)
    return access._cache[key]  # type: ignore[no-any-return]


def strip_hidden(entity: EntitySpec, data: dict[str, Any], access: Access) -> dict[str, Any]:
    hidden = hidden_keys(entity, access)
    return {k: v for k, v in data.items() if k not in hidden} if hidden else data


def refused_columns(spec: CrmSpec, entity: EntitySpec, columns: list[str], access: Access) -> list[str]:
    """Columns a request names (filter, order, select) that the user may not see."""
    return [c for c in columns if c and access.path_hidden(spec, entity, c)]
