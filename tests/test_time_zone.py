"""Time zones (issue 17, part 3): crm.yaml's `timezone:` is used. Stored UTC; shown on lists,
the record page, forms and exports in the CRM's zone; a datetime typed without an offset (form,
API, import) is the CRM's wall clock; `default: today`/`now` are the CRM's. The clock is frozen
at 16:30 UTC on 10 June, already 00:30 on 11 June in Shanghai."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import login, write_tree
from tests.jobs_support import wait_job

VISIT = """
label: {en: Visit, zh: 拜访}
fields:
  name: {type: string, required: true}
  day: {type: date, default: today}
  logged_at: {type: datetime, default: now}
  seen_at: {type: datetime}
list:
  columns: [name, day, logged_at, seen_at]
  filters: [seen_at]
"""
CRM = "name: Test CRM\nlanguages: [en, zh]\ntimezone: Asia/Shanghai\n"
NOW = "2026-06-10T16:30:00+00:00"


@pytest.fixture
def visits(make_app: Any, tmp_path: Path) -> Any:
    app = make_app(write_tree(tmp_path / "m", {"visit": VISIT}, CRM), CRM_FROZEN_NOW=NOW,
                   CRM_FILES_DIR=str(tmp_path / "files"))
    return app, login(app.test_client())


def record(api: Any, pk: int) -> dict[str, Any]:
    return api.get(f"/api/v1/visit/{pk}").json["result"]


def test_defaults_today_and_now_are_the_crm_s(visits: Any) -> None:
    _, api = visits
    pk = api.post("/api/v1/visit/", json={"name": "上门"}).json["id"]
    stored = record(api, pk)
    assert stored["day"] == "2026-06-11"  # Shanghai's date; the server's UTC date is the 10th
    assert stored["logged_at"] == "2026-06-10T16:30:00+00:00"
    form = api.get("/crm/visit/add").data.decode()
    assert 'value="2026-06-11"' in form and 'value="2026-06-11 00:30"' in form  # the add form, pre-filled


def test_api_takes_a_time_without_offset_as_the_crm_s(visits: Any) -> None:
    _, api = visits
    local = api.post("/api/v1/visit/", json={"name": "本地", "seen_at": "2026-06-11T09:00:00"}).json["id"]
    utc = api.post("/api/v1/visit/", json={"name": "世界", "seen_at": "2026-06-11T09:00:00+00:00"}).json["id"]
    assert record(api, local)["seen_at"] == "2026-06-11T01:00:00+00:00"
    assert record(api, utc)["seen_at"] == "2026-06-11T09:00:00+00:00"  # an offset is kept


def test_screens_show_and_take_the_crm_s_time(visits: Any) -> None:
    _, api = visits
    added = api.post("/crm/visit/add", data={"name": "表单", "seen_at": "2026-06-11 09:00"})
    assert added.status_code == 302
    pk = int(re.search(r"/show/(\d+)", added.headers["Location"]).group(1))
    assert record(api, pk)["seen_at"] == "2026-06-11T01:00:00+00:00"
    listing = api.get("/crm/visit/list/").data.decode()
    assert "2026-06-11 09:00" in listing and "2026-06-11 01:00" not in listing
    shown = api.get(f"/crm/visit/show/{pk}").data.decode()
    assert "2026-06-11 09:00" in shown
    edit = api.get(f"/crm/visit/edit/{pk}").data.decode()
    assert 'value="2026-06-11 09:00"' in edit  # saving the form unchanged keeps the instant
    export = api.get("/crm/visit/export").data.decode("utf-8-sig")
    assert "2026-06-11 09:00+08:00" in export  # the export says which zone


def test_an_import_takes_the_crm_s_time(visits: Any) -> None:
    app, api = visits
    data = "name,seen_at\r\n导入,2026-06-11 09:00\r\n".encode()
    answer = api.post("/api/v1/imports/visit/upload", data={"file": (io.BytesIO(data), "v.csv")},
                      content_type="multipart/form-data")
    assert answer.status_code == 200, answer.get_json()
    run = api.post("/api/v1/imports/visit/run", json={"upload": answer.get_json()["upload"]})
    assert run.status_code == 202, run.get_json()
    job = wait_job(app, run.get_json()["job_id"])
    assert job.state == "done", job.error
    found = api.get("/api/v1/visit/?q=(columns:!(name,seen_at))").json["result"]
    assert [r["seen_at"] for r in found if r["name"] == "导入"] == ["2026-06-11T01:00:00+00:00"]
