"""The Settings pages and API (issue 16, items 2-4): who may see and save, the plan before a
save, located checker problems, data loss refused unless confirmed, stale bases refused with
the difference, and the history. The files live in a copy of the starter: saves write back."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from app.editor import pipelines_edit as pe
from app.editor import yamledit as ye
from app.imports.mapping import auto_mapping
from app.metadata.loader import load_metadata
from app.metaversions import store
from tests.conftest import STARTER, login
from tests.test_editor_yaml import changed_lines


def _tree(tmp_path: Path) -> Path:
    """The starter with Executive given `settings: read` and Marketing `settings: edit`."""
    root = tmp_path / "meta"
    shutil.copytree(STARTER, root)
    ws = ye.Workspace({"roles.yaml": (root / "roles.yaml").read_text(encoding="utf-8")})
    pe.set_settings(ws, "Executive", "read")
    pe.set_settings(ws, "Marketing", "edit")
    (root / "roles.yaml").write_text(ws.texts()["roles.yaml"], encoding="utf-8")
    return root


@pytest.fixture
def meta(tmp_path: Path) -> Path:
    return _tree(tmp_path)


@pytest.fixture
def editor_app(make_app: Any, meta: Path) -> Any:
    app = make_app(meta)
    with app.app_context():
        sm = app.extensions["crm"].appbuilder.sm
        for name, role in (("exec", "Executive"), ("rep", "Sales Rep"), ("mkt", "Marketing")):
            sm.add_user(name, name, "测试", f"{name}@example.cn", sm.find_role(role), "pw-1234567")
    return app


def _engine(app: Any) -> Any:
    with app.app_context():
        return app.extensions["crm"].db.engine


def _base(app: Any) -> str:
    return str(store.current(_engine(app)).id)


def _add_region(app: Any, **extra: str) -> dict[str, str]:
    return {"op": "add_field", "base_id": _base(app), "entity": "opportunity", "name": "region", "type": "choice",
            "label_en": "Region", "label_zh": "区域", "choices": "east | East | 华东 | #1e88e5", **extra}


def test_read_only_role_sees_everything_and_cannot_save(editor_app: Any) -> None:
    client = login(editor_app.test_client(), "exec", "pw-1234567")
    for url in ("/crm/settings/", "/crm/settings/entity/opportunity?field=source", "/crm/settings/role/Marketing",
                "/crm/settings/file?path=roles.yaml", "/crm/settings/history/"):
        page = client.get(url)
        assert page.status_code == 200, url
        assert b"crm-plan" not in page.data and b"crm-rollback" not in page.data, url
    assert b'id="settings-readonly"' in client.get("/crm/settings/entity/opportunity").data
    assert b'href="/crm/settings/"' in client.get("/crm/account/list/").data  # the Settings menu
    assert client.post("/crm/settings/save", data=_add_region(editor_app)).status_code == 403
    assert client.post("/crm/settings/history/1/rollback", data={}).status_code == 403
    got = client.get("/api/v1/settings/files")
    assert got.status_code == 200 and got.json["mode"] == "read" and "roles.yaml" in got.json["files"]
    saved = client.post("/api/v1/settings/files", json={"files": got.json["files"], "base_id": got.json["version_id"]})
    assert saved.status_code == 403
    assert store.current(_engine(editor_app)).source == "bootstrap"


def test_roles_without_settings_get_403(editor_app: Any) -> None:
    client = login(editor_app.test_client(), "rep", "pw-1234567")
    assert b'href="/crm/settings/"' not in client.get("/crm/account/list/").data
    for url in ("/crm/settings/", "/crm/settings/entity/lead", "/crm/settings/history/", "/api/v1/settings/files"):
        assert client.get(url).status_code == 403, url
    assert client.post("/crm/settings/save", data=_add_region(editor_app)).status_code == 403
    assert client.post("/api/v1/settings/files", json={"files": {}}).status_code == 403
    assert editor_app.test_client().get("/api/v1/settings/files").status_code == 401
    anonymous = editor_app.test_client().get("/crm/settings/")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


def test_plan_then_save_writes_only_the_new_lines(editor_app: Any, meta: Path) -> None:
    client = login(editor_app.test_client(), "mkt", "pw-1234567")  # settings: edit
    before = (meta / "entities/opportunity.yaml").read_text(encoding="utf-8")
    base = _base(editor_app)
    plan = client.post("/crm/settings/save", data=_add_region(editor_app))
    assert plan.status_code == 200
    text = plan.data.decode()
    assert 'id="settings-plan"' in text and "add_column" in text and "+    label: {en: Region, zh: 区域}" in text
    assert "<title>Plan - MetaCRM</title>" in text  # the tab names the page
    assert _base(editor_app) == base  # the plan applied nothing
    saved = client.post("/crm/settings/save", data=_add_region(editor_app, apply="1", message="区域字段"))
    assert saved.status_code == 302 and saved.headers["Location"].endswith("/crm/settings/entity/opportunity")
    version = store.current(_engine(editor_app))
    assert (version.author, version.message, version.source, str(version.parent_id)) == ("mkt", "区域字段", "web",
                                                                                         base)
    after = (meta / "entities/opportunity.yaml").read_text(encoding="utf-8")
    assert version.files["entities/opportunity.yaml"] == after
    assert changed_lines(before, after) == ([], [
        "  region:", "    type: choice", "    label: {en: Region, zh: 区域}", "    choices:",
        '      - {value: east, label: {en: East, zh: 华东}, color: "#1e88e5"}'])  # nothing else, comments kept
    history = client.get("/crm/settings/history/").data.decode()
    assert "区域字段" in history and "mkt" in history
    diff = client.get(f"/crm/settings/history/{version.id}").data.decode()
    assert "+  region:" in diff


def test_checker_problem_is_shown_next_to_its_input_and_nothing_applied(editor_app: Any) -> None:
    client = login(editor_app.test_client())
    base = _base(editor_app)
    form = {"op": "field", "base_id": base, "entity": "opportunity", "field": "lost_reason",
            "label_en": "Lost reason", "label_zh": "输单原因", "help_en": "Fill in when the stage is Lost",
            "help_zh": "阶段为输单时填写", "required_if": "stage = 'lost' and", "apply": "1"}
    answer = client.post("/crm/settings/save", data=form)
    assert answer.status_code == 422
    page = answer.data.decode()
    control = re.search(r'data-control="required_if">(.*?)</div>', page, re.S)
    assert control and "entities/opportunity.yaml:" in control.group(1) and "CRM-E031" in control.group(1)
    assert "stage = &#39;lost&#39; and" in page  # what was typed is kept
    assert _base(editor_app) == base


def test_bad_settings_value_is_located_at_the_role_control(editor_app: Any) -> None:
    client = login(editor_app.test_client())
    answer = client.post("/crm/settings/save", data={"op": "role", "base_id": _base(editor_app), "role": "Sales Rep",
                                                      "settings": "write"})
    # the form's select offers edit/read only; a forged value is the checker's CRM-E047, next to the control
    assert answer.status_code == 422
    assert re.search(r'data-control="settings">[^<]*<code>roles.yaml:\d+</code> CRM-E047', answer.data.decode())


def test_stale_base_is_a_conflict_with_the_difference(editor_app: Any) -> None:
    first, second = login(editor_app.test_client()), login(editor_app.test_client(), "mkt", "pw-1234567")
    stale = _base(editor_app)
    relabel = {"op": "entity", "base_id": stale, "entity": "opportunity", "label_en": "Deal", "label_zh": "交易",
               "plural_en": "Deals", "plural_zh": "交易", "icon": "fa-dollar", "title": "name",
               "menu_group": "sales", "apply": "1"}
    assert first.post("/crm/settings/save", data=relabel).status_code == 302
    answer = second.post("/crm/settings/save", data=_add_region(editor_app, base_id=stale, apply="1"))
    assert answer.status_code == 409
    assert "+label: {en: Deal, zh: 交易}" in answer.data.decode()
    assert "region" not in store.current(_engine(editor_app)).files["entities/opportunity.yaml"]
    api = second.post("/api/v1/settings/files", json={"files": {}, "base_id": int(stale)})
    assert api.status_code == 409 and api.json["conflict"]


def test_data_loss_is_refused_until_confirmed(editor_app: Any, meta: Path) -> None:
    client = login(editor_app.test_client())
    with editor_app.app_context():
        assert client.post("/api/v1/account/", json={"name": "华为"}).status_code == 201
        account = client.get("/api/v1/account/").json["ids"][0]
        opp = client.post("/api/v1/opportunity/", json={"name": "云服务", "account": account, "next_step": "报价"})
        assert opp.status_code == 201, opp.json
    text = store.current(_engine(editor_app)).files["entities/opportunity.yaml"]
    start = text.index("  next_step:")
    dropped = text[:start] + text[text.index("  lost_reason:"):]
    dropped = dropped.replace(", next_step,", ",").replace(" next_step,", "").replace(", next_step]", "]")
    form = {"op": "file", "base_id": _base(editor_app), "path": "entities/opportunity.yaml", "text": dropped}
    plan = client.post("/crm/settings/save", data=form).data.decode()
    assert 'id="plan-refused"' in plan and 'id="plan-confirm"' in plan and "1 values would be lost" in plan
    refused = client.post("/crm/settings/save", data={**form, "apply": "1"})
    assert refused.status_code == 200 and 'id="plan-refused"' in refused.data.decode()
    assert "next_step" in store.current(_engine(editor_app)).files["entities/opportunity.yaml"]
    done = client.post("/crm/settings/save", data={**form, "apply": "1", "confirm": "on", "message": "drop"})
    assert done.status_code == 302
    assert "next_step" not in (meta / "entities/opportunity.yaml").read_text(encoding="utf-8")


def test_api_saves_a_set_of_files(editor_app: Any) -> None:
    client = login(editor_app.test_client())
    got = client.get("/api/v1/settings/files").json
    ws = ye.Workspace(got["files"])
    ye.edit_choice(ws, "opportunity", "source", "web", label={"en": "Web site", "zh": "网站"})
    body = {"files": ws.texts(), "base_id": got["version_id"], "message": "relabel", "dry_run": True}
    plan = client.post("/api/v1/settings/files", json=body)
    assert plan.status_code == 200 and plan.json["version_id"] is None
    saved = client.post("/api/v1/settings/files", json={**body, "dry_run": False})
    assert saved.status_code == 200 and saved.json["version_id"] == got["version_id"] + 1
    bad = client.post("/api/v1/settings/files", json={"files": ["x"], "base_id": saved.json["version_id"]})
    assert bad.status_code == 400
    not_json = client.post("/api/v1/settings/files", data="{files", content_type="application/json")
    assert not_json.status_code == 400 and "Malformed JSON" in not_json.json["message"]
    broken = {**ws.texts(), "roles.yaml": ws.texts()["roles.yaml"] + "Ops:\n  settings: maybe\n"}
    problems = client.post("/api/v1/settings/files", json={"files": broken, "base_id": saved.json["version_id"]})
    assert problems.status_code == 422 and problems.json["problems"][0]["code"] == "CRM-E047"


def test_roll_back_from_the_history_page(editor_app: Any, meta: Path) -> None:
    client = login(editor_app.test_client())
    first = store.current(_engine(editor_app))
    assert client.post("/crm/settings/save", data=_add_region(editor_app, apply="1")).status_code == 302
    assert b"crm-rollback" in client.get("/crm/settings/history/").data
    plan = client.post(f"/crm/settings/history/{first.id}/rollback", data={})
    text = plan.data.decode()
    assert plan.status_code == 200 and 'id="settings-plan"' in text and "-  region:" in text
    assert store.current(_engine(editor_app)).id == first.id + 1  # the plan changed nothing
    stale = client.post(f"/crm/settings/history/{first.id}/rollback", data={"apply": "1", "base_id": str(first.id)})
    assert stale.status_code == 409
    done = client.post(f"/crm/settings/history/{first.id}/rollback",
                       data={"apply": "1", "base_id": str(first.id + 1)})
    assert done.status_code == 302
    now = store.current(_engine(editor_app))
    assert now.source == "rollback" and now.files == first.files and now.author == "admin"
    assert "region" not in (meta / "entities/opportunity.yaml").read_text(encoding="utf-8")


def test_type_change_is_planned_and_the_untouched_inputs_change_nothing(editor_app: Any) -> None:
    client = login(editor_app.test_client())
    page = client.get("/crm/settings/entity/opportunity?field=next_step").data.decode()
    form = dict(re.findall(r'<input name="([a-z_]+)" class="form-control input-sm"(?: size="\d+")? value="([^"]*)"',
                           page[page.index('id="field-form"'):page.index('id="add-field-form"')]))
    base = {"op": "field", "base_id": _base(editor_app), "entity": "opportunity", "field": "next_step", **form}
    unchanged = client.post("/crm/settings/save", data={**base, "type": "string"}).data.decode()
    assert 'id="settings-plan"' in unchanged and "+    " not in unchanged  # nothing to change
    plan = client.post("/crm/settings/save", data={**base, "type": "text"}).data.decode()
    assert "-    type: string" in plan and "+    type: text" in plan


def test_settings_pages_speak_chinese(editor_app: Any) -> None:
    client = login(editor_app.test_client(), "exec", "pw-1234567")
    client.post("/lang/zh")
    page = client.get("/crm/settings/entity/opportunity?field=source").data.decode()
    assert "元数据编辑器" in page and "只读：可以查看全部设置，但不能保存。" in page and "选项" in page
    assert "官网" in page  # the choice's Chinese label, ready to edit
    assert "版本历史" in client.get("/crm/settings/history/").data.decode()


def test_an_edit_that_does_not_fit_the_files_is_shown_and_nothing_applied(editor_app: Any) -> None:
    client = login(editor_app.test_client())
    base = _base(editor_app)
    answer = client.post("/crm/settings/save", data={**_add_region(editor_app), "name": "amount", "apply": "1"})
    assert answer.status_code == 422
    assert "&#39;opportunity&#39; already has a field &#39;amount&#39;" in answer.data.decode()
    assert _base(editor_app) == base


def test_api_upload_of_a_part_of_the_set_is_one_400_naming_what_it_lacks(editor_app: Any) -> None:
    client = login(editor_app.test_client())
    got = client.get("/api/v1/settings/files").json
    account = got["files"]["entities/account.yaml"]
    for dry_run in (True, False):
        answer = client.post("/api/v1/settings/files", json={
            "files": {"entities/account.yaml": account}, "base_id": got["version_id"], "dry_run": dry_run})
        assert answer.status_code == 400, answer.json
        message = answer.json["message"]
        assert isinstance(message, str) and "must contain the whole metadata set" in message, message
        named = message.split("missing ", 1)[1].rstrip(".").split(", ")
        assert named[0] == "crm.yaml" and "entities/opportunity.yaml" in named and "roles.yaml" in named
        assert "entities/account.yaml" not in named and "problems" not in answer.json
    assert store.current(_engine(editor_app)).id == got["version_id"]  # nothing applied
    client.post("/lang/zh")
    zh = client.post("/api/v1/settings/files", json={"files": {"roles.yaml": got["files"]["roles.yaml"]},
                                                     "base_id": got["version_id"]})
    assert zh.status_code == 400 and "上传须包含完整的元数据文件集" in zh.json["message"]
    # a whole set may leave a file out (that removes it): the checker judges it, not this rule
    without = {k: v for k, v in got["files"].items() if k != "dashboards.yaml"}
    plan = client.post("/api/v1/settings/files", json={"files": without, "base_id": got["version_id"],
                                                       "dry_run": True})
    assert plan.status_code != 400, plan.json


def test_the_history_says_when_on_the_viewers_clock(editor_app: Any) -> None:
    """It printed the stored instant as UTC ("… UTC"): 8 hours off for a viewer in the starter's Asia/Shanghai."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    version = store.current(_engine(editor_app))
    local = version.created_at.replace(tzinfo=dt.UTC).astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")
    client = login(editor_app.test_client(), "exec", "pw-1234567")
    history = client.get("/crm/settings/history/").get_data(as_text=True)
    assert f'<td class="version-when">{local}</td>' in history and " UTC<" not in history
    page = client.get(f"/crm/settings/history/{version.id}").get_data(as_text=True)
    assert f"<p>{local} · " in page and " UTC " not in page


