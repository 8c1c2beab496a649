"""A list page read as plain rows (tuples) and turned straight into the API list's JSON.

The ORM path (`CrmInterface.query` then the compiled marshmallow dump) builds a record
object per row and per linked record, and each ORM statement pays its compile state and
result set-up: about 3 ms of a JSON list's ~8 ms of CPU (bench/README.md, bench_pages).
Here the same page is one SELECT of the columns the schema shows and the user may see
(hidden fields are never read), each link's id and its target's title columns LEFT JOINed
with a flag saying whether the user may read the target (the target's read scope as SQL:
a record out of scope keeps its id and shows "(restricted)", as `linktitles.link_title`
does), formula columns as their SQL expression. Filters, row scope, order and paging are
FAB's and `CrmInterface.query`'s own (the page's ids cut in a subquery, the capped count):
only the reading of rows and their serialization differ. Values go through each
marshmallow field's own `_serialize`, so money, dates, decimals and choices format exactly
as before. `tests/test_api_listread.py` compares both paths' JSON (setting
`CRM_API_LIST_READ=orm` keeps the old one).

A schema with a field this reader does not know how to read (to-many links, a plugin's
computed `Function` field, a dotted attribute) is not covered: `read_page` answers None and
the caller uses the ORM path. The HTML list can use `read_page`'s rows later; it is wired to
the API list only.
"""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.utils.base import is_column_dotted
from marshmallow import Schema, fields
from sqlalchemy.orm import aliased

from app.metadata.spec import EntitySpec
from app.security.scoped import RESTRICTED
from app.security.scopes import scope_clause

from .counting import ListCount, capped_count, count_cap, page_count
from .fieldrules import hidden_keys
from .labels import current_lang
from .schemas import weighted

# A step of a plan: (JSON key, kind, data). kind "value": a mapped column serialized by its field;
# "link": a link or user field ({id, title}); "object": a Function field computed from the row.
Step = tuple[str, str, Any]


def _plan(entity: EntitySpec, schema: Schema, model: Any) -> list[Step] | None:
    """How each of the schema's fields is read from a row, or None when one is not covered.
    Worked out once per schema (kept on it)."""
    cached = schema.__dict__.get("_crm_list_plan", False)
    if cached is not False:
        return cached  # type: ignore[no-any-return]
    plan = _make_plan(entity, schema, model)
    schema.__dict__["_crm_list_plan"] = plan
    return plan


def _make_plan(entity: EntitySpec, schema: Schema, model: Any) -> list[Step] | None:
    from .dumping import _compile  # the same shortcut rules: no hooks, no `many`
    if _compile(schema) == schema.dump:
        return None
    mapper = sa.inspect(model)
    pair = weighted(entity)
    steps: list[Step] = []
    for name, field in schema.dump_fields.items():
        if field.data_key not in (None, name) or field.attribute not in (None, name):
            return None
        f = entity.field_map.get(name)
        if type(field) is fields.Nested and f is not None and f.type in ("link", "user") \
                and name in mapper.relationships:
            prop = mapper.relationships[name]
            if prop.uselist or len(prop.local_columns) != 1:
                return None
            target = prop.mapper.class_
            target_entity = getattr(target, "__entity__", None)
            if target_entity is not None:
                title = target_entity.field_map.get(target_entity.title_field)
                if target_entity.title_field != "id" and (title is None or title.is_link or title.is_many
                                                          or target_entity.title_field not in
                                                          sa.inspect(target).column_attrs):
                    return None
            steps.append((name, "link", (next(iter(prop.local_columns)), target, target_entity)))
        elif isinstance(field, fields.Function):
            if pair and name == f"weighted_{pair[0]}" or f is not None and f.type == "multichoice":
                steps.append((name, "object", field))
            else:
                return None  # a plugin's computed field may read anything of the record
        elif field._CHECK_ATTRIBUTE and name in mapper.column_attrs and not isinstance(field, fields.Nested):
            steps.append((name, "value", field))
        else:
            return None
    return steps


def _link_columns(access: Any, target: Any, target_entity: EntitySpec | None, alias: Any) -> list[Any]:
    """The target's id, its title columns and (records only) 1/0: may the user read it."""
    if target_entity is None:  # a user: its name, readable by everyone who sees the link
        return [alias.id, alias.first_name, alias.last_name, alias.username]
    title = target_entity.title_field
    columns = [alias.id, getattr(alias, title)]
    scope = access.scope(target_entity.name, "read")
    if scope == "no" or access.user_id is None:
        readable: Any = sa.literal(1 if scope == "all" else 0, sa.Integer())
    else:
        clause = None if scope == "all" else scope_clause(access, scope, alias)
        readable = sa.literal(1, sa.Integer()) if clause is None else \
            sa.case((clause, sa.literal(1, sa.Integer())), else_=sa.literal(0, sa.Integer()))
    return [*columns, readable]


