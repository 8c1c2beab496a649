"""Which metadata an app is built from: the version in force, or the files on disk.

- No version recorded yet: the files; once the schema is in line, they become the first
  version (`bootstrap`).
- Files equal to the version in force: the files (same content).
- Files a version already had (an older checkout on a host, or files a web edit moved
  past): the version in force, from its cache folder (CRM_METADATA_CACHE_DIR/<digest>).
- New files: in `auto` and `check` mode they become the next version (source `files`)
  once the schema is in line, unless the version in force came from the web and the
  files do not hold it (refused, with the difference). `crm` commands and `off` mode
  build from the files and record nothing (`crm apply` does).
- `CRM_METADATA_FOLLOW=version` (the live switch, workers): the version in force, always.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.pool import NullPool

from app.metadata.loader import load_spec
from app.metadata.problems import MetadataError
from app.metadata.spec import CrmSpec
from app.schema.startup import SchemaPending, run_by_crm_command

from . import store
from .files import Files, files_digest, holds_changes, materialise, read_tree, unified_diff
from .revisions import folder_revisions, materialise_revisions, metadata_head


@dataclass
class Source:
    root: Path
    version_id: int | None  # the version in force when the app was built
    record: str | None = None  # "bootstrap" | "files": record the files once the schema is in line
    files: Files = field(default_factory=dict)
    revisions_before: set[str] = field(default_factory=set)
    cached: bool = False


def schema_mode(settings: dict[str, Any]) -> str:
    return settings["CRM_SCHEMA_MODE"] if settings["CRM_AUTO_CREATE_SCHEMA"] else "off"


def metadata_source(settings: dict[str, Any]) -> Source:
    engine = sa.create_engine(settings["SQLALCHEMY_DATABASE_URI"], poolclass=NullPool)
    try:
        return _decide(engine, settings)
    finally:
        engine.dispose()


def _decide(engine: sa.Engine, settings: dict[str, Any]) -> Source:
    disk_root = Path(settings["CRM_METADATA_DIR"])
    versions = Path(settings["CRM_MIGRATIONS_DIR"])
    cache = Path(settings["CRM_METADATA_CACHE_DIR"])
    before = set(folder_revisions(versions))
    current = store.current(engine)
    if current is not None:
        materialise_revisions(engine, versions)
        before = set(folder_revisions(versions))
        if settings.get("CRM_METADATA_FOLLOW") == "version":
            return Source(materialise(current.files, cache), current.id, cached=True)
    mode, command = schema_mode(settings), run_by_crm_command()
    disk = read_tree(disk_root)
    state = files_state(engine, current, disk, by_last_from_files=mode == "auto" and not command)
    if state == "none":
        record = "bootstrap" if mode != "off" and not command else None
        return Source(disk_root, None, record, disk, before)
    assert current is not None
    if state == "same":
        return Source(disk_root, current.id)
    if state == "old":
        return Source(materialise(current.files, cache), current.id, cached=True)
    if mode == "off" or command:
        return Source(disk_root, None)  # files that are no version: the live switch moves on from them
    guard_web_edits(engine, current, disk, disk_root)
    return Source(disk_root, current.id, "files", disk, before)


def files_state(engine: sa.Engine, current: store.MetadataVersion | None, disk: Files,
                by_last_from_files: bool = False) -> str:
    """none: no version yet; same: the files are the version in force; old: files a version
    already had (with `by_last_from_files`, the auto mode's rule: the last version recorded
    from the files), which the version in force moved past; new: files to apply."""
    if current is None:
        return "none"
    digest = files_digest(disk)
    if digest == current.digest:
        return "same"
    if by_last_from_files:
        last = store.last_from_files(engine)
        return "old" if last is not None and last.digest == digest else "new"
    return "old" if store.known(engine, digest) else "new"


def guard_web_edits(engine: sa.Engine, current: store.MetadataVersion, disk: Files, root: Path) -> None:
    """Files that do not hold the web's edits in force may not replace them silently."""
    missing = web_edits_missing(engine, current, disk)
    if missing:
        raise SchemaPending(
            f"the metadata files in {root} changed, but the version in force ({current.id}, "
            f"{current.source} by {current.author}) holds edits they do not; nothing applied. "
            "Write the version into the files with `flask crm export-metadata` (then redo your edit), "
            "or replace it with `flask crm apply --force`:\n" + "".join(missing.values()))


def web_edits_missing(engine: sa.Engine, current: store.MetadataVersion | None, disk: Files) -> dict[str, str]:
    """The diff files -> version in force when that version came from the web (or a rollback)
    and the files do not hold what it changed since the last version from files; else {}."""
    if current is None or current.source in store.FROM_FILES or files_digest(disk) == current.digest:
        return {}
    base = store.last_from_files(engine, before=current.id)
    if holds_changes(disk, base.files if base else {}, current.files):
        return {}
    return unified_diff(disk, current.files, "files", f"version-{current.id}")


def load_source_spec(source: Source) -> CrmSpec:
    """load_spec, with a cached version's problems located relative to the metadata root."""
    try:
        return load_spec(source.root)
    except MetadataError as exc:
        if not source.cached:
            raise
        from .apply import _relative

        raise MetadataError([_relative(p, source.root.resolve()) for p in exc.problems]) from None


def record_source(app: Flask, source: Source) -> int | None:
    """After the schema is in line: record the files as a version when the source says so.
    Returns the version in force the app follows."""
    if source.record is None:
        return source.version_id
    return record_files(app, source.record, source.files, source.version_id, source.revisions_before)


def record_files(app: Flask, kind: str, files: Files, parent_id: int | None, revisions_before: set[str]) -> int | None:
    """Record `files` (as `bootstrap` or `files`) with the revision scripts written since
    `revisions_before` (a bootstrap: all of them, for the hosts that have none)."""
    engine = app.extensions["crm"].db.engine
    versions = Path(app.config["CRM_MIGRATIONS_DIR"])
    revisions = {name: text for name, text in folder_revisions(versions).items()
                 if kind == "bootstrap" or name not in revisions_before}
    message = "first version, from the files" if kind == "bootstrap" else "files changed on disk, applied"
    try:
        with engine.begin() as conn:
            return store.record(conn, files, parent_id=parent_id, author="files", message=message,
                                source=kind, revisions=revisions, schema_revision=metadata_head(conn))
    except (IntegrityError, DBAPIError):  # another process recorded first, or no table (mode off)
        latest = store.current(engine)
        return latest.id if latest else None