def _amount_form(app: Any, aliases: str, **extra: str) -> dict[str, str]:
    return {"op": "field", "base_id": _base(app), "entity": "opportunity", "field": "amount", "type": "money",
            "label_en": "Amount", "label_zh": "金额", "help_en": "Expected contract value in CNY",
            "help_zh": "预计合同金额（人民币）", "aliases": aliases, **extra}


def test_a_fields_import_headings_are_edited_on_its_form(editor_app: Any, meta: Path) -> None:
    """The field form's aliases (one heading a line) become `aliases:` in the file, one new line;
    the import then takes a column so headed; the form shows them back."""
    client = login(editor_app.test_client())
    page = client.get("/crm/settings/entity/opportunity?field=amount").data.decode()
    assert re.search(r'<textarea name="aliases" id="field-aliases"[^>]*></textarea>', page)
    before = (meta / "entities/opportunity.yaml").read_text(encoding="utf-8")
    saved = client.post("/crm/settings/save", data=_amount_form(editor_app, "合同金额\r\n\r\n Deal value \r\n",
                                                                  apply="1", message="金额的导入表头"))
    assert saved.status_code == 302, saved.data.decode()[:2000]
    after = (meta / "entities/opportunity.yaml").read_text(encoding="utf-8")
    assert changed_lines(before, after) == ([], ["    aliases: [合同金额, Deal value]"])
    spec, problems = load_metadata(meta)
    assert not problems and spec.entity("opportunity").field("amount").aliases == ("合同金额", "Deal value")
    for heading in ("合同金额", "DEAL VALUE:"):  # an import column so headed fills the amount
        assert auto_mapping(spec.entity("opportunity"), [heading, "商机名称"]) == {heading: "amount", "商机名称": "name"}
    page = client.get("/crm/settings/entity/opportunity?field=amount").data.decode()
    assert re.search(r'id="field-aliases"[^>]*>合同金额\nDeal value</textarea>', page)
    again = client.post("/crm/settings/save", data=_amount_form(editor_app, "合同金额\nDeal value"))
    assert again.status_code == 200 and 'id="plan-no-changes"' in again.data.decode()  # untouched: no change
    assert 'id="field-aliases"' not in client.get("/crm/settings/entity/opportunity?field=weighted_amount").data.decode()  # a formula
    plan = client.post("/crm/settings/save", data=_add_region(editor_app, aliases="大区\nSales area"))
    assert plan.status_code == 200 and "+    aliases: [大区, Sales area]" in plan.data.decode()  # Add a field too


