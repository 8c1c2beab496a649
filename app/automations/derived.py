"""The actions the sales settings add (adjust.py, scoring.py, sla.py, pool.py): each is
planned as a `set` of the values it would write (so the dry run shows them and the worker
and tick carry them out like a set), and carried out here, as the automation."""

from __future__ import annotations

from typing import Any

from app.records.commands import RecordContext, UpdateRecord

from .adjust import plan_adjust
from .pool import plan_recycle, pool_user
from .scoring import plan_score
from .sla import plan_sla_due
from .spec import ActionSpec, AutomationSpec

KINDS = ("points", "tag", "score", "sla_due", "pool")


def plan_derived(ctx: RecordContext, action: ActionSpec, change: Any, state: dict[str, Any],
                 timezone: str) -> dict[str, Any]:
    entity = ctx.entity(action.entity or "")
    if action.kind in ("points", "tag"):
        return plan_adjust(ctx, entity, action, state, timezone)
    if action.kind == "score":
        return plan_score(entity, action, state, timezone)
    if action.kind == "sla_due":
        return plan_sla_due(ctx, entity, action, change, state)
    return plan_recycle(entity, action)


def carry_derived(ctx: RecordContext, rule: AutomationSpec, planned: dict[str, Any], record: Any) -> str:
    """Write the planned values (and, back to the pool, the pool user as owner); nothing to write: say so."""
    if record is None:
        raise LookupError("the record is gone")
    if not planned["values"] and "owner" not in planned:
        return f"{planned['via']}: nothing to change on {rule.entity} #{record.id}"
    command = UpdateRecord(ctx, rule.entity, record, planned["values"])
    command.autocommit = False
    command.run()
    if "owner" in planned:
        record.owner_id = pool_user(ctx.session, ctx.models.user_model, planned["owner"])
        ctx.session.flush()
    shown = ", ".join(f"{k}={v}" for k, v in planned["values"].items())
    return f"{planned['via']}: set {shown} on {rule.entity} #{record.id}"
