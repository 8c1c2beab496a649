"""Plain aggregate charts: one GROUP BY in the database per chart, for one viewer.

`aggregate` turns a ChartSpec (from dashboards.yaml, or made on the fly by the
report builder) into a single SELECT: the viewer's row scope, the chart's
filters, outer joins for link.field paths and user names, a date bucket or a
field as the group, an optional series, and the measure. Python only orders,
cuts to the top N and labels the handful of rows that come back.

A chart on something the viewer may not see is left out (`omitted`), never
an error and never the number. A chart asking for something impossible
(unknown field, a value that is not of the field's type) raises
ChartQueryError naming the field, for the caller to answer with a 4xx.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from app.i18n import _t
from app.metadata.spec import ChartSpec, Condition, CrmSpec, EntitySpec, FieldSpec, Grouping, Measure, Text
from app.records.parse import FieldValueError, parse_value
from app.security.scoped import Records, restricted_title

from .dates import (
    UnknownRange,
    bucket_end,
    bucket_expr,
    bucket_label,
    bucket_start,
    previous_range,
    range_bounds,
    resolve_range,
)
from .measures import aggregate_sql, number
from .ordering import choice_color, cut_top, default_sort, empty_choices, group_totals, ordered_groups
from .result import ChartContext, ChartResult, Drill, Point

TEXTS: dict[str, dict[str, str]] = {
    "empty": _t("(empty)"),
    "yes": _t("Yes"),
    "no": _t("No"),
    "count": _t("Count"),
    "sum": _t("Sum of {field}"),
    "avg": _t("Average {field}"),
    "min": _t("Minimum {field}"),
    "max": _t("Maximum {field}"),
    "median": _t("Median {field}"),
    "count_distinct": _t("Distinct {field}"),
    "total": _t("Total"),
    "hidden_field": _t("Left out: you may not see {field}"),
    "hidden_entity": _t("Left out: you may not read {entity}"),
    "unknown_field": _t("{entity} has no field '{path}'"),
    "bad_op": _t("unknown filter operator '{op}'"),
    "not_date": _t("relative dates need a date field"),
    "bad_range": _t("unknown relative date range '{value}'"),
    "bad_choice": _t("'{value}' is not one of: {choices}"),
    "bad_list": _t("{op} takes a list of values"),
    "bad_measure": _t("measure '{measure}' needs a number field"),
}
TEXT_LIKE = ("string", "text", "email", "phone", "url", "choice", "autonumber")
USER_COLUMNS = ("first_name", "last_name", "username")


def text(key: str, lang: str, **values: Any) -> str:
    table = TEXTS[key]
    return (table.get(lang) or table["en"]).format(**values)


class ChartQueryError(ValueError):
    """A chart that cannot be computed as asked; `path` names the field at fault."""

    def __init__(self, path: str, message: str):
        super().__init__(f"{path}: {message}")
        self.path, self.message = path, message


@dataclass
class _Column:
    """A path resolved to SQL: its field, the stored value, and what its label needs."""

    path: str
    field: FieldSpec
    expr: Any
    label_exprs: tuple[Any, ...] = ()
    title: FieldSpec | None = None  # a link's title field, to label its values


def measure_label(chart: ChartSpec, spec: CrmSpec, lang: str, measure: Measure | None = None) -> str:
    """Count, or "Sum of Amount" / "金额合计" (of `measure`, default the chart's first)."""
    measure = measure or chart.measure
    if measure.field is None or measure.func == "count":
        return text("count", lang)
    return text(measure.func, lang, field=field_label(spec, spec.entity(chart.entity), measure.field, lang))


def field_label(spec: CrmSpec, entity: EntitySpec, path: str, lang: str) -> str:
    """A path's label: "Amount", or "Account Industry" for account.industry."""
    head, _, tail = path.partition(".")
    f = entity.field_map.get(head)
    if f is None:
        return path
    if not tail:
        return f.label.get(lang)
    leaf = spec.entity(f.target).field_map.get(tail) if f.type == "link" else None
    return f"{f.label.get(lang)} {leaf.label.get(lang) if leaf else tail}"


def omission(chart: ChartSpec, ctx: ChartContext) -> str | None:
    """Why the viewer may not see this chart at all, or None."""
    spec, access, lang = ctx.spec, ctx.access, ctx.lang
    entity = _entity(ctx, chart.entity)
    if access.scope(entity.name, "read") == "no":
        return text("hidden_entity", lang, entity=entity.plural.get(lang))
    for path in chart.fields_used():
        head, _, tail = path.partition(".")
        f = entity.field_map.get(head)
        if f is None:
            raise ChartQueryError(path, text("unknown_field", lang, entity=entity.label.get(lang), path=path))
        if head in access.hidden_fields(entity):
            return text("hidden_field", lang, field=f.label.get(lang))
        if f.type == "link" and access.scope(f.target, "read") == "no":
            return text("hidden_field", lang, field=f.label.get(lang))
        if tail and access.path_hidden(spec, entity, path):
            target = spec.entity(f.target).field_map.get(tail)
            return text("hidden_field", lang, field=target.label.get(lang) if target else tail)
    return None


def _entity(ctx: ChartContext, name: str) -> EntitySpec:
    entity = ctx.spec.entity_map.get(name)
    if entity is None:
        raise ChartQueryError("entity", f"unknown entity '{name}'")
    return entity


class _Query:
    """Resolves a chart's paths on its entity, collecting the outer joins they need."""

    def __init__(self, ctx: ChartContext, entity: EntitySpec, pipeline_name: str | None = None):
        self.ctx, self.entity = ctx, entity
        self.pipeline = next((p for p in entity.pipelines if p.name == pipeline_name), None)
        self.model = ctx.models.model(entity.name)
        self.joins: dict[str, tuple[Any, Any]] = {}  # key -> (alias, on clause)
        self.dialect = ctx.session.get_bind().dialect.name

    def _join(self, key: str, target: Any, foreign_key: Any, entity: str | None) -> Any:
        if key not in self.joins:
            alias = aliased(target)
            # a linked record out of the viewer's scope shows as empty, never its values
            on = Records(self.ctx.access, self.ctx.models, entity).on(foreign_key, alias) if entity \
                else foreign_key == alias.id
            self.joins[key] = (alias, on)
        return self.joins[key][0]

    def column(self, path: str) -> _Column:
        entity, lang = self.entity, self.ctx.lang
        head, _, tail = path.partition(".")
        f = entity.field_map.get(head)
        unknown = ChartQueryError(path, text("unknown_field", lang, entity=entity.label.get(lang), path=path))
        if f is None or f.is_many or (tail and not f.is_link):
            raise unknown
        if not tail:
            return self._leaf(path, f, self.model, path)
        if f.type == "user":
            if tail not in USER_COLUMNS:
                raise unknown
            user = self._join(head, self.ctx.models.user_model, getattr(self.model, f.column_name), None)
            return _Column(path, FieldSpec(tail, "string", Text.of(tail)), getattr(user, tail))
        target = self.ctx.spec.entity(f.target)
        leaf = target.field_map.get(tail)
        if leaf is None or leaf.is_many:
            raise unknown
        alias = self._join(head, self.ctx.models.model(target.name), getattr(self.model, f.column_name),
                           target.name)
        return self._leaf(path, leaf, alias, path)

    def _leaf(self, path: str, f: FieldSpec, base: Any, key: str) -> _Column:
        expr = getattr(base, f.column_name)
        if f.type == "user":
            user = self._join(f"{key}>user", self.ctx.models.user_model, expr, None)
            return _Column(path, f, expr, tuple(getattr(user, c) for c in USER_COLUMNS))
        if f.type == "link":
            target = self.ctx.spec.entity(f.target)
            title = target.field_map.get(target.title_field)
            if title is None or title.is_many or title.is_link:
                return _Column(path, f, expr)
            alias = self._join(f"{key}>link", self.ctx.models.model(target.name), expr, target.name)
            return _Column(path, f, expr, (alias.id, getattr(alias, title.column_name)), title)
        return _Column(path, f, expr)

    def key(self, grouping: Grouping) -> tuple[_Column, Any]:
        col = self.column(grouping.path)
        if grouping.bucket:
            return col, bucket_expr(col.expr, grouping.bucket, self.dialect)
        return col, col.expr

    def condition(self, cond: Condition) -> Any:
        col = self.column(cond.path)
        return where(col, cond, self.ctx.today, self.ctx.lang)

    def select(self, *columns: Any) -> Any:
        stmt = sa.select(*columns).select_from(self.model)
        for alias, on in self.joins.values():
            stmt = stmt.outerjoin(alias, on)
        if self.pipeline is not None:  # a pipeline's page counts its own records, not the renewals too
            from .analyses.stages import member_clause
            stmt = stmt.where(member_clause(self.entity, self.pipeline, self.model))
        return Records(self.ctx.access, self.ctx.models, self.entity.name).where(stmt)


def where(col: _Column, cond: Condition, today: dt.date, lang: str) -> Any:
    """The SQL of one filter condition on a resolved column."""
    f, expr, op, path = col.field, col.expr, cond.op, cond.path
    is_datetime = f.type == "datetime"
    if op == "relative":
        if f.type not in ("date", "datetime"):
            raise ChartQueryError(path, text("not_date", lang))
        try:
            low, high = range_bounds(*resolve_range(str(cond.value), today), is_datetime)
        except UnknownRange:
            raise ChartQueryError(path, text("bad_range", lang, value=cond.value)) from None
        return sa.and_(expr >= low, expr < high)
    if op == "empty":
        empty = expr.is_(None)
        if f.type in TEXT_LIKE:
            empty = sa.or_(empty, expr == "")
        return empty if cond.value else sa.not_(empty)
    if op in ("in", "not_in", "between"):
        if not isinstance(cond.value, (list, tuple)) or not cond.value or (op == "between" and len(cond.value) != 2):
            raise ChartQueryError(path, text("bad_list", lang, op=op))
        values = [value_of(col, raw, lang) for raw in cond.value]
        if op == "in":
            return expr.in_(values)
        if op == "not_in":
            return sa.or_(expr.not_in(values), expr.is_(None))
        low, high = values
        if is_datetime and _date_only(cond.value[1]):  # a whole last day
            return sa.and_(expr >= low, expr < high + dt.timedelta(days=1))
        return sa.and_(expr >= low, expr <= high)
    value = value_of(col, cond.value, lang)
    compare = {"eq": expr.__eq__, "ne": expr.__ne__, "gt": expr.__gt__, "gte": expr.__ge__,
               "lt": expr.__lt__, "lte": expr.__le__}.get(op)
    if compare is None:
        raise ChartQueryError(path, text("bad_op", lang, op=op))
    if value is None and op in ("eq", "ne"):
        return expr.is_(None) if op == "eq" else expr.is_not(None)
    if op == "ne":
        return sa.or_(compare(value), expr.is_(None))  # "not X" includes the records with no value
    return compare(value)


def _date_only(raw: Any) -> bool:
    return (isinstance(raw, dt.date) and not isinstance(raw, dt.datetime)) or (
        isinstance(raw, str) and len(raw.strip()) == 10)


def value_of(col: _Column, raw: Any, lang: str) -> Any:
    """A filter value parsed to the field's type (a choice is compared as its stored value)."""
    f = col.field
    if isinstance(raw, (dt.date, dt.datetime)):
        raw = raw.isoformat()
    elif f.type in TEXT_LIKE and isinstance(raw, (int, float)) and not isinstance(raw, bool):
        raw = str(raw)
    try:
        value = parse_value(f, raw, lang)
    except FieldValueError as error:
        raise ChartQueryError(col.path, str(error)) from None
    if f.type == "choice" and value is not None and value not in {c.value for c in f.choices}:
        raise ChartQueryError(col.path, text("bad_choice", lang, value=value,
                                             choices=", ".join(c.value for c in f.choices)))
    return value


def _measure(query: _Query, chart: ChartSpec, measure: Measure | None = None) -> tuple[Any, _Column | None]:
    """The value expression to aggregate (None for count) and its column."""
    measure = measure or chart.measure
    if measure.field is None or measure.func == "count":
        return None, None
    col = query.column(measure.field)
    numeric = ("integer", "decimal", "money", "percent")
    if measure.func == "count_distinct":
        return col.expr, col
    if col.field.type not in numeric and not (measure.func in ("min", "max")
                                              and col.field.type in ("date", "datetime")):
        raise ChartQueryError(measure.field, text("bad_measure", query.ctx.lang, measure=str(measure)))
    return col.expr, col


def _aggregate(func: str, expr: Any, dialect: str = "") -> Any:
    return aggregate_sql(func, expr, dialect)


def aggregate(chart: ChartSpec, ctx: ChartContext) -> ChartResult:
    """The chart's points (or KPI value) for the viewer of `ctx`, in one SQL statement."""
    entity = _entity(ctx, chart.entity)
    result = ChartResult(chart, value_label=measure_label(chart, ctx.spec, ctx.lang))
    result.omitted = omission(chart, ctx)
    if result.omitted:
        return result
    query = _Query(ctx, entity, chart.pipeline)  # a pipeline names whose records count
    if chart.kind == "kpi" or chart.group is None:
        return _kpi(chart, ctx, query, result)
    if len(chart.all_measures) > 1:
        from .side_by_side import side_by_side  # noqa: PLC0415  (it builds on this module)
        return side_by_side(chart, ctx, query, result)
    return _grouped(chart, ctx, query, result)


def _grouped(chart: ChartSpec, ctx: ChartContext, query: _Query, result: ChartResult) -> ChartResult:
    assert chart.group is not None
    expr, _ = _measure(query, chart)
    func = chart.measure.func if expr is not None else "count"
    groupings = [g for g in (chart.group, chart.series) if g is not None]
    keyed = [query.key(g) for g in groupings]
    filters = [query.condition(c) for c in chart.filters]  # resolved first: they may add joins
    columns: list[Any] = []
    for grouping, (col, key) in zip(groupings, keyed, strict=True):
        columns += [key, *(() if grouping.bucket else col.label_exprs)]
    stmt = query.select(*columns, _aggregate(func, expr, query.dialect)).where(*filters).group_by(*columns)
    cells: dict[tuple[Any, ...], Any] = {}
    labels: list[dict[Any, str]] = [{} for _ in groupings]
    for row in ctx.session.execute(stmt):
        at, found = 0, []
        for index, (grouping, (col, _)) in enumerate(zip(groupings, keyed, strict=True)):
            width = 1 + (0 if grouping.bucket else len(col.label_exprs))
            key = group_key(grouping, row[at])
            labels[index][key] = label_of(col, grouping, key, tuple(row[at + 1:at + width]), ctx.lang)
            found.append(key)
            at += width
        cells[tuple(found)] = number(row[-1], func)
    if chart.series is None:
        for key in empty_choices(chart, chart.group, keyed[0][0], query.pipeline):
            cells.setdefault((key,), number(None, func))
            labels[0].setdefault(key, label_of(keyed[0][0], chart.group, key, (), ctx.lang))
    totals = group_totals(cells, 0)
    groups = ordered_groups(chart.group, keyed[0][0], labels[0], totals,
                      chart.sort or default_sort(chart.group, keyed[0][0]), ctx.label_key)
    groups = cut_top(chart, keyed[0][0], groups, labels[0], totals, ctx.label_key)
    series: list[Any] = [None]
    if chart.series is not None:
        series = ordered_groups(chart.series, keyed[1][0], labels[1], group_totals(cells, 1),
                          default_sort(chart.series, keyed[1][0]), ctx.label_key)
    for group in groups:
        for rank, item in enumerate(series):
            cell: tuple[Any, ...] = (group, item) if chart.series is not None else (group,)
            if cell not in cells:
                continue
            drill = group_drill(chart.group, group)
            extra = choice_color("color", keyed[0][0], chart.group, group)
            series_label = None
            if chart.series is not None:
                drill += group_drill(chart.series, item)
                extra += (("series_rank", rank), *choice_color("series_color", keyed[1][0], chart.series, item))
                series_label = labels[1][item]
            result.points.append(Point(group, labels[0][group], cells[cell], item, series_label, drill, extra))
    return result


def _kpi(chart: ChartSpec, ctx: ChartContext, query: _Query, result: ChartResult) -> ChartResult:
    """One number over the filters (and the period), and the same over the period before."""
    expr, _ = _measure(query, chart)
    func = chart.measure.func if expr is not None else "count"
    filters = [query.condition(c) for c in chart.filters]
    if chart.period is None:
        stmt = query.select(_aggregate(func, expr, query.dialect)).where(*filters)
        result.kpi = number(ctx.session.execute(stmt).scalar(), func)
        if chart.kind != "kpi":  # a table with no group: one row, the total
            result.points = [Point(None, text("total", ctx.lang), result.kpi)]
        return result
    period = query.column(chart.period.field)
    is_datetime = period.field.type == "datetime"
    inside = []
    for start, end in (resolve_range(chart.period.range, ctx.today), previous_range(chart.period.range, ctx.today)):
        low, high = range_bounds(start, end, is_datetime)
        inside.append(sa.and_(period.expr >= low, period.expr < high))
    # one statement: each period's aggregate over the rows CASE picks for it
    one: Any = sa.literal_column("1")
    values = [sa.func.count(sa.case((cond, one))) if expr is None
              else _aggregate(func, sa.case((cond, expr)), query.dialect) for cond in inside]
    stmt = query.select(*values).where(*filters, sa.or_(*inside))
    current, previous = ctx.session.execute(stmt).one()
    result.kpi, result.previous = number(current, func), number(previous, func)
    return result


def period_filters(chart: ChartSpec, today: dt.date) -> tuple[Drill, ...]:
    """Drill conditions selecting a KPI's records of its current period (none without a period)."""
    if chart.period is None:
        return ()
    start, end = resolve_range(chart.period.range, today)
    return (chart.period.field, "gte", start), (chart.period.field, "lt", end)


def chart_filters(chart: ChartSpec, today: dt.date) -> tuple[Drill, ...]:
    """The chart's own filters as drill conditions, relative dates resolved to gte/lt."""
    result: list[Drill] = []
    for cond in chart.filters:
        if cond.op == "relative":
            start, end = resolve_range(str(cond.value), today)
            result += [(cond.path, "gte", start), (cond.path, "lt", end)]
        else:
            result.append((cond.path, cond.op, cond.value))
    return tuple(result)


def group_drill(grouping: Grouping, key: Any) -> tuple[Drill, ...]:
    """Conditions selecting the records of one group: eq, empty, or a date bucket's range."""
    if key is None:
        return ((grouping.path, "empty", True),)
    if grouping.bucket:
        return (grouping.path, "gte", key), (grouping.path, "lt", bucket_end(key, grouping.bucket))
    return ((grouping.path, "eq", key),)


def label_of(col: _Column, grouping: Grouping, key: Any, extras: tuple[Any, ...], lang: str) -> str:
    """What the axis shows for one group key, in `lang`."""
    if key is None:
        return text("empty", lang)
    f = col.field
    if grouping.bucket:
        return bucket_label(key, grouping.bucket)
    if f.type == "choice":
        return f.choice_label(str(key), lang)
    if f.type == "boolean":
        return text("yes" if key else "no", lang)
    if f.type == "user" and extras:
        first, last, username = extras
        return f"{first or ''} {last or ''}".strip() or str(username or f"#{key}")
    if f.type == "link":
        joined, title = extras if extras else (key, None)
        if joined is None:  # the linked record is out of the viewer's scope: no title
            return restricted_title(key, lang)
        if title in (None, ""):
            return f"#{key}"
        return col.title.choice_label(str(title), lang) if col.title and col.title.type == "choice" else str(title)
    return str(key)


def group_key(grouping: Grouping, raw: Any) -> Any:
    return bucket_start(raw) if grouping.bucket else raw
