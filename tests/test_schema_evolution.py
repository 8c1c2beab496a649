"""Metadata changes on a filled database: the plan says what happens, no data is lost."""

from __future__ import annotations

import shutil
import textwrap

import pytest
import sqlalchemy as sa

from app.schema.apply import PlanRefused, apply_plan
from app.schema.plan import make_plan
from app.schema.startup import SchemaPending
from tests.conftest import STARTER, login, write_tree

DEAL = """
label: {en: Deal, zh: 交易}
fields:
  name: {type: string, required: true, max_length: 100}
  note: {type: string, max_length: 50}
  amount: {type: money}
"""


def tree(root, extra_fields="", entities=None):
    body = DEAL + textwrap.indent(textwrap.dedent(extra_fields), "  ")
    return write_tree(root, {"deal": body, **(entities or {})})


def _fill(app, rows):
    client = login(app.test_client())
    for row in rows:
        assert client.post("/api/v1/deal/", json=row).status_code == 201
    return client


def _plan(app):
    with app.app_context():
        state = app.extensions["crm"]
        with state.db.engine.connect() as conn:
            return make_plan(conn, state.models)


def test_add_optional_and_required_fields_keeps_rows(make_app, tmp_path):
    first = make_app(tree(tmp_path / "v1"))
    _fill(first, [{"name": "华东项目", "note": "老数据"}, {"name": "North deal"}])
    fields = """
    priority: {type: choice, choices: [low, high], required: true, default: low}
    region: {type: string, required: true}
    closed: {type: boolean}
    """
    second = make_app(tree(tmp_path / "v2", fields), CRM_SCHEMA_MODE="off")
    plan = _plan(second)
    kinds = {(c.kind, c.column) for c in plan.changes}
    assert {("add_column", "priority"), ("add_column", "region"), ("add_column", "closed")} <= kinds
    region = next(c for c in plan.changes if c.column == "region")
    assert region.rows == 2 and "existing rows stay empty" in region.detail
    with second.app_context():
        state = second.extensions["crm"]
        applied = apply_plan(state.db.engine, state.models, tmp_path / "migrations")
    assert applied.path is not None and applied.path.exists()
    assert "def upgrade()" in applied.path.read_text()
    client = login(second.test_client())
    rows = client.get("/api/v1/deal/?q=(columns:!(name,note,priority,region))").json["result"]
    assert {r["name"] for r in rows} == {"华东项目", "North deal"}
    assert {r["priority"] for r in rows} == {"low"} and {r["note"] for r in rows} == {"老数据", None}
    assert not _plan(second).pending
    refused = client.post("/api/v1/deal/", json={"name": "新"})
    assert refused.status_code == 422 and "region" in refused.json["message"]


def test_removed_field_and_entity_are_kept_unless_destructive(make_app, tmp_path):
    other = "label: Other\nfields:\n  title: {type: string}\n"
    first = make_app(tree(tmp_path / "v1", entities={"other": other}))
    _fill(first, [{"name": "保留", "note": "要保留的备注"}])
    slim = write_tree(tmp_path / "v2", {"deal": "label: Deal\nfields:\n  name: {type: string, required: true}\n"
                                                "  amount: {type: money}\n"})
    second = make_app(slim, CRM_SCHEMA_MODE="auto")
    plan = _plan(second)
    kept = {(c.kind, c.table, c.column) for c in plan.changes}
    assert ("keep_column", "deal", "note") in kept and ("keep_table", "other", None) in kept
    assert not plan.pending  # keeping is not a pending change
    with second.app_context():
        engine = second.extensions["crm"].db.engine
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT note FROM deal")).scalar() == "要保留的备注"
        state = second.extensions["crm"]
        apply_plan(engine, state.models, tmp_path / "migrations", allow_destructive=True)
        assert "note" not in {c["name"] for c in sa.inspect(engine).get_columns("deal")}


