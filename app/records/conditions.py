"""Rules on a record: required_if / visible_if / read_only_if, `validate:` rules, the lock.

The record commands call these on every write path (form, API, board move,
conversion, import), with the values already normalised. Conditions are
expressions of app/expr evaluated for the record as it would be after the
write (`read_only_if` and `locked_if`: as it is stored). A field the user's
role cannot see counts as filled: no rule demands a value the user cannot see.
The form asks `field_states` to hide, require and lock fields as the user types.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from app.expr import compiled, fields_of, parse
from app.metadata.spec import EntitySpec

from .messages import msg
from .rules import is_empty
from .stages import record_state


@lru_cache(maxsize=1024)
def _names(text: str) -> frozenset[str]:
    """The fields a rule reads (their first step: `account.tier` reads `account`)."""
    return frozenset(f.path[0] for f in fields_of(parse(text)))  # checked at load: never fails here


def holds(text: str | None, record: dict[str, Any], timezone: str) -> bool | None:
    """True, False, or None when the condition cannot be decided (an empty operand)."""
    if text is None:
        return None
    value = compiled(text)(record, timezone)
    return None if value is None else bool(value)


def condition_reads(entity: EntitySpec) -> frozenset[str]:
    """The fields the entity's conditions, `validate:` rules and lock read (their first step), and
    those that have a condition. Kept on the entity as its cached properties are: computed once."""
    return _plan(entity)[0]


def _plan(entity: EntitySpec) -> tuple[frozenset[str], tuple[Any, ...], tuple[Any, ...]]:
    """(`condition_reads`, the declared fields with a condition, the link fields): read on every
    write of the entity, worked out once (kept on the entity)."""
    plan = entity.__dict__.get(_PLAN)
    if plan is None:
        conditional = tuple(f for f in entity.declared_fields if f.required_if or f.visible_if or f.read_only_if)
        texts = [t for f in conditional for t in (f.required_if, f.visible_if, f.read_only_if) if t]
        texts += [rule.rule for rule in entity.rules] + [t for t in (entity.locked_if,) if t]
        reads = frozenset({f.name for f in conditional}.union(*(_names(t) for t in texts)) & entity.field_map.keys())
        plan = (reads, conditional, tuple(f for f in entity.fields if f.type == "link"))
        entity.__dict__[_PLAN] = plan
    return plan


_PLAN = "_crm_condition_plan"


def view(ctx: Any, entity: EntitySpec, record: Any, values: dict[str, Any] | None,
         names: frozenset[str] | None = None) -> dict[str, Any]:
    """The record's values for expressions; links as the linked records, so `account.tier` reads.
    `names`: only those fields (the rules' checks give `condition_reads`: nothing else is read
    there; automations' expressions read any field)."""
    state = record_state(entity, record, values or {}, names)
    for f in _plan(entity)[2]:
        if f.name in state:
            target = state[f.name]
            if target is not None and not hasattr(target, "id"):
                state[f.name] = ctx.session.get(ctx.models.model(f.target), target)
            elif target is None and record is not None and f.name not in (values or {}):
                state[f.name] = getattr(record, f.name, None)
    return state


def _hidden(ctx: Any, entity: EntitySpec) -> set[str]:
    return ctx.access.hidden_fields(entity) if ctx.access is not None else set()  # a set of its own


def _changed(record: Any, name: str, value: Any, entity: EntitySpec) -> bool:
    if record is None:
        return not is_empty(value)
    f = entity.field(name)
    current = getattr(record, f.column_name if f.is_link else name, None)
    return not (value == current or (is_empty(value) and is_empty(current)))


def condition_errors(ctx: Any, entity: EntitySpec, record: Any, values: dict[str, Any],
                     timezone: str) -> dict[str, list[str]]:
    """Errors of the field conditions and the `validate:` rules, by field (or `_schema`)."""
    lang, hidden = ctx.lang, _hidden(ctx, entity)
    reads, conditional, _ = _plan(entity)
    after = view(ctx, entity, record, values, reads)
    before = view(ctx, entity, record, None, reads) if record is not None else None
    errors: dict[str, list[str]] = {}
    for f in conditional:
        if f.name in hidden:
            continue
        given = f.name in values and _changed(record, f.name, values[f.name], entity)
        if f.visible_if is not None and holds(f.visible_if, after, timezone) is not True:
            if given and not is_empty(values[f.name]):
                errors[f.name] = [msg("not_applicable", lang)]
            continue  # a field not shown is never required
        if before is not None and given and holds(f.read_only_if, before, timezone):
            errors[f.name] = [msg("read_only", lang)]
        elif holds(f.required_if, after, timezone) and is_empty(after.get(f.name)):
            errors[f.name] = [msg("required", lang)]
    for rule in entity.rules:
        if _names(rule.rule) & hidden or set(rule.fields) & hidden:
            continue  # never refuse a write over a value the user cannot see
        if holds(rule.rule, after, timezone) is False:
            for name in rule.fields or ("_schema",):
                errors.setdefault(name, []).append(rule.message.get(lang))
    return errors


def lock_message(ctx: Any, entity: EntitySpec, record: Any, timezone: str) -> str | None:
    """Why the stored record cannot be changed by this user (`locked_if`), or None."""
    if record is None or entity.locked_if is None:
        return None
    access = ctx.access
    if access is not None and (access.is_admin or set(access.roles) & set(entity.unlock_roles)):
        return None
    if not holds(entity.locked_if, view(ctx, entity, record, None, condition_reads(entity)), timezone):
        return None
    roles = ", ".join(entity.unlock_roles) or "Admin"
    return msg("locked", ctx.lang, entity=entity.label.get(ctx.lang), roles=roles)


def field_states(ctx: Any, entity: EntitySpec, record: Any, values: dict[str, Any],
                 timezone: str) -> dict[str, list[str]]:
    """For the live form: which fields are hidden, required and read-only with these values."""
    after = view(ctx, entity, record, values)
    before = view(ctx, entity, record, None) if record is not None else None
    states: dict[str, list[str]] = {"hidden": [], "required": [], "read_only": []}
    for f in entity.declared_fields:
        if f.visible_if is not None and holds(f.visible_if, after, timezone) is not True:
            states["hidden"].append(f.name)
        elif f.required or holds(f.required_if, after, timezone):
            states["required"].append(f.name)
        if before is not None and holds(f.read_only_if, before, timezone):
            states["read_only"].append(f.name)
    return states
