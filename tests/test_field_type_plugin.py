"""A plugin's field type end to end: tests/plugins/rating.py adds `rating` (1-5 stars)
through `crm_field_types`, and an entity uses it: table column, form, API, list,
filter, JSON Schema, demo data and the checker; a bad plugin type stops start-up
located (CRM-E053..E055)."""

from __future__ import annotations

import shutil
from pathlib import Path

import prison
import pytest
import sqlalchemy as sa
import yaml
from click.testing import CliRunner
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

from app.cli import crm
from app.demo.loader import load_demo
from app.fieldtypes import field_type, field_types, register_types
from app.metadata.jsonschema import build_json_schema
from app.plugins.manager import PluginError
from tests.conftest import login, write_tree

PLUGINS = Path(__file__).resolve().parent / "plugins"

SURVEY = """
label: {en: Survey, zh: 满意度调查}
title: name
fields:
  name: {type: string, required: true, label: {en: Name, zh: 名称}}
  satisfaction: {type: rating, required: true, label: {en: Satisfaction, zh: 满意度}}
  service: {type: rating, default: 3}
list:
  columns: [name, satisfaction, service]
  filters: [satisfaction]
"""


@pytest.fixture(autouse=True)
def _builtin_types_after():
    """Metadata read after these tests (without the plugin) may use built-in types only."""
    yield
    register_types([])


def _tree(root: Path) -> Path:
    return write_tree(root, {"survey": SURVEY})


def _plugins(tmp_path: Path, source: str | None = None) -> Path:
    folder = tmp_path / "plugins"
    folder.mkdir(exist_ok=True)
    if source is None:
        shutil.copy(PLUGINS / "rating.py", folder / "rating.py")
    else:
        (folder / "types.py").write_text(source, encoding="utf-8")
    return folder


@pytest.fixture
def survey_app(make_app, tmp_path):
    return make_app(_tree(tmp_path / "meta"), CRM_PLUGINS_DIR=str(_plugins(tmp_path)))


@pytest.fixture
def api(survey_app):
    return login(survey_app.test_client())


def _list(api, **query):
    return api.get("/api/v1/survey/?q=" + prison.dumps(query))


def test_the_column_is_the_types_own(survey_app):
    with survey_app.app_context():
        engine = survey_app.extensions["crm"].db.engine
        columns = {c["name"]: c for c in sa.inspect(engine).get_columns("survey")}
    assert isinstance(columns["satisfaction"]["type"], sa.SmallInteger)
    assert columns["satisfaction"]["nullable"] is False


def test_api_round_trip_and_refusal_in_both_languages(api):
    created = api.post("/api/v1/survey/", json={"name": "华东客户回访", "satisfaction": "★★★★"})
    assert created.status_code == 201, created.json
    record = api.get(f"/api/v1/survey/{created.json['id']}").json["result"]
    assert record["satisfaction"] == 4 and record["service"] == 3
    refused = api.post("/api/v1/survey/", json={"name": "太高", "satisfaction": 7})
    assert refused.status_code == 422
    assert refused.json["message"] == {"satisfaction": ["A rating is a whole number of stars from 1 to 5."]}
    api.post("/lang/zh")
    refused = api.put(f"/api/v1/survey/{created.json['id']}", json={"satisfaction": "很好"})
    assert refused.status_code == 422
    assert refused.json["message"] == {"satisfaction": ["评分须为 1 到 5 颗星的整数。"]}
    missing = api.post("/api/v1/survey/", json={"name": "没有评分"})
    assert missing.status_code == 422 and set(missing.json["message"]) == {"satisfaction"}


def test_the_api_documents_the_type(api):
    spec = api.get("/api/v1/_openapi").json
    schema = spec["components"]["schemas"]
    shown = next(s for name, s in schema.items()
                 if name.startswith("Survey") and "satisfaction" in s.get("properties", {}))
    assert shown["properties"]["satisfaction"]["type"] == "integer"


def test_form_offers_stars_and_saves(api):
    page = api.get("/crm/survey/add").data.decode()
    assert "★★★★★" in page and 'name="satisfaction"' in page
    saved = api.post("/crm/survey/add", data={"name": "上海门店", "satisfaction": "5"}, follow_redirects=True)
    assert saved.status_code == 200
    bad = api.post("/crm/survey/add", data={"name": "坏值", "satisfaction": "9"})
    assert bad.status_code == 200 and "A rating is a whole number of stars from 1 to 5." in bad.data.decode()
    names = {r["name"]: r["satisfaction"] for r in _list(api).json["result"]}
    assert names == {"上海门店": 5}


def test_list_shows_stars_and_filter_compares_numbers(api):
    for name, stars in (("一星", 1), ("三星", 3), ("Five", 5)):
        assert api.post("/api/v1/survey/", json={"name": name, "satisfaction": stars}).status_code == 201
    page = api.get("/crm/survey/list/").data.decode()
    assert "★★★☆☆" in page and "★☆☆☆☆" in page
    high = _list(api, filters=[{"col": "satisfaction", "opr": "gt", "value": "2"}])
    assert high.status_code == 200 and {r["name"] for r in high.json["result"]} == {"三星", "Five"}
    bad = _list(api, filters=[{"col": "satisfaction", "opr": "eq", "value": "lots"}])
    assert bad.status_code == 400 and "for 'satisfaction'" in bad.json["message"]


def test_demo_data_fills_ratings(survey_app):
    with survey_app.app_context():
        state = survey_app.extensions["crm"]
        load_demo(state.db.session, state.models, sizes={"survey": 40})
        values = set(state.db.session.execute(sa.text("SELECT satisfaction FROM survey")).scalars())
    assert values and values <= {1, 2, 3, 4, 5} and len(values) > 1