def test_narrowing_a_string_over_data_is_refused_and_changes_nothing(make_app, tmp_path):
    first = make_app(tree(tmp_path / "v1"))
    _fill(first, [{"name": "x" * 80}, {"name": "short"}])
    narrow = tree(tmp_path / "v2").joinpath("entities", "deal.yaml")
    narrow.write_text(narrow.read_text().replace("max_length: 100", "max_length: 20"), encoding="utf-8")
    second = make_app(tmp_path / "v2", CRM_SCHEMA_MODE="off")
    written = sorted((tmp_path / "migrations").glob("*.py"))  # the revision that created the table
    with second.app_context():
        state = second.extensions["crm"]
        with pytest.raises(PlanRefused, match="1 values longer than 20"):
            apply_plan(state.db.engine, state.models, tmp_path / "migrations")
    assert sorted((tmp_path / "migrations").glob("*.py")) == written
    wide = tree(tmp_path / "v3").joinpath("entities", "deal.yaml")
    wide.write_text(wide.read_text().replace("max_length: 100", "max_length: 200"), encoding="utf-8")
    third = make_app(tmp_path / "v3", CRM_SCHEMA_MODE="auto")
    assert not _plan(third).pending
    assert login(third.test_client()).post("/api/v1/deal/", json={"name": "y" * 150}).status_code == 201


def test_links_and_many_to_many_added_later(make_app, tmp_path):
    first = make_app(tree(tmp_path / "v1"))
    _fill(first, [{"name": "有链接"}])
    maker = "label: Maker\nfields:\n  title: {type: string}\n"
    second = make_app(tree(tmp_path / "v2", "maker: {type: link, to: maker, on_delete: set_null}\n"
                                            "makers: {type: links, to: maker}\n", {"maker": maker}))
    client = login(second.test_client())
    made = client.post("/api/v1/maker/", json={"title": "供应商"}).json["id"]
    deal = client.get("/api/v1/deal/").json["ids"][0]
    assert client.put(f"/api/v1/deal/{deal}", json={"maker": made, "makers": [made]}).status_code == 200


def test_production_refuses_to_start_with_pending_changes(make_app, tmp_path):
    make_app(tree(tmp_path / "v1"))
    with pytest.raises(SchemaPending, match="add_column +deal.extra"):
        make_app(tree(tmp_path / "v2", "extra: {type: integer}\n"), CRM_SCHEMA_MODE="check")


def test_plan_and_apply_commands(make_app, tmp_path):
    from app.cli import crm
    make_app(tree(tmp_path / "v1"))
    app = make_app(tree(tmp_path / "v2", "extra: {type: date}\n"), CRM_SCHEMA_MODE="off")
    runner = app.test_cli_runner()
    plan = runner.invoke(crm, ["plan"])
    assert plan.exit_code == 2 and "add_column   deal.extra" in plan.output
    assert '"kind": "add_column"' in runner.invoke(crm, ["plan", "--json"]).output
    applied = runner.invoke(crm, ["apply"])
    assert applied.exit_code == 0 and "applied revision" in applied.output
    assert runner.invoke(crm, ["plan"]).exit_code == 0
    shutil.rmtree(tmp_path / "migrations", ignore_errors=True)


def test_rename_keeps_the_data(make_app, tmp_path):
    first = make_app(tree(tmp_path / "v1"))
    _fill(first, [{"name": "改名前", "note": "备注内容"}])
    renamed = tree(tmp_path / "v2").joinpath("entities", "deal.yaml")
    renamed.write_text(renamed.read_text().replace("  note: {type: string, max_length: 50}",
                                                   "  remark: {type: string, max_length: 50, renamed_from: note}"),
                       encoding="utf-8")
    second = make_app(tmp_path / "v2", CRM_SCHEMA_MODE="off")
    plan = _plan(second)
    assert [c for c in plan.changes if c.kind == "rename"][0].rows == 1
    assert not [c for c in plan.changes if c.kind in ("add_column", "keep_column")]
    with second.app_context():
        state = second.extensions["crm"]
        apply_plan(state.db.engine, state.models, tmp_path / "migrations")
    row = login(second.test_client()).get("/api/v1/deal/?q=(columns:!(name,remark))").json["result"][0]
    assert row["remark"] == "备注内容"
    assert not _plan(second).pending


def test_rename_from_a_column_that_does_not_exist_is_refused_with_its_location(make_app, tmp_path):
    make_app(tree(tmp_path / "v1"))
    second = make_app(tree(tmp_path / "v2", "remark: {type: string, renamed_from: nothing_here}\n"),
                      CRM_SCHEMA_MODE="off")
    with second.app_context():
        state = second.extensions["crm"]
        with pytest.raises(PlanRefused, match=r"deal.yaml:\d+: field 'remark' renamed_from 'nothing_here'"):
            apply_plan(state.db.engine, state.models, tmp_path / "migrations")


