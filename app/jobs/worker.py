"""`flask crm worker`: an rq worker on the 'crm' queue, jobs run in the app it built."""

from __future__ import annotations

from flask import Flask

from .queue import QUEUE_NAME, redis_connection
from .runner import use_app


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
    worker = SimpleWorker([Queue(QUEUE_NAME, connection=connection)], connection=connection, name=name)
    return bool(worker.work(burst=burst, with_scheduler=False))
