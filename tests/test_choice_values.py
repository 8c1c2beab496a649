"""Choice values as any text (issue 13, item 4): 线上咨询 stored as the value, labels per language,
keys kept under relabelling, and `renamed_from` rewriting stored rows in a plan step."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any
from urllib.parse import quote

import prison
import pytest

from app.charts.run import chart_context, run_chart
from app.metadata.loader import load_metadata
from app.metadata.spec import ChartSpec, Grouping, Measure, Text
from app.schema.apply import apply_plan
from app.schema.plan import make_plan
from app.schema.rollback import rollback
from tests.conftest import login, write_tree

LEAD = """
label: {en: Inquiry, zh: 咨询}
fields:
  name: {type: string, required: true}
  channel:
    type: choice
    label: {en: Channel, zh: 渠道}
    default: 线上咨询
    choices:
      - {value: 线上咨询, label: {en: Online inquiry, zh: 线上咨询}}
      - {value: 展会, label: {en: Trade fair, zh: 展会}}
      - {value: cold call, label: {en: Cold call, zh: 电话陌拜}}
list:
  columns: [name, channel]
  filters: [channel]
  search: [name, channel]
"""


def tree(root: Path, body: str = LEAD) -> Path:
    return write_tree(root, {"inquiry": textwrap.dedent(body)})


@pytest.fixture
def inquiry_app(make_app: Any, tmp_path: Path) -> Any:
    return make_app(tree(tmp_path / "v1"))


def _add(api: Any, name: str, channel: str | None = None) -> int:
    body = {"name": name, **({"channel": channel} if channel is not None else {})}
    response = api.post("/api/v1/inquiry/", json=body)
    assert response.status_code == 201, response.json
    return response.json["id"]


def test_chinese_values_through_the_api_filters_list_and_export(inquiry_app: Any) -> None:
    api = login(inquiry_app.test_client())
    first = _add(api, "张三")  # the default, a Chinese value
    _add(api, "李四", "展会")
    _add(api, "王五", "cold call")
    assert api.get(f"/api/v1/inquiry/{first}").json["result"]["channel"] == "线上咨询"
    query = prison.dumps({"filters": [{"col": "channel", "opr": "eq", "value": "线上咨询"}], "columns": ["name"]})
    found = api.get("/api/v1/inquiry/?q=" + quote(query)).json["result"]
    assert [r["name"] for r in found] == ["张三"]
    spaced = prison.dumps({"filters": [{"col": "channel", "opr": "eq", "value": "cold call"}], "columns": ["name"]})
    assert [r["name"] for r in api.get("/api/v1/inquiry/?q=" + quote(spaced)).json["result"]] == ["王五"]
    bad = api.post("/api/v1/inquiry/", json={"name": "赵六", "channel": "线下"})
    assert bad.status_code == 422 and "channel" in bad.json["message"]
    api.post("/lang/zh")
    html = api.get("/crm/inquiry/list/?_flt_0_channel=" + quote("展会")).data.decode()
    assert "李四" in html and "张三" not in html
    export = api.get("/api/v1/inquiry/export?q=" + quote(prison.dumps({"filters": [
        {"col": "channel", "opr": "eq", "value": "线上咨询"}]})))
    assert export.status_code == 200 and "张三" in export.data.decode("utf-8-sig")


def test_a_chart_groups_by_chinese_values_with_their_labels(inquiry_app: Any) -> None:
    api = login(inquiry_app.test_client())
    for name, channel in (("甲", "线上咨询"), ("乙", "线上咨询"), ("丙", "cold call")):
        _add(api, name, channel)
    chart = ChartSpec(name="by_channel", title=Text.of("按渠道"), kind="bar", entity="inquiry",
                      measure=Measure("count", None), group=Grouping("channel"))
    with inquiry_app.app_context():
        admin = inquiry_app.extensions["crm"].appbuilder.sm.find_user(username="admin")
        result = run_chart(chart, chart_context(inquiry_app, admin, "en"))
    # Every choice shows, in the declared order; a choice no record has counts 0.
    assert {(p.label, p.value) for p in result.points} == {
        ("Online inquiry", 2), ("Cold call", 1), ("Trade fair", 0)}


def test_relabelling_keeps_the_key_and_renamed_from_rewrites_rows(make_app: Any, tmp_path: Path) -> None:
    first = make_app(tree(tmp_path / "v1"))
    api = login(first.test_client())
    kept = _add(api, "老客户", "展会")
    moved = _add(api, "电话来的", "cold call")
    body = (LEAD.replace("label: {en: Trade fair, zh: 展会}", "label: {en: Exhibition, zh: 展览会}")
            .replace("{value: cold call, label: {en: Cold call, zh: 电话陌拜}}",
                     "{value: 电话陌拜, renamed_from: cold call, label: {en: Cold call, zh: 电话陌拜}}"))
    second = make_app(tree(tmp_path / "v2", body), CRM_SCHEMA_MODE="off")
    with second.app_context():
        state = second.extensions["crm"]
        with state.db.engine.connect() as conn:
            plan = make_plan(conn, state.models)
        assert [(c.kind, c.column, c.rows) for c in plan.changes if c.kind == "rename_value"] == [
            ("rename_value", "channel", 1)]
        apply_plan(state.db.engine, state.models, tmp_path / "migrations")
        with state.db.engine.connect() as conn:
            assert not make_plan(conn, state.models).pending
    api2 = login(second.test_client())
    assert api2.get(f"/api/v1/inquiry/{moved}").json["result"]["channel"] == "电话陌拜"
    assert api2.get(f"/api/v1/inquiry/{kept}").json["result"]["channel"] == "展会"  # relabelled, same key
    api2.post("/lang/zh")
    assert "展览会" in api2.get(f"/crm/inquiry/show/{kept}").data.decode()


@pytest.mark.parametrize(("choices", "words"), [
    ("[' 线上', web]", "choice value ' 线上' is not valid"),
    ("['a,b', web]", "choice value 'a,b' is not valid"),
    ("[{value: 线上, renamed_from: web}, web]", "renamed from 'web', which is still a choice"),
])
def test_bad_choice_values_are_located(tmp_path: Path, choices: str, words: str) -> None:
    root = write_tree(tmp_path / "m", {"inquiry": f"label: Inquiry\nfields:\n  channel: {{type: choice, choices: {choices}}}\n"})
    _, problems = load_metadata(root)
    assert [p.code for p in problems] == ["CRM-E011"] and words in problems[0].message
    assert problems[0].line == 3


TAGS = """
label: {en: Visit, zh: 拜访}
fields:
  name: {type: string, required: true}
  topics:
    type: multichoice
    label: {en: Topics, zh: 主题}
    choices:
      - {value: price, label: {en: Price, zh: 价格}}
      - {value: 交付, label: {en: Delivery, zh: 交付}}
      - {value: service_fee, label: {en: Service fee, zh: 服务费}}
