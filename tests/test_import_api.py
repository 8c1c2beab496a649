"""Import through the API, rows through the record commands: files, modes, duplicates, denial."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import login
from tests.jobs_support import wait_job


@pytest.fixture
def import_app(make_app: Any, tmp_path: Path) -> Any:
    from app.demo.users import create_demo_users

    app = make_app(CRM_FILES_DIR=str(tmp_path / "files"))
    with app.app_context():
        state = app.extensions["crm"]
        create_demo_users(state.appbuilder, state.models)
    return app


def upload(client: Any, entity: str, data: bytes, name: str) -> Any:
    return client.post(f"/api/v1/imports/{entity}/upload", data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def run_import(app: Any, client: Any, entity: str, data: bytes, name: str, **body: Any) -> Any:
    answer = upload(client, entity, data, name)
    assert answer.status_code == 200, answer.get_json()
    response = client.post(f"/api/v1/imports/{entity}/run", json={"upload": answer.get_json()["upload"], **body})
    assert response.status_code == 202, response.get_json()
    job = wait_job(app, response.get_json()["job_id"])
    assert job.state == "done", job.error
    return job


LEADS = ("\ufeff姓名,公司,手机,邮箱,来源,评分\r\n"
         "张三,𩸽鱼行 😀,0086 139-1234-5678,Zhang@Example.CN,官网,80\r\n"
         '李四,"多行\r\n公司",13812345678,li@example.cn,微信,70\r\n'
         "\r\n"
         "王五,坏公司,13700000000,not-an-email,官网,55\r\n"
         "赵六,分数过高,13600000000,zhao@example.cn,官网,101\r\n")


def test_utf8_bom_crlf_multiline_4byte_import_then_idempotent_rerun(import_app: Any) -> None:
    client = login(import_app.test_client())
    answer = upload(client, "lead", LEADS.encode("utf-8"), "leads.csv").get_json()
    assert answer["columns"] == ["姓名", "公司", "手机", "邮箱", "来源", "评分"]
    assert answer["mapping"] == {"姓名": "name", "公司": "company", "手机": "mobile", "邮箱": "email",
                                 "来源": "source", "评分": "score"}
    job = run_import(import_app, client, "lead", LEADS.encode("utf-8"), "leads.csv")
    assert job.result["counts"] == {"created": 2, "updated": 0, "unchanged": 0, "duplicate": 0, "rejected": 2}
    assert (job.done, job.total) == (4, 4)
    with import_app.app_context():
        import sqlalchemy as sa

        state = import_app.extensions["crm"]
        lead = state.models.model("lead")
        rows = {r.name: r for r in state.db.session.scalars(sa.select(lead))}
        assert rows["张三"].company == "𩸽鱼行 😀"  # 4-byte characters exact
        assert rows["张三"].email == "Zhang@example.cn" and rows["张三"].mobile == "139 1234 5678"  # normalisers
        assert rows["张三"].source == "web" and rows["李四"].source == "wechat"
        assert rows["李四"].company == "多行\r\n公司"
        assert rows["张三"].owner_id == state.appbuilder.sm.find_user(username="admin").id
    rows = client.get(f"/api/v1/imports/{job.id}/rows?outcome=rejected").get_json()["rows"]
    assert [(r["row"], r["column"]) for r in rows] == [(5, "邮箱"), (6, "评分")]  # the blank row 4 counts
    assert "e-mail" in rows[0]["reason"]
    report = client.get(f"/crm/jobs/{job.id}/file/errors")
    assert report.status_code == 200
    text = report.get_data().decode("utf-8-sig")
    assert text.splitlines()[0] == "row,column,reason,姓名,公司,手机,邮箱,来源,评分"
    assert text.splitlines()[1].startswith("5,邮箱,") and "not-an-email" in text
    again = run_import(import_app, client, "lead", LEADS.encode("utf-8"), "leads.csv")
    assert again.result["counts"]["created"] == 0
    assert again.result["counts"]["duplicate"] == 2 and again.result["counts"]["rejected"] == 2


def test_gbk_file_and_upsert_by_key(import_app: Any) -> None:
    client = login(import_app.test_client())
    first = "姓名,邮箱,公司\n孙七,sun@example.cn,甲公司\n周八,zhou@example.cn,乙公司\n"
    job = run_import(import_app, client, "lead", first.encode("gbk"), "gbk.csv")
    assert job.result["counts"]["created"] == 2
    second = "姓名,邮箱,公司\n孙七,sun@EXAMPLE.cn,甲公司新名\n周八,zhou@example.cn,乙公司\n吴九,wu@example.cn,丙\n"
    job = run_import(import_app, client, "lead", second.encode("gb18030"), "gbk.csv", mode="upsert", keys=["email"])
    assert job.result["counts"] == {"created": 1, "updated": 1, "unchanged": 1, "duplicate": 0, "rejected": 0}
    again = run_import(import_app, client, "lead", second.encode("gb18030"), "gbk.csv", mode="upsert",
                       keys=["email"])
    assert again.result["counts"]["unchanged"] == 3 and again.result["counts"]["created"] == 0
    update = "邮箱,公司\nnobody@example.cn,X\nwu@example.cn,丁\nwu@example.cn,戊\n"
    job = run_import(import_app, client, "lead", update.encode("utf-8"), "u.csv", mode="update", keys=["email"])
    assert job.result["counts"] == {"created": 0, "updated": 1, "unchanged": 0, "duplicate": 1, "rejected": 1}
    rows = client.get(f"/api/v1/imports/{job.id}/rows").get_json()["rows"]
    assert rows[0]["outcome"] == "rejected" and rows[0]["column"] == "邮箱"
    assert rows[2]["outcome"] == "duplicate" and "3" in rows[2]["reason"]


def test_bad_files_are_4xx_before_any_job(import_app: Any) -> None:
    client = login(import_app.test_client())
    cases = [(b"", "a.csv", 400, "empty"), (b"%PDF-1.4", "a.pdf", 400, "not a CSV"),
             (b"PK\x03\x04junk", "a.csv", 400, "not a text CSV"), (b"not a zip", "a.xlsx", 400, "XLSX"),
             ("张三,13900000000\n".encode(), "a.csv", 400, "header"),
             (b"1,2\n3,4\n", "a.csv", 400, "looks like data"), ("姓名\n".encode(), "a.csv", 400, "no rows")]
    for data, name, status, words in cases:
        answer = upload(client, "lead", data, name)
        assert answer.status_code == status, (name, answer.get_json())
        assert words.lower() in str(answer.get_json()["message"]).lower(), (name, answer.get_json())
    assert client.post("/api/v1/imports/lead/upload", data={}).status_code == 400
    assert upload(client, "nosuch", b"a\n1\n", "a.csv").status_code == 404
    with import_app.app_context():
        from app.jobs import job_store

        assert job_store(import_app).recent() == []


def test_file_over_the_size_limit_is_413(make_app: Any, tmp_path: Path) -> None:
    app = make_app(CRM_FILES_DIR=str(tmp_path / "files"), CRM_IMPORT_MAX_BYTES=100)
    client = login(app.test_client())
    answer = upload(client, "lead", ("姓名\n" + "张三\n" * 100).encode(), "big.csv")
    assert answer.status_code == 413 and "MB" in answer.get_json()["message"]


def test_role_without_import_is_refused_and_columns_checked_at_mapping(import_app: Any) -> None:
    from app.demo.users import DEMO_PASSWORD

    data = "姓名,评分,负责人\n钱一,50,sales_rep\n".encode()
    executive = login(import_app.test_client(), "executive", DEMO_PASSWORD)
    answer = upload(executive, "lead", data, "a.csv")
    assert answer.status_code == 403 and "import" in answer.get_json()["message"]
    assert executive.get("/crm/imports/lead/").status_code == 403
    rep = login(import_app.test_client(), "sales_rep", DEMO_PASSWORD)
    assert upload(rep, "account", data, "a.csv").status_code == 403  # import only on leads
    token = upload(rep, "lead", data, "a.csv").get_json()["upload"]
    refused = rep.post("/api/v1/imports/lead/run", json={"upload": token})
    assert refused.status_code == 400
    errors = refused.get_json()["message"]
    assert set(errors) == {"评分", "负责人"}  # score is read-only for reps; owner needs reassign
    assert "评分" in errors["评分"][0]
    missing = rep.post("/api/v1/imports/lead/preview", json={"upload": token, "mapping": {"评分": None}})
    assert missing.status_code == 400 and set(missing.get_json()["message"]) == {"name"}
    assert "Name" in missing.get_json()["message"]["name"][0]
    fine = rep.post("/api/v1/imports/lead/run", json={"upload": token, "mapping": {"姓名": "name"}})
    assert fine.status_code == 202
    job = wait_job(import_app, fine.get_json()["job_id"])
    assert job.result["counts"]["created"] == 1
    other = login(import_app.test_client(), "sales_rep2", DEMO_PASSWORD)
    assert other.post("/api/v1/imports/lead/run", json={"upload": token}).status_code == 404  # not their upload
    assert other.get(f"/api/v1/imports/{job.id}/rows").status_code == 404


def test_preview_shows_errors_by_row_and_column_and_writes_nothing(import_app: Any) -> None:
    client = login(import_app.test_client())
    token = upload(client, "lead", LEADS.encode("utf-8"), "leads.csv").get_json()["upload"]
    preview = client.post("/api/v1/imports/lead/preview", json={"upload": token})
    assert preview.status_code == 200, preview.get_json()
    rows = preview.get_json()["rows"]
    assert [r["row"] for r in rows] == [2, 3, 5, 6]
    assert [r["outcome"] for r in rows] == ["created", "created", "rejected", "rejected"]
    assert list(rows[2]["errors"]) == ["邮箱"] and list(rows[3]["errors"]) == ["评分"]
    with import_app.app_context():
        import sqlalchemy as sa

        state = import_app.extensions["crm"]
        assert state.db.session.scalar(sa.select(sa.func.count()).select_from(state.models.model("lead"))) == 0
    # the mapping is remembered for the next file of this entity
    renamed = "Name,Mail\n甲,a@example.cn\n".encode()
    token = upload(client, "lead", renamed, "b.csv").get_json()["upload"]
    client.post("/api/v1/imports/lead/preview", json={"upload": token, "mapping": {"Name": "name", "Mail": "email"}})
    assert upload(client, "lead", renamed, "c.csv").get_json()["mapping"] == {"Name": "name", "Mail": "email"}


def test_autonumbers_are_kept_and_the_counter_moves_past_them(import_app: Any) -> None:
    client = login(import_app.test_client())
    before = client.post("/api/v1/ticket/", json={"subject": "之前的工单"}).get_json()["result"]["number"]
    assert before == "TCK-00001"
    data = "工单编号,主题,电话\nTCK-00100,打印机故障 😀,\n,没有编号的工单,13900000000\nLEGACY-7,旧系统工单,\n".encode()
    job = run_import(import_app, client, "ticket", data, "tickets.csv")
    assert job.result["counts"]["created"] == 3, job.result
    with import_app.app_context():
        import sqlalchemy as sa

        state = import_app.extensions["crm"]
        ticket = state.models.model("ticket")
        numbers = dict(state.db.session.execute(sa.select(ticket.subject, ticket.number)).all())
    assert numbers["打印机故障 😀"] == "TCK-00100" and numbers["旧系统工单"] == "LEGACY-7"
    assert numbers["没有编号的工单"] == "TCK-00101"  # numbered past the imported one
    after = client.post("/api/v1/ticket/", json={"subject": "之后的工单"}).get_json()["result"]["number"]
    assert after == "TCK-00102"
    again = run_import(import_app, client, "ticket", data, "tickets.csv")
    assert again.result["counts"]["created"] == 0 and again.result["counts"]["duplicate"] == 3
    update = client.post("/api/v1/imports/ticket/preview", json={
        "upload": upload(client, "ticket", data, "t.csv").get_json()["upload"], "mode": "update", "keys": ["subject"]})
    assert update.status_code == 400 and "工单编号" in update.get_json()["message"]  # numbers are given once


def test_malformed_rows_are_reported_per_row_never_a_failed_job(import_app: Any) -> None:
    client = login(import_app.test_client())
    data = "姓名,邮箱\r\n甲,a@example.cn\r\n乙,b@example.cn,多余,更多\r\n丙\r\n\r\n丁,not-mail\r\n".encode()
    job = run_import(import_app, client, "lead", data, "bad-rows.csv")
    assert job.result["counts"]["created"] == 2 and job.result["counts"]["rejected"] == 2
    rows = client.get(f"/api/v1/imports/{job.id}/rows?outcome=rejected").get_json()["rows"]
    assert [(r["row"], r["column"]) for r in rows] == [(3, None), (6, "邮箱")]
    assert "4 cells" in rows[0]["reason"]


def test_job_titles_follow_the_reader_language_not_the_starter_language(import_app: Any) -> None:
    # The title was stored in the language of whoever started the job: a zh import read "导入 线索"
    # on the English jobs page, and the other way round.
    client = login(import_app.test_client())
    client.post("/lang/zh")
    job = run_import(import_app, client, "lead", "姓名,公司\r\n标题测试,某公司\r\n".encode(), "标题.csv")
    assert client.get(f"/api/v1/jobs/{job.id}").get_json()["title"] == "导入 线索：标题.csv"  # the zh colon
    reverted = client.post(f"/api/v1/imports/{job.id}/revert")
    assert reverted.status_code == 202, reverted.get_json()
    revert_id = reverted.get_json()["job_id"]
    wait_job(import_app, revert_id)
    zh_revert = client.get(f"/api/v1/jobs/{revert_id}").get_json()["title"]
    assert zh_revert.endswith(f"#{job.id}：导入 线索：标题.csv") and ":" not in zh_revert, zh_revert
    client.post("/lang/en")
    assert client.get(f"/api/v1/jobs/{job.id}").get_json()["title"] == "Import Leads: 标题.csv"
    assert client.get(f"/api/v1/jobs/{revert_id}").get_json()["title"] == \
        f"Revert import #{job.id}: Import Leads: 标题.csv"
    page = client.get("/crm/jobs/").get_data(as_text=True)
    assert "Import Leads: 标题.csv" in page, page[page.find("jobs-table"):][:1500]


def test_the_jobs_page_names_result_counts_and_files_in_the_users_language(import_app: Any) -> None:
    # The page printed the result's keys: "created 1 rejected 1 errors" on the zh page.
    client = login(import_app.test_client())
    client.post("/lang/zh")
    run_import(import_app, client, "lead", "姓名,邮箱\r\n结果词,a@example.cn\r\n坏行,not-an-email\r\n".encode(), "词.csv")
    page = client.get("/crm/jobs/").get_data(as_text=True)
    assert 'data-count="created">新建 1<' in page and 'data-count="rejected">拒绝 1<' in page
    assert "错误报告</a>" in page and "> errors</a>" not in page


def test_a_row_reports_every_mistake_at_once(import_app: Any) -> None:
    # A bad phone number hid the unknown source and the missing name: only the phone was reported,
    # the rest after it was fixed (the choice and required checks ran after the cells were read).
    client = login(import_app.test_client())
    data = "姓名,手机,来源,评分\n,12ab,火星,500\n".encode()
    token = upload(client, "lead", data, "all-at-once.csv").get_json()["upload"]
    rows = client.post("/api/v1/imports/lead/preview", json={"upload": token}).get_json()["rows"]
    assert rows[0]["outcome"] == "rejected" and set(rows[0]["errors"]) == {"姓名", "手机", "来源", "评分"}, rows
    job = run_import(import_app, client, "lead", data, "all-at-once.csv")  # a batch: cells a column at a time
    assert job.result["counts"]["rejected"] == 1
    with import_app.app_context():
        import json

        import sqlalchemy as sa

        from app.imports.run import import_tables

        log = import_tables(import_app)
        stored = import_app.extensions["crm"].db.session.scalar(
            sa.select(log.c.data).where(log.c.job_id == job.id, log.c.outcome == "rejected"))
    assert set(json.loads(stored)["errors"]) == {"姓名", "手机", "来源", "评分"}, stored


def test_an_update_row_reports_every_mistake_of_the_cells_it_fills(import_app: Any) -> None:
    client = login(import_app.test_client())
    assert client.post("/api/v1/lead/", json={"name": "更新线索", "email": "up@example.cn"}).status_code == 201
    data = "邮箱,手机,来源,评分\nup@example.cn,12ab,火星,500\n".encode()
    token = upload(client, "lead", data, "update.csv").get_json()["upload"]
    # update: only the cells the row fills are judged (required fields are the matched record's)
    answer = client.post("/api/v1/imports/lead/preview", json={"upload": token, "mode": "update", "keys": ["email"]})
    rows = answer.get_json()["rows"]
    assert rows[0]["outcome"] == "rejected" and set(rows[0]["errors"]) == {"手机", "来源", "评分"}, rows


@pytest.mark.parametrize("column", ["状态", "阶段", "Status", "stage", "STATUS"])
def test_the_stage_column_is_matched_by_the_words_people_use_for_it(import_app: Any, column: str) -> None:
    """A lead file's 状态 column was left unmapped (the stage field is labelled 阶段): a pipeline's
    stage field also answers to Stage/Status in every language, after every name and label."""
    client = login(import_app.test_client())
    answer = upload(client, "lead", f"姓名,{column}\r\n张三,已联系\r\n".encode(), "leads.csv")
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["mapping"] == {"姓名": "name", column: "status"}


def test_a_field_labelled_status_keeps_its_column_over_the_stage_synonym(make_app: Any, tmp_path: Path) -> None:
    from app.imports.mapping import auto_mapping
    from tests.conftest import write_tree

    root = write_tree(tmp_path / "meta", {"job": """
