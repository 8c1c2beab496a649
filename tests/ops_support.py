"""Helpers for the backup, restore and upgrade tests: a second empty database, the CLI with
a given environment, archives rewritten to simulate damage or another release."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from click.testing import CliRunner, Result
from sqlalchemy.engine import make_url

from app.cli import crm
from tests.conftest import DB_ENV, reset_database


def second_database(tmp_path: Path, name: str = "restore") -> str:
    """An empty database beside the test one: a new SQLite file, or <test db>_<name> on PostgreSQL."""
    import os

    url = os.environ.get(DB_ENV)
    if not url:
        return f"sqlite:///{tmp_path / f'{name}.db'}"
    target = make_url(url).set(database=f"{make_url(url).database}_{name}")
    admin = sa.create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": target.database}).first():
            conn.execute(sa.text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()
    rendered = target.render_as_string(hide_password=False)
    reset_database(rendered)
    return rendered


def run_crm(args: list[str], **env: str) -> Result:
    """`flask crm ARGS` with these settings in the environment, as an operator would run it."""
    return CliRunner().invoke(crm, args, env=env, catch_exceptions=False)


def env_for(app_or_settings: Any, **changes: str) -> dict[str, str]:
    config = getattr(app_or_settings, "config", app_or_settings)
    keys = ("SQLALCHEMY_DATABASE_URI", "CRM_METADATA_DIR", "CRM_MIGRATIONS_DIR", "CRM_FILES_DIR", "CRM_PLUGINS_DIR")
    return {**{k: str(config[k]) for k in keys if config.get(k)}, **changes}


def rewrite_archive(source: Path, target: Path, manifest_change: dict[str, Any] | None = None,
                    member_change: tuple[str, bytes] | None = None) -> Path:
    """A copy of an archive with its manifest or one member changed (the checksums left as they were)."""
    with tarfile.open(source, "r:gz") as old, tarfile.open(target, "w:gz") as new:
        for info in old.getmembers():
            data = old.extractfile(info).read()  # type: ignore[union-attr]
            if info.name == "manifest.json" and manifest_change:
                data = json.dumps({**json.loads(data), **manifest_change}).encode()
            if member_change and info.name == member_change[0]:
                data = member_change[1]
            info.size = len(data)
            new.addfile(info, io.BytesIO(data))
    return target


def table_counts(url: str) -> dict[str, int]:
    from app.ops.restore import restored_counts

    return restored_counts(url)