"""


def test_renamed_from_rewrites_stored_multichoice_lists_and_the_downgrade_restores_them(
        make_app: Any, tmp_path: Path) -> None:
    first = make_app(write_tree(tmp_path / "v1", {"visit": textwrap.dedent(TAGS)}))
    api = login(first.test_client())
    made = {}
    for name, topics in (("只谈价格", ["price"]), ("价格和交付", ["price", "交付"]), ("只谈交付", ["交付"]),
                         ("服务费", ["service_fee"]), ("没有主题", [])):
        response = api.post("/api/v1/visit/", json={"name": name, "topics": topics})
        assert response.status_code == 201, response.json
        made[name] = response.json["id"]
    # `price` becomes 价格; `service_fee` is kept (its `_` must not match `price` through LIKE)
    renamed = TAGS.replace("{value: price,", "{value: 价格, renamed_from: price,")
    second = make_app(write_tree(tmp_path / "v2", {"visit": textwrap.dedent(renamed)}), CRM_SCHEMA_MODE="off")
    with second.app_context():
        state = second.extensions["crm"]
        with state.db.engine.connect() as conn:
            plan = make_plan(conn, state.models)
        steps = [c for c in plan.changes if c.kind == "rename_value"]
        assert sorted((c.column, c.rows) for c in steps) == [("topics", 1), ("topics", 1)]
        revision = apply_plan(state.db.engine, state.models, tmp_path / "migrations")
        with state.db.engine.connect() as conn:
            assert not make_plan(conn, state.models).pending
    api2 = login(second.test_client())
    topics = {name: sorted(api2.get(f"/api/v1/visit/{pk}").json["result"]["topics"] or [])
              for name, pk in made.items()}
    assert topics == {"只谈价格": ["价格"], "价格和交付": sorted(["价格", "交付"]), "只谈交付": ["交付"],
                      "服务费": ["service_fee"], "没有主题": []}
    assert revision.path.exists()
    with second.app_context():  # the revision's downgrade writes the old lists back
        state = second.extensions["crm"]
        rollback(state.db.engine, state.models, tmp_path / "migrations", None, False)
    back = login(make_app(tmp_path / "v1", CRM_SCHEMA_MODE="check").test_client())
    assert {name: sorted(back.get(f"/api/v1/visit/{pk}").json["result"]["topics"] or [])
            for name, pk in made.items()} == {"只谈价格": ["price"], "价格和交付": sorted(["price", "交付"]),
                                              "只谈交付": ["交付"], "服务费": ["service_fee"], "没有主题": []}


def test_search_finds_records_by_a_choice_label_in_the_users_language(inquiry_app: Any) -> None:
    api = login(inquiry_app.test_client())
    online, cold = _add(api, "张三"), _add(api, "王五", "cold call")
    _add(api, "李四", "展会")

    def found(q: str) -> set[int]:
        groups = api.get("/api/v1/search", query_string={"q": q}).get_json()["groups"]
        return {r["id"] for g in groups for r in g["results"]}

    def listed(q: str) -> set[int]:
        html = api.get("/crm/inquiry/list/", query_string={"q": q}).get_data(as_text=True)
        return {pk for pk in (online, cold) if f"/crm/inquiry/show/{pk}\"" in html}

    assert found("online") == listed("online") == {online}   # "Online inquiry", stored as 线上咨询
    assert found("线上") == {online}                          # the stored value still matches
    assert found("电话") == set()                              # a zh label, the user reads en
    api.post("/lang/zh")
    assert found("电话") == listed("电话") == {cold}            # 电话陌拜, stored as `cold call`
    assert found("online") == set()
