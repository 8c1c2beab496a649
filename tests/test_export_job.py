"""Exports above CRM_EXPORT_JOB_ROWS run as a job and leave a CSV to download: the same
filters, export scope and visible fields as the streamed export."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from tests.conftest import STARTER, login
from tests.jobs_support import wait_job


def _app(make_app: Any, tmp_path: Path, rows: int) -> Any:
    from app.demo.loader import load_demo
    from app.demo.users import create_demo_users

    app = make_app(CRM_FILES_DIR=str(tmp_path / "files"), CRM_EXPORT_JOB_ROWS=rows)
    with app.app_context():
        state = app.extensions["crm"]
        create_demo_users(state.appbuilder, state.models)
        load_demo(state.db.session, state.models, size=30)
        state.db.session.remove()
    return app


def _rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_big_export_runs_as_a_job_in_the_users_scope(make_app: Any, tmp_path: Path) -> None:
    from app.demo.users import DEMO_PASSWORD

    app = _app(make_app, tmp_path, rows=3)
    with app.app_context():
        state = app.extensions["crm"]
        rep_id = state.appbuilder.sm.find_user(username="sales_rep").id
        opp = state.models.model("opportunity")
        session = state.db.session  # every other opportunity the rep's, whatever the demo drew
        session.execute(sa.update(opp).where(opp.id % 2 == 0).values(owner_id=rep_id))
        session.commit()
        own = set(session.scalars(sa.select(opp.id).where(opp.owner_id == rep_id)))
        everyone = set(session.scalars(sa.select(opp.id)))
    assert len(own) > 3 and own < everyone
    rep = login(app.test_client(), "sales_rep", DEMO_PASSWORD)
    answer = rep.get("/api/v1/opportunity/export")
    assert answer.status_code == 202, answer.data[:300]
    job = wait_job(app, answer.get_json()["job_id"])
    assert job.state == "done", job.error
    assert job.result["rows"] == len(own) and job.done == len(own)
    body = rep.get(f"/crm/jobs/{job.id}/file/export")
    assert body.status_code == 200
    rows = _rows(body.data)
    assert {int(r[0]) for r in rows[1:]} == own  # the export scope: own records only
    assert "Probability" in rows[0]  # read-only for reps, still shown
    other = login(app.test_client(), "sales_rep2", DEMO_PASSWORD)
    assert other.get(f"/crm/jobs/{job.id}/file/export").status_code == 404

    agent = login(app.test_client(), "support_agent", DEMO_PASSWORD)
    answer = agent.get("/api/v1/opportunity/export")
    assert answer.status_code == 403  # no export scope
    ticket = agent.get("/api/v1/ticket/export")
    assert ticket.status_code == 202
    assert wait_job(app, ticket.get_json()["job_id"]).state == "done"


def test_filters_follow_the_export_job(make_app: Any, tmp_path: Path) -> None:
    from app.demo.users import DEMO_PASSWORD

    app = _app(make_app, tmp_path, rows=1)
    with app.app_context():
        state = app.extensions["crm"]
        account = state.models.model("account")
        names = list(state.db.session.scalars(sa.select(account.name)))
    expected = sorted(n for n in names if "a" in n.casefold())
    assert 1 < len(expected) < len(names)
    client = login(app.test_client(), "executive", DEMO_PASSWORD)
    rison = "(filters:!((col:name,opr:ct,value:a)))"
    answer = client.get("/api/v1/account/export", query_string={"q": rison})
    assert answer.status_code == 202, answer.data[:300]
    job = wait_job(app, answer.get_json()["job_id"])
    rows = _rows(client.get(f"/crm/jobs/{job.id}/file/export").data)
    assert sorted(r[1] for r in rows[1:]) == expected
    refused = client.get("/api/v1/account/export", query_string={"q": "(filters:!((col:name,opr:bogus,value:a)))"})
    assert refused.status_code == 400  # checked before any job


def test_screen_export_above_the_threshold_goes_to_the_jobs_page(make_app: Any, tmp_path: Path) -> None:
    app = _app(make_app, tmp_path, rows=3)
    client = login(app.test_client())
    answer = client.get("/crm/lead/export")
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/crm/jobs/")
    page = client.get("/crm/jobs/").get_data(as_text=True)
    assert "Export Leads" in page
    with app.app_context():
        from app.jobs import job_store

        job = job_store(app).recent()[0]
    assert wait_job(app, job.id).state == "done"
    small = _app(make_app, tmp_path / "small", rows=0)  # 0: never a job
    streamed = login(small.test_client()).get("/crm/lead/export")
    assert streamed.status_code == 200 and streamed.mimetype == "text/csv"


def test_a_date_range_and_a_choice_list_survive_the_export_job(make_app: Any, tmp_path: Path) -> None:
    """Filters of the typed operators (issue 17) reach the job as given, not as parsed objects."""
    app = _app(make_app, tmp_path, rows=1)
    client = login(app.test_client())
    rison = ("(filters:!((col:close_date,opr:between,value:!('2020-01-01','2030-12-31')),"
             "(col:stage,opr:in,value:!(won,lost))))")
    listed = client.get("/api/v1/opportunity/", query_string={"q": rison[:-1] + ",page_size:100)"}).get_json()
    assert listed["count"] > 0
    answer = client.get("/api/v1/opportunity/export", query_string={"q": rison})
    assert answer.status_code == 202, answer.data[:300]
    job = wait_job(app, answer.get_json()["job_id"])
    assert job.state == "done", job.error
    rows = _rows(client.get(f"/crm/jobs/{job.id}/file/export").data)
    assert len(rows) - 1 == listed["count"]
    screen = client.get("/crm/opportunity/export?_flt_5_close_date=last_90_days")  # a relative range
    assert screen.status_code == 302
    with app.app_context():
        from app.jobs import job_store

        latest = job_store(app).recent()[0]
    assert wait_job(app, latest.id).state == "done", wait_job(app, latest.id).error


def _sheet(data: bytes) -> list[list[Any]]:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(data), read_only=True)
    return [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]


def test_xlsx_export_job_in_the_users_scope_with_progress_and_typed_cells(make_app: Any, tmp_path: Path) -> None:
    from app.demo.users import DEMO_PASSWORD

    app = _app(make_app, tmp_path, rows=3)
    with app.app_context():
        state = app.extensions["crm"]
        rep_id = state.appbuilder.sm.find_user(username="sales_rep").id
        opp = state.models.model("opportunity")
        session = state.db.session
        session.execute(sa.update(opp).where(opp.id % 2 == 0).values(owner_id=rep_id))
        session.execute(sa.update(opp).where(opp.id == sa.select(sa.func.min(opp.id)).scalar_subquery())
                        .values(name="=1+2 公式", owner_id=rep_id))  # text that looks like a formula stays text
        session.commit()
        own = {r.id: r for r in session.scalars(sa.select(opp).where(opp.owner_id == rep_id))}
        session.expunge_all()
    rep = login(app.test_client(), "sales_rep", DEMO_PASSWORD)
    answer = rep.get("/api/v1/opportunity/export?format=xlsx")
    assert answer.status_code == 202, answer.data[:300]
    job = wait_job(app, answer.get_json()["job_id"])
    assert job.state == "done", job.error
    assert job.result["format"] == "xlsx" and job.result["rows"] == len(own) == job.done == job.total
    body = rep.get(f"/crm/jobs/{job.id}/file/export")
    assert body.status_code == 200 and body.mimetype.endswith("spreadsheetml.sheet")
    rows = _sheet(body.data)
    heading = rows[0]
    assert {int(r[0]) for r in rows[1:]} == set(own)  # the export scope: own records only
    amount = heading.index("Amount")
    for line in rows[1:]:
        record = own[int(line[0])]
        expected = None if record.amount is None else float(record.amount)
        assert line[amount] == expected  # a number, not text
    names = [r[heading.index("Opportunity name")] for r in rows[1:]]
    assert "=1+2 公式" in names  # written as a string, never run as a formula
    assert rep.get(f"/crm/jobs/{job.id}/file/export").headers["Content-Disposition"].endswith(".xlsx")
    other = login(app.test_client(), "sales_rep2", DEMO_PASSWORD)
    assert other.get(f"/crm/jobs/{job.id}/file/export").status_code == 404


def test_screen_xlsx_button_streams_below_and_queues_above_the_threshold(make_app: Any, tmp_path: Path) -> None:
    app = _app(make_app, tmp_path, rows=3)
    client = login(app.test_client())
    page = client.get("/crm/lead/list/").get_data(as_text=True)
    assert 'id="crm-export-xlsx"' in page and "format=xlsx" in page
    answer = client.get("/crm/lead/export?format=xlsx")
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/crm/jobs/")
    with app.app_context():
        from app.jobs import job_store

        job = job_store(app).recent()[0]
    done = wait_job(app, job.id)
    assert done.state == "done" and done.result["files"]["export"].endswith(".xlsx")
    small = _app(make_app, tmp_path / "small", rows=0)  # 0: never a job
    streamed = login(small.test_client()).get("/crm/lead/export?format=xlsx")
    assert streamed.status_code == 200 and streamed.mimetype.endswith("spreadsheetml.sheet")
    with small.app_context():
        state = small.extensions["crm"]
        count = state.db.session.scalar(sa.select(sa.func.count()).select_from(state.models.model("lead")))
    assert len(_sheet(streamed.data)) == count + 1
    api = login(small.test_client()).get("/api/v1/lead/export?format=xlsx")
    assert api.status_code == 200 and len(_sheet(api.data)) == count + 1


def test_export_writes_the_columns_asked_for_and_refuses_an_unknown_one(make_app: Any, tmp_path: Path) -> None:
    """`columns` in the export's q was ignored (every field came out, an unknown name too): it picks
    the fields and their order, streamed and as a job; a name that is no field is a 400 naming it."""
    app = _app(make_app, tmp_path, rows=1000)
    client = login(app.test_client())
    client.post("/lang/zh")
    answer = client.get("/api/v1/opportunity/export", query_string={"q": "(columns:!(amount,name))"})
    assert answer.status_code == 200, answer.data[:300]
    rows = _rows(answer.data)
    assert rows[0] == ["id", "金额", "商机名称"] and all(len(r) == 3 for r in rows), rows[0]
    refused = client.get("/api/v1/opportunity/export", query_string={"q": "(columns:!(name,不存在))"})
    assert refused.status_code == 400 and "不存在" in refused.get_json()["message"], refused.data[:300]
    app.config["CRM_EXPORT_JOB_ROWS"] = 1
    queued = client.get("/api/v1/opportunity/export", query_string={"q": "(columns:!(name,stage))"})
    assert queued.status_code == 202, queued.data[:300]
    job = wait_job(app, queued.get_json()["job_id"])
    assert job.state == "done", job.error
    rows = _rows(client.get(f"/crm/jobs/{job.id}/file/export").data)
    assert rows[0] == ["id", "商机名称", "阶段"] and len(rows) > 2


PINYIN = ["阿里巴巴", "百度", "腾讯", "字节跳动"]  # a li, bai du, teng xun, zi jie (tests/test_pinyin_sort.py)
CODE_POINTS = sorted(PINYIN)


def _direct_and_job(app: Any, client: Any, path: str, q: str) -> tuple[list[list[str]], list[list[str]]]:
    """The same export as `client` downloads it directly and as a job writes it."""
    app.config["CRM_EXPORT_JOB_ROWS"] = 0
    direct = client.get(path, query_string={"q": q})
    assert direct.status_code == 200, direct.data[:300]
    app.config["CRM_EXPORT_JOB_ROWS"] = 1
    queued = client.get(path, query_string={"q": q})
    assert queued.status_code == 202, queued.data[:300]
    job = wait_job(app, queued.get_json()["job_id"])
    assert job.state == "done", job.error
    return _rows(direct.data), _rows(client.get(f"/crm/jobs/{job.id}/file/export").data)


def test_an_export_job_sorts_and_labels_in_the_requesters_language(make_app: Any, tmp_path: Path) -> None:
    """A worker has no request: the job reads as the language recorded when it was queued, so a
    zh reader's job sorts Chinese names in pinyin order (ICU on PostgreSQL, GB18030 on SQLite:
    pinyin for these common characters), with zh headers, as the direct download does."""
    app = make_app(CRM_FILES_DIR=str(tmp_path / "files"))
    zh, en = login(app.test_client()), login(app.test_client())
    zh.post("/lang/zh")
    for name in ["腾讯", "字节跳动", "阿里巴巴", "百度"]:  # neither order
        assert en.post("/api/v1/account/", json={"name": name}).status_code == 201
    q = "(columns:!(name),order_column:name,order_direction:asc)"
    direct, job = _direct_and_job(app, zh, "/api/v1/account/export", q)
    assert [r[1] for r in job[1:]] == PINYIN and job == direct
    assert job[0] == ["id", "客户名称"]
    direct, job = _direct_and_job(app, en, "/api/v1/account/export", q)  # English: the database's order
    assert [r[1] for r in job[1:]] == CODE_POINTS and job == direct
    direct, job = _direct_and_job(app, zh, "/api/v1/account/export", q.replace("asc", "desc"))
    assert [r[1] for r in job[1:]] == PINYIN[::-1] and job == direct


def test_an_export_jobs_search_matches_choice_labels_in_the_requesters_language(make_app: Any,
                                                                                  tmp_path: Path) -> None:
    """The list's search finds a choice by its label in the reader's language (初步接触 for
    prospecting): the job searched in English and found nothing the direct export found."""
    meta = shutil.copytree(STARTER, tmp_path / "meta")
    path = meta / "entities" / "opportunity.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("search: [name, next_step, account.name]",
                                 "search: [name, next_step, account.name, stage]", 1), encoding="utf-8")
    app = make_app(meta, CRM_FILES_DIR=str(tmp_path / "files"))
    zh = login(app.test_client())
    zh.post("/lang/zh")
    account = zh.post("/api/v1/account/", json={"name": "百度"}).json["id"]
    made = [zh.post("/api/v1/opportunity/", json={"name": name, "account": account, "amount": 100})
            for name in ("甲项目", "乙项目", "丙项目")]
    assert all(m.status_code == 201 for m in made), [m.json for m in made]
    with app.app_context():
        state = app.extensions["crm"]
        opp = state.models.model("opportunity")
        state.db.session.execute(sa.update(opp).where(opp.id == made[1].json["id"]).values(stage="needs_analysis"))
        state.db.session.commit()
    q = "(columns:!(name,stage),filters:!((col:name,opr:search,value:初步接触)),order_column:name,order_direction:asc)"
    direct, job = _direct_and_job(app, zh, "/api/v1/opportunity/export", q)
    assert [r[1:] for r in job[1:]] == [["丙项目", "初步接触"], ["甲项目", "初步接触"]] and job == direct
