"""/health for load balancers, JSON request logs with request ids, /metrics behind a guard.

Real parts only: the test database (SQLite or PostgreSQL), a real Redis, a real rq worker
process; the failures are real too (database refusing connections, no Redis listening)."""

from __future__ import annotations

import io
import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from app.metaversions import store
from app.ops.version import core_head, product_version
from tests.conftest import count_queries, login
from tests.jobs_support import start_worker, test_redis_url, wait_for, worker_config


def health(app: Any, query: str = "") -> tuple[int, dict[str, Any]]:
    response = app.test_client().get("/health" + query)
    return response.status_code, response.get_json()


def test_health_ok_without_login_and_cheap(app: Any) -> None:
    with count_queries(app) as statements:
        status, body = health(app)
    assert status == 200, body
    assert body["status"] == "ok" and body["version"] == product_version()
    checks = body["checks"]
    assert checks["database"]["ok"] and checks["redis"] == {"ok": True, "configured": False}
    assert checks["migrations"] == {"ok": True, "core": core_head(), "pending": []}
    with app.app_context():
        assert checks["metadata"]["serving"] == app.extensions["crm_version"] == checks["metadata"]["in_force"]
    assert len(statements) <= 3, statements  # two reads, and crm_job for stuck jobs (at most every 15 s)
    with count_queries(app) as again:
        assert health(app)[0] == 200
    assert len(again) <= 2, again  # a load balancer may poll often


def test_health_does_not_walk_alembic_history_per_call(app: Any, monkeypatch: Any) -> None:
    """A load balancer polls /health often: the migrations answer is worked out once per state of
    the revision folders and the database's heads, from the files' text (no Alembic history is
    read when the database is current), and remembered. It walked the history on every call."""
    from alembic.script import ScriptDirectory

    used: list[str] = []
    for name in ("__init__", "walk_revisions", "iterate_revisions", "get_revision"):
        original = getattr(ScriptDirectory, name)

        def counting(*args: Any, _original: Any = original, _name: str = name, **kwargs: Any) -> Any:
            used.append(_name)
            return _original(*args, **kwargs)

        monkeypatch.setattr(ScriptDirectory, name, counting)
    for _ in range(2):
        status, body = health(app)
        assert status == 200, body
        assert body["checks"]["migrations"] == {"ok": True, "core": core_head(), "pending": []}
    assert used == []


@contextmanager
def database_down(url: str, sqlite_file: Path | None) -> Iterator[None]:
    """PostgreSQL refuses new connections and drops the open ones; SQLite's file is gone."""
    if sqlite_file is not None:
        moved = sqlite_file.with_suffix(".away")
        sqlite_file.rename(moved)
        try:
            yield
        finally:
            moved.rename(sqlite_file)
        return
    name = make_url(url).database
    admin = sa.create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
        conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"), {"n": name})
    try:
        yield
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        admin.dispose()


def test_health_503_when_the_database_is_down(app: Any, database_url: str) -> None:
    url = make_url(database_url)
    sqlite_file = Path(url.database) if url.get_backend_name() == "sqlite" else None
    with app.app_context():
        app.extensions["crm"].db.engine.dispose()  # no pooled connection hides the outage
    with database_down(database_url, sqlite_file):
        status, body = health(app)
    assert status == 503, body
    assert body["checks"]["database"]["ok"] is False
    assert "database unreachable" in body["problems"][0]
    assert "127.0.0.1" not in json.dumps(body) and "postgres" not in json.dumps(body)  # no addresses to strangers
    with app.app_context():
        app.extensions["crm"].db.engine.dispose()  # SQLite: a pooled connection holds the stand-in file
    assert health(app)[0] == 200  # back when the database is


def test_health_503_when_redis_is_down(make_app: Any) -> None:
    app = make_app(REDIS_URL="redis://127.0.0.1:1/0")  # nothing listens on port 1
    status, body = health(app)
    assert status == 503
    assert body["checks"]["redis"]["ok"] is False and body["checks"]["workers"]["ok"] is False
    assert body["problems"][0] == "redis unreachable (ConnectionError)"


def test_health_counts_live_rq_workers(make_app: Any, tmp_path: Path) -> None:
    app = make_app(REDIS_URL=test_redis_url())
    status, body = health(app)
    assert status == 200 and body["checks"]["workers"] == {"ok": True, "alive": 0, "required": 0}
    status, body = health(app, "?workers=1")  # monitoring asks for a worker; the load balancer does not
    assert status == 503 and "0 rq worker(s) alive on queue 'crm', 1 required" in body["problems"]
    worker = start_worker(worker_config(tmp_path, app))
    try:
        wait_for(lambda: health(app, "?workers=1")[0] == 200, 60, "the worker to register")
    finally:
        worker.kill()  # SIGKILL: no goodbye; its heartbeat key lapses (rq's TTL) or it is cleaned
        worker.wait()


def test_health_503_with_a_pending_revision(app: Any) -> None:
    versions = Path(app.config["CRM_MIGRATIONS_DIR"])
    from app.schema.apply import current_head

    head = current_head(versions)
    (versions / "20991231_feedc0ffee00_metadata_test.py").write_text(
        f'revision = "feedc0ffee00"\ndown_revision = {head!r}\nbranch_labels = None\ndepends_on = None\n'
        'metadata_digest = "0000000000000000"\n\n\ndef upgrade() -> None:\n    pass\n\n\n'
        'def downgrade() -> None:\n    pass\n', encoding="utf-8")
    os.utime(versions, (1, 1))  # the folder's mtime tells /health to read the history again
    status, body = health(app)
    assert status == 503
    assert body["checks"]["migrations"]["pending"] == ["feedc0ffee00"]
    assert "1 revision(s) not run: feedc0ffee00 (run `flask crm upgrade`)" in body["problems"]


