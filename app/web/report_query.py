"""A checked report definition as SQL: one SELECT of rows, or one GROUP BY.

Link columns are outer joins (one per link, shared by columns, filters and
the grouping), so rows stream from a single statement however many there
are. Every statement carries the viewer's row clause for the action asked
(read for the page, export for files): rows out of scope never leave the
database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import aliased

from app.charts.dates import bucket_expr, bucket_label, bucket_start, resolve_range
from app.charts.measures import aggregate_sql
from app.clock import day_bounds_utc
from app.i18n import _t
from app.i18n.collation import text_key
from app.metadata.spec import Condition, CrmSpec, EntitySpec, FieldSpec, Text
from app.security.access import Access
from app.security.scoped import Records, restricted_title

from .report_definition import ReportDefinition

BATCH = 1000
EMPTY = _t("(empty)")
YES_NO = (_t("Yes"), _t("No"))
MEASURE_LABELS = {
    "count": _t("Count"),
    "sum": _t("Sum of {f}"),
    "avg": _t("Average {f}"),
    "min": _t("Min {f}"),
    "max": _t("Max {f}"),
    "median": _t("Median {f}"),
    "count_distinct": _t("Distinct {f}"),
}


@dataclass(frozen=True)
class Column:
    """One output column: its heading, field (for formats) and how to read it from a row."""

    path: str
    heading: str
    field: FieldSpec | None
    read: Callable[[Any], Any]  # row -> typed value (a title for links, a name for users)


@dataclass
class Table:
    """A report's output: headings, typed values per row, and which field each column is."""

    columns: list[Column]
    rows: list[tuple[Any, ...]]
    keys: list[Any] = field(default_factory=list)  # grouped: each row's raw group value


class _Joins:
    """Outer joins of one statement: one alias per link head, made when first needed."""

    def __init__(self, spec: CrmSpec, entity: EntitySpec, models: Any):
        self.spec, self.entity, self.models = spec, entity, models
        self.model = models.model(entity.name)
        self.aliases: dict[str, Any] = {}

    def alias(self, head: str) -> Any:
        if head not in self.aliases:
            f = self.entity.field(head)
            target = self.models.user_model if f.type == "user" else self.models.model(f.target)
            self.aliases[head] = aliased(target, name=f"j_{head}")
        return self.aliases[head]

    def apply(self, stmt: Any, access: Access) -> Any:
        """The outer joins; a linked record out of the viewer's read scope joins as NULLs."""
        for head, alias in self.aliases.items():
            f = self.entity.field(head)
            fk = getattr(self.model, f.column_name)
            if f.type == "user":
                stmt = stmt.outerjoin(alias, fk == alias.id)
            else:
                stmt, _ = Records(access, self.models, f.target).outerjoin(stmt, fk, alias)
        return stmt

    def field_of(self, path: str) -> FieldSpec:
        head, _, tail = path.partition(".")
        f = self.entity.field(head)
        if not tail:
            return f
        if f.type == "user":
            return FieldSpec(tail, "string", Text.of(tail))
        return self.spec.entity(f.target).field(tail)

    def column(self, path: str) -> Any:
        """The SQL column a path compares on: a link's id for a bare link, else the value."""
        head, _, tail = path.partition(".")
        if not tail:
            return getattr(self.model, self.entity.field(head).column_name)
        return getattr(self.alias(head), tail)

    def heading(self, path: str, lang: str) -> str:
        head, _, tail = path.partition(".")
        if path == "id":
            return "ID"
        f = self.entity.field(head)
        if not tail:
            return f.label.get(lang)
        return f"{f.label.get(lang)} / {self.field_of(path).label.get(lang)}"


def _item(index: int) -> Callable[[Any], Any]:
    def read(row: Any) -> Any:
        return row[index]
    return read


def _items(start: int, width: int, combine: Callable[[list[Any]], Any]) -> Callable[[Any], Any]:
    def read(row: Any) -> Any:
        return combine(list(row[start:start + width]))
    return read


def _title_of(joins: _Joins, head: str, lang: str) -> tuple[list[Any], Callable[[list[Any]], Any]]:
    """SQL and a reader for what a link or user shows: its title, or a user's name.

    A link reads (stored id, joined id, title): the join is scoped, so a linked record the
    viewer may not read joins as NULL and shows as restricted, its id kept."""
    f = joins.entity.field(head)
    alias = joins.alias(head)
    if f.type == "user":
        def name(values: list[Any]) -> Any:
            first, last, username = values
            full = f"{first or ''} {last or ''}".strip()
            return full or username
        return [alias.first_name, alias.last_name, alias.username], name
    target = joins.spec.entity(f.target)
    title = target.field_map.get(target.title_field)
    plain = title is None or title.type in ("link", "user", "links")
    def titled(values: list[Any]) -> Any:
        stored, joined, value = values
        if stored is None:
            return None
        if joined is None:
            return restricted_title(stored, lang)
        return value if not plain and value not in (None, "") else f"#{stored}"
    fk = getattr(joins.model, f.column_name)
    shown = alias.id if title is None or plain else getattr(alias, title.column_name)
    return [fk, alias.id, shown], titled


