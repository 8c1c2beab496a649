"""Start the outbox worker after a commit that wrote events: a job of the jobs seam.

`outbox` jobs run `drain` (app/jobs: an rq worker with REDIS_URL, else a thread of this
process). One queued outbox job is enough: a commit while one waits adds nothing, a
commit while one runs queues the next (the running one may have looked already).
CRM_OUTBOX_DISPATCH=off leaves events for `flask crm outbox run` (or a test driving
`drain` itself). Whatever happens here, the user's change is committed already.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import sqlalchemy as sa
from flask import current_app, has_app_context

from app.events.outbox import on_events_committed
from app.i18n import _t
from app.jobs import JobContext, enqueue, job_handler
from app.models.events import utcnow

from . import tick as _tick  # noqa: F401  (registers the automations_tick job kind)
from .process import drain, in_worker

log = logging.getLogger(__name__)
OUTBOX_KIND = "outbox"
QUEUED_FRESH_SECONDS = 60
TITLE = _t("Deliver record changes (automations, hooks, e-mail, webhooks)")

TICK_TITLE = _t("Run the time-triggered automations")


@job_handler(OUTBOX_KIND, resumable=True)  # delivered events are marked
def run_outbox(ctx: JobContext) -> dict[str, Any]:
    return drain(ctx.app)


def queued_outbox_job(app: Any) -> int | None:
    """A recently queued outbox job that will see the new events; an older queued row may be
    one whose process ended before running it (a CLI step): it does not count."""
    table = app.extensions["crm"].models.core["crm_job"]
    recent = utcnow() - dt.timedelta(seconds=QUEUED_FRESH_SECONDS)
    with app.extensions["crm"].db.engine.connect() as conn:
        return conn.scalar(sa.select(table.c.id).where(
            table.c.kind == OUTBOX_KIND, table.c.state == "queued", table.c.created_on >= recent).limit(1))


def wake(app: Any) -> int | None:
    """Queue an outbox job unless one is waiting already; its id (None: one was waiting)."""
    if queued_outbox_job(app) is not None:
        return None
    return enqueue(OUTBOX_KIND, {}, user_id=None, title=TITLE)


def _events_committed(session: Any) -> None:
    if in_worker() or not has_app_context():
        return
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if app.config.get("CRM_OUTBOX_DISPATCH", "auto") == "off" or "crm" not in app.extensions:
        return
    try:
        wake(app)
    except Exception:  # the events wait in the outbox: the next commit or `crm outbox run` delivers them
        log.exception("could not queue the outbox job")


on_events_committed(_events_committed)
