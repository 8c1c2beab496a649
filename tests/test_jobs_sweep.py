"""The jobs sweep (issue 19's known gap): a real rq worker killed with -9 right after rq handed
it a job (the crm_job row still `queued`, nothing left to run it) or mid-import (`running`),
found by /health and by `flask crm jobs sweep`, the tick or a worker's own maintenance, and
queued again or failed with the reason."""

from __future__ import annotations

import contextlib
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from app.cli import crm
from tests.conftest import login
from tests.jobs_support import (
    job_state,
    kill_worker_mid_job,
    start_worker,
    test_redis_url,
    wait_for,
    worker_config,
)
from tests.test_import_api import upload


def _rq(app: Any) -> Any:
    from redis import Redis

    return Redis.from_url(app.config["REDIS_URL"])


def _rq_status(app: Any, job_id: int) -> str | None:
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    from app.jobs.queue import rq_job_id

    try:
        return str(Job.fetch(rq_job_id(job_id), connection=_rq(app)).get_status().value)
    except NoSuchJobError:
        return None


@contextlib.contextmanager
def claim_blocked(app: Any, job_id: int) -> Iterator[None]:
    """Hold a lock that makes a worker's claim of the job (UPDATE crm_job ... state='queued') wait:
    the row's lock on PostgreSQL, the database's write lock on SQLite (readers go on)."""
    with app.app_context():
        engine = app.extensions["crm"].db.engine
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.execute(sa.text("SELECT id FROM crm_job WHERE id = :id FOR UPDATE"), {"id": job_id})
        try:
            yield
        finally:
            conn.rollback()


def _leads(app: Any) -> list[str]:
    with app.app_context():
        state = app.extensions["crm"]
        model = state.models.model("lead")
        return [row.name for row in state.db.session.query(model).all()]


def _start_import(app: Any, client: Any, rows: int, prefix: str) -> int:
    data = ("姓名,邮箱\n" + "".join(f"{prefix}{i:04d} 𩸽,{prefix}{i}@example.cn\n" for i in range(rows))).encode()
    token = upload(client, "lead", data, f"{prefix}.csv").get_json()["upload"]
    response = client.post("/api/v1/imports/lead/run", json={"upload": token})
    assert response.status_code == 202, response.get_json()
    return int(response.get_json()["job_id"])


