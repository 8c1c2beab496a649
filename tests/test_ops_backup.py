"""`crm backup` → `crm restore`: round trip on the test database (SQLite or PostgreSQL) with
row counts and checksums equal, consistency while the app writes, and every refusal."""

from __future__ import annotations

import json
import shutil
import tarfile
import threading
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from app import create_app
from app.demo.loader import load_demo
from tests.conftest import STARTER, dispose_app
from tests.ops_support import env_for, rewrite_archive, run_crm, second_database, table_counts


@pytest.fixture
def filled(make_app: Any) -> Any:
    app = make_app()
    with app.app_context():
        state = app.extensions["crm"]
        load_demo(state.db.session, state.models, size=6, seed=3, sizes={"campaign": 2, "product": 2})
    return app


def backup(app: Any, path: Path) -> dict[str, Any]:
    result = run_crm(["backup", str(path)], **env_for(app))
    assert result.exit_code == 0, result.output
    assert f"backup written: {path}" in result.output
    with tarfile.open(path) as archive:
        return dict(json.load(archive.extractfile("manifest.json")))  # type: ignore[arg-type]


def restore_env(app: Any, url: str, tmp_path: Path) -> dict[str, str]:
    return env_for(app, SQLALCHEMY_DATABASE_URI=url, CRM_METADATA_DIR=str(tmp_path / "restored-metadata"),
                   CRM_MIGRATIONS_DIR=str(tmp_path / "restored-versions"))


def test_round_trip_counts_checksums_and_a_working_app(filled: Any, database_url: str, tmp_path: Path) -> None:
    archive = tmp_path / "crm.tar.gz"
    manifest = backup(filled, archive)
    source_counts = table_counts(database_url)
    assert manifest["row_counts"] == source_counts and source_counts["opportunity"] > 0
    assert manifest["database"] == sa.engine.make_url(database_url).get_backend_name()
    assert "metadata/crm.yaml" in manifest["files"] and any(n.startswith("migrations/versions/")
                                                               for n in manifest["files"])
    with filled.app_context():
        assert manifest["metadata_digest"] == filled.extensions["crm"].spec.digest

    target = second_database(tmp_path)
    env = restore_env(filled, target, tmp_path)
    result = run_crm(["restore", str(archive)], **env)
    assert result.exit_code == 0, result.output
    assert "row counts match the manifest" in result.output
    assert table_counts(target) == source_counts
    assert (tmp_path / "restored-metadata" / "crm.yaml").read_bytes() == (STARTER / "crm.yaml").read_bytes()

    # The restored database serves as it is: no pending change (check mode starts), same records.
    restored = create_app({**env, "CRM_SCHEMA_MODE": "check", "SECRET_KEY": "x" * 40, "TESTING": True,
                           "CRM_OUTBOX_DISPATCH": "off"})
    try:
        names = []
        for one in (restored, filled):
            with one.app_context():
                names.append(sorted(one.extensions["crm"].db.session.scalars(sa.text("SELECT name FROM opportunity"))))
        assert names[0] == names[1]
        assert restored.test_client().get("/health").status_code == 200
    finally:
        dispose_app(restored)


def test_backup_is_consistent_while_the_app_writes(filled: Any, database_url: str, tmp_path: Path) -> None:
    """A writer inserts throughout the backup; the restored counts still equal the manifest's
    (restore checks that), so the dump and the counts are one snapshot."""
    stop = threading.Event()
    engine = sa.create_engine(database_url)

    def write() -> None:
        number = 0
        while not stop.is_set():
            number += 1
            with engine.begin() as conn:
                conn.execute(sa.text("INSERT INTO crm_counter (entity, field, last) VALUES (:e, 'n', 0)"),
                             {"e": f"writer-{number}"})

    writer = threading.Thread(target=write)
    writer.start()
    try:
        manifest = backup(filled, tmp_path / "live.tar.gz")
    finally:
        stop.set()
        writer.join()
        engine.dispose()
    result = run_crm(["restore", str(tmp_path / "live.tar.gz")],
                     **restore_env(filled, second_database(tmp_path), tmp_path))
    assert result.exit_code == 0, result.output
    assert 0 < manifest["row_counts"]["crm_counter"] < table_counts(database_url)["crm_counter"]  # writes went on


def test_restore_refuses_a_non_empty_database(filled: Any, database_url: str, tmp_path: Path) -> None:
    archive = tmp_path / "crm.tar.gz"
    backup(filled, archive)
    before = table_counts(database_url)
    result = restore_into(filled, archive, database_url, tmp_path)
    assert result.exit_code == 1
    assert "restore refused: the target database is not empty" in result.output
    assert table_counts(database_url) == before


def restore_into(app: Any, archive: Path, url: str, tmp_path: Path) -> Any:
    return run_crm(["restore", str(archive)], **restore_env(app, url, tmp_path))


def test_restore_refuses_damaged_and_foreign_archives(filled: Any, tmp_path: Path) -> None:
    archive = tmp_path / "crm.tar.gz"
    manifest = backup(filled, archive)
    target = second_database(tmp_path)

    truncated = tmp_path / "truncated.tar.gz"
    truncated.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    result = restore_into(filled, truncated, target, tmp_path)
    assert result.exit_code == 1 and "is corrupt or truncated" in result.output

    tampered = rewrite_archive(archive, tmp_path / "tampered.tar.gz", member_change=("metadata/crm.yaml", b"name: X\n"))
    result = restore_into(filled, tampered, target, tmp_path)
    assert result.exit_code == 1 and "checksum mismatch for metadata/crm.yaml" in result.output

    other = rewrite_archive(archive, tmp_path / "other.tar.gz", {"product_version": "9.9.0", "core_head": "core_0099"})
    result = restore_into(filled, other, target, tmp_path)
    assert result.exit_code == 1
    assert (f"the archive is from MetaCRM 9.9.0 (core revision core_0099); this is MetaCRM "
            f"{manifest['product_version']} (core revision {manifest['core_head']})") in result.output

    not_ours = tmp_path / "not-ours.tar.gz"
    with tarfile.open(not_ours, "w:gz") as tar:
        tar.add(STARTER / "crm.yaml", arcname="crm.yaml")
    result = restore_into(filled, not_ours, target, tmp_path)
    assert result.exit_code == 1 and "has no readable manifest.json: not a MetaCRM backup" in result.output
    assert table_counts(target) == {}  # every refusal left the target empty


def test_restore_refuses_to_overwrite_differing_metadata_unless_asked(filled: Any, tmp_path: Path) -> None:
    archive = tmp_path / "crm.tar.gz"
    backup(filled, archive)
    mine = tmp_path / "restored-metadata"
    shutil.copytree(STARTER, mine)
    (mine / "crm.yaml").write_text((STARTER / "crm.yaml").read_text(encoding="utf-8") + "\n# local edit\n",
                                   encoding="utf-8")
    target = second_database(tmp_path)
    result = restore_into(filled, archive, target, tmp_path)
    assert result.exit_code == 1 and f"{mine / 'crm.yaml'}" in result.output and "--replace-files" in result.output
    assert table_counts(target) == {}
    result = run_crm(["restore", str(archive), "--replace-files"], **restore_env(filled, target, tmp_path))
    assert result.exit_code == 0, result.output
    assert (mine / "crm.yaml").read_bytes() == (STARTER / "crm.yaml").read_bytes()
    kept = [p for p in tmp_path.iterdir() if p.name.startswith("restored-metadata.before-restore-")]
    assert len(kept) == 1 and "# local edit" in (kept[0] / "crm.yaml").read_text(encoding="utf-8")
