"""Claim a record from the pool (公海): the screen and the API both call `claim`.

Who may claim: the pool's `roles` (or, without them, any role that may update the
entity; Admin always). A record not in the pool is a conflict; a rep who has claimed
`claim_limit` records today (CRM time zone; counted by `claimed_on`, among the records
they still own) is refused with the limit in words. The claim is written as the user
(their name in the history): the pool flag cleared, `claimed_on` now, they the owner.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from app.i18n import _t
from app.models.events import utcnow
from app.records.commands import (
    Conflict,
    Forbidden,
    RecordContext,
    RecordNotFound,
    UpdateRecord,
    ValidationFailed,
)

from .pool import Pool, pools

TEXT = {
    "no_pool": _t("{entity} has no pool."),
    "forbidden": _t("Your role may not claim from the {pool}."),
    "not_in_pool": _t("This record is not in the {pool} (someone claimed it already?)."),
    "limit": _t("You have claimed {n} today, the most allowed per day; try again tomorrow."),
    "claimed": _t("Claimed: it is yours now."),
}


def say(key: str, lang: str | None, **values: Any) -> str:
    text = TEXT[key]
    return text.get(lang or "en", text["en"]).format(**values)


def pool_of(spec: Any, entity: str) -> Pool | None:
    return pools(spec).get(entity)


def may_claim(access: Any, pool: Pool) -> bool:
    if access is None or access.is_admin:
        return True
    if pool.roles:
        return any(role in pool.roles for role in access.roles)
    return access.scope(pool.entity, "update") != "no"


def pool_records(session: Any, models: Any, pool: Pool, limit: int = 200) -> list[Any]:
    model = models.model(pool.entity)
    flag = getattr(model, models.spec.entity(pool.entity).field(pool.flag).column_name)
    return list(session.scalars(sa.select(model).where(flag.is_(True)).order_by(model.id.desc()).limit(limit)))


def claims_today(ctx: RecordContext, pool: Pool, user_id: int, now: dt.datetime) -> int:
    """Records the user claimed since local midnight and still owns."""
    zone = ZoneInfo(ctx.models.spec.timezone or "UTC")
    local = now.replace(tzinfo=dt.UTC).astimezone(zone)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(dt.UTC).replace(tzinfo=None)
    model = ctx.models.model(pool.entity)
    column = getattr(model, ctx.entity(pool.entity).field(pool.claimed_on).column_name)
    return int(ctx.session.scalar(sa.select(sa.func.count()).select_from(model).where(
        model.owner_id == user_id, column >= midnight)) or 0)


def claim(ctx: RecordContext, entity: str, record_id: int, now: dt.datetime | None = None) -> Any:
    """Give the pool record to the user of `ctx`; raises Forbidden, RecordNotFound, Conflict, ValidationFailed."""
    lang = ctx.lang
    label = ctx.entity(entity).label.get(lang)
    pool = pool_of(ctx.models.spec, entity)
    if pool is None:
        raise RecordNotFound(say("no_pool", lang, entity=label))
    name = pool.label.get(lang)
    if ctx.user_id is None or not may_claim(ctx.access, pool):
        raise Forbidden(say("forbidden", lang, pool=name))
    model = ctx.models.model(entity)
    record = ctx.session.scalar(sa.select(model).where(model.id == record_id).with_for_update())
    if record is None:
        raise RecordNotFound(f"no {entity} with id {record_id}")
    if getattr(record, ctx.entity(entity).field(pool.flag).column_name) is not True:
        raise Conflict(say("not_in_pool", lang, pool=name))
    now = now or utcnow()
    if claims_today(ctx, pool, ctx.user_id, now) >= pool.claim_limit:
        raise ValidationFailed({"claim_limit": [say("limit", lang, n=pool.claim_limit)]})
    system = RecordContext(ctx.session, ctx.models, lang, ctx.user_id, hooks=ctx.hooks, access=None)
    command = UpdateRecord(system, entity, record, {pool.flag: False, pool.claimed_on: now})
    command.autocommit = False
    command.run()
    record.owner_id = ctx.user_id
    ctx.session.commit()
    return record