def test_changing_a_table_other_tables_link_to(make_app, tmp_path):
    maker = "label: Maker\nfields:\n  title: {type: string}\n"
    linked = "maker: {type: link, to: maker, on_delete: restrict}\n"
    first = make_app(tree(tmp_path / "v1", linked, {"maker": maker}))
    client = login(first.test_client())
    made = client.post("/api/v1/maker/", json={"title": "旧名"}).json["id"]
    assert client.post("/api/v1/deal/", json={"name": "链接", "maker": made}).status_code == 201
    renamed = "label: Maker\nfields:\n  brand: {type: string, renamed_from: title}\n  tier: {type: integer}\n"
    second = make_app(tree(tmp_path / "v2", linked, {"maker": renamed}), CRM_SCHEMA_MODE="auto")
    client = login(second.test_client())
    assert client.get(f"/api/v1/maker/{made}").json["result"]["brand"] == "旧名"
    assert client.get("/api/v1/deal/?q=(columns:!(maker))").json["result"][0]["maker"]["id"] == made
    assert client.delete(f"/api/v1/maker/{made}").status_code == 409  # the link still holds


def test_crm_commands_run_in_check_mode_but_the_server_does_not_start(make_app, tmp_path):
    from click.testing import CliRunner
    from flask.cli import ScriptInfo

    from app import create_app
    from app.cli import crm
    first = make_app(tree(tmp_path / "v1"))
    url = first.config["SQLALCHEMY_DATABASE_URI"]
    settings = {"SQLALCHEMY_DATABASE_URI": url, "CRM_METADATA_DIR": str(tree(tmp_path / "v2", "extra: {type: integer}\n")),
                "CRM_MIGRATIONS_DIR": str(tmp_path / "migrations"), "CRM_PLUGINS_DIR": str(tmp_path / "none"),
                "CRM_SCHEMA_MODE": "check", "SECRET_KEY": first.config["SECRET_KEY"]}
    info = ScriptInfo(create_app=lambda: create_app(settings))
    result = CliRunner().invoke(crm, ["plan"], obj=info)
    assert result.exit_code == 2 and "deal.extra" in result.output
    with pytest.raises(SchemaPending):
        create_app(settings)


def test_type_changes_convert_the_data_or_refuse_with_the_rows(make_app, tmp_path):
    first = make_app(tree(tmp_path / "v1", "seats: {type: string}\ncolor: {type: choice, choices: [red, blue]}\n"))
    _fill(first, [{"name": "a", "seats": "12", "color": "red"}, {"name": "b", "seats": " 7 "}])
    to_int = tree(tmp_path / "v2", "seats: {type: integer}\ncolor: {type: multichoice, choices: [red, blue]}\n")
    second = make_app(to_int, CRM_SCHEMA_MODE="off")
    plan = _plan(second)
    seats = next(c for c in plan.changes if c.column == "seats")
    assert seats.kind == "alter_type" and not seats.blocked and seats.rows == 2
    with second.app_context():
        state = second.extensions["crm"]
        apply_plan(state.db.engine, state.models, tmp_path / "migrations")
    rows = login(second.test_client()).get("/api/v1/deal/?q=(columns:!(name,seats,color))").json["result"]
    assert {r["name"]: (r["seats"], r["color"]) for r in rows} == {"a": (12, ["red"]), "b": (7, [])}


def test_a_type_change_that_does_not_fit_the_data_is_refused_with_the_rows(make_app, tmp_path):
    first = make_app(tree(tmp_path / "v1", "seats: {type: string}\n"))
    _fill(first, [{"name": "a", "seats": "12"}, {"name": "b", "seats": "很多"}])
    second = make_app(tree(tmp_path / "v2", "seats: {type: integer}\n"), CRM_SCHEMA_MODE="off")
    with second.app_context():
        state = second.extensions["crm"]
        with pytest.raises(PlanRefused, match=r"1 values do not convert to integer \(ids 2\)"):
            apply_plan(state.db.engine, state.models, tmp_path / "migrations")
    with first.app_context():
        engine = first.extensions["crm"].db.engine
        with engine.connect() as conn:
            assert sorted(conn.execute(sa.text("SELECT seats FROM deal")).scalars()) == ["12", "很多"]


MAKER = """
label: Maker
fields:
  title: {type: string, unique: true}
  tier: {type: integer, index: true}
  stage_hint: {type: string}
pipelines:
  - name: onboarding
    field: status
    stages: [{name: new}, {name: approved}]
"""
LINKS = "maker: {type: link, to: %s, on_delete: restrict}\nmakers: {type: links, to: %s}\n"


