"""The words analyses show, in English and Chinese, and the names behind ids.

A small table like app/records/messages.py: the label a test asserts is the
label a user reads. Names of users and linked records are fetched in one
statement per kind, for the ids a result holds.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from app.security.scoped import Records

TEXTS: dict[str, dict[str, str]] = {
    "records": {"en": "Records", "zh": "记录数"},
    "conversion": {"en": "Conversion", "zh": "转化率"},
    "win_rate": {"en": "Win rate", "zh": "赢单率"},
    "won": {"en": "Won", "zh": "赢单"},
    "closed": {"en": "Closed", "zh": "已结束"},
    "all": {"en": "All", "zh": "全部"},
    "avg_days": {"en": "Average days in stage", "zh": "平均停留天数"},
    "moves": {"en": "Moves out", "zh": "移出次数"},
    "month": {"en": "Month", "zh": "月份"},
    "weighted": {"en": "Weighted {amount}", "zh": "加权{amount}"},
    "customers": {"en": "Customers", "zh": "客户数"},
    "recency": {"en": "Days since last win", "zh": "距最近成交天数"},
    "frequency": {"en": "Wins", "zh": "成交次数"},
    "monetary": {"en": "Won {amount}", "zh": "成交{amount}"},
    "tier": {"en": "Tier", "zh": "客户分层"},
    "champions": {"en": "Champions", "zh": "核心客户"},
    "loyal": {"en": "Loyal", "zh": "忠诚客户"},
    "promising": {"en": "Promising", "zh": "潜力客户"},
    "at_risk": {"en": "At risk", "zh": "流失风险客户"},
    "hibernating": {"en": "Hibernating", "zh": "沉睡客户"},
    "owner": {"en": "Owner", "zh": "负责人"},
    "last_activity": {"en": "Last activity", "zh": "最近跟进"},
    "days_since": {"en": "Days since", "zh": "距今天数"},
    "no_activity": {"en": "Accounts without recent activity", "zh": "近期无跟进的客户数"},
    "more": {"en": "and {n} more", "zh": "另有 {n} 条未显示"},
    "converted": {"en": "Converted", "zh": "已转化"},
    "rate": {"en": "Rate", "zh": "比率"},
    "cost": {"en": "Cost", "zh": "花费"},
    "cost_per_lead": {"en": "Cost per lead", "zh": "单线索成本"},
    "revenue": {"en": "Won revenue", "zh": "成交收入"},
    "roi": {"en": "ROI", "zh": "投资回报率"},
    "week": {"en": "Week", "zh": "周"},
    "tickets": {"en": "Records", "zh": "记录数"},
    "on_time": {"en": "On time", "zh": "按时"},
    "breached": {"en": "Breached", "zh": "超时"},
    "breaches": {"en": "SLA breaches, due in the last 30 days", "zh": "近30天到期的超时数"},
    "empty": {"en": "(empty)", "zh": "（空）"},
    "yes": {"en": "Yes", "zh": "是"},
    "no": {"en": "No", "zh": "否"},
    "hidden_entity": {"en": "Left out: you may not read {entity}.", "zh": "未显示：您无权查看{entity}。"},
    "hidden_field": {"en": "Left out: you may not see {field} of {entity}.",
                     "zh": "未显示：您无权查看{entity}的{field}。"},
    "part_hidden": {"en": "{what} left out: you may not see {field} of {entity}.",
                    "zh": "{what}未显示：您无权查看{entity}的{field}。"},
    "part_hidden_entity": {"en": "{what} left out: you may not read {entity}.",
                           "zh": "{what}未显示：您无权查看{entity}。"},
    "no_amount": {"en": "Left out: pipeline {pipeline} has no amount field.",
                  "zh": "未显示：流程{pipeline}未设置金额字段。"},
}


def text(key: str, lang: str | None, **values: Any) -> str:
    table = TEXTS[key]
    return table.get(lang or "en", table["en"]).format(**values)


def user_names(ctx: Any, ids: set[Any]) -> dict[Any, str]:
    """Full names (or usernames) of users, one statement."""
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    user = ctx.models.user_model
    rows = ctx.session.execute(sa.select(user.id, user.first_name, user.last_name, user.username)
                               .where(user.id.in_(ids)))
    return {pk: (f"{first or ''} {last or ''}".strip() or username or f"#{pk}")
            for pk, first, last, username in rows}


def record_titles(ctx: Any, entity_name: str, ids: set[Any]) -> dict[Any, str]:
    """Titles of linked records, one statement (a link's title shows wherever the link does);
    a record the viewer may not read shows as restricted."""
    return Records(ctx.access, ctx.models, entity_name).titles(ctx.session, ids, ctx.lang)