label: {en: Job, zh: 任务}
fields:
  name: {type: string, required: true}
  state: {type: string, label: {en: Status, zh: 状态}}
pipelines:
  - name: flow
    field: stage
    stages: [{name: open, label: {en: Open, zh: 打开}}, {name: done, label: {en: Done, zh: 完成}}]
"""})
    entity = make_app(root).extensions["crm"].spec.entity("job")
    assert auto_mapping(entity, ["名称", "状态", "阶段"]) == {"状态": "state", "阶段": "stage"}
    assert auto_mapping(entity, ["Status", "Stage"]) == {"Status": "state", "Stage": "stage"}


def test_common_synonyms_map_a_column_to_the_field_that_means_it(import_app: Any) -> None:
    """电话 did not find the field labelled 手机 (mobile): the file's phone numbers were left out."""
    client = login(import_app.test_client())
    chinese = "姓名,公司名称,电话,电子邮件\r\n孙七,华为,13912345678,sun@example.cn\r\n".encode()
    answer = upload(client, "lead", chinese, "leads.csv").get_json()
    assert answer["mapping"] == {"姓名": "name", "公司名称": "company", "电话": "mobile", "电子邮件": "email"}
    english = upload(client, "lead", b"Name,Company Name,Tel,E-mail\r\nSun,Huawei,13912345678,s@example.cn\r\n",
                     "leads-en.csv").get_json()
    assert english["mapping"] == {"Name": "name", "Company Name": "company", "Tel": "mobile", "E-mail": "email"}
    job = run_import(import_app, client, "lead", chinese, "leads.csv")
    assert job.result["counts"]["created"] == 1
    with import_app.app_context():
        import sqlalchemy as sa

        state = import_app.extensions["crm"]
        lead = state.db.session.scalars(sa.select(state.models.model("lead"))).one()
        assert (lead.name, lead.company, lead.mobile, lead.email) == ("孙七", "华为", "139 1234 5678", "sun@example.cn")