def test_entity_rename_keeps_rows_links_history_and_names(make_app, tmp_path):
    first = make_app(tree(tmp_path / "v1", LINKS % ("maker", "maker"), {"maker": MAKER}))
    client = login(first.test_client())
    made = client.post("/api/v1/maker/", json={"title": "旧供应商", "tier": 2}).json["id"]
    assert client.post(f"/api/v1/maker/{made}/move", json={"stage": "approved"}).status_code == 200
    assert client.post("/api/v1/deal/", json={"name": "链接", "maker": made, "makers": [made]}).status_code == 201
    supplier = MAKER.replace("label: Maker", "label: Supplier\nrenamed_from: maker") + "  country: {type: string}\n"
    supplier = supplier.replace("  country: {type: string}\n", "").replace(
        "  stage_hint: {type: string}\n", "  stage_hint: {type: string}\n  country: {type: string}\n")
    second = make_app(tree(tmp_path / "v2", LINKS % ("supplier", "supplier"), {"supplier": supplier}),
                      CRM_SCHEMA_MODE="off")
    plan = _plan(second)
    kinds = {(c.kind, c.table, c.column) for c in plan.changes}
    assert ("rename_table", "supplier", None) in kinds and ("rename_table", "supplier__makers", None) not in kinds
    assert ("add_column", "supplier", "country") in kinds
    assert ("rename_value", "crm_stage_history", "entity") in kinds
    assert not [c for c in plan.changes if c.kind in ("add_table", "keep_table") or c.blocked]
    assert next(c for c in plan.changes if c.kind == "rename_table" and c.table == "supplier").rows == 1
    with second.app_context():
        state = second.extensions["crm"]
        applied = apply_plan(state.db.engine, state.models, tmp_path / "migrations")
        assert "op.rename_table('maker', 'supplier')" in applied.path.read_text()
        tables = set(sa.inspect(state.db.engine).get_table_names())
        assert {"supplier", "deal__makers"} <= tables and "maker" not in tables
        assert [(c.kind, c.table) for c in _plan(second).changes] == []  # names, indexes, constraints all line up
    third = make_app(tree(tmp_path / "v2", LINKS % ("supplier", "supplier"), {"supplier": supplier}))
    client = login(third.test_client())
    got = client.get(f"/api/v1/supplier/{made}")
    assert got.status_code == 200 and got.json["result"]["title"] == "旧供应商"
    assert "country" in got.json["result"] and got.json["result"]["status"] == "approved"
    assert [h["to"] for h in client.get(f"/api/v1/supplier/{made}/history").json["result"]] == ["new", "approved"]
    deal = client.get("/api/v1/deal/?q=(columns:!(maker,makers))").json["result"][0]
    assert deal["maker"]["id"] == made and [m["id"] for m in deal["makers"]] == [made]
    assert client.delete(f"/api/v1/supplier/{made}").status_code == 409  # the link still holds
    assert client.post("/api/v1/supplier/", json={"title": "旧供应商"}).status_code == 422  # still unique
    assert client.post("/api/v1/supplier/", json={"title": "新供应商"}).status_code == 201  # ids go on


def test_entity_rename_problems_are_located(make_app, tmp_path):
    from app.metadata.loader import load_metadata
    root = tree(tmp_path / "bad", entities={
        "maker": "label: Maker\nfields:\n  title: string\n",
        "supplier": "label: Supplier\nrenamed_from: maker\nfields:\n  title: string\n",
        "vendor": "label: Vendor\nrenamed_from: deal\nfields:\n  title: string\n",
        "brand": "label: Brand\nrenamed_from: crm_counter\nfields:\n  title: string\n",
        "shop": "label: Shop\nrenamed_from: shop\nfields:\n  title: string\n",
        "store": "label: Store\nrenamed_from: ghost\nfields:\n  title: string\n",
        "outlet": "label: Outlet\nrenamed_from: ghost\nfields:\n  title: string\n"})
    _, problems = load_metadata(root)
    found = sorted(p.format(root) for p in problems)
    assert found == [
        "bad/entities/brand.yaml:2: CRM-E006 entity 'brand': renamed_from 'crm_counter' is a reserved name "
        "(hint: only an entity's table can be renamed, never one of the app's own)",
        "bad/entities/shop.yaml:2: CRM-E014 entity 'shop': renamed_from names the entity itself",
        "bad/entities/store.yaml:2: CRM-E014 entity 'store': 'ghost' is also renamed to 'outlet' "
        "(hint: one entity takes the old table; remove one of the renamed_from)",
        "bad/entities/supplier.yaml:2: CRM-E014 entity 'supplier': renamed_from 'maker' is still an entity "
        "(hint: a rename needs the old name gone; remove maker.yaml or the renamed_from)",
        "bad/entities/vendor.yaml:2: CRM-E014 entity 'vendor': renamed_from 'deal' is still an entity "
        "(hint: a rename needs the old name gone; remove deal.yaml or the renamed_from)",
    ]