def test_json_schema_takes_the_type_with_its_own_fragment(survey_app):
    schema = build_json_schema("entity", field_types())
    validator = Draft202012Validator(schema)
    entity = yaml.safe_load(SURVEY)
    assert list(validator.iter_errors(entity)) == []
    bad_option = {**entity, "fields": {**entity["fields"], "x": {"type": "rating", "max_length": 3}}}
    bad_default = {**entity, "fields": {**entity["fields"], "x": {"type": "rating", "default": 9}}}
    assert list(validator.iter_errors(bad_option)) and list(validator.iter_errors(bad_default))
    builtin_only = Draft202012Validator(build_json_schema("entity"))
    assert list(builtin_only.iter_errors(entity))  # the docs' schema knows only the built-in types


def test_checker_accepts_the_type_with_its_plugin_only(tmp_path):
    root = _tree(tmp_path / "meta")
    ok = CliRunner().invoke(crm, ["validate", "--metadata", str(root), "--plugins", str(_plugins(tmp_path))])
    assert ok.exit_code == 0, ok.output
    assert "metadata OK: 1 entities" in ok.output and "plugins OK: 1 file(s)" in ok.output
    empty = tmp_path / "none"
    empty.mkdir()
    refused = CliRunner().invoke(crm, ["validate", "--metadata", str(root), "--plugins", str(empty)])
    assert refused.exit_code == 1
    assert "CRM-E008 field 'satisfaction' has unknown type 'rating'" in refused.output
    assert "rating" in field_type("rating").name  # an app built with it keeps finding it


HEAD = "from app.fieldtypes import COMMON, FieldType\nfrom app.plugins.hookspecs import hookimpl\n\n"
BAD_TYPES = {
    "CRM-E053": HEAD + "\n@hookimpl\ndef crm_field_types():\n    return [\"stars\"]\n",
    "CRM-E054": HEAD + ("class Money(FieldType):\n    name = \"money\"\n    doc = \"Mine.\"\n\n\n"
                        "@hookimpl\ndef crm_field_types():\n    return [Money()]\n"),
    "CRM-E055": HEAD + ("class Stars(FieldType):\n    name = \"stars\"\n    doc = \"Stars.\"\n"
                        "    options = COMMON | {\"stars\"}\n\n\n"
                        "@hookimpl\ndef crm_field_types():\n    return [Stars()]\n"),
}


@pytest.mark.parametrize("code", sorted(BAD_TYPES))
def test_a_bad_plugin_type_stops_start_up_located(code, make_app, tmp_path):
    from tests.test_metadata_docs import documented_lines
    folder = _plugins(tmp_path, BAD_TYPES[code])
    with pytest.raises(PluginError) as refused:
        make_app(_tree(tmp_path / "meta"), CRM_PLUGINS_DIR=str(folder))
    assert [p.code for p in refused.value.problems] == [code]
    output = CliRunner().invoke(crm, ["validate", "--metadata", str(_tree(tmp_path / "meta2")),
                                      "--plugins", str(folder)]).output
    assert [line for line in output.splitlines() if "CRM-E05" in line] == documented_lines(code)


POLL = """
label: {en: Poll, zh: 投票}
title: name
fields:
  name: {type: string, required: true}
  score: {type: %s}
"""


def test_a_change_to_the_type_converts_the_data_or_refuses_with_the_rows(make_app, tmp_path):
    from app.schema.apply import PlanRefused, apply_plan
    plugins = str(_plugins(tmp_path))
    first = make_app(write_tree(tmp_path / "v1", {"poll": POLL % "integer"}), CRM_PLUGINS_DIR=plugins)
    client = login(first.test_client())
    for name, score in (("好", 4), ("差", 1)):
        assert client.post("/api/v1/poll/", json={"name": name, "score": score}).status_code == 201
    second = make_app(write_tree(tmp_path / "v2", {"poll": POLL % "rating"}), CRM_PLUGINS_DIR=plugins,
                      CRM_SCHEMA_MODE="off")
    with second.app_context():
        state = second.extensions["crm"]
        apply_plan(state.db.engine, state.models, tmp_path / "migrations")
    rows = login(second.test_client()).get("/api/v1/poll/?q=(columns:!(name,score))").json["result"]
    assert {r["name"]: r["score"] for r in rows} == {"好": 4, "差": 1}
    back = make_app(write_tree(tmp_path / "v3", {"poll": POLL % "integer"}), CRM_PLUGINS_DIR=plugins,
                    CRM_SCHEMA_MODE="off")
    with back.app_context():
        state = back.extensions["crm"]
        apply_plan(state.db.engine, state.models, tmp_path / "migrations")
    created = login(back.test_client()).post("/api/v1/poll/", json={"name": "太多", "score": 9})
    assert created.status_code == 201
    again = make_app(write_tree(tmp_path / "v4", {"poll": POLL % "rating"}), CRM_PLUGINS_DIR=plugins,
                     CRM_SCHEMA_MODE="off")
    with again.app_context():
        state = again.extensions["crm"]
        with pytest.raises(PlanRefused, match=rf"1 values do not convert to rating \(ids {created.json['id']}\)"):
            apply_plan(state.db.engine, state.models, tmp_path / "migrations")


def test_crm_schema_writes_the_plugins_types(tmp_path):
    result = CliRunner().invoke(crm, ["schema", str(tmp_path / "schema"), "--plugins", str(_plugins(tmp_path))])
    assert result.exit_code == 0, result.output
    text = (tmp_path / "schema" / "entity.schema.json").read_text(encoding="utf-8")
    assert '"rating"' in text and "A rating of 1 to 5 stars" in text
