"""A list page read as plain rows (tuples) and turned straight into the API list's JSON.

The ORM path (`CrmInterface.query` then the compiled marshmallow dump) builds a record
object per row and per linked record, and each ORM statement pays its compile state and
result set-up: about 3 ms of a JSON list's ~8 ms of CPU (bench/README.md, bench_pages).
Here the same page is one SELECT of the columns the schema shows and the user may see
(hidden fields are never read), each link's id and its target's title columns LEFT JOINed
with a flag saying whether the user may read the target (the target's read scope as SQL:
a record out of scope keeps its id and shows "(restricted)", as `linktitles.link_title`
does), formula columns as their SQL expression. Filters, row scope, order and paging are
FAB's and `CrmInterface.query`'s own (the page's ids cut in a subquery, the capped count; a
link or user column's order is app/web/linksort.py's, on both paths): only the reading of rows and
their serialization differ. Values go through each
marshmallow field's own `_serialize`, so money, dates, decimals and choices format exactly
as before. `tests/test_api_listread.py` compares both paths' JSON (setting
`CRM_API_LIST_READ=orm` keeps the old one).

Building those statements per request cost as much as the ORM records had (FAB's query, the
subquery, SQLAlchemy's cache key of a new statement). So they are built once per request
*shape* — the SQL structure of the filters and row scope (the cache key of a small SELECT of
ids carrying them), the order, the hidden fields — and kept on the schema's plan; a request
only builds that small SELECT and runs the kept statements with its own bound values.

A schema with a field this reader does not know how to read (to-many links, a plugin's
computed `Function` field, a dotted attribute) is not covered: `read_page` answers None and
the caller uses the ORM path. The list screen reads its rows through `read_rows` too, with a
plan of its own columns and the row's version and may-update/delete flags as `extras`
(app/web/listrows.py).
"""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any, NamedTuple

import sqlalchemy as sa
from flask import current_app
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.utils.base import is_column_dotted
from marshmallow import Schema, fields
from sqlalchemy.orm import aliased

from app.metadata.spec import EntitySpec
from app.models.autocommit import read_connection
from app.models.driverrun import DriverStatement
from app.security.scoped import RESTRICTED

from .counting import ListCount, count_cap, page_count
from .fieldrules import hidden_keys
from .labels import current_lang
from .linksort import ListSort, list_sort, reader_collation
from .rowdump import row_dumper
from .schemas import weighted

# A step of a plan: (JSON key, kind, data). kind "value": a mapped column serialized by its field;
# "link": a link or user field ({id, title}); "object": a Function field computed from the row.
Step = tuple[str, str, Any]
PAGES_KEPT = 256  # page statements kept per schema (one per request shape)


class Plan:
    """How each of a schema's fields is read from a row; the link targets' aliases and join
    conditions made once (building them per request was a third of the reader's CPU), and the
    page statements already built, per request shape."""

    def __init__(self, model: Any, steps: list[Step]):
        self.model, self.steps = model, steps
        self.links: dict[str, tuple[Any, Any]] = {}  # key -> (alias, join condition)
        for key, kind, data in steps:
            if kind == "link":
                fk, target, _ = data
                alias = aliased(target, name=f"link_{key}")
                self.links[key] = (alias, fk == alias.id)
        self.pages: dict[Any, PageStatements] = {}


def _plan(entity: EntitySpec, schema: Schema, model: Any) -> Plan | None:
    """The schema's plan, or None when one of its fields is not covered (kept on the schema)."""
    cached = schema.__dict__.get("_crm_list_plan", False)
    if cached is not False:
        return cached  # type: ignore[no-any-return]
    steps = _steps(entity, schema, model)
    plan = Plan(model, steps) if steps is not None else None
    schema.__dict__["_crm_list_plan"] = plan
    return plan


def _steps(entity: EntitySpec, schema: Schema, model: Any) -> list[Step] | None:
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
            step = link_step(mapper, name)
            if step is None:
                return None
            steps.append(step)
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