def _day(value: Any) -> bool:
    return isinstance(value, dt.date) and not isinstance(value, dt.datetime)


def _datetime_days(column: Any, op: str, value: Any) -> Any:
    """A datetime compared with days: each day is [its midnight, the next) in the viewer's time zone."""
    def lo(day: dt.date) -> dt.datetime:
        return day_bounds_utc(day, day)[0]
    def whole(day: dt.date) -> Any:
        return sa.and_(column >= lo(day), column < lo(day + dt.timedelta(days=1)))
    if op == "between":
        return sa.and_(column >= lo(value[0]), column < lo(value[1] + dt.timedelta(days=1)))
    if op in ("in", "not_in"):
        days = sa.or_(*[whole(d) for d in value])
        return days if op == "in" else sa.or_(column.is_(None), sa.not_(days))
    nxt = lo(value + dt.timedelta(days=1))
    return {"eq": whole(value), "ne": sa.or_(column.is_(None), sa.not_(whole(value))), "gt": column >= nxt,
            "gte": column >= lo(value), "lt": column < lo(value), "lte": column < nxt}[op]


def _conditions(conditions: tuple[Condition, ...], joins: _Joins, today: dt.date) -> list[Any]:
    clauses = []
    for c in conditions:
        column, f = joins.column(c.path), joins.field_of(c.path)
        values = c.value if isinstance(c.value, tuple) else (c.value,)
        if c.op == "relative":
            start, end = resolve_range(c.value, today)
            if f.type == "datetime":
                start, end = day_bounds_utc(start, end)
            clauses.append(sa.and_(column >= start, column < end))
        elif c.op == "empty":
            blank = column.is_(None) if f.type not in ("string", "email", "phone", "url") \
                else sa.or_(column.is_(None), column == "")
            clauses.append(blank if c.value else sa.not_(blank))
        elif f.type == "datetime" and all(_day(v) for v in values):
            clauses.append(_datetime_days(column, c.op, c.value))
        elif c.op == "between":
            clauses.append(column.between(*c.value))
        elif c.op == "in":
            clauses.append(column.in_(c.value))
        elif c.op == "not_in":
            clauses.append(sa.or_(column.is_(None), column.not_in(c.value)))
        elif c.op == "ne":
            clauses.append(sa.or_(column.is_(None), column != c.value))
        else:
            clauses.append(getattr(column, {"eq": "__eq__", "gt": "__gt__", "gte": "__ge__", "lt": "__lt__",
                                            "lte": "__le__"}[c.op])(c.value))
    return clauses


def _scoped(stmt: Any, definition: ReportDefinition, joins: _Joins, access: Access, action: str,
            today: dt.date) -> Any:
    clauses = _conditions(definition.filters, joins, today)
    # FROM the entity itself: a report whose every column or group is a linked field (account.industry)
    # would otherwise start FROM the joined alias and fail to join it ("Don't know how to join")
    stmt = Records(access, joins.models, definition.entity).where(joins.apply(stmt.select_from(joins.model), access),
                                                                  action)
    return stmt.where(*clauses) if clauses else stmt


def row_statement(definition: ReportDefinition, spec: CrmSpec, models: Any, access: Access, action: str,
                  lang: str, today: dt.date, limit: int | None = None) -> tuple[Any, list[Column]]:
    """SELECT of the report's columns, in id order, limited to the viewer's `action` scope."""
    entity = spec.entity(definition.entity)
    joins = _Joins(spec, entity, models)
    selected: list[Any] = []
    columns: list[Column] = []
    for path in definition.columns:
        start = len(selected)
        if path == "id":
            selected.append(joins.model.id)
            columns.append(Column(path, "ID", None, _item(start)))
            continue
        head, _, tail = path.partition(".")
        f = joins.field_of(path)
        if not tail and f.is_link:
            exprs, reader = _title_of(joins, head, lang)
            selected += exprs
            width = len(exprs)
            columns.append(Column(path, joins.heading(path, lang), f, _items(start, width, reader)))
        else:
            selected.append(joins.column(path))
            columns.append(Column(path, joins.heading(path, lang), f, _item(start)))
    stmt = _scoped(sa.select(*selected), definition, joins, access, action, today).order_by(joins.model.id)
    if limit is not None:
        stmt = stmt.limit(limit)
    return stmt, columns


def stream_rows(session: Any, stmt: Any, columns: list[Column]) -> Iterator[tuple[Any, ...]]:
    """Rows in batches from a server-side cursor (PostgreSQL) or a plain one (SQLite)."""
    result = session.execute(stmt.execution_options(yield_per=BATCH, stream_results=True))
    for row in result:
        yield tuple(c.read(row) for c in columns)


def measure_label(definition: ReportDefinition, spec: CrmSpec, lang: str) -> str:
    measure = definition.measure
    name = spec.entity(definition.entity).field(measure.field).label.get(lang) if measure.field else ""
    return MEASURE_LABELS[measure.func].get(lang).format(f=name)