def _link_reader(target_entity: EntitySpec | None, at: int, restricted: str) -> Callable[[Any], Any]:
    if target_entity is None:
        def user(row: Any) -> Any:
            pk = row[at]
            if pk is None:
                return None
            full = f"{row[at + 1] or ''} {row[at + 2] or ''}".strip()
            return {"id": int(pk), "title": str(full or row[at + 3])}
        return user

    def record(row: Any) -> Any:
        pk = row[at]
        if pk is None:
            return None
        if not row[at + 2]:
            return {"id": int(pk), "title": restricted}
        value = row[at + 1]
        return {"id": int(pk), "title": str(value) if value not in (None, "") else f"#{pk}"}
    return record


def read_page(datamodel: Any, entity: EntitySpec, schema: Schema, filters: Any, order_column: str,
              order_direction: str, page: int, page_size: int,
              access: Any) -> tuple[ListCount, list[Any], list[dict[str, Any]]] | None:
    """(count, ids, result) of a list page as the API returns them, or None when the schema
    has a field this reader does not cover (the caller then reads through the ORM)."""
    model = datamodel.obj
    plan = _plan(entity, schema, model)
    if plan is None:
        return None
    hidden = hidden_keys(entity, access)
    steps = [s for s in plan if s[0] not in hidden]
    session = datamodel.session
    offset = (page or 0) * page_size
    ids_query = SQLAInterface.apply_all(datamodel, session.query(model), filters, order_column, order_direction)
    ids_query = ids_query.offset(offset).limit(page_size + 1)  # one more: is there a next page?

    columns: list[Any] = [model.id]
    joins: list[tuple[Any, Any]] = []
    readers: list[tuple[str, str, Any]] = []
    extra: dict[str, int] = {}
    restricted = RESTRICTED.get(current_lang())
    for key, kind, data in steps:
        if kind == "link":
            fk, target, target_entity = data
            alias = aliased(target, name=f"link_{key}")
            readers.append((key, "link", _link_reader(target_entity, len(columns), restricted)))
            columns += _link_columns(access, target, target_entity, alias)
            joins.append((alias, fk == alias.id))
        elif kind == "value":
            readers.append((key, "value", (len(columns), data)))
            columns.append(getattr(model, key))
        else:  # computed from the row object: its own column too when it has one (multichoice)
            readers.append((key, "object", data))
            if key in model.__mapper__.column_attrs:
                extra[key] = len(columns)
                columns.append(getattr(model, key))
    values_at = {**{key: data[0] for key, kind, data in readers if kind == "value"}, **extra}

    stmt = sa.select(*columns).select_from(model)
    sorted_in_sql = bool(order_column) and not is_column_dotted(order_column)
    if sorted_in_sql:  # the page's ids and their rows in one statement, sorted again the same way
        page_ids = ids_query.with_entities(model.id).subquery()
        stmt = stmt.join(page_ids, page_ids.c.id == model.id)
    for alias, condition in joins:
        stmt = stmt.outerjoin(alias, condition)
    if sorted_in_sql:
        rows = session.execute(SQLAInterface.apply_order_by(datamodel, stmt, order_column, order_direction,
                                                            add_pk=True)).all()
    else:
        ids = [row[0] for row in ids_query.with_entities(model.id)]
        by_id = {row[0]: row for row in session.execute(stmt.where(model.id.in_(ids))).all()} if ids else {}
        rows = [by_id[i] for i in ids if i in by_id]

    has_next, rows = len(rows) > page_size, rows[:page_size]
    result = [_dump(row, readers, values_at) for row in rows]
    ids_out = [row[0] for row in rows]
    if not has_next and (rows or not offset):  # the last page: the total is known, no count
        return ListCount(offset + len(rows)), ids_out, result
    base = ids_query.with_entities(model.id).offset(None).limit(None)
    counted = capped_count(session, base, count_cap())
    return page_count(counted, offset, len(rows), has_next), ids_out, result


def _dump(row: Any, readers: list[tuple[str, str, Any]], values_at: dict[str, int]) -> dict[str, Any]:
    """One row as the compiled schema dumps its record (fields in the schema's order)."""
    obj = SimpleNamespace(**{key: row[at] for key, at in values_at.items()})
    obj.id = row[0]
    out: dict[str, Any] = {}
    for key, kind, data in readers:
        if kind == "value":
            at, field = data
            out[key] = field._serialize(row[at], key, obj)
        elif kind == "link":
            out[key] = data(row)
        else:
            out[key] = data._serialize(None, key, obj)
    return out
