"""`flask crm worker`: an rq worker on the 'crm' queue, jobs run in the app it built."""

from __future__ import annotations

import logging

from flask import Flask

from .queue import QUEUE_NAME, redis_connection
from .runner import use_app

log = logging.getLogger(__name__)


def run_worker(app: Flask, burst: bool = False, name: str | None = None) -> bool:
    """Work the queue until stopped (or, with `burst`, until it is empty).

    A SimpleWorker runs each job in this process, in the app already built, so a
    worker pays for the app once; run several processes (on several hosts) for more."""
    from rq import Queue, SimpleWorker

    url = app.config.get("REDIS_URL")
    if not url:
        raise RuntimeError("REDIS_URL is not set: jobs run in the web process, no worker needed")
    connection = redis_connection(url)
    use_app(app)
    worker = _worker_class(SimpleWorker)([Queue(QUEUE_NAME, connection=connection)], connection=connection,
                                         name=name)
    return bool(worker.work(burst=burst, with_scheduler=False))


PUBSUB_POLL_SECONDS = 1.0


def _worker_class(base: type) -> type:
    """rq's worker listens for commands on a pub/sub thread polling every 60 s, and redis-py 8
    joins that thread on stop without a bound: a SIGTERM'd worker took up to a minute to exit
    (systemd, tests and deploys waited on it). The same subscription, polled every second."""

    def subscribe(self: object) -> None:
        self.pubsub = self.connection.pubsub()  # type: ignore[attr-defined]
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})  # type: ignore[attr-defined]
        self.pubsub_thread = self.pubsub.run_in_thread(  # type: ignore[attr-defined]
            sleep_time=PUBSUB_POLL_SECONDS, daemon=True,
            exception_handler=self._pubsub_exception_handler)  # type: ignore[attr-defined]

    def run_maintenance_tasks(self: object) -> None:
        """rq's own housekeeping (at start, then every 10 minutes), then the jobs sweep: jobs a
        killed worker left queued or running are queued again or failed (app/jobs/sweep.py)."""
        base.run_maintenance_tasks(self)  # type: ignore[attr-defined]
        from .runner import _worker_app
        from .sweep import sweep

        if _worker_app is not None:
            try:
                sweep(_worker_app)
            except Exception:  # noqa: BLE001 - housekeeping never stops the worker
                log.exception("jobs sweep failed")

    return type("CrmWorker", (base,), {"subscribe": subscribe, "run_maintenance_tasks": run_maintenance_tasks})
