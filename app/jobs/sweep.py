"""Jobs lost between rq and crm_job: found, then queued again or failed with the reason.

A worker killed as rq hands it a job leaves the crm_job row `queued` with nothing left to
run it (rq took it off the queue; the row was never claimed), and one killed mid-job leaves
it `running` with no sign of life. The sweep finds both:

- queued, older than CRM_JOB_STALE_SECONDS, and its rq job gone from Redis, taken by a
  worker that is gone or that has not claimed it for that long, finished without claiming
  it, or moved to rq's failed registry as abandoned: queued again (its handler never ran,
  whatever the kind); another rq failure before the claim (the worker could not build the
  app): failed with rq's reason. Without REDIS_URL: any queued row that old (the process whose
  thread would have run it has ended).
- running with no progress for CRM_JOB_STALE_SECONDS: queued again when its kind is
  resumable (`@job_handler(kind, resumable=True)`: imports, reverts, outbox, tick) and it has
  run fewer than MAX_ATTEMPTS times, else failed saying so (a user can retry it from /jobs).

Kinds whose one run does the work of all (resumable, empty payload: outbox, tick) keep only
their newest lost queued row; the others are cancelled as superseded. A job is claimed
atomically (`JobStore.start`), so a sweep racing a slow worker runs nothing twice.
Run by `flask crm jobs sweep`, the automations tick and each rq worker's maintenance;
/health counts what it would act on.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from flask import Flask

from app.models.events import utcnow

from .queue import dispatch, redis_connection, rq_job_id, stale_seconds
from .registry import RESUMABLE
from .store import JobRow

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 3  # runs of a resumable job lost mid-way before the sweep fails it instead
MAX_PER_SWEEP = 200  # actions per sweep: bounded work, the next sweep goes on
WAITING = ("queued", "deferred", "scheduled", "created", "rate_limited", "ready_to_enqueue")


@dataclass
class Lost:
    """A job the sweep acts on: `action` is requeue, fail or supersede."""

    job: JobRow
    action: str
    reason: str


def _stamp(value: dt.datetime | None) -> str:
    return f"{value:%Y-%m-%d %H:%M:%S} UTC" if value is not None else "never"


def _naive(value: dt.datetime | None) -> dt.datetime | None:
    return value.astimezone(dt.UTC).replace(tzinfo=None) if value is not None and value.tzinfo else value


def rq_states(app: Flask, job_ids: list[int]) -> dict[int, tuple[str | None, str]]:
    """Per crm job id: (rq status or None when gone, a few words on it) for queued rows."""
    if not job_ids:
        return {}
    from rq.job import Job
    from rq.worker import Worker

    connection = redis_connection(app.config["REDIS_URL"])
    jobs = Job.fetch_many([rq_job_id(i) for i in job_ids], connection=connection)
    out: dict[int, tuple[str | None, str]] = {}
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)  # utcnow() drops the microseconds
    grace = stale_seconds(app)
    for job_id, job in zip(job_ids, jobs, strict=True):
        if job is None:
            out[job_id] = (None, "its rq job is gone from Redis")
            continue
        status = str(job.get_status(refresh=False).value)
        if status == "started":
            name = job.worker_name or ""
            alive = bool(name) and bool(connection.exists(Worker.redis_worker_namespace_prefix + name))
            started = _naive(job.started_at)
            if not alive:
                out[job_id] = ("lost", f"worker {job.worker_name or '?'} that took it is gone")
            elif started is not None and (now - started).total_seconds() > grace:
                out[job_id] = ("lost", f"worker {job.worker_name} took it at {_stamp(started)} and never started it")
            else:
                out[job_id] = (status, "")
        elif status == "failed":
            result = job.latest_result()
            text = (result.exc_string or "") if result is not None else ""
            if "AbandonedJobError" in text or not text:
                out[job_id] = ("lost", "rq found it abandoned by its worker")
            else:
                out[job_id] = ("failed", text.strip().splitlines()[-1][:500])
        elif status in WAITING:
            out[job_id] = (status, "")
        else:  # finished, stopped, canceled: that run ended without claiming the row
            out[job_id] = ("lost", f"its rq job ended ({status}) without running it")
    return out


def find_lost(app: Flask, now: dt.datetime | None = None) -> list[Lost]:
    """What the sweep would act on, oldest first (inside an app context)."""
    from . import job_store

    now = now or utcnow()
    grace = stale_seconds(app)
    rows = job_store(app).in_states("queued", "running")
    queued = [r for r in rows if r.state == "queued" and (now - r.created_on).total_seconds() > grace]
    rq = rq_states(app, [r.id for r in queued]) if app.config.get("REDIS_URL") else {}
    lost: list[Lost] = []
    for row in rows:
        if row.state == "running":
            if row.stale(grace, now):
                lost.append(_lost_running(row))
        elif row in queued:
            status, why = rq.get(row.id, ("lost", "the process that was to run it has ended"))
            if status == "lost":
                lost.append(Lost(row, "requeue", f"queued again: {why}"))
            elif status == "failed":
                lost.append(Lost(row, "fail", f"the worker could not start it: {why}"))
    return _coalesce(lost)


def _lost_running(row: JobRow) -> Lost:
    since = f"worker lost: no sign of life since {_stamp(row.heartbeat_on or row.started_on)}"
    if row.kind not in RESUMABLE:
        return Lost(row, "fail", f"{since}; this kind of job does not resume on its own: run it again")
    if row.attempts >= MAX_ATTEMPTS:
        return Lost(row, "fail", f"{since}; lost in {row.attempts} runs, not queued again: retry it when the cause is fixed")
    return Lost(row, "requeue", f"{since}; queued again (run {row.attempts + 1})")


def _coalesce(lost: list[Lost]) -> list[Lost]:
    """Keep the newest lost queued row of an outbox-like kind; the rest are superseded by it."""
    newest: dict[str, int] = {}
    for item in lost:
        if item.action == "requeue" and item.job.kind in RESUMABLE and not item.job.payload:
            newest[item.job.kind] = max(newest.get(item.job.kind, 0), item.job.id)
    out = []
    for item in lost:
        keep = newest.get(item.job.kind)
        if keep is not None and item.action == "requeue" and not item.job.payload and item.job.id != keep:
            item = Lost(item.job, "supersede", f"superseded by job {keep} of the same kind")
        out.append(item)
    return out


def sweep(app: Flask, now: dt.datetime | None = None, foreground: bool = False) -> dict[str, Any]:
    """Act on the lost jobs (at most MAX_PER_SWEEP); {"requeued", "failed", "superseded", "jobs"}.
    `foreground`: without REDIS_URL, run what is queued again here and now (a CLI step, whose
    threads would end with it), not in a thread."""
    from . import job_store

    counts: dict[str, Any] = {"requeued": 0, "failed": 0, "superseded": 0, "jobs": []}
    with app.app_context():
        store = job_store(app)
        for item in find_lost(app, now)[:MAX_PER_SWEEP]:
            if _apply(app, store, item, now, foreground):
                key = {"requeue": "requeued", "fail": "failed", "supersede": "superseded"}[item.action]
                counts[key] += 1
                counts["jobs"].append({"id": item.job.id, "kind": item.job.kind, "action": item.action,
                                       "reason": item.reason})
                log.warning("jobs sweep: job %s (%s): %s", item.job.id, item.job.kind, item.reason)
    return counts


def _apply(app: Flask, store: Any, item: Lost, now: dt.datetime | None, foreground: bool) -> bool:
    """One action, each a conditional update on the state read (a job claimed meanwhile is left alone)."""
    row = item.job
    if item.action == "requeue":
        if row.state == "running" and not store.requeue_lost(row, stale_seconds(app), now):
            return False
        if foreground and not app.config.get("REDIS_URL"):
            from .runner import execute

            execute(app, row.id)
        else:
            dispatch(app, row.id)
        return True
    state = "failed" if item.action == "fail" else "cancelled"
    return store.give_up(row, state, item.reason)
