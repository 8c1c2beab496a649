"""Does a rule fire for a change, and what would it do: the one decision the worker and
the dry run share (the dry run shows the plan; the worker carries it out)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from app.events.read import Change
from app.expr import compiled, parse
from app.expr.nodes import Node
from app.i18n import Phrase
from app.metadata.spec import EntitySpec
from app.records.conditions import view

from .spec import SAVED, TIME_TRIGGERS, AutomationSpec


@lru_cache(maxsize=2048)
def tree(text: str) -> Node:
    return parse(text)  # checked at load: never fails here


def stage_fields(entity: EntitySpec) -> set[str]:
    return {p.field for p in entity.pipelines}


def trigger_matches(rule: AutomationSpec, change: Change, entity: EntitySpec) -> bool:
    """The trigger alone (no condition): created / updated / deleted, a field or a stage change."""
    if rule.entity != change.entity or not rule.enabled or rule.trigger in TIME_TRIGGERS:
        return False  # time triggers are the tick's (tick.py), never a change's
    if rule.trigger in ("created", "updated", "deleted"):
        return change.kind == rule.trigger
    if rule.trigger == SAVED:  # the rules scoring and SLA make (sales.py): on every create and update
        return change.kind in ("created", "updated")
    if change.kind == "deleted":
        return False
    if rule.trigger == "field_changed":
        if rule.field not in change.changes:
            return False
        return rule.to_value is None or str(change.new(rule.field)) == str(rule.to_value)
    moved = [name for name in stage_fields(entity) if name in change.changes]
    return any((not rule.from_stages or change.old(name) in rule.from_stages)
               and (not rule.to_stages or change.new(name) in rule.to_stages) for name in moved)


def evaluation_view(ctx: Any, entity: EntitySpec, record: Any, change: Change) -> dict[str, Any]:
    """What expressions read: the record (links as records, users as users), `id`, `old`, `new`."""
    if record is not None:
        state = view(ctx, entity, record, None)
        state["id"] = record.id
    else:  # deleted: the values it had
        state = {name: old for name, (old, _) in change.changes.items()}
        state["id"] = change.record_id
    users = ctx.models.user_model
    for f in entity.fields:
        value = state.get(f.name)
        if f.type == "user" and isinstance(value, int):
            state[f.name] = ctx.session.get(users, value)
    current = {f.name: _plain(state.get(f.name)) for f in entity.fields}
    old = dict(current)
    new = dict(current)
    for name, (before, after) in change.changes.items():
        old[name], new[name] = before, after
    state["old"], state["new"] = old, new
    return state


def _plain(value: Any) -> Any:
    """A linked record or user as its id (old.owner = 3, like a field's value)."""
    return getattr(value, "id", value) if value is not None and hasattr(value, "id") else value


def value_of(text: str, state: dict[str, Any], timezone: str) -> Any:
    return _plain(compiled(text)(state, timezone))


@dataclass
class Decision:
    rule: AutomationSpec
    fires: bool
    reason: str = ""
    actions: list[dict[str, Any]] = field(default_factory=list)  # what each action would do


def decide(rule: AutomationSpec, change: Change, state: dict[str, Any], timezone: str) -> Decision:
    if rule.condition is not None:
        verdict = compiled(rule.condition)(state, timezone)
        if verdict is not True:
            return Decision(rule, False, Phrase("condition `{condition}` is {verdict}", condition=rule.condition,
                                                verdict=verdict))
    return Decision(rule, True, Phrase("trigger and condition hold"))
