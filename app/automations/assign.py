"""The assign action: pick the new owner (a login, the role's users in turn, or the one
owning the fewest open records) and give it the record through the reassign command.

Round-robin turns are counted in `crm_counter` (entity `@round_robin`, field = the rule),
taken with the rule's other writes, so several workers agree on whose turn it is.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from app.expr.sql import compile_sql
from app.models.events import next_number
from app.records.assignees import role_members
from app.records.commands import RecordContext
from app.records.reassign import ReassignRecords

from .engine import tree
from .spec import ActionSpec, AutomationSpec
from .territory import territory_candidates

ROUND_ROBIN_KEY = "@round_robin"


class AssignFailed(LookupError):
    """No one to assign: an unknown login, or a role no active user holds."""


def _active(user_model: Any) -> Any:
    return sa.or_(user_model.active.is_(None), user_model.active.is_(True))


def role_users(ctx: RecordContext, role: str) -> list[int]:
    users = ctx.models.user_model
    ids = list(ctx.session.scalars(sa.select(users.id).where(_active(users), users.id.in_(role_members((role,))))
                                   .order_by(users.id)))
    if not ids:
        raise AssignFailed(f"assign: no active user holds role '{role}'")
    return ids


def pick_owner(ctx: RecordContext, rule: AutomationSpec, action: ActionSpec, record: Any) -> int:
    users = ctx.models.user_model
    if action.mode == "user":
        found = ctx.session.scalar(sa.select(users.id).where(users.username == action.target))
        if found is None:
            raise AssignFailed(f"assign: no user with login '{action.target}'")
        return int(found)
    if action.mode == "territory":  # the area's users in turn (territory.py)
        key, in_area = territory_candidates(ctx, action.detail, record)
        turn = next_number(ctx.session.connection(), ctx.models.core["crm_counter"], ROUND_ROBIN_KEY, key[:64])
        return in_area[(turn - 1) % len(in_area)]
    candidates = role_users(ctx, str(action.target))
    if action.mode == "round_robin":
        turn = next_number(ctx.session.connection(), ctx.models.core["crm_counter"], ROUND_ROBIN_KEY, rule.name[:64])
        return candidates[(turn - 1) % len(candidates)]
    model = ctx.models.model(rule.entity)
    load = sa.select(model.owner_id, sa.func.count()).where(model.owner_id.in_(candidates), model.id != record.id)
    if action.open is not None:
        load = load.where(compile_sql(tree(action.open), model, timezone=ctx.models.spec.timezone))
    counts = dict(ctx.session.execute(load.group_by(model.owner_id)).all())
    return min(candidates, key=lambda uid: (counts.get(uid, 0), uid))


def assign_owner(ctx: RecordContext, rule: AutomationSpec, action: ActionSpec, record: Any) -> str:
    """Reassign `record` (in the open transaction, not committed) as the automation; say to whom."""
    if record is None:
        raise LookupError("the record is gone")
    owner = pick_owner(ctx, rule, action, record)
    command = ReassignRecords(ctx, rule.entity, [record.id], owner)
    command.autocommit = False
    command.run()
    login = ctx.session.get(ctx.models.user_model, owner).username
    return f"assigned {rule.entity} #{record.id} to {login}"
