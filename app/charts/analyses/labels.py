"""The words analyses show, in English and Chinese, and the names behind ids.

A small table like app/records/messages.py: the label a test asserts is the
label a user reads. Names of users and linked records are fetched in one
statement per kind, for the ids a result holds.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from app.i18n import _t
from app.security.scoped import Records

TEXTS: dict[str, dict[str, str]] = {
    "records": _t("Records"),
    "conversion": _t("Conversion"),
    "win_rate": _t("Win rate"),
    "won": _t("Won"),
    "closed": _t("Closed"),
    "all": _t("All"),
    "avg_days": _t("Average days in stage"),
    "moves": _t("Moves out"),
    "month": _t("Month"),
    "weighted": _t("Weighted {amount}"),
    "customers": _t("Customers"),
    "recency": _t("Days since last win"),
    "frequency": _t("Wins"),
    "monetary": _t("Won {amount}"),
    "tier": _t("Tier"),
    "champions": _t("Champions"),
    "loyal": _t("Loyal"),
    "promising": _t("Promising"),
    "at_risk": _t("At risk"),
    "hibernating": _t("Hibernating"),
    "owner": _t("Owner"),
    "last_activity": _t("Last activity"),
    "days_since": _t("Days since"),
    "no_activity": _t("Accounts without recent activity"),
    "more": _t("and {n} more"),
    "converted": _t("Converted"),
    "rate": _t("Rate"),
    "cost": _t("Cost"),
    "cost_per_lead": _t("Cost per lead"),
    "revenue": _t("Won revenue"),
    "roi": _t("ROI"),
    "week": _t("Week"),
    "tickets": _t("Records"),
    "on_time": _t("On time"),
    "breached": _t("Breached"),
    "breaches": _t("SLA breaches, due in the last 30 days"),
    "empty": _t("(empty)"),
    "yes": _t("Yes"),
    "no": _t("No"),
    "hidden_entity": _t("Left out: you may not read {entity}."),
    "hidden_field": _t("Left out: you may not see {field} of {entity}."),
    "part_hidden": _t("{what} left out: you may not see {field} of {entity}."),
    "part_hidden_entity": _t("{what} left out: you may not read {entity}."),
    "no_amount": _t("Left out: pipeline {pipeline} has no amount field."),
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