def test_entity_rename_the_database_cannot_take_is_refused_with_its_location(make_app, tmp_path):
    maker = "label: Maker\nfields:\n  title: {type: string}\n"
    make_app(tree(tmp_path / "v1", entities={"maker": maker}))
    ghost = "label: Supplier\nrenamed_from: nothing_here\nfields:\n  title: {type: string}\n"
    second = make_app(tree(tmp_path / "v2", entities={"maker": maker, "supplier": ghost}), CRM_SCHEMA_MODE="off")
    with second.app_context():
        state = second.extensions["crm"]
        with pytest.raises(PlanRefused, match=r"supplier.yaml:2: entity 'supplier' renamed_from 'nothing_here' "
                                              r"names no table"):
            apply_plan(state.db.engine, state.models, tmp_path / "migrations")
    # a name already taken in the database: 'maker' was removed (table kept), 'supplier' made since
    make_app(tree(tmp_path / "v3", entities={"supplier": maker.replace("Maker", "Supplier")}))
    taken = "label: Supplier\nrenamed_from: maker\nfields:\n  title: {type: string}\n"
    fourth = make_app(tree(tmp_path / "v4", entities={"supplier": taken}), CRM_SCHEMA_MODE="off")
    with fourth.app_context():
        state = fourth.extensions["crm"]
        with pytest.raises(PlanRefused, match=r"supplier.yaml:2: .* both tables maker and supplier; the name is taken"):
            apply_plan(state.db.engine, state.models, tmp_path / "migrations")


def _apply(app, root, allow_destructive=False):
    with app.app_context():
        state = app.extensions["crm"]
        return apply_plan(state.db.engine, state.models, root / "migrations", allow_destructive=allow_destructive)


def _rollback(app, root, to=None, allow_destructive=False):
    from app.schema.rollback import rollback
    with app.app_context():
        state = app.extensions["crm"]
        return rollback(state.db.engine, state.models, root / "migrations", to, allow_destructive)


def _rows(app, sql):
    with app.app_context():
        with app.extensions["crm"].db.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.text(sql))]


def test_rollback_undoes_a_revision_and_keeps_what_still_fits(make_app, tmp_path):
    from app.schema.rollback import RollbackRefused
    first = make_app(tree(tmp_path / "v1", "seats: {type: string, max_length: 10}\n"
                                           "color: {type: choice, choices: [red, blue]}\n"))
    _fill(first, [{"name": "a", "seats": "12", "color": "red"}, {"name": "b", "seats": " 7 "}])
    v2 = tree(tmp_path / "v2", "seats: {type: integer}\ncolor: {type: multichoice, choices: [red, blue]}\n"
                               "region: {type: string}\npriority: {type: choice, choices: [low, high], "
                               "required: true, default: low}\n")
    second = make_app(v2, CRM_SCHEMA_MODE="off")
    applied = _apply(second, tmp_path)
    text = applied.path.read_text()
    assert "Metadata digest: " + second.extensions["crm"].spec.digest in text and "rollback_checks = [" in text
    client = login(second.test_client())
    ids = {r["name"]: r["id"] for r in client.get("/api/v1/deal/?q=(columns:!(name))").json["result"]}
    assert client.put(f"/api/v1/deal/{ids['a']}", json={"region": "华东"}).status_code == 200
    with pytest.raises(RollbackRefused, match=r"drops column deal.region with 1 values \(needs --allow-destructive\)"):
        _rollback(second, tmp_path)
    assert _rows(second, "SELECT region FROM deal WHERE region IS NOT NULL") == [("华东",)]  # nothing changed
    assert client.put(f"/api/v1/deal/{ids['a']}", json={"color": ["red", "blue"]}).status_code == 200
    with pytest.raises(RollbackRefused, match=r"1 values of deal.color do not fit its old type .*\(ids 1\)"):
        _rollback(second, tmp_path, allow_destructive=True)  # two tags cannot become one choice
    assert client.put(f"/api/v1/deal/{ids['a']}", json={"color": ["blue"]}).status_code == 200
    done = _rollback(second, tmp_path, allow_destructive=True)
    assert done.undone == [applied.revision] and done.digest == first.extensions["crm"].spec.digest
    assert not applied.path.exists() and (tmp_path / "rolled_back" / applied.path.name).exists()
    back = make_app(tmp_path / "v1", CRM_SCHEMA_MODE="check")  # the old metadata fits the database again
    rows = login(back.test_client()).get("/api/v1/deal/?q=(columns:!(name,seats,color))").json["result"]
    assert {r["name"]: (r["seats"], r["color"]) for r in rows} == {"a": ("12", "blue"), "b": ("7", None)}
    with pytest.raises(RollbackRefused, match="no metadata revision the database has run|'nope' is not"):
        _rollback(back, tmp_path, to="nope")


