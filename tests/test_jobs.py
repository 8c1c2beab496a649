"""The jobs seam: crm_job rows, in-process threads, a real rq worker, progress, cancel, retry,
and who may see a job (the owner; Admin all)."""

from __future__ import annotations

import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from app.jobs import JobContext, enqueue, job_handler
from tests.conftest import STARTER, build_test_app, dispose_app, login
from tests.jobs_support import job_state, start_worker, test_redis_url, wait_for, wait_job, worker_config

PLUGIN = '''
"""Job handlers for the jobs tests, loaded like any plugin (so the worker process has them too)."""
from app.jobs import JobCancelled, job_handler


@job_handler("test_count")
def count(ctx):
    n = ctx.payload["n"]
    for i in range(1, n + 1):
        ctx.progress(i, n, seen=i, 名字="计数")
    return {"counted": n, "user": ctx.user_id}


@job_handler("test_flaky")
def flaky(ctx):
    if ctx.attempt == 1:
        raise ValueError("第一次失败 on purpose")
    return {"attempt": ctx.attempt}


@job_handler("test_until_cancelled")
def until_cancelled(ctx):
    i = 0
    while not ctx.cancelled():
        i += 1
        ctx.progress(i)
    raise JobCancelled()
'''


@pytest.fixture
def jobs_app(database_url: str, tmp_path: Path) -> Any:
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "test_jobs_handlers.py").write_text(textwrap.dedent(PLUGIN), encoding="utf-8")
    apps: list[Any] = []

    def factory(**overrides: Any) -> Any:
        app = build_test_app(database_url, STARTER, plugins, CRM_FILES_DIR=str(tmp_path / "files"), **overrides)
        apps.append(app)
        return app

    yield factory
    for app in apps:
        dispose_app(app)


def _enqueue(app: Any, kind: str, payload: dict[str, Any], username: str = "admin") -> int:
    with app.app_context():
        user = app.extensions["crm"].appbuilder.sm.find_user(username=username)
        return enqueue(kind, payload, user_id=user.id, title=f"测试 {kind}")


def test_thread_job_reports_progress_and_result(jobs_app: Any) -> None:
    app = jobs_app()
    job_id = _enqueue(app, "test_count", {"n": 25})
    row = wait_job(app, job_id)
    assert row.state == "done", row.error
    assert row.result == {"counted": 25, "user": row.user_id}
    assert (row.done, row.total, row.counts) == (25, 25, {"seen": 25, "名字": "计数"})
    assert row.attempts == 1 and row.started_on and row.finished_on
    body = login(app.test_client()).get(f"/api/v1/jobs/{job_id}").get_json()
    assert body["state"] == "done" and body["title"] == "测试 test_count" and body["result"]["counted"] == 25


def test_failed_job_says_why_and_retry_runs_it_again(jobs_app: Any) -> None:
    app = jobs_app()
    job_id = _enqueue(app, "test_flaky", {})
    row = wait_job(app, job_id)
    assert row.state == "failed" and "第一次失败 on purpose" in row.error
    client = login(app.test_client())
    page = client.get("/crm/jobs/").get_data(as_text=True)
    assert f'data-job="{job_id}"' in page and "第一次失败" in page and "job-retry" in page
    assert client.post(f"/api/v1/jobs/{job_id}/retry").status_code == 200
    row = wait_job(app, job_id)
    assert row.state == "done" and row.result == {"attempt": 2} and row.attempts == 2 and row.error is None
    assert client.post(f"/api/v1/jobs/{job_id}/retry").status_code == 409  # done: nothing to retry


def test_cancel_stops_a_running_job(jobs_app: Any) -> None:
    app = jobs_app()
    job_id = _enqueue(app, "test_until_cancelled", {})
    wait_for(lambda: job_state(app, job_id).done > 3, what="the job to make progress")
    client = login(app.test_client())
    assert client.post(f"/api/v1/jobs/{job_id}/cancel").status_code == 200
    assert wait_job(app, job_id).state == "cancelled"
    assert client.post(f"/api/v1/jobs/{job_id}/cancel").status_code == 409


def test_a_user_sees_only_their_own_jobs(jobs_app: Any) -> None:
    from app.demo.users import DEMO_PASSWORD, create_demo_users

    app = jobs_app()
    with app.app_context():
        state = app.extensions["crm"]
        create_demo_users(state.appbuilder, state.models)
    mine = _enqueue(app, "test_count", {"n": 2}, username="sales_rep")
    theirs = _enqueue(app, "test_count", {"n": 2}, username="sales_rep2")
    wait_job(app, mine), wait_job(app, theirs)
    rep = login(app.test_client(), "sales_rep", DEMO_PASSWORD)
    assert rep.get(f"/api/v1/jobs/{mine}").status_code == 200
    assert rep.get(f"/api/v1/jobs/{theirs}").status_code == 404
    assert rep.post(f"/api/v1/jobs/{theirs}/retry").status_code == 404
    assert rep.post(f"/crm/jobs/{theirs}/retry").status_code == 404
    listed = [j["id"] for j in rep.get("/api/v1/jobs/").get_json()["result"]]
    assert mine in listed and theirs not in listed
    page = rep.get("/crm/jobs/").get_data(as_text=True)
    assert f'data-job="{mine}"' in page and f'data-job="{theirs}"' not in page
    admin = login(app.test_client())
    page = admin.get("/crm/jobs/").get_data(as_text=True)
    assert 'class="job-user">sales_rep2<' in page and 'class="job-user">sales_rep<' in page
    assert {mine, theirs} <= {j["id"] for j in admin.get("/api/v1/jobs/").get_json()["result"]}
    assert admin.get(f"/api/v1/jobs/{theirs}").status_code == 200
    assert app.test_client().get(f"/api/v1/jobs/{mine}").status_code == 401


