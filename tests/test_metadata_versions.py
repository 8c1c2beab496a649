"""Metadata versions in the database (issue 16, item 1): bootstrap, apply_files and its
refusals (problems, conflicts, data loss), write-back, and what start-up builds from."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.metaversions import store
from app.metaversions.apply import apply_files
from app.metaversions.files import read_tree
from app.schema.startup import SchemaPending
from tests.conftest import login, write_tree
from tests.test_metadata_docs import documented_lines

DEAL = """\
label: {en: Deal, zh: 交易}
# the deal's fields (this comment stays)
fields:
  name: {type: string, required: true, label: {en: Name, zh: 名称}}
  note: {type: string, label: {en: Note, zh: 备注}}
list: {columns: [name, note]}
"""
WITH_BUDGET = DEAL.replace("  note:", "  budget: {type: money, label: {en: Budget, zh: 预算}}\n  note:")


@pytest.fixture
def meta(tmp_path):
    return write_tree(tmp_path / "meta", {"deal": DEAL})


def _engine(app):
    with app.app_context():
        return app.extensions["crm"].db.engine


def _columns(app, table="deal"):
    return {c["name"] for c in sa.inspect(_engine(app)).get_columns(table)}


def _with(files, **changes):
    out = dict(files)
    for name, text in changes.items():
        out[name.replace("__", "/") + ".yaml"] = text
    return out


def test_first_start_records_the_files_as_the_first_version(make_app, meta):
    app = make_app(meta)
    version = store.current(_engine(app))
    assert version is not None and version.source == "bootstrap" and version.parent_id is None
    assert version.files == read_tree(meta) and "entities/deal.yaml" in version.files
    assert version.revisions and all("def upgrade()" in text for text in version.revisions.values())
    assert app.extensions["crm_version"] == version.id
    assert [v.id for v in store.history(_engine(app))] == [version.id]
    make_app(meta)  # same files again: no new version
    assert store.current(_engine(app)).id == version.id


def test_dry_run_plans_and_changes_nothing(make_app, meta):
    app = make_app(meta)
    base = store.current(_engine(app))
    result = apply_files(app, _with(base.files, entities__deal=WITH_BUDGET), base_id=base.id, author="admin",
                         message="budget", dry_run=True)
    assert result.ok and result.version_id is None
    assert [(c["kind"], c["table"], c["column"]) for c in result.changes] == [("add_column", "deal", "budget")]
    assert "budget" not in _columns(app) and store.current(_engine(app)).id == base.id
    assert read_tree(meta) == base.files


def test_apply_records_a_version_changes_the_schema_and_writes_the_files_back(make_app, meta):
    app = make_app(meta)
    client = login(app.test_client())
    assert client.post("/api/v1/deal/", json={"name": "华为"}).status_code == 201
    base = store.current(_engine(app))
    result = apply_files(app, _with(base.files, entities__deal=WITH_BUDGET), base_id=base.id, author="admin",
                         message="预算 field")
    assert result.ok and result.version_id == base.id + 1 and result.write_back_skipped is None
    version = store.current(_engine(app))
    assert (version.source, version.author, version.message, version.parent_id) == ("web", "admin", "预算 field",
                                                                                       base.id)
    assert list(version.revisions) == [f"{name}" for name in version.revisions]
    assert result.revision and result.revision in next(iter(version.revisions.values()))
    assert version.schema_revision == result.revision
    assert "budget" in _columns(app)
    assert (meta / "entities" / "deal.yaml").read_text(encoding="utf-8") == WITH_BUDGET  # comment kept
    with _engine(app).connect() as conn:
        assert conn.execute(sa.text("SELECT name FROM deal")).scalars().all() == ["华为"]


def test_bad_yaml_returns_located_problems_and_applies_nothing(make_app, meta):
    app = make_app(meta)
    base = store.current(_engine(app))
    broken = DEAL.replace("  note: {type: string", "  note: {type: strin")
    result = apply_files(app, _with(base.files, entities__deal=broken, crm="name: [unclosed\n"),
                         base_id=base.id, author="admin", message="broken")
    where = {(p.path.as_posix(), p.code) for p in result.problems}
    assert ("crm.yaml", "CRM-E001") in where, result.problems
    assert not result.ok and result.version_id is None and not result.changes
    result = apply_files(app, _with(base.files, entities__deal=broken), base_id=base.id, author="admin", message="x")
    problem = result.problems[0]
    assert (problem.path.as_posix(), problem.line, problem.code) == ("entities/deal.yaml", 5, "CRM-E008")
    assert problem.format().startswith("entities/deal.yaml:5: CRM-E008")
    assert result.as_json()["problems"][0]["path"] == "entities/deal.yaml"
    bad_name = apply_files(app, {**base.files, "../evil.yaml": "x: 1\n", "notes.txt": "hi"}, base_id=base.id,
                           author="a", message="m")
    assert [p.format() for p in bad_name.problems] == documented_lines("CRM-E080")
    assert store.current(_engine(app)).id == base.id and read_tree(meta) == base.files


def test_removing_a_field_with_data_is_refused_unless_confirmed(make_app, meta):
    app = make_app(meta)
    client = login(app.test_client())
    for name, note in (("a", "备注一"), ("b", "two"), ("c", None)):
        assert client.post("/api/v1/deal/", json={"name": name, "note": note}).status_code == 201
    base = store.current(_engine(app))
    slim = DEAL.replace("  note: {type: string, label: {en: Note, zh: 备注}}\n", "").replace(", note]", "]")
    files = _with(base.files, entities__deal=slim)
    result = apply_files(app, files, base_id=base.id, author="admin", message="drop note")
    assert result.refused == ["removing deal.note drops its data: 2 values would be lost "
                              "(confirm to drop it, allow_destructive)"]
    assert result.version_id is None and "note" in _columns(app) and store.current(_engine(app)).id == base.id
    done = apply_files(app, files, base_id=base.id, author="admin", message="drop note", allow_destructive=True)
    assert done.ok and done.version_id and "note" not in _columns(app)


def test_two_saves_on_the_same_base_the_second_gets_the_difference(make_app, meta):
    app = make_app(meta)
    base = store.current(_engine(app))
    first = apply_files(app, _with(base.files, entities__deal=WITH_BUDGET), base_id=base.id, author="alice",
                        message="budget")
    assert first.ok
    relabel = DEAL.replace("zh: 交易", "zh: 商机")
    second = apply_files(app, _with(base.files, entities__deal=relabel), base_id=base.id, author="bob",
                         message="relabel")
    assert second.version_id is None and second.conflict is not None
    diff = second.conflict["entities/deal.yaml"]
    assert "+  budget: {type: money" in diff and diff.startswith(f"--- version-{base.id}/entities/deal.yaml")
    assert store.current(_engine(app)).id == first.version_id
    assert apply_files(app, base.files, base_id=base.id, author="bob", message="plan", dry_run=True).conflict


def test_files_are_not_written_over_an_edit_not_applied_yet(make_app, meta):
    app = make_app(meta)
    base = store.current(_engine(app))
    mine = DEAL.replace("zh: 交易", "zh: 我的编辑")
    (meta / "entities" / "deal.yaml").write_text(mine, encoding="utf-8")
    result = apply_files(app, _with(base.files, entities__deal=WITH_BUDGET), base_id=base.id, author="admin",
                         message="budget")
    assert result.ok and result.version_id and "entities/deal.yaml" in (result.write_back_skipped or "")
    assert (meta / "entities" / "deal.yaml").read_text(encoding="utf-8") == mine


def test_start_up_serves_the_version_in_force_over_files_it_has_moved_past(make_app, meta, tmp_path):
    app = make_app(meta)
    base = store.current(_engine(app))
    elsewhere = write_tree(tmp_path / "checkout", {"deal": DEAL})  # another host's files: the old version
    assert apply_files(app, _with(base.files, entities__deal=WITH_BUDGET), base_id=base.id, author="admin",
                       message="budget").ok
    follower = make_app(elsewhere)
    state = follower.extensions["crm"]
    assert "budget" in state.spec.entity_map["deal"].field_map
    assert follower.extensions["crm_version"] == store.current(_engine(app)).id
    assert read_tree(elsewhere)["entities/deal.yaml"] == DEAL  # its files untouched
    assert login(follower.test_client()).post("/api/v1/deal/", json={"name": "x", "budget": "12.50"}).status_code == 201


def test_files_edited_on_disk_are_applied_at_start_up_in_auto_mode(make_app, meta):
    make_app(meta)
    (meta / "entities" / "deal.yaml").write_text(WITH_BUDGET, encoding="utf-8")
    app = make_app(meta)
    version = store.current(_engine(app))
    assert (version.source, version.author, version.id) == ("files", "files", 2)
    assert version.files["entities/deal.yaml"] == WITH_BUDGET and version.revisions
    assert "budget" in _columns(app) and app.extensions["crm_version"] == version.id


def test_start_up_refuses_files_that_would_silently_undo_web_edits(make_app, meta):
    app = make_app(meta)
    base = store.current(_engine(app))
    (meta / "entities" / "deal.yaml").write_text(DEAL.replace("zh: 交易", "zh: 我的编辑"), encoding="utf-8")
    assert apply_files(app, _with(base.files, entities__deal=WITH_BUDGET), base_id=base.id, author="admin",
                       message="budget").write_back_skipped
    with pytest.raises(SchemaPending, match=r"(?s)holds edits they do not.*\+  budget: \{type: money"):
        make_app(meta)
    (meta / "entities" / "deal.yaml").write_text(WITH_BUDGET.replace("zh: 交易", "zh: 我的编辑"), encoding="utf-8")
    again = make_app(meta)  # the files now hold the web's edit, and more: theirs is applied
    assert store.current(_engine(again)).files["entities/deal.yaml"].count("我的编辑") == 1


def test_a_new_entity_gets_its_permissions_with_its_version(make_app, meta):
    from app.metaversions.apply import needs_permission_sync
    from app.metaversions.build import build_app

    app = make_app(meta)
    base = store.current(_engine(app))
    gadget = "label: {en: Gadget, zh: 小工具}\nfields:\n  title: {type: string, label: {en: Title, zh: 标题}}\n"
    files = {**base.files, "entities/gadget.yaml": gadget}
    assert needs_permission_sync(base.files, files) and not needs_permission_sync(
        base.files, _with(base.files, entities__deal=WITH_BUDGET))
    assert apply_files(app, files, base_id=base.id, author="admin", message="gadget").ok
    served = build_app(app)  # what the live switch builds: no `crm sync` run by anyone
    try:
        client = login(served.test_client())
        assert client.post("/api/v1/gadget/", json={"title": "扫码枪"}).status_code == 201
        assert client.get("/api/v1/gadget/").json["count"] == 1
    finally:
        from app.metaversions.apply import dispose
        dispose(served)
