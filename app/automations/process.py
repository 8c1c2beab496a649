"""The outbox worker: deliver committed record changes to plugins and automation rules,
and send the e-mails and webhooks they ask for; retry what failed, log everything.

Each event is claimed (a conditional UPDATE, so two workers never both take it), then
its plugin hooks run (crm_on_update, crm_on_delete: after the commit, from here), then
each matching rule: its writes commit together as the automation, or roll back alone
(logged failed, with the reason); the user's change is committed already and never
touched. E-mails and webhooks are rendered into `crm_delivery` rows and sent after the
rule's commit; a failure is retried with exponential backoff, then marked failed.
A claimed event a dead worker left is taken again after CRM_OUTBOX_CLAIM_TIMEOUT.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import sqlalchemy as sa

from app.events.context import acting_automation
from app.events.read import Change, decode
from app.models.events import utcnow
from app.records.commands import FieldErrors, RecordContext

from .actions import IN_TRANSACTION, carry_out, plan_action
from .assign import assign_owner
from .engine import decide, evaluation_view, trigger_matches
from .mail import DeliveryFailed, send_mail
from .webhooks import call_webhook

log = logging.getLogger(__name__)
_in_worker: ContextVar[bool] = ContextVar("crm_in_outbox_worker", default=False)


def in_worker() -> bool:
    """True while the worker runs: its own commits need no new dispatch."""
    return _in_worker.get()


@contextmanager
def _worker_flag() -> Iterator[None]:
    token = _in_worker.set(True)
    try:
        yield
    finally:
        _in_worker.reset(token)


class Outbox:
    """One pass over the outbox for one app (call inside its app context)."""

    def __init__(self, app: Any, now: dt.datetime | None = None):
        self.app = app
        self.config = app.config
        self.state = app.extensions["crm"]
        self.session = self.state.db.session
        self.models = self.state.models
        self.events = self.models.core["crm_event"]
        self.deliveries = self.models.core["crm_delivery"]
        self.now = now or utcnow()
        self.counts = {"events": 0, "fired": 0, "skipped": 0, "failed": 0, "sent": 0, "retrying": 0}
        self._view: dict[str, Any] | None = None

    # -- events ------------------------------------------------------------------
    def run(self, limit: int = 200) -> dict[str, int]:
        with _worker_flag():
            for event_id in self._waiting(limit):
                if self._claim(event_id):
                    self._deliver(event_id)
            self.retry_due()
        return self.counts

    def _waiting(self, limit: int) -> list[int]:
        stale = self.now - dt.timedelta(seconds=int(self.config.get("CRM_OUTBOX_CLAIM_TIMEOUT", 300)))
        t = self.events.c
        ids = list(self.session.scalars(sa.select(t.id).where(
            t.delivered_on.is_(None), sa.or_(t.claimed_on.is_(None), t.claimed_on < stale)).order_by(t.id).limit(limit)))
        self.session.commit()
        return ids

    def _claim(self, event_id: int) -> bool:
        t = self.events.c
        stale = self.now - dt.timedelta(seconds=int(self.config.get("CRM_OUTBOX_CLAIM_TIMEOUT", 300)))
        taken = self.session.execute(sa.update(self.events).where(
            t.id == event_id, t.delivered_on.is_(None), sa.or_(t.claimed_on.is_(None), t.claimed_on < stale))
            .values(claimed_on=utcnow())).rowcount
        self.session.commit()
        return taken == 1

    def _deliver(self, event_id: int) -> None:
        row = self.session.execute(sa.select(self.events).where(self.events.c.id == event_id)).one()
        spec = self.models.spec
        if row.entity in spec.entity_map:
            change = decode(row, spec.entity(row.entity))
            self._hooks(change)
            self._view = None  # what expressions read, built once per event (rules judge this change)
            for rule in spec.automations:
                if trigger_matches(rule, change, spec.entity(row.entity)):
                    self._rule(rule, change)
        # skipped rules are logged with the delivery mark, in one commit
        self.session.execute(sa.update(self.events).where(self.events.c.id == event_id)
                             .values(delivered_on=utcnow()))
        self.session.commit()
        self.counts["events"] += 1

    def _record(self, change: Change) -> Any:
        if change.kind == "deleted":
            return None
        return self.session.get(self.models.model(change.entity), change.record_id)

    def _ctx(self) -> RecordContext:
        spec = self.models.spec
        return RecordContext(self.session, self.models, lang=spec.languages[0], user_id=None,
                             hooks=self.state.plugins.hook, access=None)

    # -- plugin hooks (after the commit) -----------------------------------------------
    def _hooks(self, change: Change) -> None:
        hook = self.state.plugins.hook
        entity = self.models.spec.entity(change.entity)
        try:
            if change.kind == "updated":  # deleted since: the values this change gave it
                record = self._record(change) or self._rebuilt(change, new=True)
                hook.crm_on_update(entity=entity, record=record,
                                   changes={k: new for k, (_, new) in change.changes.items()}, session=self.session)
            elif change.kind == "deleted":
                hook.crm_on_delete(entity=entity, record=self._rebuilt(change, new=False), session=self.session)
            self.session.commit()
        except Exception as exc:  # a plugin's failure is logged, never blocks the rules
            self.session.rollback()
            log.exception("plugin hook failed for event %s", change.id)
            self._log(change.id, None, "hook", "failed", f"{type(exc).__name__}: {exc}")
            self.session.commit()

    def _rebuilt(self, change: Change, new: bool) -> Any:
        """A record that is gone, rebuilt from the event's values (in no session)."""
        entity = self.models.spec.entity(change.entity)
        record = self.models.model(change.entity)()
        record.id = change.record_id
        for name, (before, after) in change.changes.items():
            f = entity.field_map.get(name)
            if f is not None and not f.is_many:
                setattr(record, f.column_name, after if new else before)
        return record

    # -- rules -------------------------------------------------------------------------
    def _rule(self, rule: Any, change: Change) -> None:
        limit = int(self.config.get("CRM_AUTOMATION_MAX_DEPTH", 5))
        if change.depth >= limit:
            self._log(change.id, rule.name, "rule", "skipped",
                      f"loop guard: this change was made {change.depth} automations deep (limit {limit})")
            self.counts["skipped"] += 1
            return
        ctx = self._ctx()
        entity = ctx.entity(change.entity)
        timezone = self.models.spec.timezone
        try:
            record = self._record(change)
            if self._view is None:
                self._view = evaluation_view(ctx, entity, record, change)
            state = self._view
            decision = decide(rule, change, state, timezone)
            if not decision.fires:
                self._log(change.id, rule.name, "rule", "skipped", decision.reason)
                self.counts["skipped"] += 1
                return
            self.session.commit()  # the skips so far: a failing rule's rollback must not lose them
            done, sends = [], []
            with acting_automation(rule.name, change.depth + 1):
                for action in rule.actions:
                    planned = plan_action(ctx, rule, action, change, state, timezone, ctx.lang or "en")
                    if planned["action"] == "assign":
                        done.append(assign_owner(ctx, rule, action, record))
                    elif planned["action"] in IN_TRANSACTION:
                        done.append(carry_out(ctx, rule, planned, record))
                    else:
                        sends.append(self._log(change.id, rule.name, planned["action"], "pending", None,
                                               payload=planned))
                        done.append(f"queued {planned['action']}")
                self._log(change.id, rule.name, "rule", "fired", "; ".join(done) or "no action")
                self.session.commit()
            if any(a.kind != "email" and a.kind != "webhook" for a in rule.actions):
                self._view = None  # it wrote: the next rules read the record as it is now (a new owner)
        except Exception as exc:
            self.session.rollback()
            reason = _reason(exc)
            log.warning("automation %s failed on %s #%s: %s", rule.name, change.entity, change.record_id, reason)
            self._log(change.id, rule.name, "rule", "failed", reason)
            self.session.commit()
            self.counts["failed"] += 1
            return
        self.counts["fired"] += 1
        for delivery_id in sends:
            self._send(delivery_id)

    def _log(self, event_id: int | None, rule: str | None, action: str, state: str, reason: str | None,
             payload: dict[str, Any] | None = None) -> int:
        now = utcnow()
        return int(self.session.execute(sa.insert(self.deliveries).values(
            event_id=event_id, rule=rule, action=action, state=state, reason=reason,
            payload=json.dumps(payload, ensure_ascii=False, default=str) if payload is not None else None,
            attempts=0, next_try_on=now if state == "pending" else None, created_on=now,
            finished_on=None if state == "pending" else now)).inserted_primary_key[0])

    # -- e-mail and webhooks ----------------------------------------------------------------
    def retry_due(self) -> None:
        t = self.deliveries.c
        due = list(self.session.scalars(sa.select(t.id).where(t.state == "pending", t.next_try_on <= utcnow())
                                        .order_by(t.id)))
        self.session.commit()
        for delivery_id in due:
            self._send(delivery_id)

    def _send(self, delivery_id: int) -> None:
        t = self.deliveries.c
        row = self.session.execute(sa.select(self.deliveries).where(t.id == delivery_id, t.state == "pending")).first()
        if row is None:
            return
        attempts = (row.attempts or 0) + 1
        # take it: another worker sending the same row at the same time updates nothing
        taken = self.session.execute(sa.update(self.deliveries).where(
            t.id == delivery_id, t.state == "pending", t.attempts == row.attempts).values(attempts=attempts)).rowcount
        self.session.commit()
        if taken != 1:
            return
        payload = json.loads(row.payload)
        try:
            result = (send_mail(self.config, payload) if row.action == "email"
                      else call_webhook(self.config, payload, delivery_id))
        except DeliveryFailed as exc:
            self._failed_attempt(delivery_id, attempts, str(exc))
            return
        self.session.execute(sa.update(self.deliveries).where(t.id == delivery_id).values(
            state="done", reason=result, next_try_on=None, finished_on=utcnow()))
        self.session.commit()
        self.counts["sent"] += 1

    def _failed_attempt(self, delivery_id: int, attempts: int, reason: str) -> None:
        most = int(self.config.get("CRM_DELIVERY_ATTEMPTS", 5))
        backoff = float(self.config.get("CRM_DELIVERY_BACKOFF", 30))
        values: dict[str, Any] = {"reason": f"attempt {attempts}/{most}: {reason}"}
        if attempts >= most:
            values.update(state="failed", next_try_on=None, finished_on=utcnow())
            self.counts["failed"] += 1
        else:
            values["next_try_on"] = utcnow() + dt.timedelta(seconds=backoff * 2 ** (attempts - 1))
            self.counts["retrying"] += 1
        self.session.execute(sa.update(self.deliveries).where(self.deliveries.c.id == delivery_id).values(**values))
        self.session.commit()


