"""`flask crm restore PATH`: rebuild the CRM from a backup archive into an EMPTY database.

Everything is checked before anything is written: the archive reads to its end (a
truncated or corrupt file is refused), every member matches its SHA-256 in the manifest,
the archive comes from this product version and core revision head and from the same kind
of database, the target database has no tables, and the metadata and revision files on disk
either match the archive's or may be replaced (`--replace-files`). Then the data is loaded
in one transaction (PostgreSQL) or one backup-API copy (SQLite), the files are written, and
the row counts of the restored database are compared with the manifest's."""

from __future__ import annotations

import datetime as dt
import filecmp
import json
import shutil
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import dbdump
from .backup import DATA, FORMAT, METADATA, REVISIONS, sha256
from .version import core_head, product_version


class RestoreRefused(Exception):
    """Nothing was changed; the message says why and what to do."""


@dataclass
class Restored:
    manifest: dict[str, Any]
    counts: dict[str, int]
    replaced: list[str] = field(default_factory=list)


def restore(settings: dict[str, Any], archive: Path, replace_files: bool = False) -> Restored:
    url = settings["SQLALCHEMY_DATABASE_URI"]
    with tempfile.TemporaryDirectory(prefix="crm-restore-") as tmp:
        root = Path(tmp)
        manifest = unpack(archive, root)
        check_compatible(manifest, dbdump.dialect(url))
        if tables := dbdump.table_names(url):
            raise RestoreRefused(f"the target database is not empty ({len(tables)} tables, e.g. "
                                 f"{', '.join(tables[:3])}): restore only into an empty database "
                                 "(create a new one, point SQLALCHEMY_DATABASE_URI at it)")
        folders = {METADATA: Path(settings["CRM_METADATA_DIR"]), REVISIONS: Path(settings["CRM_MIGRATIONS_DIR"])}
        differing = [str(folders[part] / name) for part, name in file_conflicts(root, folders)]
        if differing and not replace_files:
            raise RestoreRefused("files on disk differ from the archive's, nothing changed:\n  "
                                 + "\n  ".join(differing) + "\nrerun with --replace-files to put the archive's "
                                 "in place (the current folders are kept beside them as *.before-restore-*)")
        dump = root / DATA[manifest["database"]]
        if manifest["database"] == "sqlite":
            dbdump.load_sqlite(dump, url)
        else:
            dbdump.load_postgresql(dump, url)
        replaced = put_files(root, folders) if differing else []
        if not differing:
            put_files(root, folders, only_missing=True)
    counts = restored_counts(url)
    if counts != manifest["row_counts"]:
        wrong = sorted(t for t in set(counts) | set(manifest["row_counts"])
                       if counts.get(t) != manifest["row_counts"].get(t))
        raise RestoreRefused(f"restored row counts differ from the manifest for {', '.join(wrong)}: "
                             "do not use this database; report the archive")
    return Restored(manifest, counts, replaced)


def unpack(archive: Path, root: Path) -> dict[str, Any]:
    """Extract and verify: readable to the end, a manifest of our format, every checksum right."""
    if not archive.is_file():
        raise RestoreRefused(f"no archive at {archive}")
    try:
        with tarfile.open(archive, "r:gz") as tar:
            tar.extractall(root, filter="data")
    except (tarfile.TarError, EOFError, OSError, ValueError) as exc:
        raise RestoreRefused(f"{archive} is corrupt or truncated ({exc}): nothing restored") from None
    try:
        manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise RestoreRefused(f"{archive} has no readable manifest.json: not a MetaCRM backup") from None
    if manifest.get("format") != FORMAT:
        raise RestoreRefused(f"{archive} has backup format {manifest.get('format')!r}; this release reads {FORMAT}")
    listed = manifest.get("files") or {}
    present = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()} - {"manifest.json"}
    if present != set(listed):
        extra, missing = sorted(present - set(listed)), sorted(set(listed) - present)
        raise RestoreRefused(f"{archive} does not match its manifest (missing {missing}, unlisted {extra})")
    bad = [name for name, digest in listed.items() if sha256(root / name) != digest]
    if bad:
        raise RestoreRefused(f"{archive}: checksum mismatch for {', '.join(sorted(bad))}: the archive is damaged")
    return dict(manifest)


def check_compatible(manifest: dict[str, Any], target_dialect: str) -> None:
    ours = (product_version(), core_head())
    theirs = (manifest.get("product_version"), manifest.get("core_head"))
    if theirs != ours:
        raise RestoreRefused(
            f"the archive is from MetaCRM {theirs[0]} (core revision {theirs[1]}); this is MetaCRM {ours[0]} "
            f"(core revision {ours[1]}). Restore it with MetaCRM {theirs[0]}, then run `flask crm upgrade` "
            "with this release")
    if manifest.get("database") != target_dialect:
        raise RestoreRefused(f"the archive holds a {manifest.get('database')} database; the target is "
                             f"{target_dialect}. Restore into the same kind of database")


def file_conflicts(root: Path, folders: dict[str, Path]) -> list[tuple[str, str]]:
    """(part, name) of archived files whose namesake on disk differs; and, for the metadata,
    files on disk the archive does not have (they would change the metadata)."""
    out = []
    for part, folder in folders.items():
        archived = root / part
        names = {p.relative_to(archived).as_posix() for p in archived.rglob("*") if p.is_file()} \
            if archived.is_dir() else set()
        for name in sorted(names):
            here = folder / name
            if here.exists() and not filecmp.cmp(here, archived / name, shallow=False):
                out.append((part, name))
        if part == METADATA and folder.is_dir():
            out += [(part, p.relative_to(folder).as_posix()) for p in sorted(folder.rglob("*"))
                    if p.is_file() and p.relative_to(folder).as_posix() not in names]
    return out


def put_files(root: Path, folders: dict[str, Path], only_missing: bool = False) -> list[str]:
    """Write the archive's files; a replaced folder is kept aside as <folder>.before-restore-<stamp>."""
    moved = []
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    for part, folder in folders.items():
        archived = root / part
        if not archived.is_dir():
            continue
        if not only_missing and folder.exists():
            aside = folder.with_name(f"{folder.name}.before-restore-{stamp}")
            shutil.move(str(folder), aside)
            moved.append(str(aside))
        folder.mkdir(parents=True, exist_ok=True)
        for path in sorted(archived.rglob("*")):
            if path.is_file() and not (folder / path.relative_to(archived)).exists():
                (folder / path.relative_to(archived)).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, folder / path.relative_to(archived))
    return moved


def restored_counts(url: str) -> dict[str, int]:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return dbdump.count_rows(conn, dbdump.table_names(url))
    finally:
        engine.dispose()
