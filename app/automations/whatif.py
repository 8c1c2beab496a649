"""Which rules would fire, and what would they do, for one record: the page behind the
record's "Automations: what if" link and the time-rule half of `flask crm automations test`.

Nothing is written: every answer comes from the engine's own decision (engine.decide)
and plan (actions.plan_action), read in a transaction that is rolled back. Change rules
are judged against a change of the chosen kind: the record's last outbox event (`last`),
or as if it were just `created` or `deleted`; time rules (schedule, date, inactive)
against the clock: is the record's moment due, did the rule fire for it already.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from app.events.read import Change
from app.i18n import Phrase
from app.models.events import utcnow
from app.records.commands import RecordContext

from .actions import plan_action
from .cron import parse_cron
from .engine import decide, evaluation_view, trigger_matches
from .moments import minutes, taken
from .spec import TIME_TRIGGERS, AutomationSpec
from .words import TRIGGERS

KINDS = ("last", "created", "deleted", "time")


def as_if(kind: str, session: Any, models: Any, entity: str, record: Any) -> Change:
    """The change judged: the last event, or the record's values as if just created / deleted."""
    from .dryrun import last_change

    if kind == "last":
        return last_change(session, models, entity, record)
    spec = models.spec.entity(entity)
    values = {f.name: getattr(record, f.column_name, None) for f in spec.declared_fields if f.has_column}
    changes = {k: ((None, v) if kind == "created" else (v, None)) for k, v in values.items()}
    return Change(0, entity, record.id, kind, changes, None, None, 0, utcnow())


def _plans(ctx: RecordContext, rule: AutomationSpec, change: Change, view: dict[str, Any]) -> list[dict[str, Any]]:
    plans = []
    for action in rule.actions:
        try:
            plans.append(plan_action(ctx, rule, action, change, view, ctx.models.spec.timezone, ctx.lang or "en"))
        except Exception as exc:  # what the worker would log as the rule's failure
            plans.append({"action": action.kind, "error": f"{type(exc).__name__}: {exc}"})
    return plans


def judge_change(ctx: RecordContext, rule: AutomationSpec, record: Any, change: Change) -> dict[str, Any]:
    entity = ctx.models.spec.entity(rule.entity)
    if not rule.enabled:
        return {"fires": False, "reason": Phrase("the rule is off (enabled: false)")}
    if not trigger_matches(rule, change, entity):
        return {"fires": False, "reason": Phrase("a {kind} change (`{fields}`) does not match trigger {trigger}",
                                                 kind=TRIGGERS.get(change.kind, change.kind),
                                                 fields=", ".join(sorted(change.changes)) or "-",
                                                 trigger=TRIGGERS.get(rule.trigger, rule.trigger))}
    view = evaluation_view(ctx, entity, record if change.kind != "deleted" else None, change)
    decision = decide(rule, change, view, ctx.models.spec.timezone)
    if not decision.fires:
        return {"fires": False, "reason": decision.reason}
    return {"fires": True, "reason": decision.reason, "actions": _plans(ctx, rule, change, view)}


def due_moment(rule: AutomationSpec, record: Any, models: Any, now: dt.datetime, catch_up: int) -> tuple[
        dt.datetime | None, str]:
    """(the record's due moment in naive UTC, or None with the reason it is not due)."""
    if rule.trigger == "schedule":
        zone = ZoneInfo(models.spec.timezone or "UTC")
        local = now.replace(tzinfo=dt.UTC).astimezone(zone).replace(tzinfo=None)
        due = parse_cron(rule.cron or "").last_due(local, dt.timedelta(minutes=catch_up))
        if due is None:
            return None, Phrase("cron '{cron}' has no minute within the last {n} minutes ({local})", cron=rule.cron,
                                n=catch_up, local=f"{local:%Y-%m-%d %H:%M}")
        return due.replace(tzinfo=zone).astimezone(dt.UTC).replace(tzinfo=None), ""
    f = models.spec.entity(rule.entity).field(rule.time_field or "changed_on")
    value = getattr(record, f.column_name, None)
    if value is None:
        return None, Phrase("{field} is empty", field=f.name)
    moment = (value if isinstance(value, dt.datetime) else dt.datetime.combine(value, dt.time())) \
        + dt.timedelta(days=rule.offset_days, minutes=rule.offset_minutes)  # minutes: SLA warnings (sla.py)
    if moment > now:
        shift = f"{rule.offset_days:+d} days" + (f" {rule.offset_minutes:+d} minutes" if rule.offset_minutes else "")
        return None, Phrase("not yet: due {moment} UTC ({field} {shift})", moment=f"{moment:%Y-%m-%d %H:%M}",
                            field=f.name, shift=shift)
    return moment, ""


def judge_time(ctx: RecordContext, rule: AutomationSpec, record: Any, now: dt.datetime,
               catch_up: int = 60) -> dict[str, Any]:
    """Would the next tick fire `rule` on `record`, and what would it do."""
    if not rule.enabled:
        return {"fires": False, "reason": Phrase("the rule is off (enabled: false)")}
    due, why = due_moment(rule, record, ctx.models, now, catch_up)
    if due is None:
        return {"fires": False, "reason": why}
    last = taken(ctx.session, ctx.models.core["crm_counter"], f"@tick:{rule.name}", record.id).get(str(record.id))
    if last is not None and last >= minutes(due):
        return {"fires": False, "reason": Phrase("fired already for the moment {due} UTC", due=f"{due:%Y-%m-%d %H:%M}")}
    change = Change(None, rule.entity, record.id, rule.trigger, {}, None, None, 0, now)  # type: ignore[arg-type]
    view = evaluation_view(ctx, ctx.models.spec.entity(rule.entity), record, change)
    decision = decide(rule, change, view, ctx.models.spec.timezone)
    if not decision.fires:
        return {"fires": False, "reason": Phrase("due {due} UTC, but {reason}", due=f"{due:%Y-%m-%d %H:%M}",
                                                 reason=decision.reason)}
    return {"fires": True, "reason": Phrase("due {due} UTC and the condition holds", due=f"{due:%Y-%m-%d %H:%M}"),
            "actions": _plans(ctx, rule, change, view)}


def which_rules(app: Any, entity: str, record: Any, kind: str, now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Every rule on `entity`, judged for `record` and a change of `kind` (or the clock, for time rules)."""
    state = app.extensions["crm"]
    models, session = state.models, state.db.session
    ctx = RecordContext(session, models, lang=models.spec.languages[0], user_id=None, access=None)
    catch_up = int(app.config.get("CRM_AUTOMATION_TICK_CATCH_UP", 60))
    change = None if kind == "time" else as_if(kind, session, models, entity, record)
    found = []
    try:
        for rule in models.spec.automations:
            if rule.entity != entity or (rule.trigger in TIME_TRIGGERS) != (kind == "time"):
                continue
            verdict = judge_time(ctx, rule, record, now or utcnow(), catch_up) if change is None \
                else judge_change(ctx, rule, record, change)
            found.append({"rule": rule.name, "label": rule.label, "trigger": rule.trigger, **verdict})
    finally:
        session.rollback()
    return found
