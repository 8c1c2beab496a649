"""Marketing analyses: lead conversion by source, campaign cost per lead and ROI.

- lead_conversion: per value of the chart's group (e.g. source), the pipeline's records and
  how many are now in a won-outcome stage (converted), as two series; each point carries
  ("rate", converted / records).
- campaign_roi: per campaign (the chart's entity) the viewer reads: cost (params cost), the
  leads (params leads) linking to it, cost per lead, the won revenue (sum of the amount of
  params deals records in a won stage linking to it) and ROI = (revenue - cost) / cost.
  Leads and deals count only the records the viewer reads; a viewer who may not read the
  leads or the deals' amount sees the other columns, with a note on what is left out.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from app.charts.result import ChartContext, ChartResult, Point, Rate
from app.metadata.spec import ChartSpec

from .filters import filter_clause
from .grouping import group_column, select_grouped
from .guard import Omitted, hidden_reason, path_label, require, scoped
from .labels import text
from .stages import member_clause, pipeline_of, stage_column, stage_names, won_clause


def lead_conversion(chart: ChartSpec, ctx: ChartContext) -> ChartResult:
    entity, pipeline = pipeline_of(ctx, chart)
    lang = ctx.lang
    model = require(ctx, entity.name, [pipeline.field] + ([chart.group.path] if chart.group else []))
    won = stage_names(pipeline, "won")
    stage = stage_column(entity, pipeline, model)
    group = group_column(ctx, entity, model, chart.group) if chart.group else None
    query = select_grouped(model, group, sa.func.count(), sa.func.sum(sa.case((stage.in_(won), 1), else_=0)))
    query = scoped(ctx, query.where(member_clause(entity, pipeline, model), filter_clause(ctx, chart, model)), model, entity.name)
    rows = {(group.key(k) if group else None): (int(n), int(c or 0)) for k, n, c in ctx.session.execute(query)}
    keys = list(rows)
    labels = group.labels(ctx, keys) if group else {None: text("all", lang)}
    only_won = pipeline.stage(won[0]) if len(won) == 1 else None
    converted_label = only_won.label.get(lang) if only_won else text("converted", lang)
    records_label = entity.plural.get(lang)
    result = ChartResult(chart, value_label=text("records", lang), drillable=len(won) == 1)
    if chart.kind == "table":
        heading = path_label(ctx, entity.name, chart.group.path) if chart.group else ""
        result.columns = [heading, records_label, converted_label, text("conversion", lang)]
    for key in (group.order(keys, labels) if group else keys):
        n, c = rows[key]
        rate = Rate(c / n) if n else None
        if chart.kind == "table":
            result.rows.append((labels[key], n, c, rate))
            continue
        drill = group.filters(key) if group else ()
        won_drill = ((pipeline.field, "eq", won[0]),) if len(won) == 1 else ()
        result.points.append(Point(key, labels[key], n, "records", records_label, drill, (("rate", rate),)))
        result.points.append(Point(key, labels[key], c, "converted", converted_label, drill + won_drill,
                                   (("rate", rate),)))
    return result


def campaign_roi(chart: ChartSpec, ctx: ChartContext) -> ChartResult:
    entity = ctx.spec.entity(chart.entity)
    lang = ctx.lang
    cost_name = chart.param("cost", "actual_cost")
    model = require(ctx, entity.name, [entity.title_field, cost_name])
    title = getattr(model, entity.field(entity.title_field).column_name)
    cost = getattr(model, entity.field(cost_name).column_name)
    leads_part = _leads_per_campaign(ctx, chart, entity.name)
    deals_part = _revenue_per_campaign(ctx, chart, entity.name)
    columns: list[Any] = [model.id, title, cost]
    query = sa.select(*columns)
    notes = []
    for part in (leads_part, deals_part):
        if isinstance(part, str):
            notes.append(part)
            query = query.add_columns(sa.null())
        else:
            query = query.add_columns(sa.func.coalesce(part.c.value, 0)).outerjoin(part, part.c.campaign_id == model.id)
    query = scoped(ctx, query.where(filter_clause(ctx, chart, model)).order_by(title, model.id), model, entity.name)
    rows = ctx.session.execute(query).all()
    if chart.kind != "table" and isinstance(deals_part, str):
        raise Omitted(deals_part)
    result = ChartResult(chart, value_label=text("roi", lang), notes=notes)
    for pk, name, spent, leads, revenue in rows:
        spent = None if spent is None else float(spent)
        revenue = None if revenue is None else float(revenue)
        roi = Rate((revenue - spent) / spent) if spent and revenue is not None else None
        per_lead = spent / leads if spent is not None and leads else None
        if chart.kind == "table":
            row: list[Any] = [str(name), spent]
            if not isinstance(leads_part, str):
                row += [int(leads), per_lead]
            if not isinstance(deals_part, str):
                row += [revenue, roi]
            result.rows.append(tuple(row))
        else:
            result.points.append(Point(pk, str(name), roi, filters=((entity.title_field, "eq", name),)))
    result.columns = [entity.field(entity.title_field).label.get(lang), text("cost", lang)]
    if not isinstance(leads_part, str):
        result.columns += [ctx.spec.entity(chart.param("leads", "lead")).plural.get(lang),
                           text("cost_per_lead", lang)]
    if not isinstance(deals_part, str):
        result.columns += [text("revenue", lang), text("roi", lang)]
    if chart.kind != "table":
        result.columns = []
    return result


def _leads_per_campaign(ctx: ChartContext, chart: ChartSpec, campaign: str) -> Any:
    """A subquery (campaign_id, value = leads the viewer reads), or why the leads are left out."""
    leads = ctx.spec.entity(chart.param("leads", "lead"))
    link = next(f for f in leads.fields if f.type == "link" and f.to == campaign)
    what = leads.plural.get(ctx.lang)
    reason = hidden_reason(ctx, leads.name, [link.name], what=what)
    if reason is not None:
        return reason
    model = ctx.models.model(leads.name)
    column = getattr(model, link.column_name)
    return scoped(ctx, sa.select(column.label("campaign_id"), sa.func.count().label("value"))
                  .where(column.is_not(None)).group_by(column), model, leads.name).subquery()


def _revenue_per_campaign(ctx: ChartContext, chart: ChartSpec, campaign: str) -> Any:
    """A subquery (campaign_id, value = won amount the viewer reads), or why revenue is left out."""
    deals = ctx.spec.entity(chart.param("deals", "opportunity"))
    link = next(f for f in deals.fields if f.type == "link" and f.to == campaign)
    amount = deals.pipelines[0].amount_field if deals.pipelines else None
    what = text("revenue", ctx.lang)
    if amount is None:
        return text("no_amount", ctx.lang, pipeline=deals.name)
    paths = [link.name, amount] + [p.field for p in deals.pipelines]
    reason = hidden_reason(ctx, deals.name, paths, what=what)
    if reason is not None:
        return reason
    model = ctx.models.model(deals.name)
    column = getattr(model, link.column_name)
    return scoped(ctx, sa.select(column.label("campaign_id"), sa.func.sum(getattr(model, amount)).label("value"))
                  .where(column.is_not(None), won_clause(deals, model)).group_by(column),
                  model, deals.name).subquery()

