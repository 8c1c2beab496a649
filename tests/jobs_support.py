"""Helpers for tests of background jobs: a real Redis, a real `flask crm worker` process,
and waiting on a job's state (polling the database, never a fixed sleep)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
REDIS_ENV = "CRM_TEST_REDIS_URL"
DEFAULT_REDIS = "redis://127.0.0.1:6379/3"


def test_redis_url() -> str:
    """A Redis database of the test suite's own, emptied (CRM_TEST_REDIS_URL or db 3 on localhost)."""
    from redis import Redis

    url = os.environ.get(REDIS_ENV, DEFAULT_REDIS)
    connection = Redis.from_url(url)
    try:
        connection.flushdb()
    except Exception as exc:  # CI starts Redis (.ci/run); locally say what is missing
        pytest.fail(f"no Redis at {url} ({exc}); start redis-server or set {REDIS_ENV}")
    return url


test_redis_url.__test__ = False  # type: ignore[attr-defined]


def wait_for(check: Callable[[], Any], timeout: float = 60.0, what: str = "condition") -> Any:
    """Poll `check` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def job_state(app: Any, job_id: int) -> Any:
    from app.jobs import job_store

    with app.app_context():
        return job_store(app).get(job_id)


def wait_job(app: Any, job_id: int, states: tuple[str, ...] = ("done", "failed", "cancelled"),
             timeout: float = 90.0) -> Any:
    return wait_for(lambda: (row if (row := job_state(app, job_id)).state in states else None), timeout,
                    f"job {job_id} to be {'/'.join(states)}")


def worker_config(tmp: Path, app: Any) -> Path:
    """A config file that makes a worker process see what the test app sees."""
    keys = ("SQLALCHEMY_DATABASE_URI", "CRM_METADATA_DIR", "CRM_PLUGINS_DIR", "CRM_MIGRATIONS_DIR", "REDIS_URL",
            "CRM_FILES_DIR", "SECRET_KEY", "CRM_JOB_STALE_SECONDS")
    lines = [f"{key} = {app.config[key]!r}" for key in keys if key in app.config]
    path = tmp / "worker_config.py"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def start_worker(config: Path, burst: bool = False) -> subprocess.Popen[bytes]:
    """`flask crm worker` in a process of its own, as in production."""
    env = {**os.environ, "CRM_CONFIG": str(config), "PYTHONPATH": str(ROOT)}
    for key in ("SQLALCHEMY_DATABASE_URI", "CRM_METADATA_DIR", "REDIS_URL", "CRM_FILES_DIR", "CRM_MIGRATIONS_DIR"):
        env.pop(key, None)  # the config file decides
    args = [sys.executable, "-m", "flask", "--app", str(ROOT / "run.py"), "crm", "worker"]
    return subprocess.Popen([*args, "--burst"] if burst else args, cwd=str(ROOT), env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def kill_worker_mid_job(app: Any, tmp: Path, job_id: int, done: int = 60) -> Path:
    """Start a worker (outbox dispatch off: an import's thousands of events stay in the outbox,
    delivered by tests of their own), SIGKILL it once job `job_id` has done `done` rows; its config."""
    import signal

    config = worker_config(tmp, app)
    with config.open("a", encoding="utf-8") as extra:
        extra.write("CRM_OUTBOX_DISPATCH = 'off'\n")
    worker = start_worker(config)
    try:
        wait_for(lambda: job_state(app, job_id).done >= done, what="the job to get going")
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
    return config