def _reason(exc: Exception) -> str:
    if isinstance(exc, FieldErrors):
        return "refused: " + "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.errors.items())
    return f"{type(exc).__name__}: {exc}"


def process_outbox(app: Any, limit: int = 200) -> dict[str, int]:
    """One pass: deliver up to `limit` waiting events, then retry the deliveries that are due."""
    with app.app_context():
        try:
            return Outbox(app).run(limit)
        finally:
            app.extensions["crm"].db.session.remove()


def pending_work(app: Any) -> tuple[int, dt.datetime | None]:
    """(events waiting, when the next retry is due) — the drain loop's stop test."""
    with app.app_context():
        core = app.extensions["crm"].models.core
        session = app.extensions["crm"].db.session
        try:
            waiting = session.scalar(sa.select(sa.func.count()).select_from(core["crm_event"])
                                     .where(core["crm_event"].c.delivered_on.is_(None))) or 0
            d = core["crm_delivery"].c
            next_try = session.scalar(sa.select(sa.func.min(d.next_try_on)).where(d.state == "pending"))
            return int(waiting), next_try
        finally:
            session.remove()


def drain(app: Any, max_wait: float | None = None, sleep: Any = None) -> dict[str, int]:
    """Process until no event waits and no retry is due within `max_wait` seconds
    (CRM_OUTBOX_MAX_WAIT): what the background job and thread run."""
    import time

    sleep = sleep or time.sleep
    max_wait = float(app.config.get("CRM_OUTBOX_MAX_WAIT", 120) if max_wait is None else max_wait)
    totals: dict[str, int] = {}
    while True:
        counts = process_outbox(app)
        for key, value in counts.items():
            totals[key] = totals.get(key, 0) + value
        waiting, next_try = pending_work(app)
        if waiting and counts["events"]:
            continue  # more came in (an automation's own changes): go on
        if waiting:
            return totals  # claimed by another worker
        if next_try is None:
            return totals
        delay = (next_try - utcnow()).total_seconds()
        if delay > max_wait:
            return totals  # a later run (the next change, `flask crm outbox run`) picks it up
        if delay > 0:
            sleep(delay)
