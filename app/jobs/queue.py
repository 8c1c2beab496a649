"""Where a job runs: an rq queue on REDIS_URL, or a thread of this process."""

from __future__ import annotations

import threading
from typing import Any

from flask import Flask

QUEUE_NAME = "crm"
DEFAULT_TIMEOUT = 6 * 3600  # seconds an rq job may run (CRM_JOB_TIMEOUT)
DEFAULT_STALE = 120  # seconds without progress after which a running job counts as lost (CRM_JOB_STALE_SECONDS)


def rq_job_id(job_id: int) -> str:
    return f"crm-job-{job_id}"


def stale_seconds(app: Flask) -> float:
    return float(app.config.get("CRM_JOB_STALE_SECONDS") or DEFAULT_STALE)


def redis_connection(url: str) -> Any:
    from redis import Redis

    return Redis.from_url(url)


def rq_queue(app: Flask) -> Any:
    from rq import Queue

    return Queue(QUEUE_NAME, connection=redis_connection(app.config["REDIS_URL"]))


def dispatch(app: Flask, job_id: int) -> None:
    """Hand job `job_id` (a queued crm_job row) to a runner."""
    if app.config.get("REDIS_URL"):
        from rq.exceptions import NoSuchJobError
        from rq.job import Job

        queue = rq_queue(app)
        try:  # a retry reuses the id: drop what rq remembers of the last attempt
            Job.fetch(rq_job_id(job_id), connection=queue.connection).delete()
        except NoSuchJobError:
            pass
        queue.enqueue("app.jobs.runner.run_job", job_id, job_id=rq_job_id(job_id),
                      job_timeout=int(app.config.get("CRM_JOB_TIMEOUT") or DEFAULT_TIMEOUT),
                      result_ttl=3600, failure_ttl=7 * 24 * 3600)
        return
    from .runner import execute

    thread = threading.Thread(target=execute, args=(app, job_id), name=f"crm-job-{job_id}", daemon=True)
    thread.start()
