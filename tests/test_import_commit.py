"""What an import's batch commits together, and how (PostgreSQL): the job's progress row in the
batch's own transaction (no transaction of its own after it, and never a count ahead of what
committed), and the batch's commit not waiting for its WAL flush (synchronous_commit off, only
for the import's own transactions: docs/import.md says why a lost tail is redone, not lost)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import login
from tests.jobs_support import wait_job
from tests.test_import_api import run_import, upload
from tests.test_import_batch import _accounts, _opportunities

PROBES = """
CREATE TABLE import_probe (xid bigint, what text, done integer, sync text);
CREATE FUNCTION import_probe_job() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
  INSERT INTO import_probe VALUES (txid_current(), 'job', NEW.done, current_setting('synchronous_commit'));
  IF NEW.done >= %(cancel_at)s THEN NEW.cancel_requested := true; END IF;
  RETURN NEW; END $$;
CREATE TRIGGER import_probe_job BEFORE UPDATE OF done ON crm_job FOR EACH ROW EXECUTE FUNCTION import_probe_job();
CREATE FUNCTION import_probe_rows() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
  INSERT INTO import_probe VALUES (txid_current(), 'rows', NULL, current_setting('synchronous_commit'));
  RETURN NULL; END $$;
CREATE TRIGGER import_probe_rows AFTER INSERT ON crm_import_row FOR EACH STATEMENT
  EXECUTE FUNCTION import_probe_rows();
"""


def _probed_app(make_app: Any, tmp_path: Path, monkeypatch: Any, cancel_at: int = 10**9, **config: Any) -> Any:
    """An app on PostgreSQL whose crm_job and crm_import_row note, in a side table, the transaction
    (and its synchronous_commit) of each progress update and each write of log lines; the progress
    row asks to cancel once `done` reaches `cancel_at`. Batches of 20 rows."""
    from app.imports import run as import_run

    monkeypatch.setattr(import_run, "BATCH_ROWS", (20, 20))
    app = make_app(CRM_FILES_DIR=str(tmp_path / "files"), CRM_OUTBOX_DISPATCH="off", **config)
    with app.app_context():
        engine = app.extensions["crm"].db.engine
    if engine.dialect.name != "postgresql":
        pytest.skip("transaction ids and synchronous_commit are PostgreSQL's")
    with engine.begin() as conn:
        conn.exec_driver_sql(PROBES % {"cancel_at": int(cancel_at)})
    return app


def _probes(app: Any) -> list[tuple[int, str, int | None, str]]:
    with app.app_context():
        with app.extensions["crm"].db.engine.connect() as conn:
            return [tuple(r) for r in conn.exec_driver_sql("SELECT xid, what, done, sync FROM import_probe")]


@pytest.mark.parametrize("overlap", ["on", "off"])
def test_progress_commits_with_its_batch_without_waiting_for_the_wal(make_app: Any, tmp_path: Path,
                                                                      monkeypatch: Any, overlap: str) -> None:
    """Each batch's progress update runs in the transaction that writes the batch's log lines (and
    records): the bar never counts rows a crash could still lose, and a batch costs one commit. Those
    transactions run with synchronous_commit off; the connection the writer thread used goes back
    to the pool with the server's setting."""
    app = _probed_app(make_app, tmp_path, monkeypatch, CRM_IMPORT_OVERLAP=overlap)
    accounts = _accounts(app, 7)
    client = login(app.test_client())
    job = run_import(app, client, "opportunity", _opportunities(100, accounts), "商机.csv")
    assert job.result["counts"]["created"] == 100 and (job.done, job.total) == (100, 100)
    probes = _probes(app)
    written = {xid for xid, what, _, _ in probes if what == "rows"}
    updates = [(xid, done) for xid, what, done, _ in probes if what == "job"]
    assert len(written) == 5  # five batches of 20 rows
    in_batch = [done for xid, done in updates if xid in written]
    assert in_batch == [20, 40, 60, 80, 100], updates  # before: none (a transaction of its own each)
    assert [done for xid, done in updates if xid not in written] == [100]  # the job's last word, after the loop
    assert {sync for _, what, _, sync in probes if what == "rows"} == {"off"}
    with app.app_context():
        engine = app.extensions["crm"].db.engine
        idle = engine.pool.checkedin()
        connections = [engine.connect() for _ in range(max(idle, 1))]
        try:
            assert {c.exec_driver_sql("SHOW synchronous_commit").scalar() for c in connections} == {"on"}
        finally:
            for c in connections:
                c.close()


def test_synchronous_commit_on_keeps_the_servers_setting(make_app: Any, tmp_path: Path, monkeypatch: Any) -> None:
    app = _probed_app(make_app, tmp_path, monkeypatch, CRM_IMPORT_SYNCHRONOUS_COMMIT="on")
    accounts = _accounts(app, 3)
    job = run_import(app, login(app.test_client()), "opportunity", _opportunities(50, accounts), "on.csv")
    assert job.result["counts"]["created"] == 50
    assert {sync for _, what, _, sync in _probes(app) if what == "rows"} == {"on"}


@pytest.mark.parametrize("overlap", ["on", "off"])
def test_a_cancel_is_read_with_the_batchs_progress(make_app: Any, tmp_path: Path, monkeypatch: Any,
                                                   overlap: str) -> None:
    """The progress update returns the job's cancel flag (here set by the trigger once 40 rows are
    done): the import stops after that batch (with the overlap, once the batch already in flight
    commits), and the progress it shows is what committed."""
    app = _probed_app(make_app, tmp_path, monkeypatch, cancel_at=40, CRM_IMPORT_OVERLAP=overlap)
    accounts = _accounts(app, 5)
    client = login(app.test_client())
    token = upload(client, "opportunity", _opportunities(200, accounts), "取消.csv").get_json()["upload"]
    job_id = client.post("/api/v1/imports/opportunity/run", json={"upload": token}).get_json()["job_id"]
    job = wait_job(app, job_id)
    assert job.state == "cancelled", job.error
    with app.app_context():
        state = app.extensions["crm"]
        log = state.models.core["crm_import_row"]
        logged = state.db.session.scalar(sa.select(sa.func.count()).select_from(log).where(log.c.job_id == job_id))
        state.db.session.remove()
    assert logged == (60 if overlap == "on" else 40), logged
    assert job.done == logged and job.result["counts"]["created"] == logged
