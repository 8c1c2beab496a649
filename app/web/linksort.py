"""A list sorted on a link or user column: by the target's title, as its cell shows it.

FAB orders by the relationship itself (an error), so both read paths (the plain rows of
app/web/listread.py and `CrmInterface.query`) order such a column by `link_sort_key`: a
scalar subquery of the linked record's title (a user's full name, else username, as the user
cell shows), with the id as the tie breaker. A target the user may not read sorts as NULL
(`CASE WHEN <may read> THEN title END`, the condition from the security layer): its hidden title
never shows through the order; restricted and empty links sort together, first ascending and
last descending on every database.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased


def link_sort_key(model: Any, name: str, access: Any) -> Any:
    """The sort key of the to-one link or user `name` of `model`, or None when `name` is not one."""
    prop = sa.inspect(model).relationships.get(name) if name else None
    if prop is None or prop.uselist or len(prop.local_columns) != 1:
        return None
    target = prop.mapper.class_
    alias = aliased(target, name=f"sort_{name}")
    entity = getattr(target, "__entity__", None)
    if entity is None:  # a user: "first last", else the username
        full = sa.func.trim(sa.func.coalesce(alias.first_name, "") + " " + sa.func.coalesce(alias.last_name, ""))
        title: Any = sa.func.coalesce(sa.func.nullif(full, ""), alias.username)
    else:
        column = entity.title_field if entity.title_field in sa.inspect(target).column_attrs else "id"
        title = readable_only(access, entity.name, alias, getattr(alias, column))
    fk = next(iter(prop.local_columns))
    return sa.select(title).where(alias.id == fk).scalar_subquery()


def readable_only(access: Any, entity: str, alias: Any, value: Any) -> Any:
    """`value` where the user may read the row of `alias`, else NULL."""
    scope = access.scope(entity, "read")
    if scope == "no" or access.user_id is None:
        return value if scope == "all" else sa.null()
    clause = None if scope == "all" else access.scope_condition(entity, "read", alias)
    return value if clause is None else sa.case((clause, value))


def link_order(key: Any, order_direction: str, pk: Any) -> list[Any]:
    """ORDER BY terms: the key (NULLs as the smallest value) then the id, both in `order_direction`."""
    if order_direction == "asc":
        return [key.asc().nulls_first(), pk.asc()]
    return [key.desc().nulls_last(), pk.desc()]
