"""Files and versions in step (issue 16, items 1, 3 and 4, backend): `crm apply` refuses to
undo web edits silently, `crm export-metadata` pulls them into the files, `crm init` records
the first version, rollback_to goes back with the data checks, and revision scripts follow
the versions to every host."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from flask.cli import ScriptInfo

from app import create_app
from app.cli import crm
from app.metaversions import store
from app.metaversions.apply import apply_files
from app.metaversions.files import read_tree
from app.metaversions.rollback import rollback_to
from tests.conftest import login, write_tree
from tests.test_metadata_versions import DEAL, WITH_BUDGET

RELABELED = DEAL.replace("zh: 交易", "zh: 生意")


@pytest.fixture
def meta(tmp_path):
    return write_tree(tmp_path / "meta", {"deal": DEAL})


def _engine(app):
    with app.app_context():
        return app.extensions["crm"].db.engine


def _web_edit(app, text, **kw):
    base = store.current(_engine(app))
    result = apply_files(app, {**base.files, "entities/deal.yaml": text}, base_id=base.id, author="admin",
                         message="web edit", **kw)
    assert result.ok, result
    return result


def _columns(app):
    return {c["name"] for c in sa.inspect(_engine(app)).get_columns("deal")}


def test_apply_refuses_files_without_the_web_edits_then_export_pulls_them_in(make_app, meta):
    app = make_app(meta)
    web = _web_edit(app, WITH_BUDGET, write_back=False)  # the files live elsewhere (a deployment)
    (meta / "entities" / "deal.yaml").write_text(RELABELED, encoding="utf-8")  # the consultant's edit
    runner = app.test_cli_runner()
    refused = runner.invoke(crm, ["apply"])
    assert refused.exit_code == 1 and "refused, nothing changed" in refused.output
    assert "+  budget: {type: money" in refused.output and "crm export-metadata" in refused.output
    assert store.current(_engine(app)).id == web.version_id
    exported = runner.invoke(crm, ["export-metadata"])
    assert exported.exit_code == 0 and "entities/deal.yaml" in exported.output
    assert read_tree(meta) == store.current(_engine(app)).files
    (meta / "entities" / "deal.yaml").write_text(WITH_BUDGET.replace("zh: 交易", "zh: 生意"), encoding="utf-8")
    applied = runner.invoke(crm, ["apply"])
    assert applied.exit_code == 0, applied.output
    version = store.current(_engine(app))
    assert f"metadata version {version.id} in force" in applied.output and version.source == "files"
    assert "budget" in version.files["entities/deal.yaml"] and "生意" in version.files["entities/deal.yaml"]


def test_apply_force_replaces_the_web_edits_and_export_writes_elsewhere(make_app, meta, tmp_path):
    app = make_app(meta)
    _web_edit(app, WITH_BUDGET, write_back=False)
    runner = app.test_cli_runner()
    out = tmp_path / "exported"
    assert runner.invoke(crm, ["export-metadata", str(out)]).exit_code == 0
    assert read_tree(out)["entities/deal.yaml"] == WITH_BUDGET and read_tree(meta)["entities/deal.yaml"] == DEAL
    (meta / "entities" / "deal.yaml").write_text(RELABELED, encoding="utf-8")
    forced = runner.invoke(crm, ["apply", "--force"])
    assert forced.exit_code == 0, forced.output
    version = store.current(_engine(app))
    assert version.files["entities/deal.yaml"] == RELABELED and version.source == "files"
    assert "budget" in _columns(app)  # a removed field keeps its column from the files: nothing is dropped
    assert runner.invoke(crm, ["apply"]).output.strip().endswith("nothing to apply")


def test_init_records_the_first_version(database_url, meta, tmp_path):
    settings = {"SQLALCHEMY_DATABASE_URI": database_url, "CRM_METADATA_DIR": str(meta),
                "CRM_MIGRATIONS_DIR": str(tmp_path / "migrations"), "CRM_PLUGINS_DIR": str(tmp_path / "none"),
                "SECRET_KEY": "test-secret-only-for-the-test-suite-0123456789"}
    info = ScriptInfo(create_app=lambda: create_app(settings))
    result = CliRunner().invoke(crm, ["init", "--admin-password", "Admin-pass-123"], obj=info)
    assert result.exit_code == 0 and "metadata version 1 recorded from the files" in result.output, result.output
    engine = sa.create_engine(database_url)
    version = store.current(engine)
    assert version.source == "bootstrap" and version.files == read_tree(meta) and version.revisions
    engine.dispose()
    again = CliRunner().invoke(crm, ["init"], obj=info)
    assert again.exit_code == 0 and "recorded" not in again.output


def test_rollback_to_checks_the_data_then_goes_back_and_records_a_version(make_app, meta):
    app = make_app(meta)
    first = store.current(_engine(app))
    client = login(app.test_client())
    assert client.post("/api/v1/deal/", json={"name": "a"}).status_code == 201
    budget = _web_edit(app, WITH_BUDGET)
    assert read_tree(meta)["entities/deal.yaml"] == WITH_BUDGET  # written back
    app = make_app(meta)
    client = login(app.test_client())
    assert client.put("/api/v1/deal/1", json={"budget": "12.00"}).status_code == 200
    plan = rollback_to(app, first.id, author="admin", dry_run=True)
    assert plan.refused and "drops column deal.budget with 1 values" in plan.refused[0]
    assert "budget" in _columns(app) and store.current(_engine(app)).id == budget.version_id
    plan = rollback_to(app, first.id, author="admin", dry_run=True, allow_destructive=True)
    assert plan.ok and plan.version_id is None and plan.changes[0]["kind"] == "undo_revision"
    assert "budget" in _columns(app)
    done = rollback_to(app, first.id, author="admin", allow_destructive=True)
    assert done.ok and done.version_id == budget.version_id + 1
    version = store.current(_engine(app))
    assert (version.source, version.author, version.files) == ("rollback", "admin", first.files)
    assert "budget" not in _columns(app) and read_tree(meta) == first.files
    assert rollback_to(app, 999, author="admin").refused == ["there is no metadata version 999"]


def test_rollback_to_a_version_whose_revision_was_undone_goes_forward(make_app, meta):
    app = make_app(meta)
    first = store.current(_engine(app))
    budget = _web_edit(app, WITH_BUDGET)
    assert rollback_to(app, first.id, author="admin").ok
    assert "budget" not in _columns(app)
    again = rollback_to(app, budget.version_id, author="admin")
    assert again.ok and again.revision and "budget" in _columns(app)
    assert store.current(_engine(app)).files == store.get(_engine(app), budget.version_id).files


def test_crm_rollback_records_the_version_it_went_back_to(make_app, meta):
    app = make_app(meta)
    first = store.current(_engine(app))
    _web_edit(app, WITH_BUDGET)
    result = app.test_cli_runner().invoke(crm, ["rollback"])
    assert result.exit_code == 0 and "in force, with the files of that revision" in result.output, result.output
    version = store.current(_engine(app))
    assert version.source == "rollback" and version.files == first.files


def test_other_hosts_get_the_revision_scripts_from_the_versions(make_app, meta, tmp_path):
    app = make_app(meta)
    budget = _web_edit(app, WITH_BUDGET, write_back=False)
    host_b = tmp_path / "host_b" / "versions"
    follower = make_app(meta, CRM_MIGRATIONS_DIR=str(host_b))  # its folder has no revision at all
    assert follower.extensions["crm_version"] == budget.version_id
    names = {p.name for p in host_b.glob("*.py")}
    assert names == set(store.all_revisions(_engine(app)))  # the bootstrap's and the budget's
    assert rollback_to(app, store.get(_engine(app), budget.version_id).parent_id, author="admin",
                       allow_destructive=True).ok
    make_app(meta, CRM_MIGRATIONS_DIR=str(host_b))  # host B starts after the rollback on host A
    assert set(store.get(_engine(app), budget.version_id).revisions) <= \
        {p.name for p in (host_b.parent / "rolled_back").glob("*.py")}
    assert "budget" not in _columns(app)  # not run again by host B's start-up
