"""SLA timers: a due time from the record's priority, counted in business hours
(calendar.py) from when it was created; a warning before and an escalation at the due
time, run by `flask crm automations tick` like any date rule.

    sla:
      - name: ticket_sla
        label: {en: Ticket SLA, zh: 工单服务时限}
        entity: ticket
        priority: priority                # a choice field
        due: sla_due                      # the datetime field the due time is written to
        hours: {urgent: 4, high: 8, normal: 24, low: 72}
        open: "status not in [resolved, closed]"   # only open records are warned and escalated
        warn_before_minutes: 60
        warn: [ ...actions... ]           # any actions of a rule (email, set, assign, ...)
        escalate: [ ...actions... ]

It makes three rules: `<name>` (writes the due time on create and when the priority
changes), `<name>_warn` and `<name>_escalate`. Problems are CRM-E077.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.metadata.definitions import Key
from app.metadata.problems import did_you_mean
from app.metadata.shapes import check_mapping, line_of
from app.metadata.spec import Text
from app.metadata.yamlsource import LocMap

from .calendar import BusinessCalendar
from .section import section_head
from .spec import SAVED, ActionSpec, AutomationSpec

KEYS = (Key("name", "identifier", "Stable key; the rules made are <name>, <name>_warn, <name>_escalate.", required=True),
        Key("label", "label", "What the SLA is, in each language.", required=True),
        Key("entity", "identifier", "The entity timed.", required=True),
        Key("priority", "identifier", "The choice field the hours depend on.", required=True),
        Key("due", "identifier", "The datetime field the due time is written to.", required=True),
        Key("hours", "mapping", "priority value -> business hours to the due time.", required=True),
        Key("open", "text", "A condition: records it holds for are warned and escalated."),
        Key("warn_before_minutes", "integer", "How long before the due time the warning goes."),
        Key("warn", "rules", "Actions at the warning (email, set, assign, ...)."),
        Key("escalate", "rules", "Actions at the due time (breach).", required=True))
CALENDAR_KEYS = (Key("hours", "identifiers", "[start, end] of the working day, e.g. ['09:00', '18:00']."),
                 Key("weekdays", "identifiers", "Working weekdays, ISO numbers: 1 Monday .. 7 Sunday."),
                 Key("holidays", "identifiers", "Dates not worked."),
                 Key("workdays", "identifiers", "Weekend dates worked (调休)."))


@dataclass(frozen=True)
class Sla:
    priority: str
    due: str
    hours: tuple[tuple[str, float], ...]
    calendar: BusinessCalendar


def _bad(checker: Any, line: int, message: str, hint: str = "") -> None:
    checker.sink.add("CRM-E077", line, message, hint)


def parse_calendar(checker: Any, node: Any) -> BusinessCalendar:
    if node is None:
        return BusinessCalendar()
    values = check_mapping(node, CALENDAR_KEYS, checker.sink, "calendar", 1)
    at = node.line_of if isinstance(node, LocMap) else (lambda key: 1)
    result = BusinessCalendar()
    try:
        hours = [dt.time.fromisoformat(str(h)) for h in values.get("hours", ["09:00", "18:00"])]
        if len(hours) != 2 or hours[0] >= hours[1]:
            raise ValueError
    except ValueError:
        _bad(checker, at("hours"), f"calendar hours {values.get('hours')!r} must be [start, end], start first",
             "hours: ['09:00', '18:00']")
        return result
    days = values.get("weekdays", [1, 2, 3, 4, 5])
    if not days or any(not isinstance(d, int) or isinstance(d, bool) or not 1 <= d <= 7 for d in days):
        _bad(checker, at("weekdays"), f"calendar weekdays {days!r} must be numbers 1 (Monday) .. 7 (Sunday)",
             "weekdays: [1, 2, 3, 4, 5]")
        return result
    dates: dict[str, frozenset[dt.date]] = {}
    for key in ("holidays", "workdays"):
        raw = values.get(key, [])
        wrong = [d for d in raw if not isinstance(d, dt.date)]
        if wrong:
            _bad(checker, at(key), f"calendar {key}: {wrong[0]!r} is not a date", f"{key}: [2026-10-01]")
            return result
        dates[key] = frozenset(raw)
    return BusinessCalendar(hours[0], hours[1], frozenset(days), dates["holidays"], dates["workdays"])


def parse_sla(checker: Any, item: Any, line: int, path: Any, calendar: BusinessCalendar,
              parse_action: Callable[..., ActionSpec | None]) -> list[AutomationSpec]:
    head = section_head(checker, item, line, KEYS, "sla")
    if head is None:
        return []
    values, where, entity = head
    priority, due = entity.field_map.get(values["priority"]), entity.field_map.get(values["due"])
    if priority is None or priority.type != "choice":
        _bad(checker, item.line_of("priority"), f"{where} priority '{values['priority']}' is not a choice field of "
             f"{entity.name}", did_you_mean(str(values["priority"]), [f.name for f in entity.fields if f.type == "choice"]))
        return []
    if due is None or due.type != "datetime" or not due.editable:
        _bad(checker, item.line_of("due"), f"{where} due '{values['due']}' is not a writable datetime field of "
             f"{entity.name}", did_you_mean(str(values["due"]), [f.name for f in entity.fields if f.type == "datetime"]))
        return []
    hours = _hours(checker, values["hours"], priority, item.line_of("hours"), where)
    open_ok = "open" not in values or checker.condition(values["open"], entity.name, item.line_of("open"), where)
    warn_before = values.get("warn_before_minutes", 0)
    if warn_before < 0:
        _bad(checker, item.line_of("warn_before_minutes"), f"{where} warn_before_minutes must be 0 or more")
        return []
    actions = {}
    for key in ("warn", "escalate"):
        raw = values.get(key) or []
        found = [parse_action(a, line_of(raw, i, item.line_of(key)), entity.name, f"{where} {key}")
                 for i, a in enumerate(raw)]
        if any(a is None for a in found):
            return []
        actions[key] = tuple(a for a in found if a is not None)
    if hours is None or not open_ok:
        return []
    if "warn" in values and "warn_before_minutes" not in values:
        _bad(checker, item.line_of("warn"), f"{where} has warn actions but no warn_before_minutes",
             "warn_before_minutes: 60")
        return []
    name, label = values["name"], Text.of(values["label"])
    sla = Sla(priority.name, due.name, hours, calendar)
    common = {"entity": entity.name, "line": line, "source": path}
    rules = [AutomationSpec(name=name, label=label, trigger=SAVED,
                            actions=(ActionSpec("sla_due", line, entity=entity.name, detail=sla),), **common)]
    timed = {"trigger": "date", "time_field": due.name, "condition": values.get("open")}
    if actions["warn"]:
        rules.append(AutomationSpec(name=f"{name}_warn", label=label, actions=actions["warn"],
                                    offset_minutes=-warn_before, **timed, **common))
    rules.append(AutomationSpec(name=f"{name}_escalate", label=label, actions=actions["escalate"], **timed, **common))
    return rules


def _hours(checker: Any, raw: Any, priority: Any, line: int, where: str) -> tuple[Any, ...] | None:
    choices = [c.value for c in priority.choices]
    found = []
    for value, amount in raw.items():
        at = raw.line_of(value) if isinstance(raw, LocMap) else line
        if str(value) not in choices:
            _bad(checker, at, f"{where} hours: '{value}' is not a choice of {priority.name}",
                 did_you_mean(str(value), choices) or f"choices: {', '.join(choices)}")
            return None
        if not isinstance(amount, int | float) or isinstance(amount, bool) or amount <= 0:
            _bad(checker, at, f"{where} hours for {value} must be a number of hours above 0, got {amount!r}")
            return None
        found.append((str(value), float(amount)))
    return tuple(found)


def plan_sla_due(ctx: Any, entity: Any, action: ActionSpec, change: Any, state: dict[str, Any]) -> dict[str, Any]:
    """The due time on create, or when the priority changed (or none is set): from created_on."""
    sla: Sla = action.detail  # type: ignore[assignment]
    values: dict[str, Any] = {}
    hours = dict(sla.hours).get(str(state.get(sla.priority)))
    moved = change.kind == "created" or sla.priority in change.changes or state.get(sla.due) is None
    if hours is not None and moved and state.get("created_on") is not None:
        due = sla.calendar.add_hours(state["created_on"], hours, ctx.models.spec.timezone)
        if state.get(sla.due) != due:
            values[sla.due] = due
    return {"action": "set", "via": "sla_due", "entity": entity.name, "values": values}
