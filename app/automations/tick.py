"""Time-triggered rules: `flask crm automations tick` (cron it every minute) or a
`automations_tick` job. Each run finds, per rule, the records whose moment has come:

- schedule {cron}: every record, at the latest cron minute (CRM timezone) within the last
  CRM_AUTOMATION_TICK_CATCH_UP minutes (default 60: a late or missed tick catches up);
- date {field, offset_days}: the day `field` + offset_days, from 00:00;
- inactive {days, field}: `field` (default changed_on) + days.

A rule fires at most once per record per due moment: the moment is remembered in
`crm_counter` (entity `@tick:<rule>`, field the record id, last the moment in minutes
since 1970), taken in the rule's own transaction, so two ticks at once fire it once and a
failed rule (rolled back) is tried again at the next tick. `now` is passed in (tests
freeze it). Records whose condition is false are left without a log row: they are
looked at again at the next tick.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from app.events.context import acting_automation
from app.events.read import Change
from app.jobs import JobContext, job_handler
from app.jobs.cleanup import clean_files
from app.jobs.sweep import sweep
from app.models.events import utcnow

from .actions import IN_TRANSACTION, carry_out, plan_action
from .assign import assign_owner
from .cron import parse_cron
from .engine import decide, evaluation_view
from .moments import minutes, take_moment, taken
from .process import Outbox, _reason, _worker_flag, log
from .reminders import send_reminders
from .spec import TIME_TRIGGERS, AutomationSpec

TICK_KIND = "automations_tick"


class Ticker(Outbox):
    """One tick over the time-triggered rules (inside an app context)."""

    def tick(self) -> dict[str, int]:
        with _worker_flag():
            for rule in self.models.spec.automations:
                if rule.enabled and rule.trigger in TIME_TRIGGERS:
                    for record_id, due in self.due(rule):
                        self._fire(rule, record_id, due)
            send_reminders(self)  # task reminders (reminders.py)
            self.retry_due()
        return self.counts

    def due(self, rule: AutomationSpec) -> list[tuple[int, dt.datetime]]:
        """(record id, due moment in UTC) for every record whose moment is at or before now."""
        model = self.models.model(rule.entity)
        if rule.trigger == "schedule":
            zone = ZoneInfo(self.models.spec.timezone or "UTC")
            local = self.now.replace(tzinfo=dt.UTC).astimezone(zone).replace(tzinfo=None)
            catch_up = dt.timedelta(minutes=int(self.config.get("CRM_AUTOMATION_TICK_CATCH_UP", 60)))
            due_local = parse_cron(rule.cron or "").last_due(local, catch_up)
            if due_local is None:
                return []
            due = due_local.replace(tzinfo=zone).astimezone(dt.UTC).replace(tzinfo=None)
            ids = self.session.scalars(sa.select(model.id).order_by(model.id))
            found = [(i, due) for i in ids]
        else:
            f = self.models.spec.entity(rule.entity).field(rule.time_field or "changed_on")
            column = getattr(model, f.column_name)
            shift = dt.timedelta(days=rule.offset_days, minutes=rule.offset_minutes)
            latest = self.now - shift
            bound = latest.date() if f.type == "date" else latest
            rows = self.session.execute(sa.select(model.id, column).where(column.isnot(None), column <= bound)
                                        .order_by(model.id)).all()
            found = [(i, _moment(value) + shift) for i, value in rows]
        fired = taken(self.session, self.models.core["crm_counter"], f"@tick:{rule.name}")
        self.session.commit()
        # fired for this moment already: not even evaluated (the claim in _fire decides under a race)
        return [(i, due) for i, due in found if fired.get(str(i), -1) < minutes(due)]

    def _take_moment(self, rule: AutomationSpec, record_id: int, due: dt.datetime) -> bool:
        """Remember (rule, record, due) in this transaction; False: fired for this moment already."""
        return take_moment(self.session, self.models.core["crm_counter"], f"@tick:{rule.name}", record_id, due)

    def _fire(self, rule: AutomationSpec, record_id: int, due: dt.datetime) -> None:
        ctx = self._ctx()
        entity = ctx.entity(rule.entity)
        timezone = self.models.spec.timezone
        change = Change(None, rule.entity, record_id, rule.trigger, {}, None, None, 0, self.now)  # type: ignore[arg-type]
        try:
            record = self.session.get(self.models.model(rule.entity), record_id)
            if record is None:
                return
            state = evaluation_view(ctx, entity, record, change)
            if not decide(rule, change, state, timezone).fires:
                self.session.rollback()
                return
            if not self._take_moment(rule, record_id, due):
                self.session.rollback()
                return
            done, sends = [], []
            with acting_automation(rule.name, 1):
                for action in rule.actions:
                    planned = plan_action(ctx, rule, action, change, state, timezone, ctx.lang or "en")
                    if planned["action"] == "assign":
                        done.append(assign_owner(ctx, rule, action, record))
                    elif planned["action"] in IN_TRANSACTION:
                        done.append(carry_out(ctx, rule, planned, record))
                    else:
                        sends.append(self._log(None, rule.name, planned["action"], "pending", None, payload=planned))
                        done.append(f"queued {planned['action']}")
                self._log(None, rule.name, "rule", "fired",
                          f"{rule.entity} #{record_id} due {due:%Y-%m-%d %H:%M}: " + ("; ".join(done) or "no action"))
                self.session.commit()
        except Exception as exc:
            self.session.rollback()
            reason = _reason(exc)
            log.warning("automation %s failed on %s #%s: %s", rule.name, rule.entity, record_id, reason)
            self._log(None, rule.name, "rule", "failed", f"{rule.entity} #{record_id}: {reason}")
            self.session.commit()
            self.counts["failed"] += 1
            return
        self.counts["fired"] += 1
        for delivery_id in sends:
            self._send(delivery_id)


def _moment(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None) if value.tzinfo is None else \
            value.astimezone(dt.UTC).replace(tzinfo=None)
    return dt.datetime.combine(value, dt.time())


def tick(app: Any, now: dt.datetime | None = None, foreground: bool = False) -> dict[str, int]:
    """Run the time-triggered rules whose moment has come by `now` (UTC, naive; default: now),
    then the housekeeping: old files, lost jobs (`foreground`: a CLI run, see app/jobs/sweep)."""
    with app.app_context():
        try:
            counts = Ticker(app, now=now or utcnow()).tick()
        finally:
            app.extensions["crm"].db.session.remove()
        cleaned = clean_files(app)  # uploads and job files past CRM_FILES_KEEP_DAYS (real time, never `now`)
    counts.update({f"files_{k}": v for k, v in cleaned.items() if v})
    try:
        swept = sweep(app, foreground=foreground)  # real time too
    except Exception:  # noqa: BLE001 - Redis away: the rules ran; the next tick sweeps
        log.exception("jobs sweep failed")
    else:
        counts.update({f"jobs_{k}": v for k, v in swept.items() if k != "jobs" and v})
    return counts


@job_handler(TICK_KIND, resumable=True)  # a due moment fires once (crm_counter)
def run_tick(ctx: JobContext) -> dict[str, Any]:
    return tick(ctx.app)