def test_worker_killed_as_rq_hands_it_a_job_then_sweep_queues_it_again(make_app: Any, tmp_path: Path) -> None:
    from rq import Queue

    from app.jobs.queue import QUEUE_NAME, dispatch

    app = make_app(CRM_FILES_DIR=str(tmp_path / "files"), REDIS_URL=test_redis_url(), CRM_JOB_STALE_SECONDS=1)
    client = login(app.test_client())
    job_id = _start_import(app, client, 30, "扫描")  # queued in Redis; no worker yet
    queue = Queue(QUEUE_NAME, connection=_rq(app))
    queue.remove(f"crm-job-{job_id}")  # taken off again: handed to the worker below, under the lock
    config = worker_config(tmp_path, app)
    worker = start_worker(config)
    try:
        from app.ops.checks import alive_workers

        wait_for(lambda: alive_workers(_rq(app), QUEUE_NAME) == 1, 120, "the worker to listen")
        with claim_blocked(app, job_id):
            dispatch(app, job_id)
            wait_for(lambda: _rq_status(app, job_id) == "started", 30, "rq to hand the job to the worker")
            worker.send_signal(signal.SIGKILL)  # taken by rq, never claimed in crm_job
            worker.wait(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert job_state(app, job_id).state == "queued" and queue.count == 0  # the gap: nothing will run it
    assert _rq_status(app, job_id) == "started"  # rq still thinks the dead worker has it

    time.sleep(2.1)  # CRM_JOB_STALE_SECONDS (1 s; stamps are whole seconds): a job just handed over is not lost
    status = app.test_client().get("/health?jobs=1")
    body = status.get_json()
    assert status.status_code == 503 and body["checks"]["jobs"]["stuck_queued"] == 1, body
    assert "jobs sweep" in body["checks"]["jobs"]["problem"]
    assert app.test_client().get("/health").status_code == 200  # a load balancer is not told to drop the host

    result = app.test_cli_runner().invoke(crm, ["jobs", "sweep"])
    assert result.exit_code == 0, result.output
    assert f"job {job_id} (import): requeue: queued again: worker" in result.output
    assert "requeued 1, failed 0" in result.output
    assert _rq_status(app, job_id) == "queued"
    again = app.test_cli_runner().invoke(crm, ["jobs", "sweep"])
    assert "requeued 0, failed 0" in again.output  # a queued rq job waiting for a worker is not lost

    finisher = start_worker(config, burst=True)
    output, _ = finisher.communicate(timeout=300)
    row = job_state(app, job_id)
    assert row.state == "done", (row.error, output.decode(errors="replace")[-2000:])
    assert row.attempts == 1 and row.result["counts"]["created"] == 30
    names = _leads(app)
    assert len(names) == len(set(names)) == 30 and "扫描0007 𩸽" in names


def test_worker_killed_mid_import_is_resumed_by_the_next_workers_sweep(make_app: Any, tmp_path: Path) -> None:
    app = make_app(CRM_FILES_DIR=str(tmp_path / "files"), REDIS_URL=test_redis_url(), CRM_JOB_STALE_SECONDS=1)
    client = login(app.test_client())
    rows = 4000
    job_id = _start_import(app, client, rows, "续跑")
    config = kill_worker_mid_job(app, tmp_path, job_id)
    killed = job_state(app, job_id)
    assert killed.state == "running" and killed.done < rows
    time.sleep(2.1)  # CRM_JOB_STALE_SECONDS is 1 s; stamps are whole seconds
    finisher = start_worker(config, burst=True)  # its maintenance sweeps first: no retry by hand
    output, _ = finisher.communicate(timeout=300)
    row = job_state(app, job_id)
    assert row.state == "done", (row.error, output.decode(errors="replace")[-2000:])
    assert row.attempts == 2 and row.result["counts"]["created"] == rows
    names = _leads(app)
    assert len(names) == len(set(names)) == rows  # nothing lost, nothing doubled


def _running(app: Any, kind: str, payload: dict[str, Any], attempts: int = 1) -> int:
    from app.jobs import job_store

    with app.app_context():
        store = job_store(app)
        job_id = store.create(kind, payload, None, "任务")
        for _ in range(attempts):
            store._update(job_id, state="queued")
            assert store.start(job_id)
    return job_id


def test_tick_fails_lost_jobs_that_do_not_resume_and_supersedes_old_outbox_rows(make_app: Any) -> None:
    from app.automations.tick import tick
    from app.jobs import job_store
    from app.jobs.sweep import MAX_ATTEMPTS

    app = make_app(CRM_JOB_STALE_SECONDS=1)  # no Redis: jobs run in threads of this process
    export = _running(app, "export", {"entity": "lead", "filters": [], "order": [], "format": "csv"})
    tired = _running(app, "import", {"file": "x.csv"}, attempts=MAX_ATTEMPTS)
    with app.app_context():
        store = job_store(app)
        outbox = [store.create("outbox", {}, None, "投递") for _ in range(3)]  # their process ended
    time.sleep(2.1)  # CRM_JOB_STALE_SECONDS is 1 s; stamps are whole seconds
    counts = tick(app)
    assert counts.get("jobs_failed") == 2 and counts.get("jobs_superseded") == 2, counts
    lost = job_state(app, export)
    assert lost.state == "failed" and lost.error.startswith("worker lost: no sign of life since ")
    assert "does not resume on its own: run it again" in lost.error
    assert "lost in 3 runs" in job_state(app, tired).error and job_state(app, tired).state == "failed"
    assert [job_state(app, i).state for i in outbox[:2]] == ["cancelled", "cancelled"]
    assert job_state(app, outbox[0]).error == f"superseded by job {outbox[2]} of the same kind"
    wait_for(lambda: job_state(app, outbox[2]).state == "done", 60, "the newest outbox job to run")
    from app.jobs.sweep import find_lost

    with app.app_context():
        fresh = store.create("outbox", {}, None, "刚排队")  # just queued: not lost
        assert fresh not in [item.job.id for item in find_lost(app)]


def test_a_new_app_never_reads_a_collected_apps_jobs_count(tmp_path: Path) -> None:
    """/health kept its jobs count for 15 s in a module dict keyed by id(app): an app made after
    another was collected can sit at the same address and read that app's count (a stuck job
    unseen, or one seen that is not there). Apps here alternate between a database with a lost
    queued job and one without; each must count its own. (Whether an address is reused is the
    allocator's choice, so this fails before the fix only when it is.)"""
    import datetime as dt
    import gc

    from app.jobs import job_store
    from tests.conftest import STARTER, build_test_app, dispose_app, fresh_database

    for attempt in range(4):
        lost = attempt % 2
        with fresh_database(tmp_path / f"db{attempt}") as url:
            app = build_test_app(url, STARTER, tmp_path / "no-plugins")
            if lost:
                with app.app_context():
                    store = job_store(app)
                    job_id = store.create("import", {}, None, "导入 lost")
                    with store.engine.begin() as connection:
                        connection.execute(sa.update(store.table).where(store.table.c.id == job_id)
                                           .values(created_on=dt.datetime(2020, 1, 1)))
            body = app.test_client().get("/health?jobs=1").get_json()
            dispose_app(app)
            del app
            gc.collect()
        assert body["checks"]["jobs"]["stuck_queued"] == lost, f"app #{attempt}: {body['checks']['jobs']}"