def test_rollback_of_an_entity_rename_and_commands(make_app, tmp_path):
    from app.cli import crm
    maker = "label: Maker\nfields:\n  title: {type: string, unique: true}\n"
    first = make_app(tree(tmp_path / "v1", LINKS % ("maker", "maker"), {"maker": maker}))
    client = login(first.test_client())
    made = client.post("/api/v1/maker/", json={"title": "供应商"}).json["id"]
    assert client.post("/api/v1/deal/", json={"name": "d", "maker": made, "makers": [made]}).status_code == 201
    supplier = "label: Supplier\nrenamed_from: maker\nfields:\n  title: {type: string, unique: true}\n"
    second = make_app(tree(tmp_path / "v2", LINKS % ("supplier", "supplier"), {"supplier": supplier}),
                      CRM_SCHEMA_MODE="off")
    runner = second.test_cli_runner()
    assert runner.invoke(crm, ["apply"]).exit_code == 0
    status = runner.invoke(crm, ["status"])
    assert "metadata revision" in status.output and "no changes pending" in status.output
    assert second.extensions["crm"].spec.digest in status.output
    result = runner.invoke(crm, ["rollback"])
    assert result.exit_code == 0 and "rolled back" in result.output, result.output
    back = make_app(tmp_path / "v1", CRM_SCHEMA_MODE="check")
    client = login(back.test_client())
    assert client.get(f"/api/v1/maker/{made}").json["result"]["title"] == "供应商"
    deal = client.get("/api/v1/deal/?q=(columns:!(maker,makers))").json["result"][0]
    assert deal["maker"]["id"] == made and [m["id"] for m in deal["makers"]] == [made]
    with back.app_context():
        state = back.extensions["crm"]
        with state.db.engine.connect() as conn:
            assert make_plan(conn, state.models).changes == []
    refused = back.test_cli_runner().invoke(crm, ["rollback", "--to", "base"])
    assert refused.exit_code == 1 and "drops table deal with 1 rows (needs --allow-destructive)" in refused.output


def test_making_a_field_unique_over_duplicates_is_refused_with_the_values(make_app, tmp_path):
    first = make_app(tree(tmp_path / "v1", "code: {type: string}\n"))
    _fill(first, [{"name": "a", "code": "A-1"}, {"name": "b", "code": "A-1"}, {"name": "c", "code": "B-2"}])
    second = make_app(tree(tmp_path / "v2", "code: {type: string, unique: true}\n"), CRM_SCHEMA_MODE="off")
    change = next(c for c in _plan(second).changes if c.kind == "add_unique")
    assert change.column == "code" and change.rows == 1 and "1 values repeat ('A-1' x2)" in change.blocked
    with pytest.raises(PlanRefused, match=r"add_unique +deal.code .*1 values repeat \('A-1' x2\)"):
        _apply(second, tmp_path)
    assert sorted(r[0] for r in _rows(second, "SELECT code FROM deal")) == ["A-1", "A-1", "B-2"]
    client = login(first.test_client())
    dup = client.get("/api/v1/deal/?q=(columns:!(name),filters:!((col:name,opr:eq,value:b)))").json["ids"][0]
    assert client.put(f"/api/v1/deal/{dup}", json={"code": "A-2"}).status_code == 200
    _apply(second, tmp_path)
    client = login(second.test_client())
    assert client.post("/api/v1/deal/", json={"name": "d", "code": "B-2"}).status_code == 422
    assert not _plan(second).pending


