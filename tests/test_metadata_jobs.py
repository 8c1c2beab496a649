"""Background work follows the version in force (issue 16, item 1): a job thread of an app
built on an older version, and an rq worker process that started before the new version,
both run the job on the new version."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.jobs import enqueue
from app.metaversions import store
from app.metaversions.apply import apply_files
from tests.conftest import build_test_app, dispose_app, write_tree
from tests.jobs_support import start_worker, test_redis_url, wait_job, worker_config
from tests.test_metadata_live import RENAMED
from tests.test_metadata_versions import DEAL

PLUGIN = '''
"""A job that says which fields of deal the app running it knows."""
from app.jobs import job_handler


@job_handler("test_deal_fields")
def deal_fields(ctx):
    return {"fields": sorted(f.name for f in ctx.app.extensions["crm"].spec.entity_map["deal"].declared_fields)}
'''


@pytest.fixture
def deal_app(database_url: str, tmp_path: Path) -> Any:
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "deal_fields.py").write_text(PLUGIN, encoding="utf-8")
    meta = write_tree(tmp_path / "meta", {"deal": DEAL})
    apps: list[Any] = []

    def factory(**overrides: Any) -> Any:
        app = build_test_app(database_url, meta, plugins, **overrides)
        apps.append(app)
        return app
    yield factory
    for app in apps:
        dispose_app(app)


def _job(app: Any) -> int:
    with app.app_context():
        return enqueue("test_deal_fields", {}, user_id=None)


def _rename(app: Any) -> int:
    with app.app_context():
        base = store.current(app.extensions["crm"].db.engine)
    result = apply_files(app, {**base.files, "entities/deal.yaml": RENAMED}, base_id=base.id, author="admin",
                         message="rename", write_back=False)
    assert result.ok, result
    return result.version_id


def test_a_job_thread_runs_on_the_version_in_force(deal_app):
    old = deal_app()
    assert wait_job(old, _job(old)).result["fields"] == ["name", "note"]
    _rename(deal_app())  # another process
    row = wait_job(old, _job(old))  # queued by the app of the old version
    assert row.state == "done", row.error
    assert row.result["fields"] == ["budget", "name", "remark"]


def test_an_rq_worker_started_before_a_new_version_runs_jobs_on_it(deal_app, tmp_path):
    app = deal_app(REDIS_URL=test_redis_url())
    worker = start_worker(worker_config(tmp_path, app))
    try:
        first = wait_job(app, _job(app))
        assert first.state == "done" and first.result["fields"] == ["name", "note"], first.error
        _rename(deal_app())
        second = wait_job(app, _job(app))
        assert second.state == "done" and second.result["fields"] == ["budget", "name", "remark"], second.error
    finally:
        worker.terminate()
        worker.wait(timeout=60)