def test_rq_worker_process_runs_the_job(jobs_app: Any, tmp_path: Path) -> None:
    app = jobs_app(REDIS_URL=test_redis_url())
    job_id = _enqueue(app, "test_count", {"n": 5})
    assert job_state(app, job_id).state == "queued"  # nothing runs it in this process
    from redis import Redis
    from rq import Queue

    queue = Queue("crm", connection=Redis.from_url(app.config["REDIS_URL"]))
    assert queue.job_ids == [f"crm-job-{job_id}"]
    worker = start_worker(worker_config(tmp_path, app), burst=True)
    output, _ = worker.communicate(timeout=120)
    assert worker.returncode == 0, output.decode(errors="replace")
    row = job_state(app, job_id)
    assert row.state == "done" and row.result["counted"] == 5, output.decode(errors="replace")


@pytest.mark.serial  # a 20 s bound on a process's exit: not beside another test worker
def test_a_worker_stops_promptly_on_sigterm(jobs_app: Any, tmp_path: Path) -> None:
    """rq listens on a pub/sub thread polling every 60 s and redis-py 8 joins it on stop without
    a bound, so a SIGTERM'd worker could take up to a minute to exit (seen once in a suite run,
    not reproduced on demand): ours polls every second and must exit within seconds."""
    app = jobs_app(REDIS_URL=test_redis_url())
    job_id = _enqueue(app, "test_count", {"n": 2})
    worker = start_worker(worker_config(tmp_path, app))
    try:
        wait_for(lambda: job_state(app, job_id).state == "done", what="the worker to run a job")
    finally:
        worker.terminate()
    started = time.monotonic()
    worker.wait(timeout=120)
    assert time.monotonic() - started < 20, "the worker took this long to stop"


def test_requeue_command_marks_a_lost_worker_failed_and_runs_the_job(jobs_app: Any) -> None:
    """A running row whose worker died (no heartbeat) is marked failed, then run again."""
    app = jobs_app(CRM_JOB_STALE_SECONDS=1)
    with app.app_context():
        from app.jobs import job_store

        store = job_store(app)
        job_id = store.create("test_count", {"n": 3}, None, "lost")
        assert store.start(job_id)  # claimed by a worker that then dies: no heartbeat after this
    wait_for(lambda: job_state(app, job_id).stale(1), what="the heartbeat to age")
    from app.cli import crm

    result = app.test_cli_runner().invoke(crm, ["jobs", "requeue"])
    assert result.exit_code == 0, result.output
    assert f"job {job_id} (test_count): worker lost, marked failed" in result.output
    row = job_state(app, job_id)
    assert row.state == "done" and row.attempts == 2 and row.result["counted"] == 3


def test_handler_registry_rejects_unknown_kinds(jobs_app: Any) -> None:
    app = jobs_app()
    with app.app_context(), pytest.raises(KeyError, match="no job handler for kind 'nope'"):
        enqueue("nope", {}, user_id=None)
    assert job_handler("x") and JobContext


def test_several_rq_workers_share_the_queue_each_job_runs_once(jobs_app: Any, tmp_path: Path) -> None:
    app = jobs_app(REDIS_URL=test_redis_url())
    ids = [_enqueue(app, "test_count", {"n": 30}) for _ in range(6)]
    config = worker_config(tmp_path, app)
    workers = [start_worker(config, burst=True) for _ in range(2)]
    outputs = [w.communicate(timeout=180)[0].decode(errors="replace") for w in workers]
    assert [w.returncode for w in workers] == [0, 0], outputs
    rows = [job_state(app, i) for i in ids]
    assert all(r.state == "done" and r.attempts == 1 and r.result["counted"] == 30 for r in rows), \
        [(r.state, r.attempts, r.error) for r in rows]


def test_the_jobs_page_names_the_state_in_the_users_language(jobs_app: Any) -> None:
    # The state showed as its lowercase English key ("done") on the page, in either language.
    app = jobs_app()
    job_id = _enqueue(app, "test_count", {"n": 2})
    wait_job(app, job_id)
    client = login(app.test_client())
    for lang, said in (("en", "Done"), ("zh", "完成")):
        client.post(f"/lang/{lang}")
        page = client.get("/crm/jobs/").get_data(as_text=True)
        assert f'<td class="job-state">{said}</td>' in page, page[page.find("job-state"):][:200]
        assert client.get(f"/api/v1/jobs/{job_id}").get_json()["state_label"] == said
    assert client.get(f"/api/v1/jobs/{job_id}").get_json()["state"] == "done"


def test_the_jobs_page_says_when_on_the_crm_clock(jobs_app: Any) -> None:
    """It showed the stored UTC instant as ISO text (2026-12-05T03:13:43.51), 8 hours off in Shanghai."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    app = jobs_app()
    job_id = _enqueue(app, "test_count", {"n": 1})
    row = wait_job(app, job_id)
    page = login(app.test_client()).get("/crm/jobs/").get_data(as_text=True)
    local = row.created_on.replace(tzinfo=dt.UTC).astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")
    assert f"<td>{local}</td>" in page and row.created_on.isoformat() not in page