def _edit(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert old in text, (path, old)
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_step_by_step_on_the_demo_data(make_app, tmp_path):
    """The issue's walk on a database filled by the demo loader: after each step the plan said
    what happened, no row was lost, and the API serves the new schema."""
    from app.demo.loader import load_demo
    meta = tmp_path / "meta"
    shutil.copytree(STARTER, meta)
    first = make_app(meta)
    with first.app_context():
        state = first.extensions["crm"]
        load_demo(state.db.session, state.models, size=20)
        state.db.session.commit()
    counts = {t: _rows(first, f"SELECT count(*) FROM {t}")[0][0] for t in ("account", "product", "opportunity__products")}
    assert all(counts.values())

    def step(kind_column, check_url, allow_destructive=False):
        app = make_app(meta, CRM_SCHEMA_MODE="off")
        plan = _plan(app)
        assert kind_column <= {(c.kind, c.table, c.column) for c in plan.changes}, plan.changes
        _apply(app, tmp_path, allow_destructive)
        served = make_app(meta, CRM_SCHEMA_MODE="check")  # starts: nothing pending
        got = login(served.test_client()).get(check_url)
        assert got.status_code == 200, got.json
        return got.json

    account = meta / "entities" / "account.yaml"
    _edit(account, "\nfields:\n", "\nfields:\n  credit_limit: {type: money}\n  segment: {type: choice, "
                                  "choices: [smb, ent], required: true, default: smb}\n")
    got = step({("add_column", "account", "credit_limit"), ("add_column", "account", "segment")},
               "/api/v1/account/?q=(columns:!(name,segment,credit_limit),page_size:100)")
    assert got["count"] == counts["account"] and {r["segment"] for r in got["result"]} == {"smb"}
    notes = _rows(first, "SELECT count(*) FROM account WHERE notes IS NOT NULL")[0][0]
    _edit(account, "  notes:\n", "  remarks:\n    renamed_from: notes\n")
    _edit(account, "annual_revenue, notes]", "annual_revenue, remarks]")
    got = step({("rename", "account", "remarks")}, "/api/v1/account/?q=(columns:!(name,remarks),page_size:100)")
    assert sum(1 for r in got["result"] if r["remarks"]) == notes
    (meta / "entities" / "product.yaml").rename(meta / "entities" / "offering.yaml")
    _edit(meta / "entities" / "offering.yaml", "\nfields:\n", "\nrenamed_from: product\nfields:\n")
    _edit(meta / "entities" / "opportunity.yaml", "to: product", "to: offering")
    _edit(meta / "crm.yaml", "opportunity, product]", "opportunity, offering]")
    _edit(meta / "roles.yaml", "    product: {", "    offering: {")
    got = step({("rename_table", "offering", None)}, "/api/v1/offering/?q=(page_size:100)")
    assert got["count"] == counts["product"]
    assert _rows(first, "SELECT count(*) FROM opportunity__products")[0][0] == counts["opportunity__products"]
    _edit(account, "  credit_limit: {type: money}\n", "  offerings: {type: links, to: offering}\n")
    got = step({("add_table", "account__offerings", None), ("keep_column", "account", "credit_limit")},
               "/api/v1/account/?q=(columns:!(name,offerings))")
    assert got["count"] == counts["account"]
    _edit(account, "  offerings: {type: links, to: offering}\n", "")
    got = step({("keep_table", "account__offerings", None)}, "/api/v1/account/?q=(columns:!(name,segment))")
    assert got["count"] == counts["account"]
    assert _rows(first, "SELECT count(*) FROM account")[0][0] == counts["account"]


def test_core_revisions_build_what_core_py_declares(make_app):
    """Every database is built by the core revisions: they must match app/models/core.py."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    app = make_app()
    with app.app_context():
        state = app.extensions["crm"]
        with state.db.engine.connect() as conn:
            def core_only(obj, name, type_, reflected, compare_to):
                table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", "crm_")
                return str(table).startswith("crm_")
            context = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": core_only})
            assert compare_metadata(context, state.models.metadata) == []
            heads = {r[0] for r in conn.execute(sa.text("SELECT version_num FROM alembic_version"))}
    assert "core_0009" in heads and len(heads) == 2  # the core branch and the metadata branch