@pytest.mark.parametrize(("aliases", "code"), [("Probability", "CRM-E004"), ("赢单率", "CRM-E004"), ("（）", "CRM-E014")])
def test_an_alias_the_checker_refuses_is_shown_at_the_headings_input(editor_app: Any, aliases: str, code: str) -> None:
    """Another field's label (an import column so headed could fill either) or a heading of
    nothing but brackets: the checker's problem next to the aliases input, nothing applied."""
    client = login(editor_app.test_client())
    base = _base(editor_app)
    answer = client.post("/crm/settings/save", data=_amount_form(editor_app, f"合同金额\n{aliases}", apply="1"))
    assert answer.status_code == 422
    page = answer.data.decode()
    control = re.search(r'data-control="aliases">(.*?)</div>', page, re.S)
    assert control and "entities/opportunity.yaml:" in control.group(1) and code in control.group(1), page[:3000]
    assert f"合同金额\n{aliases}</textarea>" in page  # what was typed is kept
    assert _base(editor_app) == base


@pytest.mark.parametrize("base_id", ["9" * 20, "²", "-1", "abc"])
def test_a_base_id_that_is_no_version_is_a_conflict_or_ignored_never_a_500(editor_app: Any, base_id: str) -> None:
    """A posted base of 20 digits was an OverflowError on SQLite; '²' passes isdigit() and fails int()."""
    client = login(editor_app.test_client())
    answer = client.post("/crm/settings/save", data=_add_region(editor_app, base_id=base_id))
    assert answer.status_code in (200, 409), answer.status_code
    rollback = client.post("/crm/settings/history/1/rollback", data={"apply": "1", "base_id": base_id})
    assert rollback.status_code < 500
    if base_id.isdecimal():
        api = client.post("/api/v1/settings/files", json={"files": {}, "base_id": int(base_id)})
        assert api.status_code in (400, 409), api.status_code
