"""Pipeline analyses: funnel, win rate, time in stage, weighted forecast.

- stage_funnel: the pipeline's open stages in order, then its won stages (lost stages are
  not steps). A record counts at the furthest step it ever reached, from its stage history
  and its current stage (records loaded without history count by their current stage), and
  at every earlier step; a lost record counts at the furthest open step it reached, at
  least the first. Each step after the first carries ("conversion", share of the step before).
- win_rate: won / (won + lost) among the pipeline's records now in a won or lost stage; a
  fraction 0-1; per value of the chart's `group` when it has one.
- stage_time: average days in each stage, from the history's time in the stage a move left.
- forecast: open records per month of params.date (default close_date): the amount and the
  amount weighted by the record's probability (probability_field, else the stage's); records
  with no date in an "(empty)" bucket.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import sqlalchemy as sa

from app.charts.dates import bucket_end, bucket_expr, bucket_label, bucket_start
from app.charts.result import ChartContext, ChartResult, Point, Rate
from app.metadata.spec import ChartSpec

from .filters import filter_clause
from .grouping import group_column, select_grouped
from .guard import Omitted, path_label, require, scoped
from .labels import text
from .stages import member_clause, pipeline_of, stage_column, stage_names


def stage_funnel(chart: ChartSpec, ctx: ChartContext) -> ChartResult:
    entity, pipeline = pipeline_of(ctx, chart)
    model = require(ctx, entity.name, [pipeline.field])
    steps = [s for s in pipeline.stages if s.outcome == "open"] + [s for s in pipeline.stages if s.outcome == "won"]
    rank_of = {s.name: i for i, s in enumerate(steps)}

    def rank(column: Any) -> Any:  # lost and unknown stages: the first step
        return sa.case(rank_of, value=column, else_=0) if rank_of else sa.literal(0)

    history = ctx.models.core["crm_stage_history"]
    member = sa.and_(member_clause(entity, pipeline, model), filter_clause(ctx, chart, model))
    current = scoped(ctx, sa.select(model.id.label("rid"), rank(stage_column(entity, pipeline, model))
                                    .label("step")).where(member), model, entity.name)
    past = scoped(ctx, sa.select(history.c.record_id.label("rid"), rank(history.c.to_stage).label("step"))
                  .join(model, model.id == history.c.record_id)
                  .where(history.c.entity == entity.name, history.c.pipeline == pipeline.name, member),
                  model, entity.name)
    both = sa.union_all(current, past).subquery()
    furthest = sa.select(both.c.rid, sa.func.max(both.c.step).label("top")).group_by(both.c.rid).subquery()
    at_top = dict(ctx.session.execute(sa.select(furthest.c.top, sa.func.count()).group_by(furthest.c.top)).all())
    reached = [sum(n for top, n in at_top.items() if top >= i) for i in range(len(steps))]
    result = ChartResult(chart, value_label=text("records", ctx.lang), drillable=False)
    for i, stage in enumerate(steps):
        conversion = (Rate(reached[i] / reached[i - 1]) if reached[i - 1] else None) if i else None
        extra = (("conversion", conversion),) if i else ()
        result.points.append(Point(stage.name, stage.label.get(ctx.lang), reached[i], extra=extra))
        result.rows.append((stage.label.get(ctx.lang), reached[i], conversion))
    if chart.kind == "table":
        result.columns = [entity.field(pipeline.field).label.get(ctx.lang), text("records", ctx.lang), text("conversion", ctx.lang)]
        result.points = []
    else:
        result.rows = []
    return result


def win_rate(chart: ChartSpec, ctx: ChartContext) -> ChartResult:
    entity, pipeline = pipeline_of(ctx, chart)
    grouped = chart.group is not None and chart.kind != "kpi"
    model = require(ctx, entity.name, [pipeline.field] + ([chart.group.path] if grouped and chart.group else []))
    won, lost = stage_names(pipeline, "won"), stage_names(pipeline, "lost")
    stage = stage_column(entity, pipeline, model)
    group = group_column(ctx, entity, model, chart.group) if grouped and chart.group else None
    query = select_grouped(model, group, sa.func.sum(sa.case((stage.in_(won), 1), else_=0)), sa.func.count())
    query = scoped(ctx, query.where(member_clause(entity, pipeline, model), stage.in_(won + lost),
                                     filter_clause(ctx, chart, model)),
                   model, entity.name)
    rows = {(group.key(k) if group else None): (int(w or 0), int(n)) for k, w, n in ctx.session.execute(query)}
    lang = ctx.lang
    result = ChartResult(chart, value_label=text("win_rate", lang))
    if chart.kind == "kpi":
        w, n = rows.get(None, (0, 0))
        result.kpi = Rate(w / n) if n else None
        return result
    keys = list(rows)
    labels = group.labels(ctx, keys) if group else {None: pipeline.label.get(lang) or text("all", lang)}
    for key in (group.order(keys, labels) if group else keys):
        w, n = rows[key]
        rate = Rate(w / n) if n else None
        if chart.kind == "table":
            result.rows.append((labels[key], w, n, rate))
        else:
            result.points.append(Point(key, labels[key], rate, filters=group.filters(key) if group else (),
                                       extra=(("won", w), ("closed", n))))
    if chart.kind == "table":
        heading = path_label(ctx, entity.name, chart.group.path) if group and chart.group else ""
        result.columns = [heading, text("won", lang), text("closed", lang), text("win_rate", lang)]
    return result


def stage_time(chart: ChartSpec, ctx: ChartContext) -> ChartResult:
    entity, pipeline = pipeline_of(ctx, chart)
    model = require(ctx, entity.name, [pipeline.field])
    history = ctx.models.core["crm_stage_history"]
    query = scoped(ctx, sa.select(history.c.from_stage, sa.func.avg(history.c.seconds_in_from), sa.func.count())
                   .join(model, model.id == history.c.record_id)
                   .where(history.c.entity == entity.name, history.c.pipeline == pipeline.name,
                          history.c.from_stage.is_not(None), history.c.seconds_in_from.is_not(None),
                          filter_clause(ctx, chart, model))
                   .group_by(history.c.from_stage), model, entity.name)
    found = {name: (float(avg) / 86400, int(n)) for name, avg, n in ctx.session.execute(query)}
    lang = ctx.lang
    result = ChartResult(chart, value_label=text("avg_days", lang), drillable=False)
    for stage in pipeline.stages:
        if stage.name not in found:
            continue
        days, moves = found[stage.name]
        if chart.kind == "table":
            result.rows.append((stage.label.get(lang), round(days, 2), moves))
        else:
            result.points.append(Point(stage.name, stage.label.get(lang), round(days, 2), extra=(("moves", moves),)))
    if chart.kind == "table":
        result.columns = [entity.field(pipeline.field).label.get(lang), text("avg_days", lang), text("moves", lang)]
    return result


def forecast(chart: ChartSpec, ctx: ChartContext) -> ChartResult:
    entity, pipeline = pipeline_of(ctx, chart)
    lang = ctx.lang
    if not pipeline.amount_field:
        raise Omitted(text("no_amount", lang, pipeline=pipeline.label.get(lang) or pipeline.name))
    date = chart.param("date", "close_date")
    paths = [pipeline.field, pipeline.amount_field, date] + [p for p in [pipeline.probability_field] if p]
    model = require(ctx, entity.name, paths)
    stage = stage_column(entity, pipeline, model)
    stage_probability = sa.case({s.name: s.probability or 0 for s in pipeline.stages}, value=stage, else_=0)
    probability = (sa.func.coalesce(getattr(model, pipeline.probability_field), stage_probability)
                   if pipeline.probability_field else stage_probability)
    amount = getattr(model, pipeline.amount_field)
    month = bucket_expr(getattr(model, entity.field(date).column_name), "month", ctx.session.get_bind().dialect.name)
    query = scoped(ctx, sa.select(month, sa.func.sum(amount), sa.func.sum(amount * probability / 100))
                   .where(member_clause(entity, pipeline, model), stage.in_(stage_names(pipeline, "open")),
                          filter_clause(ctx, chart, model))
                   .group_by(month), model, entity.name)
    totals: dict[Any, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for raw, total, weighted in ctx.session.execute(query):
        key = bucket_start(raw)
        totals[key][0] += float(total or 0)
        totals[key][1] += float(weighted or 0)
    amount_label = entity.field(pipeline.amount_field).label.get(lang)
    weighted_label = text("weighted", lang, amount=amount_label)
    result = ChartResult(chart, value_label=amount_label, drillable=False)
    for key in sorted(totals, key=lambda k: (k is None, k or 0)):
        label = text("empty", lang) if key is None else bucket_label(key, "month")
        drill = ((date, "empty", True),) if key is None else ((date, "gte", key), (date, "lt", bucket_end(key, "month")))
        total, weighted = totals[key]
        if chart.kind == "table":
            result.rows.append((label, total, weighted))
            continue
        result.points.append(Point(key, label, total, "amount", amount_label, drill))
        result.points.append(Point(key, label, weighted, "weighted", weighted_label, drill))
    if chart.kind == "table":
        result.columns = [text("month", lang), amount_label, weighted_label]
    return result
