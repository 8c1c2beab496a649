"""A chart's own `filters` on an analysis: which records of the chart's entity count.

The plain aggregate engine (app/charts/query.py) already resolves filter paths (fields,
link.field through scoped joins, relative dates); an analysis reuses it as one
`id IN (SELECT ...)` clause, so filters mean the same on every chart.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from app.charts.query import _Query
from app.metadata.spec import ChartSpec

from .guard import require


def filter_paths(chart: ChartSpec) -> list[str]:
    return [c.path for c in chart.filters]


def filter_clause(ctx: Any, chart: ChartSpec, model: Any) -> Any:
    """SQL limiting `model` (the chart's entity) to the chart's filters; TRUE without filters.

    The viewer must see every filtered field (Omitted otherwise), like any field a chart uses.
    """
    if not chart.filters:
        return sa.true()
    require(ctx, chart.entity, filter_paths(chart))
    query = _Query(ctx, ctx.spec.entity(chart.entity))
    conditions = [query.condition(c) for c in chart.filters]
    matching = query.select(query.model.id).where(*conditions).correlate(None)
    return model.id.in_(matching)
