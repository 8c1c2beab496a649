"""`crm upgrade` from the previous release's database (tests/fixtures/release_0_1_0, built at
core revision core_0006 with that release's code): pre-flight, refusals, the real thing."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from app import create_app
from app.ops.version import core_head
from app.schema.apply import script_directory
from tests.conftest import STARTER, dispose_app
from tests.ops_support import run_crm, table_counts

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "release_0_1_0"
FIXTURE_CORE = "core_0006"


@pytest.fixture
def previous_release(database_url: str, tmp_path: Path) -> dict[str, str]:
    """The 0.1.0 database (a copy) with its revision files, and a copy of today's starter metadata."""
    kind = make_url(database_url).get_backend_name()
    if kind == "sqlite":
        shutil.copy(FIXTURE / "crm.sqlite", make_url(database_url).database)  # type: ignore[arg-type]
    else:
        u = make_url(database_url)
        subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", "-h", u.host or "127.0.0.1", "-U",
                        u.username or "postgres", "-f", str(FIXTURE / "postgresql.sql"), u.database or ""],
                       check=True, capture_output=True, env={**os.environ, "PGPASSWORD": str(u.password or "")})
    versions = shutil.copytree(FIXTURE / f"versions-{kind}", tmp_path / "versions")
    metadata = shutil.copytree(STARTER, tmp_path / "metadata")
    return {"SQLALCHEMY_DATABASE_URI": database_url, "CRM_MIGRATIONS_DIR": str(versions),
            "CRM_METADATA_DIR": str(metadata), "CRM_PLUGINS_DIR": str(tmp_path / "no-plugins"),
            "CRM_FILES_DIR": str(tmp_path / "files")}


def edit(env: dict[str, str], name: str, old: str, new: str) -> None:
    path = Path(env["CRM_METADATA_DIR"]) / "entities" / name
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def heads(url: str) -> list[str]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        found = sorted(conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars())
    engine.dispose()
    return found


def core_revisions_after(revision: str, env: dict[str, str]) -> list[str]:
    """The core revisions this code has beyond `revision` (none until a new one lands)."""
    script = script_directory(Path(env["CRM_MIGRATIONS_DIR"]))
    return [r.revision for r in script.iterate_revisions(core_head(), revision)][::-1]


def test_upgrade_from_the_previous_release(previous_release: dict[str, str], tmp_path: Path) -> None:
    env = previous_release
    before = table_counts(env["SQLALCHEMY_DATABASE_URI"])
    assert FIXTURE_CORE in heads(env["SQLALCHEMY_DATABASE_URI"])
    edit(env, "account.yaml", "  notes:\n", "  linkedin:\n    type: string\n    max_length: 200\n  notes:\n")

    check = run_crm(["upgrade", "--check"], **env)
    assert check.exit_code == 2, check.output  # work pending, nothing done
    expected_core = core_revisions_after(FIXTURE_CORE, env)
    assert [ln.split(": ")[1] for ln in check.output.splitlines() if ln.startswith("core revision to run")] \
        == expected_core
    assert "metadata change: " in check.output and "linkedin" in check.output
    assert FIXTURE_CORE in heads(env["SQLALCHEMY_DATABASE_URI"])  # the rehearsal was rolled back
    assert "linkedin" not in {c["name"] for c in sa.inspect(sa.create_engine(env["SQLALCHEMY_DATABASE_URI"]))
                              .get_columns("account")}

    done = run_crm(["upgrade", "--backup", str(tmp_path / "before-upgrade.tar.gz")], **env)
    assert done.exit_code == 0, done.output
    assert "pre-flight: all checks passed" in done.output and "applied metadata revision" in done.output
    assert (tmp_path / "before-upgrade.tar.gz").is_file()
    assert core_head() in heads(env["SQLALCHEMY_DATABASE_URI"])
    after = table_counts(env["SQLALCHEMY_DATABASE_URI"])
    for table, count in before.items():  # every row of the old release is still there
        if table not in ("alembic_version", "crm_schema_version"):
            assert after[table] == count, table

    app = create_app({**env, "CRM_SCHEMA_MODE": "check", "SECRET_KEY": "x" * 40, "TESTING": True,
                      "CRM_OUTBOX_DISPATCH": "off"})  # production mode starts: nothing pending
    try:
        assert app.test_client().get("/health").status_code == 200
    finally:
        dispose_app(app)
    again = run_crm(["upgrade"], **env)
    assert again.exit_code == 0 and "nothing to upgrade: the database is current" in again.output


def test_upgrade_refuses_a_change_the_data_cannot_take_and_changes_nothing(previous_release: dict[str, str]) -> None:
    env = previous_release
    edit(env, "account.yaml", "  website:\n    type: url\n", "  website:\n    type: integer\n")
    edit(env, "account.yaml", "search: [name, phone, email, website]", "search: [name, phone, email]")
    url = env["SQLALCHEMY_DATABASE_URI"]
    before_heads, before_counts = heads(url), table_counts(url)
    result = run_crm(["upgrade"], **env)
    assert result.exit_code == 1
    assert "check failed: the data cannot take this change: alter_type   account.website" in result.output
    assert "values do not convert to integer" in result.output
    assert "upgrade refused, nothing changed" in result.output
    assert heads(url) == before_heads and table_counts(url) == before_counts
    assert not list(Path(env["CRM_MIGRATIONS_DIR"]).glob("*website*"))
    assert len(list(Path(env["CRM_MIGRATIONS_DIR"]).glob("*.py"))) == 1  # no revision file written


def test_upgrade_refuses_a_database_from_a_newer_release(previous_release: dict[str, str]) -> None:
    env = previous_release
    engine = sa.create_engine(env["SQLALCHEMY_DATABASE_URI"])
    with engine.begin() as conn:
        conn.execute(sa.text(f"UPDATE alembic_version SET version_num = 'core_0099' WHERE version_num = '{FIXTURE_CORE}'"))
    engine.dispose()
    result = run_crm(["upgrade"], **env)
    assert result.exit_code == 1
    assert "check failed: the database is at a revision this release does not have" in result.output
    assert "core_0099" in result.output


def test_upgrade_refuses_broken_metadata(previous_release: dict[str, str]) -> None:
    env = previous_release
    edit(env, "account.yaml", "  website:\n    type: url\n", "  website:\n    type: urll\n")
    result = run_crm(["upgrade"], **env)
    assert result.exit_code == 1
    assert "check failed: the metadata has problems" in result.output and "account.yaml" in result.output

