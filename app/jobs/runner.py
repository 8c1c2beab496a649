"""Run one job: claim its row, call its handler as its user, record the outcome.

`run_job(job_id)` is the rq function (module level, importable by the worker);
the in-process thread calls `execute(app, job_id)`, the same path.
"""

from __future__ import annotations

import logging
import traceback
from typing import Any

from flask import Flask, g

from app.models.actor import acting_as

from .context import JobCancelled, JobContext
from .registry import HANDLERS

log = logging.getLogger(__name__)
_worker_app: Flask | None = None


def use_app(app: Flask | None) -> None:
    """The app a worker process runs jobs in (`flask crm worker` sets the one it built)."""
    global _worker_app
    _worker_app = app


def run_job(job_id: int) -> None:
    """The rq job function: build the app once per worker process, then execute."""
    global _worker_app
    if _worker_app is None:
        from app import create_app

        _worker_app = create_app({"CRM_WEB_STATEMENT_TIMEOUT_MS": 0})  # a worker's reads are not bounded
    _worker_app = _follow(_worker_app, keep=True)
    execute(_worker_app, job_id)


def _follow(app: Flask, keep: bool = False) -> Flask:
    """The app on the metadata version in force (a worker keeps the new one; a job thread's
    own is dropped after its job)."""
    from app.metaversions.live import follow

    newer = follow(app)
    if newer is not app and keep:
        from app.metaversions.apply import dispose

        dispose(app)
    return newer


def execute(app: Flask, job_id: int) -> None:
    from app.models.statement_timeout import unbounded

    given, app = app, _follow(app)
    try:
        with unbounded():  # a job in a web process (no REDIS_URL): long by nature, no statement timeout
            _execute(app, job_id)
    finally:
        if app is not given and not _served(app):
            from app.metaversions.apply import dispose

            dispose(app)


def _served(app: Flask) -> bool:
    from app.metaversions.live import serves

    return serves(app)


def _execute(app: Flask, job_id: int) -> None:
    from . import job_store

    with app.app_context():
        store = job_store(app)
        if not store.start(job_id):
            return  # cancelled while queued, or another worker has it
        row = store.get(job_id)
        assert row is not None
        handler = HANDLERS.get(row.kind)
        ctx = JobContext(job_id, row.payload, row.user_id, app, store, attempt=row.attempts)
        session = app.extensions["crm"].db.session
        try:
            if handler is None:
                raise LookupError(f"no job handler for kind {row.kind!r}")
            if row.user_id is not None:  # readers in the job (current_access) see as the user
                from app.security.access import access_for

                g.crm_access = access_for(app.extensions["crm"].appbuilder.sm.get_user_by_id(row.user_id), app)
            with acting_as(row.user_id):
                result: Any = handler(ctx)
        except JobCancelled:
            store.finish(job_id, "cancelled", None)
        except Exception as exc:  # a failed job says why; the worker goes on
            log.exception("job %s (%s) failed", job_id, row.kind)
            store.finish(job_id, "failed", None, error=_reason(exc))
        else:
            store.finish(job_id, "cancelled" if ctx.cancelled() else "done", result)
        finally:
            session.remove()


def _reason(exc: Exception) -> str:
    lines = traceback.format_exception_only(type(exc), exc)
    return "".join(lines).strip()[:2000]
