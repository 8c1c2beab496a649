"""XLSX imports (dates, links by title, owners by name), revert with a changed-since row refused,
and a real rq worker killed mid-import (SIGKILL): the retry finishes with nothing lost or doubled."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa

from tests.conftest import login
from tests.jobs_support import (
    job_state,
    kill_worker_mid_job,
    start_worker,
    test_redis_url,
    wait_for,
    wait_job,
)
from tests.test_import_api import run_import, upload


@pytest.fixture
def import_app(make_app: Any, tmp_path: Path) -> Any:
    from app.demo.users import create_demo_users

    app = make_app(CRM_FILES_DIR=str(tmp_path / "files"))
    with app.app_context():
        state = app.extensions["crm"]
        create_demo_users(state.appbuilder, state.models)
    return app


def xlsx(rows: list[list[Any]]) -> bytes:
    buffer = io.BytesIO()
    pd.DataFrame(rows).to_excel(buffer, header=False, index=False, engine="openpyxl")
    return buffer.getvalue()


def _records(app: Any, entity: str) -> list[Any]:
    with app.app_context():
        state = app.extensions["crm"]
        model = state.models.model(entity)
        items = list(state.db.session.scalars(sa.select(model).order_by(model.id)))
        state.db.session.expunge_all()
        return items


def test_xlsx_dates_serials_links_by_title_and_owner_by_name(import_app: Any) -> None:
    client = login(import_app.test_client())
    accounts = xlsx([["客户名称"], ["华东贸易有限公司"], ["𩸽 Foods 😀"]])
    assert run_import(import_app, client, "account", accounts, "accounts.xlsx").result["counts"]["created"] == 2
    deals = xlsx([["商机名称", "客户", "金额", "预计成交日期", "负责人", "备注列"],
                  ["年度框架协议", "华东贸易有限公司", 128000.5, dt.datetime(2026, 3, 5), "sales_rep", "ignored"],
                  ["试点项目", "𩸽 Foods 😀", "¥3,500", 46000, "sales_rep2", None],
                  [None, None, None, None, None, None],
                  ["无主项目", "不存在的客户", 10, "2026/7/1", "admin", None]])
    token = upload(client, "opportunity", deals, "deals.xlsx").get_json()
    assert token["mapping"] == {"商机名称": "name", "客户": "account", "金额": "amount", "预计成交日期": "close_date",
                                "负责人": "owner"}
    job = run_import(import_app, client, "opportunity", deals, "deals.xlsx")
    assert job.result["counts"]["created"] == 2 and job.result["counts"]["rejected"] == 1
    rejected = client.get(f"/api/v1/imports/{job.id}/rows?outcome=rejected").get_json()["rows"]
    assert rejected == [{"row": 5, "outcome": "rejected", "record_id": None, "column": "客户",
                         "reason": "No Account '不存在的客户'.", "reverted": False}]
    with import_app.app_context():
        users = {u.username: u.id for u in import_app.extensions["crm"].appbuilder.sm.get_all_users()}
    by_name = {d.name: d for d in _records(import_app, "opportunity")}
    accounts_by_name = {a.name: a.id for a in _records(import_app, "account")}
    frame = by_name["年度框架协议"]
    assert frame.close_date == dt.date(2026, 3, 5) and frame.amount == Decimal("128000.50")
    assert frame.account_id == accounts_by_name["华东贸易有限公司"] and frame.owner_id == users["sales_rep"]
    pilot = by_name["试点项目"]
    assert pilot.close_date == dt.date(2025, 12, 9)  # Excel serial 46000
    assert pilot.amount == Decimal("3500.00") and pilot.owner_id == users["sales_rep2"]
    assert pilot.account_id == accounts_by_name["𩸽 Foods 😀"]


def test_revert_restores_creations_and_updates_and_refuses_rows_changed_since(import_app: Any) -> None:
    client = login(import_app.test_client())
    created = run_import(import_app, client, "lead", "姓名,邮箱,公司\n甲,a@example.cn,一\n乙,b@example.cn,二\n"
                         "丙,c@example.cn,三\n".encode(), "a.csv")
    assert created.result["counts"]["created"] == 3
    updated = run_import(import_app, client, "lead", "邮箱,公司\na@example.cn,一改\nb@example.cn,二改\n".encode(),
                         "b.csv", mode="update", keys=["email"])
    assert updated.result["counts"]["updated"] == 2
    leads = {lead.name: lead for lead in _records(import_app, "lead")}
    changed = client.put(f"/api/v1/lead/{leads['乙'].id}", json={"company": "手工修改"})  # changed since
    assert changed.status_code == 200, changed.get_json()

    revert = client.post(f"/api/v1/imports/{updated.id}/revert")
    assert revert.status_code == 202, revert.get_json()
    job = wait_job(import_app, revert.get_json()["job_id"])
    assert job.state == "done", job.error
    assert job.result["counts"] == {"deleted": 0, "restored": 1, "refused": 1}
    assert [(r["row"], r["record_id"]) for r in job.result["refused"]] == [(3, leads["乙"].id)]
    assert "Changed since the import" in job.result["refused"][0]["reason"]
    leads = {lead.name: lead for lead in _records(import_app, "lead")}
    assert leads["甲"].company == "一" and leads["乙"].company == "手工修改"
    assert client.post(f"/api/v1/imports/{updated.id}/revert").status_code == 202  # the refused row is still open

    revert = client.post(f"/api/v1/imports/{created.id}/revert")
    job = wait_job(import_app, revert.get_json()["job_id"])
    assert job.result["counts"] == {"deleted": 1, "restored": 0, "refused": 2}  # 甲 and 乙 changed since
    assert sorted(lead.name for lead in _records(import_app, "lead")) == ["乙", "甲"]


def test_revert_is_refused_to_others_and_twice(import_app: Any) -> None:
    from app.demo.users import DEMO_PASSWORD

    rep = login(import_app.test_client(), "sales_rep", DEMO_PASSWORD)
    job = run_import(import_app, rep, "lead", "姓名\n单条\n".encode(), "a.csv")
    other = login(import_app.test_client(), "sales_rep2", DEMO_PASSWORD)
    assert other.post(f"/api/v1/imports/{job.id}/revert").status_code == 404
    revert = rep.post(f"/api/v1/imports/{job.id}/revert")
    assert wait_job(import_app, revert.get_json()["job_id"]).result["counts"]["deleted"] == 1
    again = rep.post(f"/api/v1/imports/{job.id}/revert")
    assert again.status_code == 409 and "reverted already" in again.get_json()["message"]
    assert rep.post(f"/api/v1/imports/{revert.get_json()['job_id']}/revert").status_code == 404  # not an import


def test_worker_killed_mid_import_then_retry_finishes_nothing_lost_or_doubled(make_app: Any, tmp_path: Path) -> None:
    app = make_app(CRM_FILES_DIR=str(tmp_path / "files"), REDIS_URL=test_redis_url(), CRM_JOB_STALE_SECONDS=1)
    client = login(app.test_client())
    rows = 4000  # batches go fast: enough rows that the kill lands mid-file
    data = ("姓名,邮箱,评分\n" + "".join(f"客户{i:04d} 𩸽,c{i}@example.cn,{i % 100}\n" for i in range(rows))).encode()
    token = upload(client, "lead", data, "many.csv").get_json()["upload"]
    job_id = client.post("/api/v1/imports/lead/run", json={"upload": token}).get_json()["job_id"]
    config = kill_worker_mid_job(app, tmp_path, job_id)
    killed = job_state(app, job_id)
    assert killed.state == "running" and killed.done < rows  # the worker died mid-file
    lost = wait_for(lambda: (body if (body := client.get(f"/api/v1/jobs/{job_id}").get_json())["state"] == "failed"
                             else None), what="the job to show its worker lost")
    assert lost["error"].startswith("worker lost") and lost["done"] == killed.done
    assert client.post(f"/api/v1/jobs/{job_id}/retry").status_code == 200
    finisher = start_worker(config, burst=True)
    output, _ = finisher.communicate(timeout=300)
    row = job_state(app, job_id)
    assert row.state == "done", (row.error, output.decode(errors="replace")[-2000:])
    assert row.attempts == 2
    assert row.result["counts"]["created"] == rows and row.result["counts"]["rejected"] == 0
    names = [lead.name for lead in _records(app, "lead")]
    assert len(names) == rows and len(set(names)) == rows  # nothing lost, nothing doubled
    with app.app_context():
        log = app.extensions["crm"].models.core["crm_import_row"]
        session = app.extensions["crm"].db.session
        assert session.scalar(sa.select(sa.func.count()).select_from(log).where(log.c.job_id == job_id)) == rows


def test_cancel_stops_an_import_and_retry_finishes_it(import_app: Any) -> None:
    client = login(import_app.test_client())
    rows = 8000  # batches grow to 0.5 s of work (up to 1,000 rows): a small file could finish before the cancel
    data = ("姓名,邮箱\n" + "".join(f"取消{i:05d},x{i}@example.cn\n" for i in range(rows))).encode()
    token = upload(client, "lead", data, "cancel.csv").get_json()["upload"]
    job_id = client.post("/api/v1/imports/lead/run", json={"upload": token}).get_json()["job_id"]
    wait_for(lambda: job_state(import_app, job_id).done >= 20, what="the import to get going")
    assert client.post(f"/api/v1/jobs/{job_id}/cancel").status_code == 200
    stopped = wait_job(import_app, job_id)
    assert stopped.state == "cancelled" and 0 < stopped.result["counts"]["created"] < rows
    assert len(_records(import_app, "lead")) == stopped.result["counts"]["created"]
    assert client.post(f"/api/v1/jobs/{job_id}/retry").status_code == 200
    done = wait_job(import_app, job_id)
    assert done.state == "done" and done.result["counts"]["created"] == rows
    names = [lead.name for lead in _records(import_app, "lead")]
    assert len(names) == len(set(names)) == rows


def test_links_by_a_named_unique_field_and_users_by_display_name(import_app: Any) -> None:
    client = login(import_app.test_client())
    products = "产品编码,产品名称\nCRM-PRO-01,专业版\nCRM-STD-02,标准版\n".encode()
    assert run_import(import_app, client, "product", products, "p.csv").result["counts"]["created"] == 2
    run_import(import_app, client, "account", "客户名称\n华南实业\n".encode(), "a.csv")
    with import_app.app_context():
        rep = import_app.extensions["crm"].appbuilder.sm.find_user(username="sales_rep")
        display = f"{rep.first_name} {rep.last_name}"
    deals = f"商机名称,客户,产品,负责人\n两个产品,华南实业,CRM-PRO-01; CRM-STD-02,{display}\n".encode()
    token = upload(client, "opportunity", deals, "d.csv").get_json()["upload"]
    wrong = client.post("/api/v1/imports/opportunity/preview", json={"upload": token, "link_keys": {"products": "category"}})
    assert wrong.status_code == 400 and "'category' is not a unique field of Product" in wrong.get_json()["message"]["products"][0]
    job = run_import(import_app, client, "opportunity", deals, "d.csv", link_keys={"products": "code"})
    assert job.result["counts"]["created"] == 1, job.result
    deal = _records(import_app, "opportunity")[0]
    with import_app.app_context():
        state = import_app.extensions["crm"]
        deal = state.db.session.get(state.models.model("opportunity"), deal.id)
        assert sorted(p.code for p in deal.products) == ["CRM-PRO-01", "CRM-STD-02"]
        assert deal.owner_id == rep.id
