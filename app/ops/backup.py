"""`flask crm backup`: one archive holding everything needed to rebuild the CRM elsewhere.

    manifest.json             product version, core revision head, metadata digest and revision,
                              database kind, row counts per table, SHA-256 of every other member
    data/postgresql.dump      pg_dump custom format   | data/sqlite.db  (online backup API copy)
    metadata/...              the metadata files (CRM_METADATA_DIR)
    migrations/versions/...   the metadata revision files (CRM_MIGRATIONS_DIR)

The crm_metadata_version rows (metadata versions kept in the database) travel with the data.
The archive is written under a temporary name and renamed when complete, so a file with the
final name is never half written."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from . import dbdump
from .version import core_head, product_version

FORMAT = 1
DATA = {"sqlite": "data/sqlite.db", "postgresql": "data/postgresql.dump"}
METADATA, REVISIONS = "metadata", "migrations/versions"


@dataclass
class Written:
    path: Path
    manifest: dict[str, Any]


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def default_path(settings: dict[str, Any]) -> Path:
    folder = Path(settings.get("CRM_BACKUP_DIR") or Path(settings["CRM_FILES_DIR"]).parent / "backups")
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return folder / f"metacrm-{product_version()}-{stamp}.tar.gz"


def write_backup(settings: dict[str, Any], target: Path | None = None) -> Written:
    url = settings["SQLALCHEMY_DATABASE_URI"]
    kind = dbdump.dialect(url)
    if kind not in DATA:
        raise dbdump.DumpError(f"backups support SQLite and PostgreSQL, not {kind}")
    target = Path(target) if target else default_path(settings)
    if target.is_dir():
        target = target / default_path(settings).name
    with tempfile.TemporaryDirectory(prefix="crm-backup-") as tmp:
        data = Path(tmp) / "data"
        counts = dbdump.dump_sqlite(url, data) if kind == "sqlite" else dbdump.dump_postgresql(url, data)
        members = {DATA[kind]: data}
        members.update(tree(Path(settings["CRM_METADATA_DIR"]), METADATA, "*"))
        members.update(tree(Path(settings["CRM_MIGRATIONS_DIR"]), REVISIONS, "*.py"))
        manifest = {"format": FORMAT, "product_version": product_version(), "core_head": core_head(),
                    "database": kind, "created_on": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                    **in_force(url), "row_counts": counts,
                    "files": {name: sha256(path) for name, path in sorted(members.items())}}
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        with tarfile.open(partial, "w:gz") as archive:
            add_bytes(archive, "manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False).encode())
            for name, path in sorted(members.items()):
                archive.add(path, arcname=name, recursive=False)
        partial.replace(target)
    return Written(target, manifest)


def tree(root: Path, prefix: str, pattern: str) -> dict[str, Path]:
    """Files under `root` (not caches), keyed by their name in the archive."""
    if not root.is_dir():
        return {}
    return {f"{prefix}/{p.relative_to(root).as_posix()}": p for p in sorted(root.rglob(pattern))
            if p.is_file() and "__pycache__" not in p.parts}


def add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(dt.datetime.now(dt.UTC).timestamp())
    archive.addfile(info, io.BytesIO(data))


def in_force(url: str) -> dict[str, Any]:
    """The revisions and the metadata digest the database is at (read without building the app,
    so a backup works even when the metadata on disk is broken)."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            inspector = sa.inspect(conn)
            heads = sorted(conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars()) \
                if inspector.has_table("alembic_version") else []
            row = conn.execute(sa.text("SELECT digest, revision FROM crm_schema_version ORDER BY id DESC LIMIT 1")
                               ).first() if inspector.has_table("crm_schema_version") else None
            versions = inspector.has_table("crm_metadata_version")
    finally:
        engine.dispose()
    core = [h for h in heads if h.startswith("core_")]
    return {"database_revisions": heads, "database_core_revision": core[0] if core else None,
            "metadata_digest": row[0] if row else None, "metadata_revision": row[1] if row else None,
            "metadata_versions_table": versions}