def test_a_fields_aliases_map_its_column_and_a_shared_synonym_maps_nothing(make_app: Any, tmp_path: Path) -> None:
    """`aliases:` in the metadata name a deployment's own headings; a synonym two fields share
    (电话: mobile and the office phone) is left for the user to map, never guessed."""
    import shutil

    from tests.conftest import STARTER

    root = tmp_path / "meta"
    shutil.copytree(STARTER, root)
    lead = root / "entities" / "lead.yaml"
    text = lead.read_text(encoding="utf-8")
    text = text.replace("    label: {en: Mobile, zh: 手机}\n", "    label: {en: Mobile, zh: 手机}\n    aliases: [客户手机号, Cell No]\n", 1)
    text = text.replace("  email:\n", "  office_phone:\n    type: phone\n    label: {en: Office phone, zh: 座机}\n  email:\n", 1)
    lead.write_text(text, encoding="utf-8")
    app = make_app(root, CRM_FILES_DIR=str(tmp_path / "files"))
    client = login(app.test_client())
    csv = "姓名,客户手机号,电话,座机\r\n周八,13912345678,010-1234,010-5678\r\n".encode()
    answer = upload(client, "lead", csv, "leads.csv").get_json()
    assert answer["mapping"] == {"姓名": "name", "客户手机号": "mobile", "座机": "office_phone"}
    assert upload(client, "lead", b"Name,cell_no\r\nZhou,139\r\n", "en.csv").get_json()["mapping"] == {
        "Name": "name", "cell_no": "mobile"}
    denied = login(app.test_client(), "nobody", "x")  # not signed in: the mapping API is closed
    assert upload(denied, "lead", csv, "leads.csv").status_code in (401, 403)