def link_step(mapper: Any, name: str) -> Step | None:
    """A to-one link (or user) read as its id, its target's title and (records) a may-read flag;
    None when it is not one this reader covers (a collection, a composite key, a title that is
    itself a link or not a column)."""
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
    return (name, "link", (next(iter(prop.local_columns)), target, target_entity))


READABLE = sa.literal_column("1", sa.Integer())  # constants, not bound values: no work per request
UNREADABLE = sa.literal_column("0", sa.Integer())


def _readable(access: Any, target_entity: EntitySpec | None, alias: Any) -> Any:
    """1/0 per row, may the user read the linked record. None for users (everyone reads them)."""
    return None if target_entity is None else allowed_flag(access, target_entity.name, "read", alias)


def allowed_flag(access: Any, entity: str, action: str, model: Any) -> Any:
    """1/0 per row, may the user do `action` on the row of `model` (an entity's model or an alias):
    a constant when the scope decides for every record (all, no), else the scope as SQL (what
    `allowed_ids` decides for loaded records)."""
    scope = access.scope(entity, action)
    if scope == "no" or access.user_id is None:
        return READABLE if scope == "all" else UNREADABLE
    clause = None if scope == "all" else access.scope_condition(entity, action, model)
    return READABLE if clause is None else sa.case((clause, READABLE), else_=UNREADABLE)


def _row_select(plan: Plan, hidden: frozenset[str], flags: dict[str, Any],
                extras: dict[str, Any]) -> tuple[Any, list[Any], dict[str, int]]:
    """The SELECT of a page's rows (without its page), its readers and where each value is
    (`extras`, columns the caller wants beside the fields, last)."""
    model = plan.model
    columns: list[Any] = [model.id]
    readers: list[tuple[str, str, Any]] = []
    extra: dict[str, int] = {}
    for name, kind, data in plan.steps:
        if name in hidden:
            continue
        if kind == "link":
            alias = plan.links[name][0]
            target_entity = data[2]
            readers.append((name, "link", (len(columns), target_entity)))
            if target_entity is None:
                columns += [alias.id, alias.first_name, alias.last_name, alias.username]
            else:
                columns += [alias.id, getattr(alias, target_entity.title_field), flags[name]]
        elif kind == "value":
            readers.append((name, "value", (len(columns), data)))
            columns.append(getattr(model, name))
        else:  # computed from the row object: its own column too when it has one (multichoice)
            readers.append((name, "object", data))
            if name in model.__mapper__.column_attrs:
                extra[name] = len(columns)
                columns.append(getattr(model, name))
    extra.update({name: len(columns) + i for i, name in enumerate(extras)})
    columns += list(extras.values())
    stmt = sa.select(*columns).select_from(model)
    for name in flags:
        alias, condition = plan.links[name]
        stmt = stmt.outerjoin(alias, condition)
    values_at = {**{k: data[0] for k, kind, data in readers if kind == "value"}, **extra}
    return stmt, readers, values_at


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


class PageStatements:
    """A page's two statements for one shape of request (filters, scope, order, columns), built
    once and run with each request's values: the SELECT of the rows (ids cut in a subquery,
    joined to their rows and links, sorted again) and the capped count. `binds` are the
    shape's bound parameters in the order SQLAlchemy's cache key lists them, so a request of
    the same shape names its own values by position (what SQLAlchemy's statement cache does,
    without building and walking the whole statement again per request)."""

    def __init__(self, rows: Any, count: Any, binds: list[Any], readers: list[Any], values_at: dict[str, int]):
        self.rows, self.count, self.binds, self.readers, self.values_at = rows, count, binds, readers, values_at
        self.run_rows, self.run_count = DriverStatement(rows), DriverStatement(count)  # app/models/driverrun.py


def _flags(plan: Plan, access: Any, hidden: frozenset[str]) -> dict[str, Any]:
    """Each shown link's readable column (a constant or the target's scope as SQL)."""
    return {key: _readable(access, data[2], plan.links[key][0]) for key, kind, data in plan.steps
            if kind == "link" and key not in hidden}


