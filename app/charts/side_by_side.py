"""Charts of several measures side by side (`measures: [count, sum(amount)]`).

Still one SELECT: one aggregate column per measure over the same groups. Each
measure becomes a series (its label is the legend), so a bar chart draws them
as grouped bars. Groups are ordered and cut to `top` by the first measure.
"""

from __future__ import annotations

from typing import Any

from app.metadata.spec import ChartSpec

from .measures import number
from .ordering import choice_color, cut_top, default_sort, empty_choices, ordered_groups
from .query import (
    _aggregate,
    _measure,
    _Query,
    group_drill,
    group_key,
    label_of,
    measure_label,
)
from .result import ChartContext, ChartResult, Point


def side_by_side(chart: ChartSpec, ctx: ChartContext, query: _Query, result: ChartResult) -> ChartResult:
    assert chart.group is not None
    measures = chart.all_measures
    resolved = [_measure(query, chart, m) for m in measures]
    funcs = [m.func if expr is not None else "count" for m, (expr, _) in zip(measures, resolved, strict=True)]
    col, key = query.key(chart.group)
    filters = [query.condition(c) for c in chart.filters]
    columns = [key, *(() if chart.group.bucket else col.label_exprs)]
    aggregates = [_aggregate(func, expr, query.dialect) for func, (expr, _) in zip(funcs, resolved, strict=True)]
    stmt = query.select(*columns, *aggregates).where(*filters).group_by(*columns)
    width = len(columns)
    values: dict[Any, list[Any]] = {}
    labels: dict[Any, str] = {}
    for row in ctx.session.execute(stmt):
        group = group_key(chart.group, row[0])
        labels[group] = label_of(col, chart.group, group, tuple(row[1:width]), ctx.lang)
        values[group] = [number(v, f) for v, f in zip(row[width:], funcs, strict=True)]
    for group in empty_choices(chart, chart.group, col, query.pipeline):
        values.setdefault(group, [number(None, f) for f in funcs])
        labels.setdefault(group, label_of(col, chart.group, group, (), ctx.lang))
    totals = {k: v[0] if isinstance(v[0], (int, float)) else 0 for k, v in values.items()}
    groups = ordered_groups(chart.group, col, labels, totals, chart.sort or default_sort(chart.group, col),
                            ctx.label_key)
    groups = cut_top(chart, col, groups, labels, totals, ctx.label_key)
    names = [measure_label(chart, ctx.spec, ctx.lang, m) for m in measures]
    result.value_label = " / ".join(names)
    for group in groups:
        drill = group_drill(chart.group, group)
        for rank, (m, name) in enumerate(zip(measures, names, strict=True)):
            extra = (("series_rank", rank), *choice_color("color", col, chart.group, group))
            result.points.append(Point(group, labels[group], values[group][rank], str(m), name, drill, extra))
    return result
