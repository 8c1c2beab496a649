"""Carry out a rule's actions: set fields and create records through the record commands
(system rights: no role limits, every rule and gate still applies), as the automation;
e-mails and webhooks are rendered now and queued for delivery (see process.py)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from app.events.read import Change
from app.fieldtypes import field_type
from app.metadata.spec import CrmSpec, EntitySpec, FieldSpec
from app.records.commands import CreateRecord, RecordContext, UpdateRecord

from .checks import PLACEHOLDER
from .derived import KINDS as DERIVED
from .derived import carry_derived, plan_derived
from .engine import value_of
from .notify import carry_notify, plan_notify
from .spec import ActionSpec, AutomationSpec


def coerce(f: FieldSpec, value: Any) -> Any:
    """A value as the field stores it: a date given to a datetime field is that day at 00:00."""
    if f.type == "datetime" and type(value) is dt.date:
        return dt.datetime.combine(value, dt.time())
    if f.type == "date" and isinstance(value, dt.datetime):
        return value.date()
    if f.type in ("string", "text", "choice") and value is not None and not isinstance(value, str):
        return str(value)
    return value


def values_for(entity: EntitySpec, action: ActionSpec, state: dict[str, Any], timezone: str) -> dict[str, Any]:
    return {name: coerce(entity.field(name), value_of(text, state, timezone)) for name, text in action.values}


PATH = re.compile(r"^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*$")
AS_STORED = ("link", "links", "user", "boolean")  # shown as the expression gives them


def field_at(spec: CrmSpec, entity: EntitySpec, path: str) -> FieldSpec | None:
    """The field a placeholder names when it is a plain path (`amount`, `new.stage`,
    `account.industry`), else None (an expression)."""
    if not PATH.match(path):
        return None
    names = path.split(".")
    if names[0] in ("old", "new") and len(names) > 1:
        names = names[1:]
    current = entity
    for name in names[:-1]:
        link = current.field_map.get(name)
        if link is None or link.type != "link" or not link.to:
            return None
        current = spec.entity(link.to)
    return current.field_map.get(names[-1])


def render(template: str, state: dict[str, Any], timezone: str, lang: str = "en",
           entity: EntitySpec | None = None, spec: CrmSpec | None = None) -> str:
    """The template with each {{ expression }} filled. A placeholder naming a field of `entity`
    reads as on the record page, in `lang` (¥8,800.00, 25%, a choice's label: 成交, not won);
    any other expression as it computes (concat, arithmetic)."""
    def one(match: Any) -> str:
        text = match.group(1).strip()
        value = value_of(text, state, timezone)
        if value is None:
            return ""
        f = field_at(spec, entity, text) if entity is not None and spec is not None else None
        if f is not None and f.type not in AS_STORED:
            try:
                return field_type(f.type).card_text(f, value, spec, lang)
            except (ArithmeticError, TypeError, ValueError, AttributeError):
                return str(value)
        return str(value)

    return PLACEHOLDER.sub(one, template)


def plan_action(ctx: RecordContext, rule: AutomationSpec, action: ActionSpec, change: Change,
                state: dict[str, Any], timezone: str, lang: str) -> dict[str, Any]:
    """What the action would do, with every value computed (the dry run shows this; the worker does it)."""
    if action.kind in DERIVED:  # points, tag, scoring, SLA, pool: a set of what they would write
        return plan_derived(ctx, action, change, state, timezone)
    if action.kind in ("set", "create"):
        entity = ctx.entity(action.entity or rule.entity)
        return {"action": action.kind, "entity": entity.name, "values": values_for(entity, action, state, timezone)}
    if action.kind == "assign":  # who: picked when carried out (a round-robin turn is taken then)
        return {"action": "assign", "entity": rule.entity, "how": action.mode, "who": action.target,
                **({"open": action.open} if action.open else {})}
    entity, spec = ctx.entity(rule.entity), ctx.models.spec
    if action.kind == "notify":
        return plan_notify(ctx, action.notify, state, timezone,
                           lambda text, values, zone, lang: render(text, values, zone, lang, entity, spec))
    if action.kind == "email":
        lang = action.lang or lang
        return {"action": "email", "to": value_of(action.to or "", state, timezone), "lang": lang,
                "subject": render(action.subject.get(lang), state, timezone, lang, entity, spec),
                "body": render(action.body.get(lang), state, timezone, lang, entity, spec)}
    body = {key: _json_value(value_of(text, state, timezone)) for key, text in action.values}
    return {"action": "webhook", "url": action.url, "body": {
        "rule": rule.name, "event": change.id, "entity": change.entity, "record_id": change.record_id,
        "kind": change.kind, "data": body}}


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)  # Decimal: exact, as text


IN_TRANSACTION = ("set", "create", "notify")  # carried out in the rule's transaction (carry_out)


def carry_out(ctx: RecordContext, rule: AutomationSpec, planned: dict[str, Any], record: Any) -> str:
    """Do a set or create (in the open transaction, not committed); say what was done."""
    if planned["action"] == "notify":
        return carry_notify(ctx, rule.name, rule.entity, planned)
    if "via" in planned:
        return carry_derived(ctx, rule, planned, record)
    if planned["action"] == "set":
        if record is None:
            raise LookupError("the record is gone")
        command = UpdateRecord(ctx, rule.entity, record, planned["values"])
        command.autocommit = False
        command.run()
        return f"set {', '.join(planned['values'])} on {rule.entity} #{record.id}"
    create = CreateRecord(ctx, planned["entity"], planned["values"])
    create.autocommit = False
    made = create.run()
    return f"created {planned['entity']} #{made.id}"
