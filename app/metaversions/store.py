"""The metadata versions kept in `crm_metadata_version` (core revision 0007).

The newest row is the version in force. `current_id` is the one-row check every process
runs every few seconds; the rest reads whole versions (files included) for the editor,
history and start-up.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from app.models.core import define_metadata_version_table

from .files import Files, files_digest

TABLE = define_metadata_version_table(sa.MetaData())
SOURCES = ("bootstrap", "files", "web", "rollback")
FROM_FILES = ("bootstrap", "files")


@dataclass(frozen=True)
class MetadataVersion:
    id: int
    parent_id: int | None
    digest: str
    files: Files
    revisions: dict[str, str]
    schema_revision: str | None
    author: str
    message: str
    source: str
    created_at: dt.datetime


def _version(row: sa.Row) -> MetadataVersion:
    return MetadataVersion(row.id, row.parent_id, row.digest, json.loads(row.files), json.loads(row.revisions),
                           row.schema_revision, row.author, row.message, row.source, row.created_at)


def _one(engine: sa.Engine, stmt: sa.Select) -> MetadataVersion | None:
    try:
        with engine.connect() as conn:
            row = conn.execute(stmt).first()
    except DBAPIError:  # no table yet: a database the core revisions have not built
        return None
    return _version(row) if row is not None else None


def current(engine: sa.Engine) -> MetadataVersion | None:
    """The version in force (None: none recorded, or no table yet)."""
    return _one(engine, sa.select(TABLE).order_by(TABLE.c.id.desc()).limit(1))


def current_id(connection: sa.Connection) -> int | None:
    """The id of the version in force: the cheap check (one indexed row)."""
    return connection.execute(sa.select(TABLE.c.id).order_by(TABLE.c.id.desc()).limit(1)).scalar()


MAX_ID = 2**63 - 1  # past it no row can match, and SQLite's driver cannot even bind the number


def get(engine: sa.Engine, version_id: int) -> MetadataVersion | None:
    if not 0 < version_id <= MAX_ID:  # a posted base id of 20 digits was an OverflowError on SQLite: a 500
        return None
    return _one(engine, sa.select(TABLE).where(TABLE.c.id == version_id))


def history(engine: sa.Engine, limit: int = 50) -> list[MetadataVersion]:
    """The newest `limit` versions, newest first."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(TABLE).order_by(TABLE.c.id.desc()).limit(limit)).all()
    return [_version(r) for r in rows]


def known(engine: sa.Engine, digest: str) -> bool:
    """Has a version with exactly these files been recorded (in force or not)?"""
    with engine.connect() as conn:
        return conn.execute(sa.select(TABLE.c.id).where(TABLE.c.digest == digest).limit(1)).first() is not None


def last_from_files(engine: sa.Engine, before: int | None = None) -> MetadataVersion | None:
    """The newest version recorded from the files (bootstrap or `crm apply`), up to `before`."""
    stmt = sa.select(TABLE).where(TABLE.c.source.in_(FROM_FILES))
    if before is not None:
        stmt = stmt.where(TABLE.c.id <= before)
    return _one(engine, stmt.order_by(TABLE.c.id.desc()).limit(1))


def all_revisions(engine: sa.Engine) -> dict[str, str]:
    """Every revision script any version wrote, by file name."""
    found: dict[str, str] = {}
    with engine.connect() as conn:
        for (text,) in conn.execute(sa.select(TABLE.c.revisions).order_by(TABLE.c.id)):
            found.update(json.loads(text))
    return found


def record(connection: sa.Connection, files: Files, *, parent_id: int | None, author: str, message: str,
           source: str, revisions: dict[str, str] | None = None, schema_revision: str | None = None) -> int:
    """Insert a version; a second child of the same parent fails (unique parent_id)."""
    assert source in SOURCES, source
    result = connection.execute(sa.insert(TABLE).values(
        parent_id=parent_id, digest=files_digest(files), files=json.dumps(files, ensure_ascii=False),
        revisions=json.dumps(revisions or {}, ensure_ascii=False), schema_revision=schema_revision,
        author=author, message=message, source=source,
        created_at=dt.datetime.now(dt.UTC).replace(tzinfo=None)))
    return int(result.inserted_primary_key[0])
