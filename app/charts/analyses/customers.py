"""Customer analyses: RFM value tiers and churn risk.

RFM (`rfm`), from the pipeline's won records (a won-outcome stage), per customer (params
customer, a link field, default account):
- recency R = days from the latest params.date (default close_date) to today; a customer
  whose wins have no date counts as least recent;
- frequency F = number of won records; monetary M = sum of the pipeline's amount field.
Each of R, F, M is scored 1-3 by terciles of the viewer's customers: a customer's score is
1 + floor(3 × p) (at most 3), where p = (customers strictly worse + half of those tied) / n
(fewer days is better for R, more is better for F and M). Ties score alike; a lone customer
scores 2. Tiers, first that applies:
- Champions (核心客户): R = 3 and F + M ≥ 5
- Loyal (忠诚客户): R ≥ 2 and F + M ≥ 4
- Promising (潜力客户): R ≥ 2
- At risk (流失风险客户): F + M ≥ 4
- Hibernating (沉睡客户): the rest.
Bar and pie charts show customers per tier (every tier, in this order); a table lists
customers (title, recency, frequency, monetary, tier) by monetary, the first 100.

Churn risk (`churn_risk`): customers (the chart's entity) whose latest record of params
activity (default activity; its first link to the chart's entity; its created_on) is older
than params days (default 90), or who have none. Only activities the viewer may read count.
A table lists them, never-contacted first then the longest silent, the first 100 with a
note "and N more"; a kpi counts them; a bar counts them per owner.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from app.charts.result import ChartContext, ChartResult, Point
from app.metadata.spec import ChartSpec

from .filters import filter_clause
from .guard import Omitted, path_label, require, scoped
from .labels import text, user_names
from .stages import member_clause, pipeline_of, stage_column, stage_names

TIERS = ("champions", "loyal", "promising", "at_risk", "hibernating")
TABLE_LIMIT = 100


def tercile_scores(values: list[Any]) -> list[int]:
    """1-3 per value by its tercile, higher values scoring higher; ties share a score."""
    n = len(values)
    scores = []
    for v in values:
        worse = sum(1 for other in values if other < v)
        tied = sum(1 for other in values if other == v)
        scores.append(min(3, 1 + int(3 * (worse + tied / 2) / n)))
    return scores


def tier(r: int, f: int, m: int) -> str:
    if r == 3 and f + m >= 5:
        return "champions"
    if r >= 2 and f + m >= 4:
        return "loyal"
    if r >= 2:
        return "promising"
    if f + m >= 4:
        return "at_risk"
    return "hibernating"


def rfm(chart: ChartSpec, ctx: ChartContext) -> ChartResult:
    entity, pipeline = pipeline_of(ctx, chart)
    lang = ctx.lang
    if not pipeline.amount_field:
        raise Omitted(text("no_amount", lang, pipeline=pipeline.label.get(lang) or pipeline.name))
    customer, date = chart.param("customer", "account"), chart.param("date", "close_date")
    model = require(ctx, entity.name, [pipeline.field, customer, date, pipeline.amount_field])
    link = entity.field(customer)
    target = ctx.spec.entity(link.target)
    customers = require(ctx, target.name, [target.title_field])
    title = getattr(customers, target.field(target.title_field).column_name)
    stage = stage_column(entity, pipeline, model)
    query = (sa.select(customers.id, title, sa.func.max(getattr(model, entity.field(date).column_name)),
                       sa.func.count(), sa.func.sum(getattr(model, pipeline.amount_field)))
             .join(customers, customers.id == getattr(model, link.column_name))
             .where(member_clause(entity, pipeline, model), stage.in_(stage_names(pipeline, "won")),
                    filter_clause(ctx, chart, model))
             .group_by(customers.id, title))
    query = scoped(ctx, scoped(ctx, query, model, entity.name), customers, target.name)
    rows = ctx.session.execute(query).all()
    today = ctx.today
    recency = [None if last is None else (today - (last.date() if isinstance(last, dt.datetime) else last)).days
               for _, _, last, _, _ in rows]
    worst = max([d for d in recency if d is not None], default=0) + 1
    r_scores = tercile_scores([-(worst if d is None else d) for d in recency])
    f_scores = tercile_scores([int(n) for _, _, _, n, _ in rows])
    m_scores = tercile_scores([float(total or 0) for *_, total in rows])
    tiers = [tier(r, f, m) for r, f, m in zip(r_scores, f_scores, m_scores, strict=True)]
    amount_label = entity.field(pipeline.amount_field).label.get(lang)
    result = ChartResult(chart, value_label=text("customers", lang), drillable=False)
    if chart.kind == "table":
        result.columns = [path_label(ctx, entity.name, customer), text("recency", lang), text("frequency", lang),
                          text("monetary", lang, amount=amount_label), text("tier", lang)]
        table = [(str(name), days, int(n), float(total or 0), text(t, lang))
                 for (_, name, _, n, total), days, t in zip(rows, recency, tiers, strict=True)]
        table.sort(key=lambda row: (-row[3], row[0]))
        result.rows = table[:TABLE_LIMIT]
        if len(table) > TABLE_LIMIT:
            result.notes.append(text("more", lang, n=len(table) - TABLE_LIMIT))
        return result
    for name in TIERS:
        result.points.append(Point(name, text(name, lang), tiers.count(name)))
    return result


def churn_risk(chart: ChartSpec, ctx: ChartContext) -> ChartResult:
    entity = ctx.spec.entity(chart.entity)
    lang = ctx.lang
    activity_name, days = chart.param("activity", "activity"), int(chart.param("days", 90))
    activity = ctx.spec.entity(activity_name)
    link = next(f for f in activity.fields if f.type == "link" and f.to == entity.name)
    model = require(ctx, entity.name, [entity.title_field, "owner"])
    activities = require(ctx, activity.name, [link.name, "created_on"])
    link_column = getattr(activities, link.column_name)
    latest = scoped(ctx, sa.select(link_column.label("customer_id"),
                                   sa.func.max(activities.created_on).label("last"))
                    .where(link_column.is_not(None)).group_by(link_column), activities, activity.name).subquery()
    cutoff = ctx.now - dt.timedelta(days=days)
    silent = sa.and_(sa.or_(latest.c.last.is_(None), latest.c.last < cutoff), filter_clause(ctx, chart, model))
    base = sa.select(model.id).outerjoin(latest, latest.c.customer_id == model.id).where(silent)
    result = ChartResult(chart, value_label=text("no_activity", lang), drillable=False)
    if chart.kind == "kpi":
        counted = scoped(ctx, base, model, entity.name).subquery()
        result.kpi = int(ctx.session.scalar(sa.select(sa.func.count()).select_from(counted)) or 0)
        return result
    if chart.kind == "bar":
        query = scoped(ctx, sa.select(model.owner_id, sa.func.count()).outerjoin(
            latest, latest.c.customer_id == model.id).where(silent).group_by(model.owner_id), model, entity.name)
        counts = dict(ctx.session.execute(query).all())
        names = user_names(ctx, set(counts))
        for owner in sorted(counts, key=lambda o: (-counts[o], names.get(o, ""))):
            label = names.get(owner, text("empty", lang)) if owner is not None else text("empty", lang)
            result.points.append(Point(owner, label, counts[owner]))
        return result
    return _churn_table(ctx, entity, model, latest, silent, result)


def _churn_table(ctx: ChartContext, entity: Any, model: Any, latest: Any, silent: Any,
                 result: ChartResult) -> ChartResult:
    lang = ctx.lang
    title = getattr(model, entity.field(entity.title_field).column_name)
    query = scoped(ctx, sa.select(title, model.owner_id, latest.c.last, sa.func.count().over())
                   .outerjoin(latest, latest.c.customer_id == model.id).where(silent)
                   .order_by(sa.nulls_first(latest.c.last.asc()), title, model.id).limit(TABLE_LIMIT),
                   model, entity.name)
    rows = ctx.session.execute(query).all()
    names = user_names(ctx, {owner for _, owner, _, _ in rows})
    result.columns = [entity.field(entity.title_field).label.get(lang), text("owner", lang),
                      text("last_activity", lang), text("days_since", lang)]
    for name, owner, last, _ in rows:
        since = None if last is None else (ctx.today - last.date()).days
        result.rows.append((str(name), names.get(owner, ""), None if last is None else last.date(), since))
    total = rows[0][3] if rows else 0
    if total > len(rows):
        result.notes.append(text("more", lang, n=total - len(rows)))
    return result