def _page_statements(datamodel: Any, plan: Plan, probe: Any, filtered: Any, flags: dict[str, Any],
                     extras: dict[str, Any], hidden: frozenset[str], order_column: str, order_direction: str,
                     cap: int, sort: ListSort | None) -> PageStatements:
    model = plan.model
    stmt, readers, values_at = _row_select(plan, hidden, flags, extras)

    def ordered(query: Any) -> Any:  # a link's or text's order: the one the request's shape has
        if sort is not None:
            return sort.apply(query, order_direction, model.id)
        return SQLAInterface.apply_order_by(datamodel, query, order_column, order_direction, add_pk=True)

    page_ids = ordered(filtered).offset(sa.bindparam("crm_offset", type_=sa.Integer())).limit(
        sa.bindparam("crm_limit", type_=sa.Integer())).subquery()
    rows = ordered(stmt.join(page_ids, page_ids.c.id == model.id))
    counted = filtered.limit(sa.bindparam("crm_cap", type_=sa.Integer())) if cap > 0 else filtered
    count = sa.select(sa.func.count()).select_from(counted.subquery())
    return PageStatements(rows, count, list(probe.bindparams), readers, values_at)


def read_rows(datamodel: Any, plan: Plan | None, filters: Any, order_column: str, order_direction: str,
              page: int, page_size: int, access: Any, hidden: frozenset[str] = frozenset(),
              extras: dict[str, Any] | None = None,
              keep: Callable[[KeptRead], Any] | None = None) -> tuple[ListCount, list[Any], PageStatements] | None:
    """(count, rows, statements) of a list page read as plain rows through `plan`, or None when
    the plan does not cover the page's fields, the order is on a linked record's column or a filter
    reads through a link (the caller then reads through the ORM). A link or user column sorts by its
    target's title (app/web/linksort.py). `extras`: columns on the entity's
    own row the caller reads beside the fields (`values_at` says where), e.g. may-update flags.
    `keep` is handed the page's statements and bound values before they run, unless a value is
    worked out per run (a filter on a formula with `now()` or `today()`)."""
    model = datamodel.obj
    inner = datamodel.get_inner_filters(filters)
    if plan is None or not order_column or is_column_dotted(order_column) \
            or any(is_column_dotted(f.column_name) for f in inner.filters):
        return None
    extras = extras or {}
    flags = _flags(plan, access, hidden)
    try:  # FAB's filters and the row scope, as on the ORM path, on a SELECT of ids
        filtered = inner.apply_all(sa.select(model.id))
    except (AttributeError, TypeError, NotImplementedError, sa.exc.ArgumentError, sa.exc.InvalidRequestError):
        return None  # a filter (a plugin's) that needs an ORM Query: the ORM path applies it
    cap = count_cap()
    sort = list_sort(model, order_column, access, reader_collation())  # its read scope's values are the request's
    # The request's shape (the filters', scopes' and sort's SQL structure) and its values, in one cache key.
    shape = filtered.add_columns(*[c for c in (*flags.values(), *extras.values(), sort and sort.key) if c is not None])
    if sort is not None and sort.join is not None:
        shape = shape.outerjoin(*sort.join)  # the link's join condition holds the target's read scope
    probe = shape._generate_cache_key()
    if probe is None:  # an element SQLAlchemy cannot cache (a plugin's): no shape to keep
        return None
    key = (probe.key, order_column, order_direction, hidden, cap > 0, tuple(extras))
    statements = plan.pages.get(key)
    if statements is None:
        statements = _page_statements(datamodel, plan, probe, filtered, flags, extras, hidden, order_column,
                                      order_direction, cap, sort)
        if len(plan.pages) >= PAGES_KEPT:
            plan.pages.clear()
        plan.pages[key] = statements
    params = {b.key: v.effective_value for b, v in zip(statements.binds, probe.bindparams, strict=True)}
    offset = (page or 0) * page_size
    params.update(crm_offset=offset, crm_limit=page_size + 1, crm_cap=cap + 1)  # one more: a next page?
    read = KeptRead(statements, params, offset, page_size, cap)
    if keep is not None and not any(b.callable for b in probe.bindparams):  # a formula's now(): per run
        keep(read)
    count, rows = run_read(datamodel.session, read)
    return count, rows, statements


