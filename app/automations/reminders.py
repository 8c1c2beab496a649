"""Task reminders: `reminders:` in automations.yaml names, per entity, the due date-time,
the assignee, the done flag and how many minutes before the due time to remind.

The same entries make "My tasks" (app/web/my_tasks.py). The tick (tick.py) reminds each
open task once per due moment: a notification in the app and, with `email: true`, an
e-mail to the assignee through the delivery log (retried, shown on the automations page).
The moment is remembered in `crm_counter` (entity `@remind:<entity>`, field the record id,
last the due moment in minutes), taken in the reminder's own transaction, so two ticks
remind once and a moved due time reminds again. Bad entries are CRM-E073.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from app.metadata.definitions import Key
from app.metadata.problems import Problem, ProblemSink, did_you_mean
from app.metadata.shapes import check_mapping, line_of
from app.metadata.spec import EntitySpec

from .moments import minutes, take_moment, taken
from .notify import add_notifications

REMINDER_KEYS = (
    Key("entity", "identifier", "The entity of the tasks, e.g. activity.", required=True),
    Key("due", "identifier", "Its date-time field: when the task is due.", required=True),
    Key("assignee", "identifier", "Its user field: whose task it is (reminded, and shown in their My tasks).",
        required=True),
    Key("done", "identifier", "Its true/false field: done tasks are neither reminded nor listed."),
    Key("minutes_before", "integer", "Remind this many minutes before the due time (default 0: at it)."),
    Key("email", "bool", "Also remind by e-mail, to the assignee's address (default false)."),
)
COUNTER = "@remind:"


@dataclass(frozen=True)
class ReminderSpec:
    entity: str
    due: str
    assignee: str
    done: str | None = None
    minutes_before: int = 0
    email: bool = False
    line: int = 0


def parse_reminders(node: Any, path: Path, problems: list[Problem],
                    entities: dict[str, EntitySpec]) -> tuple[ReminderSpec, ...]:
    if not isinstance(node, dict) or not node.get("reminders"):
        return ()
    sink = ProblemSink(path, problems)
    raw = node["reminders"]
    if not isinstance(raw, list):
        return ()  # the file check (CRM-E003) said so
    found: dict[str, ReminderSpec] = {}
    for index, item in enumerate(raw):
        line = line_of(raw, index, 1)
        spec = _reminder(item, line, sink, entities)
        if spec is None:
            continue
        if spec.entity in found:
            sink.add("CRM-E073", line, f"reminders for {spec.entity} are given twice", "keep one entry per entity")
            continue
        found[spec.entity] = spec
    return tuple(found.values())


def _reminder(item: Any, line: int, sink: ProblemSink, entities: dict[str, EntitySpec]) -> ReminderSpec | None:
    values = check_mapping(item, REMINDER_KEYS, sink, "reminder", line)
    if not {"entity", "due", "assignee"} <= set(values):
        return None
    at = item.line_of
    entity = entities.get(values["entity"])
    if entity is None:
        sink.add("CRM-E073", at("entity"), f"reminder names unknown entity '{values['entity']}'",
                 did_you_mean(str(values["entity"]), entities))
        return None
    ok = True
    for key, types in (("due", ("datetime",)), ("assignee", ("user",)), ("done", ("boolean",))):
        name = values.get(key)
        if name is None:
            continue
        f = entity.field_map.get(name)
        if f is None or f.type not in types:
            what = "is not a field" if f is None else f"is a {f.type}"
            fits = [g.name for g in entity.fields if g.type in types]
            sink.add("CRM-E073", at(key), f"reminder {key} '{name}' {what} of {entity.name}, not a {types[0]}",
                     did_you_mean(str(name), fits) or f"{types[0]} fields: {', '.join(fits) or 'none'}")
            ok = False
    before = values.get("minutes_before", 0)
    if before < 0:
        sink.add("CRM-E073", at("minutes_before"), f"reminder minutes_before must be 0 or more, got {before}",
                 "minutes_before: 15")
        ok = False
    if not ok:
        return None
    return ReminderSpec(entity.name, values["due"], values["assignee"], values.get("done"), before,
                        values.get("email", False), line)


# -- the tick ---------------------------------------------------------------------------

def open_tasks(model: Any, entity: EntitySpec, spec: ReminderSpec) -> Any:
    """The clause of tasks still to do (done is false or empty)."""
    if spec.done is None:
        return sa.true()
    done = getattr(model, entity.field(spec.done).column_name)
    return sa.or_(done.is_(None), done.is_(False))


def send_reminders(ticker: Any) -> None:
    """Remind every open task whose moment (due - minutes_before) has come within the catch-up window."""
    for spec in getattr(ticker.models.spec, "reminders", ()):
        for record_id, due, user_id in due_tasks(ticker, spec):
            _remind(ticker, spec, record_id, due, user_id)


def due_tasks(ticker: Any, spec: ReminderSpec) -> list[tuple[int, dt.datetime, int]]:
    entity = ticker.models.spec.entity(spec.entity)
    model = ticker.models.model(spec.entity)
    due = getattr(model, entity.field(spec.due).column_name)
    who = getattr(model, entity.field(spec.assignee).column_name)
    ahead = ticker.now + dt.timedelta(minutes=spec.minutes_before)
    catch_up = dt.timedelta(minutes=int(ticker.config.get("CRM_REMINDER_CATCH_UP", 1440)))
    rows = ticker.session.execute(sa.select(model.id, due, who).where(
        due.isnot(None), who.isnot(None), due <= ahead, due > ahead - catch_up, open_tasks(model, entity, spec))
        .order_by(model.id)).all()
    sent = taken(ticker.session, ticker.models.core["crm_counter"], COUNTER + spec.entity)
    ticker.session.commit()
    return [(i, d, u) for i, d, u in rows if sent.get(str(i), -1) < minutes(d)]


def reminder_text(entity: EntitySpec, title: str, due: dt.datetime, timezone: str) -> dict[str, str]:
    local = due.replace(tzinfo=dt.UTC).astimezone(ZoneInfo(timezone or "UTC"))
    when = f"{local:%Y-%m-%d %H:%M}"
    return {"en": f"Reminder: {entity.label.get('en')} “{title}” is due {when}",
            "zh": f"提醒：{entity.label.get('zh')}“{title}”将于 {when} 到期"}


def _remind(ticker: Any, spec: ReminderSpec, record_id: int, due: dt.datetime, user_id: int) -> None:
    entity = ticker.models.spec.entity(spec.entity)
    session = ticker.session
    send = None
    try:
        record = session.get(ticker.models.model(spec.entity), record_id)
        if record is None or not take_moment(session, ticker.models.core["crm_counter"], COUNTER + spec.entity,
                                             record_id, due):
            session.rollback()
            return
        title = str(getattr(record, entity.field(entity.title_field).column_name, "") or f"#{record_id}")
        message = reminder_text(entity, title, due, ticker.models.spec.timezone)
        add_notifications(session, ticker.models.core["crm_notification"], [user_id], "reminder",
                          spec.entity, spec.entity, record_id, message)
        address = getattr(session.get(ticker.models.user_model, user_id), "email", None) if spec.email else None
        if address:  # a user without an address is reminded in the app only (the log says so)
            send = ticker._log(None, f"{COUNTER}{spec.entity}", "email", "pending", None, payload={
                "action": "email", "to": address, "lang": "en",
                "subject": f"{message['en']} / {message['zh']}",
                "body": f"{message['en']}\n{message['zh']}\n\n/crm/{spec.entity}/show/{record_id}"})
        ticker._log(None, f"{COUNTER}{spec.entity}", "reminder", "fired",
                    f"{spec.entity} #{record_id} due {due:%Y-%m-%d %H:%M} UTC: reminded user #{user_id}"
                    + ("" if address or not spec.email else " in the app (no e-mail address)"))
        session.commit()
    except Exception as exc:  # one task's failure never stops the others
        session.rollback()
        ticker._log(None, f"{COUNTER}{spec.entity}", "reminder", "failed", f"{spec.entity} #{record_id}: {exc}")
        session.commit()
        return
    ticker.counts["reminded"] = ticker.counts.get("reminded", 0) + 1
    if send is not None:
        ticker._send(send)
