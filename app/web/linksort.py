"""A list sorted on a link, user or text column: by what its cell shows, in the reader's language.

FAB orders by the relationship itself (an error), so both read paths (the plain rows of
app/web/listread.py and `CrmInterface.query`) order such a column by a `ListSort`: a link or
user by the linked record's title (a user's full name, else username, as the user cell shows),
read through a LEFT JOIN of the target with its read scope in the join condition (as
`Records.on` joins links), the id as the tie breaker. A target the user may not read does not
join and sorts as NULL: its hidden title never shows through the order; restricted and empty
links sort together, first ascending and last descending on every database. The join replaced a
correlated subquery per row: 2.5-3x less database time on a sort of 100k and 1M rows (bench/README.md).

Text (a field type that `sorts_as_text`, and link titles) sorts in the collation of the reader's
language (app/i18n/collation.py: `COLLATE "zh-x-icu"` for zh, pinyin order); with none, a
text column keeps FAB's own order. The user picker orders by the same `user_title`.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import aliased

from app.fieldtypes import field_type
from app.i18n.collation import collated, collation_for

from .labels import current_lang


def reader_collation() -> str | None:
    """The collation this reader's text sorts in (their UI language's, `current_lang`: a request's,
    or the one an export job recorded); None: the database's order."""
    return collation_for(current_app.config, current_lang())


def user_title(user: Any) -> Any:
    """A user as the app shows them (`UserRefBase.__str__`) in SQL: "first last", else the username."""
    full = sa.func.trim(sa.func.coalesce(user.first_name, "") + " " + sa.func.coalesce(user.last_name, ""))
    return sa.func.coalesce(sa.func.nullif(full, ""), user.username)


class ListSort:
    """ORDER BY one column: its key, the outer join the key reads (a link's target) and where NULLs go."""

    def __init__(self, key: Any | None, join: tuple[Any, Any] | None = None, nulls_first: bool = True):
        self.key, self.join, self.nulls_first = key, join, nulls_first

    def apply(self, stmt: Any, order_direction: str, pk: Any) -> Any:
        """`stmt` (a Select or an ORM Query) joined to what the key reads and ordered by it, then the id
        (the id alone when there is no key: PostgreSQL refuses `ORDER BY NULL`)."""
        if self.join is not None:
            stmt = stmt.outerjoin(*self.join)
        if self.key is None:
            return stmt.order_by(pk.asc() if order_direction == "asc" else pk.desc())
        if order_direction == "asc":
            key = self.key.asc().nulls_first() if self.nulls_first else self.key.asc()
            return stmt.order_by(key, pk.asc())
        key = self.key.desc().nulls_last() if self.nulls_first else self.key.desc()
        return stmt.order_by(key, pk.desc())


def list_sort(model: Any, name: str, access: Any, collation: str | None) -> ListSort | None:
    """How `model`'s list orders by column `name` for this user and collation, or None for FAB's order."""
    if not name:
        return None
    prop = sa.inspect(model).relationships.get(name)
    if prop is not None:
        return _link_sort(prop, name, access, collation)
    entity = getattr(model, "__entity__", None)
    f = entity.field_map.get(name) if entity is not None else None
    if collation is None or f is None or not field_type(f.type).sorts_as_text \
            or name not in sa.inspect(model).column_attrs:
        return None
    return ListSort(collated(getattr(model, name), collation), nulls_first=False)


def _link_sort(prop: Any, name: str, access: Any, collation: str | None) -> ListSort | None:
    if prop.uselist or len(prop.local_columns) != 1:
        return None
    target = prop.mapper.class_
    alias = aliased(target, name=f"sort_{name}")
    fk = next(iter(prop.local_columns))
    on = alias.id == fk
    entity = getattr(target, "__entity__", None)
    if entity is None:  # a user: "first last", else the username
        title: Any = user_title(alias)
    else:
        column = entity.title_field if entity.title_field in sa.inspect(target).column_attrs else "id"
        title = getattr(alias, column)
        scope = access.scope(entity.name, "read")
        if scope == "no" or (access.user_id is None and scope != "all"):
            return ListSort(None)  # no title to read: every key would be NULL, the ids' order
        clause = None if scope == "all" else access.scope_condition(entity.name, "read", alias)
        on = on if clause is None else sa.and_(on, clause)  # out of scope: no row joins, the key is NULL
        f = entity.field_map.get(column)
        if f is None or not field_type(f.type).sorts_as_text:  # an id, number or date: no collation
            return ListSort(title, (alias, on))
    return ListSort(collated(title, collation), (alias, on))
