"""Background jobs: imports, exports, automations, e-mail, webhooks all run through here.

`enqueue(kind, payload, user_id=...)` writes a crm_job row and hands its id to a
runner: an rq queue ('crm') when REDIS_URL is set (`flask crm worker` runs the
workers), else a background thread of this process. Either way the same handler,
registered with `@job_handler(kind)`, runs inside an app context as the user who
asked, and reports through its `JobContext` (progress, cancel) into crm_job.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import current_app

from app.metadata.spec import Text

from .context import JobCancelled, JobContext
from .queue import dispatch, stale_seconds
from .registry import HANDLERS, job_handler
from .store import JobRow, JobStore

__all__ = ["enqueue", "job_handler", "JobContext", "JobCancelled", "JobRow", "JobStore", "job_store", "retry",
           "cancel", "HANDLERS"]


def job_store(app: Any = None) -> JobStore:
    state = (app or current_app).extensions["crm"]
    return JobStore(state.db.engine, state.models.core["crm_job"])


def enqueue(kind: str, payload: dict[str, Any], *, user_id: int | None, title: str | Text | None = None) -> int:
    """Create a crm_job row (state 'queued'), put it on the queue, return its id."""
    if kind not in HANDLERS:
        raise KeyError(f"no job handler for kind {kind!r}")
    store = job_store()
    job_id = store.create(kind, payload, user_id, title)
    dispatch(current_app._get_current_object(), job_id)  # type: ignore[attr-defined]
    return job_id


def retry(job_id: int) -> bool:
    """Run a failed, cancelled or stale (worker lost) job again; its handler resumes where it can."""
    if not job_store().requeue(job_id, stale_seconds(current_app)):
        return False
    dispatch(current_app._get_current_object(), job_id)  # type: ignore[attr-defined]
    return True


def cancel(job_id: int) -> str | None:
    """Ask a job to stop; None when it has finished already."""
    return job_store().request_cancel(job_id)


Handler = Callable[[JobContext], dict[str, Any] | None]