def test_a_template_holds_the_columns_the_user_may_import_and_maps_itself(import_app: Any) -> None:
    """The import page offers an empty file headed by the columns a create accepts from this user,
    in the user's language; uploaded back, every column maps to its field and the rows go in."""
    import openpyxl

    from app.demo.users import DEMO_PASSWORD

    admin = login(import_app.test_client())
    admin.post("/lang/zh")
    with import_app.app_context():
        lead = import_app.extensions["crm"].spec.entity_map["lead"]
        labels = {f.name: f.label.get("zh") for f in lead.fields}
    csv = admin.get("/api/v1/imports/lead/template?format=csv")
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    assert "attachment" in csv.headers["Content-Disposition"]
    text = csv.get_data().decode("utf-8")
    assert text.startswith("\ufeff") and text.count("\r\n") == 1  # a BOM for Excel, one header row
    header = text[1:].strip().split(",")
    assert labels["name"] in header and labels["score"] in header and labels["owner"] in header
    rows = "\r\n".join([",".join(header)] + [",".join({labels["name"]: name, labels["company"]: "模板公司"}.get(h, "")
                                                         for h in header) for name in ("模板甲", "模板乙")])
    answer = upload(admin, "lead", rows.encode("utf-8"), "lead-template.csv").get_json()
    assert sorted(answer["mapping"]) == sorted(header)  # every column found its field
    job = run_import(import_app, admin, "lead", rows.encode("utf-8"), "lead-template.csv")
    assert job.result["counts"]["created"] == 2, job.result

    book = openpyxl.load_workbook(io.BytesIO(admin.get("/api/v1/imports/lead/template?format=xlsx").get_data()))
    sheet = book.active
    assert [c.value for c in sheet[1]] == header
    assert sheet.cell(1, header.index(labels["name"]) + 1).font.b  # required: bold
    source = header.index(labels["source"]) + 1
    dropdowns = [v for v in sheet.data_validations.dataValidation if v.type == "list"]
    assert any(sheet.cell(2, source).coordinate in v.sqref for v in dropdowns)  # choices as a dropdown
    assert admin.get("/api/v1/imports/lead/template?format=pdf").status_code == 400

    rep = login(import_app.test_client(), "sales_rep", DEMO_PASSWORD)
    rep_header = rep.get("/api/v1/imports/lead/template").get_data().decode("utf-8-sig").strip().split(",")
    with import_app.app_context():
        en = {f.name: f.label.get("en") for f in lead.fields}
    assert en["name"] in rep_header and en["company"] in rep_header
    assert en["score"] not in rep_header and en["owner"] not in rep_header  # read-only; owner needs reassign
    assert rep.get("/api/v1/imports/account/template").status_code == 403  # no import on accounts
    executive = login(import_app.test_client(), "executive", DEMO_PASSWORD)
    assert executive.get("/api/v1/imports/lead/template?format=xlsx").status_code == 403


def test_the_import_page_says_what_files_it_takes_and_links_the_templates(import_app: Any) -> None:
    page = login(import_app.test_client()).get("/crm/imports/lead/").get_data(as_text=True)
    assert "GBK" in page and "50 MB" in page
    assert 'href="/api/v1/imports/lead/template?format=csv"' in page
    assert 'href="/api/v1/imports/lead/template?format=xlsx"' in page
    with import_app.app_context():
        lead = import_app.extensions["crm"].spec.entity_map["lead"]
        assert lead.field_map["name"].label.get("en") in page.split('id="import-help"')[1].split("</p>")[0]
