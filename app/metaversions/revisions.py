"""Schema revision scripts travel with the versions that wrote them.

A version applied on one host wrote its Alembic revision into that host's
CRM_MIGRATIONS_DIR; the script is also stored in the version's row, so every other
host writes it into its own folder before Alembic needs it (else CRM-E030), and sets
aside one a rollback elsewhere undid (else its start-up would run it again).
"""

from __future__ import annotations

import re
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from . import store

_REVISION = re.compile(r'^revision = "([^"]+)"', re.M)
_DOWN = re.compile(r"^down_revision = (None|'[^']*'|\"[^\"]*\")", re.M)


def revision_of(script: str) -> tuple[str | None, str | None]:
    """(revision, down_revision) of a revision script's text."""
    rev = _REVISION.search(script)
    down = _DOWN.search(script)
    down_id = down.group(1).strip("'\"") if down and down.group(1) != "None" else None
    return (rev.group(1) if rev else None), down_id


def folder_revisions(versions: Path) -> dict[str, str]:
    """{file name: script} of the metadata revisions in a migrations folder."""
    if not versions.is_dir():
        return {}
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(versions.glob("*.py"))
            if "metadata_digest" in p.read_text(encoding="utf-8")}


def database_heads(connection: sa.Connection) -> set[str]:
    try:
        rows = connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all()
    except DBAPIError:
        connection.rollback()
        return set()
    return set(rows)


def metadata_head(connection: sa.Connection) -> str | None:
    """The metadata revision the database is at (None: none)."""
    heads = [h for h in database_heads(connection) if not h.startswith("core_")]
    return heads[0] if heads else None


def materialise_revisions(engine: sa.Engine, versions: Path) -> list[str]:
    """Write into `versions` the revision scripts the database has run and this folder lacks
    (from the versions that wrote them); set aside those a rollback undid. Returns file names."""
    stored = store.all_revisions(engine)
    if not stored:
        return []
    by_id = {revision_of(text)[0]: (name, text) for name, text in stored.items()}
    here = {revision_of(text)[0]: name for name, text in folder_revisions(versions).items()}
    with engine.connect() as conn:
        need = [h for h in database_heads(conn) if not h.startswith("core_")]
    chain: set[str] = set()
    written: list[str] = []
    while need:
        rev = need.pop()
        if rev in chain or rev not in by_id and rev not in here:
            continue
        chain.add(rev)
        name, text = by_id.get(rev) or (here[rev], "")
        if rev not in here:
            versions.mkdir(parents=True, exist_ok=True)
            (versions / name).write_text(text, encoding="utf-8")
            written.append(name)
        down = revision_of(text or (versions / name).read_text(encoding="utf-8"))[1]
        if down:
            need.append(down)
    for rev, name in here.items():
        if rev in by_id and rev not in chain:  # a version wrote it, and the database no longer has it
            aside = versions.parent / "rolled_back"
            aside.mkdir(exist_ok=True)
            (versions / name).rename(aside / name)
            written.append(name)
    return written