class KeptRead(NamedTuple):
    """A page's statements with every value of one request bound: what `run_read` runs. The API
    list keeps it per request and reader (app/web/listkeep.py) and runs it again for the same."""

    statements: PageStatements
    params: dict[str, Any]
    offset: int
    page_size: int
    cap: int


def run_read(session: Any, read: KeptRead) -> tuple[ListCount, list[Any]]:
    """(count, rows) of a page: its rows, then its capped count unless the page is the last."""
    statements, params, offset, page_size, cap = read
    # plain rows (no ORM result set-up), without BEGIN/ROLLBACK where nothing needs them; the kept
    # statements' compiled SQL on the driver (`CRM_REQUEST_FRAME=fab`: through SQLAlchemy each time)
    sqlalchemy_only = current_app.config.get("CRM_REQUEST_FRAME", "lean") != "lean"
    with read_connection(session) as connection:
        rows = statements.run_rows.rows(connection, params, sqlalchemy_only)
        has_next, rows = len(rows) > page_size, rows[:page_size]
        if not has_next and (rows or not offset):  # the last page: the total is known, no count
            return ListCount(offset + len(rows)), rows
        value = statements.run_count.scalar(connection, params, sqlalchemy_only)
    counted = ListCount(value, exact=value <= cap, cap=cap) if cap > 0 else ListCount(value)
    return page_count(counted, offset, len(rows), has_next), rows


def read_page(datamodel: Any, entity: EntitySpec, schema: Schema, filters: Any, order_column: str,
              order_direction: str, page: int, page_size: int, access: Any,
              keep: Callable[[KeptRead], Any] | None = None) -> tuple[ListCount, list[Any], list[dict[str, Any]]] | None:
    """(count, ids, result) of a list page as the API returns them, or None when the schema
    has a field this reader does not cover (see `read_rows`)."""
    plan = _plan(entity, schema, datamodel.obj)
    read = read_rows(datamodel, plan, filters, order_column, order_direction, page, page_size, access,
                     hidden=hidden_keys(entity, access) if plan is not None else frozenset(), keep=keep)
    if read is None:
        return None
    count, rows, statements = read
    return _answer(count, rows, statements)


def read_kept_page(session: Any, read: KeptRead) -> tuple[ListCount, list[Any], list[dict[str, Any]]]:
    """(count, ids, result) of a kept read run again (`read_page`'s answer for the same request)."""
    count, rows = run_read(session, read)
    return _answer(count, rows, read.statements)


def _answer(count: ListCount, rows: list[Any],
            statements: PageStatements) -> tuple[ListCount, list[Any], list[dict[str, Any]]]:
    restricted = RESTRICTED.get(current_lang())
    readers = [(k, kind, _link_reader(data[1], data[0], restricted) if kind == "link" else data)
               for k, kind, data in statements.readers]
    if current_app.config.get("CRM_REQUEST_FRAME", "lean") == "lean":  # writers per field type (rowdump.py)
        dump = row_dumper(readers, statements.values_at)
        return count, [row[0] for row in rows], [dump(row) for row in rows]
    return count, [row[0] for row in rows], [_dump(row, readers, statements.values_at) for row in rows]


def _dump(row: Any, readers: list[tuple[str, str, Any]], values_at: dict[str, int]) -> dict[str, Any]:
    """One row as the compiled schema dumps its record (fields in the schema's order), each value
    through its field's `_serialize` (`CRM_REQUEST_FRAME=fab`; rowdump.py writes the same)."""
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