def grouped_table(definition: ReportDefinition, spec: CrmSpec, models: Any, session: Any, access: Access,
                  action: str, lang: str, today: dt.date) -> Table:
    """ONE GROUP BY: (group key, label, measure value) per group, in the grouping's own order."""
    group = definition.group
    assert group is not None
    entity = spec.entity(definition.entity)
    joins = _Joins(spec, entity, models)
    f = joins.field_of(group.path)
    column = joins.column(group.path)
    key = bucket_expr(column, group.bucket, session.get_bind().dialect.name) if group.bucket else column
    keys: list[Any] = [key]
    title_reader = None
    if f.is_link and "." not in group.path:
        title_exprs, title_reader = _title_of(joins, group.path, lang)
        keys += title_exprs[1:] if f.type == "link" else title_exprs
    measure = definition.measure
    value = sa.func.count(joins.model.id) if measure.field is None else aggregate_sql(
        measure.func, getattr(joins.model, entity.field(measure.field).column_name), session.get_bind().dialect.name)
    stmt = _scoped(sa.select(*keys, value), definition, joins, access, action, today).group_by(*keys)
    rows = []
    for row in session.execute(stmt):
        raw_key, result = row[0], row[-1]
        if group.bucket:
            raw_key = bucket_start(raw_key)
        label = _group_label(f, group.bucket, raw_key, row, title_reader, lang)
        rows.append((raw_key, label, _number(result, measure.func, f)))
    rows.sort(key=_group_order(f, text_key(current_app.config, lang)))
    heading = joins.heading(group.path, lang)
    columns = [Column(str(group), heading, None, _item(0)),
               Column(str(measure), measure_label(definition, spec, lang),
                      entity.field(measure.field) if measure.field else None, _item(1))]
    return Table(columns, [(label, value) for _, label, value in rows], [key for key, _, _ in rows])


def _number(value: Any, func: str, f: FieldSpec) -> Any:
    if value is None:
        return None
    if func in ("count", "count_distinct"):
        return int(value)
    if isinstance(value, float) and func not in ("avg", "median"):
        return Decimal(str(value))
    return value


def _group_label(f: FieldSpec, bucket: str | None, key: Any, row: Any, title_reader: Any, lang: str) -> str:
    if key is None:
        return EMPTY.get(lang)
    if bucket:
        return bucket_label(key, bucket)
    if title_reader is not None:
        values = list(row[1:-1])
        if f.type == "link":
            values = [key, *values]
        return str(title_reader(values))
    if f.type == "choice":
        return f.choice_label(key, lang)
    if f.type == "boolean":
        return YES_NO[0 if key else 1].get(lang)
    if isinstance(key, (dt.date, dt.datetime)):
        return key.isoformat()
    return str(key)


def _group_order(f: FieldSpec, text: Callable[[str], Any]) -> Callable[[tuple[Any, str, Any]], Any]:
    """Choices in their declared order, other keys by value (labels for links, and text, by `text`:
    the reader's language's order, pinyin in zh); empty last."""
    order = {c.value: i for i, c in enumerate(f.choices)}
    def sort_key(row: tuple[Any, str, Any]) -> Any:
        raw_key, label, _ = row
        if raw_key is None:
            return (2, 0, "")
        if f.type == "choice":
            return (0, order.get(raw_key, len(order)), str(raw_key))
        if f.is_link or isinstance(raw_key, str):
            return (0, 0, text(label if f.is_link else raw_key))
        return (0, 0, raw_key) if not isinstance(raw_key, bool) else (0, int(not raw_key), "")
    return sort_key


SUMMED = ("integer", "decimal", "money")


def totals(definition: ReportDefinition, spec: CrmSpec, models: Any, session: Any, access: Access,
           lang: str, today: dt.date) -> dict[str, Any]:
    """The report's totals over every row the viewer may read (not only the rows shown), in ONE
    statement: the count, and the sum of each money/number column (the overall measure when grouped)."""
    entity = spec.entity(definition.entity)
    joins = _Joins(spec, entity, models)
    count = sa.func.count(joins.model.id)
    if definition.grouped:
        measure = definition.measure
        overall = count if measure.field is None else aggregate_sql(
            measure.func, getattr(joins.model, entity.field(measure.field).column_name),
            session.get_bind().dialect.name)
        row = session.execute(_scoped(sa.select(count, overall), definition, joins, access, "read", today)).one()
        f = entity.field(measure.field) if measure.field else None
        return {"count": int(row[0] or 0), "sums": {str(measure): _number(row[1], measure.func, f)}}
    paths = [p for p in definition.columns if p != "id" and "." not in p
             and entity.field(p).type in SUMMED and not entity.field(p).is_link]
    sums = [sa.func.sum(joins.column(p)) for p in paths]
    row = session.execute(_scoped(sa.select(count, *sums), definition, joins, access, "read", today)).one()
    return {"count": int(row[0] or 0), "sums": {p: _sum(v) for p, v in zip(paths, row[1:], strict=True)}}


def _sum(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(str(value))
    return value