def test_health_503_when_another_metadata_version_is_in_force(app: Any) -> None:
    with app.app_context():
        engine = app.extensions["crm"].db.engine
        serving = app.extensions["crm_version"]
        with engine.begin() as conn:  # another process applied a new version, this one has not followed yet
            newer = store.record(conn, store.current(engine).files, parent_id=serving, author="elsewhere",
                                 message="elsewhere", source="web")
    status, body = health(app)
    assert status == 503
    assert body["problems"] == [f"this process serves metadata version {serving}, the one in force is {newer}"]


@contextmanager
def request_lines() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("crm.request")
    logger.addHandler(handler)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)


def test_request_log_one_json_line_with_request_id_user_and_timing(app: Any) -> None:
    client = login(app.test_client())
    with app.app_context():
        admin_id = app.extensions["crm"].appbuilder.sm.find_user(username="admin").id
    with request_lines() as stream:
        given = client.get("/crm/opportunity/list/", headers={"X-Request-ID": "lb-7f3a.1"})
        made = client.get("/health")
        forged = client.get("/health", headers={"X-Request-ID": "bad id '\"<Injected>"})
    assert given.headers["X-Request-ID"] == "lb-7f3a.1"
    assert len(made.headers["X-Request-ID"]) == 32 and made.headers["X-Request-ID"] != "lb-7f3a.1"
    assert "Injected" not in forged.headers["X-Request-ID"]
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["request_id"] for line in lines] == [r.headers["X-Request-ID"] for r in (given, made, forged)]
    first = lines[0]
    assert (first["method"], first["path"], first["status"], first["user"]) == \
        ("GET", "/crm/opportunity/list/", given.status_code, admin_id)
    assert isinstance(first["duration_ms"], float) and first["duration_ms"] > 0


def metrics_get(app: Any, address: str, token: str | None = None) -> Any:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return client.get("/metrics", headers=headers)


def test_metrics_from_this_host_count_requests_jobs_and_outbox(app: Any) -> None:
    before = metrics_get(app, "127.0.0.1").get_data(as_text=True)
    app.test_client().get("/health")
    response = metrics_get(app, "127.0.0.1")
    assert response.status_code == 200 and response.content_type.startswith("text/plain")
    text = response.get_data(as_text=True)

    def health_count(page: str) -> float:
        key = 'crm_http_requests_total{endpoint="/health",method="GET",status="200"}'
        return next((float(line.split()[-1]) for line in page.splitlines() if line.startswith(key)), 0.0)

    assert health_count(text) == health_count(before) + 1
    assert 'crm_http_request_duration_seconds_bucket{endpoint="/health"' in text
    assert "crm_outbox_pending_events 0.0" in text and "crm_outbox_lag_seconds 0.0" in text
    assert "# TYPE crm_jobs gauge" in text


def test_metrics_jobs_by_state_and_outbox_lag(app: Any) -> None:
    """A failed job and a change undelivered for ten minutes show up (values read from the database)."""
    import datetime as dt

    ten_minutes_ago = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(minutes=10)
    with app.app_context():
        with app.extensions["crm"].db.engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO crm_job (kind, state, payload, done, cancel_requested, created_on, "
                                 "attempts) VALUES ('export', 'failed', '{}', 0, false, :t, 1)"), {"t": ten_minutes_ago})
            conn.execute(sa.text("INSERT INTO crm_event (entity, record_id, kind, changes, depth, created_on) "
                                 "VALUES ('account', 1, 'created', '{}', 0, :t)"), {"t": ten_minutes_ago})
    text = metrics_get(app, "127.0.0.1").get_data(as_text=True)
    values = {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
              if line.startswith("crm_") and not line.startswith("crm_http")}
    assert values['crm_jobs{state="failed"}'] == 1 and values['crm_jobs{state="queued"}'] == 0
    assert values["crm_outbox_pending_events"] == 1
    assert 600 <= values["crm_outbox_lag_seconds"] < 700


def test_metrics_refused_to_strangers_and_wrong_tokens(make_app: Any) -> None:
    app = make_app(CRM_METRICS_ALLOW="10.1.0.0/16")
    assert metrics_get(app, "10.2.3.4").status_code == 403
    assert metrics_get(app, "127.0.0.1").status_code == 403  # not in the list any more
    assert metrics_get(app, "10.1.9.9").status_code == 200
    app = make_app(CRM_METRICS_TOKEN="s3cret-scrape-token", CRM_METRICS_ALLOW="")
    assert metrics_get(app, "10.2.3.4").status_code == 403
    assert metrics_get(app, "10.2.3.4", "wrong").status_code == 403
    assert metrics_get(app, "10.2.3.4", "s3cret-scrape-token").status_code == 200


def test_health_ignores_a_bad_workers_parameter(app: Any) -> None:
    status, body = health(app, "?workers=not-a-number")
    assert status == 200 and body["checks"]["workers"]["ok"] is True


def test_static_files_carry_their_hash_and_are_cached_for_a_year(client: Any) -> None:
    import re

    page = client.get("/crm/opportunity/list/").get_data(as_text=True)
    css = re.search(r'href="(/crm-static/crm/crm\.css\?v=([0-9a-f]{12}))"', page)
    fab = re.search(r'"(/static/appbuilder/[^"?]+\?v=[0-9a-f]{12})"', page)
    assert css and fab, "static URLs without a content hash"
    for url in (css.group(1), fab.group(1)):
        response = client.get(url)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        response.close()
    stale = client.get("/crm-static/crm/crm.css?v=000000000000")  # an old release's URL
    assert "immutable" not in stale.headers.get("Cache-Control", "")
    stale.close()
