"""Bulk work above CRM_BULK_JOB_ROWS runs as a job in a real rq worker (`flask crm worker`),
as the user who asked: the same per-row checks and scope, progress, and the refused rows
(title and reason) in the job's result."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa

from tests.conftest import login
from tests.jobs_support import start_worker, test_redis_url, wait_job, worker_config


def test_large_bulk_update_runs_in_an_rq_worker_with_per_row_outcome(make_app: Any, tmp_path: Path) -> None:
    from app.demo.users import DEMO_PASSWORD, create_demo_users

    app = make_app(CRM_FILES_DIR=str(tmp_path / "files"), REDIS_URL=test_redis_url(), CRM_BULK_JOB_ROWS=5)
    with app.app_context():
        state = app.extensions["crm"]
        create_demo_users(state.appbuilder, state.models)
        session, models = state.db.session, state.models
        users = {u.username: u.id for u in session.query(state.appbuilder.sm.user_model)}
        account = models.model("account")(name="后台客户", owner_id=users["admin"])
        session.add(account)
        session.flush()
        opp = models.model("opportunity")
        specs = [(f"后台商机{i:02d}", "sales_rep" if i % 2 else "sales_rep2", None if i == 3 else 100)
                 for i in range(12)] + [("别队商机", "admin", 100)]
        rows = [opp(name=n, account_id=account.id, deal_type="new_business", stage="prospecting", amount=a,
                    owner_id=users[o]) for n, o, a in specs]
        session.add_all(rows)
        session.commit()
        ids = {row.name: row.id for row in rows}
        session.remove()
    manager = login(app.test_client(), "sales_manager", DEMO_PASSWORD)
    answer = manager.post("/api/v1/opportunity/bulk", json={
        "action": "update", "ids": list(ids.values()), "values": {"stage": "proposal"}})
    assert answer.status_code == 202, answer.get_data(as_text=True)
    job_id = answer.get_json()["job_id"]
    config = worker_config(tmp_path, app)
    with config.open("a", encoding="utf-8") as extra:
        extra.write("CRM_OUTBOX_DISPATCH = 'off'\n")
    worker = start_worker(config, burst=True)
    try:
        job = wait_job(app, job_id)
    finally:
        worker.wait(timeout=60)
    assert job.state == "done", job.error
    assert job.done == job.total == 13
    assert job.result["done"] == 11 and job.result["failed_count"] == 2
    failed = {f["id"]: f for f in job.result["failed"]}
    assert failed[ids["后台商机03"]]["title"] == "后台商机03" and "Amount" in failed[ids["后台商机03"]]["reason"]
    assert failed[ids["别队商机"]]["title"] is None
    with app.app_context():
        state = app.extensions["crm"]
        opp = state.models.model("opportunity")
        stages = dict(state.db.session.execute(sa.select(opp.name, opp.stage)).all())
        state.db.session.remove()
    assert stages["后台商机00"] == "proposal" and stages["后台商机03"] == "prospecting"
    assert stages["别队商机"] == "prospecting"
    seen = manager.get(f"/api/v1/jobs/{job_id}").get_json()
    assert seen["state"] == "done" and seen["result"]["done"] == 11
    # the screen sends the same work to the jobs page
    screen = manager.post("/crm/opportunity/action_post", data={
        "action": "bulk_update", "rowid": list(ids.values()), "bulk_field": "next_step", "bulk_value": "跟进"})
    assert screen.status_code == 302 and screen.headers["Location"].endswith("/crm/jobs/")
