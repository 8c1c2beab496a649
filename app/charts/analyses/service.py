"""Service analysis: records per week and SLA breaches (`ticket_sla`).

A record is done at its first move into a won-outcome stage of the pipeline (resolved,
closed), from the stage history. It breached its due time (params due, default sla_due)
when it was done after it, or when it is not done, not in a won stage now, and the due time
has passed at the chart's `now`. Records without a due time, or in a won stage with no
history of the move, never count as breached.
- stacked_bar / bar: records created per week (Monday first) over the last 26 weeks, in two
  series: on time and breached; table: week, records, breached.
- kpi: breaches of records due in the last 30 days; `previous`: those due in the 30 days
  before (a breach belongs to the period of its due time, so a number never changes once
  its period is over, except through late history).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from app.charts.dates import bucket_expr, bucket_label, bucket_start, floor, step
from app.charts.result import ChartContext, ChartResult, Point
from app.metadata.spec import ChartSpec

from .filters import filter_clause
from .guard import require, scoped
from .labels import text
from .stages import member_clause, pipeline_of, stage_column, stage_names

WEEKS = 26
KPI_DAYS = 30


def ticket_sla(chart: ChartSpec, ctx: ChartContext) -> ChartResult:
    entity, pipeline = pipeline_of(ctx, chart)
    lang = ctx.lang
    due_name = chart.param("due", "sla_due")
    model = require(ctx, entity.name, [pipeline.field, due_name, "created_on"])
    won = stage_names(pipeline, "won")
    history = ctx.models.core["crm_stage_history"]
    done = (sa.select(history.c.record_id.label("record_id"), sa.func.min(history.c.moved_on).label("done_on"))
            .where(history.c.entity == entity.name, history.c.pipeline == pipeline.name,
                   history.c.to_stage.in_(won))
            .group_by(history.c.record_id).subquery())
    due = getattr(model, entity.field(due_name).column_name)
    stage = stage_column(entity, pipeline, model)
    late = sa.and_(due.is_not(None), sa.or_(
        sa.and_(done.c.done_on.is_not(None), done.c.done_on > due),
        sa.and_(done.c.done_on.is_(None), sa.not_(stage.in_(won)), due < ctx.now)))
    member = sa.and_(member_clause(entity, pipeline, model), filter_clause(ctx, chart, model))
    if chart.kind == "kpi":
        return _breach_kpi(chart, ctx, model, done, due, late, member)
    week = bucket_expr(model.created_on, "week", ctx.session.get_bind().dialect.name)
    start = step(floor(ctx.today, "week"), "week", -(WEEKS - 1))
    query = scoped(ctx, sa.select(week, sa.func.count(), sa.func.sum(sa.case((late, 1), else_=0)))
                   .outerjoin(done, done.c.record_id == model.id)
                   .where(member, model.created_on >= dt.datetime.combine(start, dt.time()))
                   .group_by(week), model, entity.name)
    # created_on is never empty: every bucket is a week
    weeks = sorted((bucket_start(raw) or start, int(n), int(b or 0)) for raw, n, b in ctx.session.execute(query))
    result = ChartResult(chart, value_label=text("tickets", lang), drillable=False)
    if chart.kind == "table":
        result.columns = [text("week", lang), text("tickets", lang), text("breached", lang)]
        result.rows = [(bucket_label(w, "week"), n, b) for w, n, b in weeks]
        return result
    for w, n, b in weeks:
        label = bucket_label(w, "week")
        result.points.append(Point(w, label, n - b, "on_time", text("on_time", lang)))
        result.points.append(Point(w, label, b, "breached", text("breached", lang)))
    return result


def _breach_kpi(chart: ChartSpec, ctx: ChartContext, model: Any, done: Any, due: Any, late: Any,
                member: Any) -> ChartResult:
    span = dt.timedelta(days=KPI_DAYS)

    def within(start: dt.datetime, end: dt.datetime) -> Any:
        return sa.func.sum(sa.case((sa.and_(late, due >= start, due < end), 1), else_=0))

    query = scoped(ctx, sa.select(within(ctx.now - span, ctx.now), within(ctx.now - 2 * span, ctx.now - span))
                   .select_from(model).outerjoin(done, done.c.record_id == model.id).where(member),
                   model, chart.entity)
    current, previous = ctx.session.execute(query).one()
    return ChartResult(chart, value_label=text("breaches", ctx.lang), kpi=int(current or 0),
                       previous=int(previous or 0), drillable=False)
