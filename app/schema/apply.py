"""Apply a plan: write an Alembic revision into migrations/ and run it.

Never drops a table or a column unless `allow_destructive`; a change the data
cannot take (values too long for a narrower column, empty values where a
field becomes required) refuses the whole apply, with the plan. PostgreSQL
runs the revision in one transaction; SQLite uses batch mode, whose table
copy is all-or-nothing.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionError
from alembic.util import CommandError as AlembicError

from app.metadata.problems import MetadataError, Problem
from app.models import ModelSet
from app.models.bootstrap import record_version

from . import CORE_VERSIONS
from .plan import Plan, make_plan
from .revision import build_steps, render

ROOT = Path(__file__).resolve().parents[2]


class PlanRefused(Exception):
    def __init__(self, plan: Plan, reasons: list[str]):
        self.plan, self.reasons = plan, reasons
        super().__init__("; ".join(reasons))


@dataclass
class Applied:
    revision: str | None
    path: Path | None
    plan: Plan


def alembic_config(versions: Path) -> Config:
    """One Alembic history: MetaCRM's core revisions (branch `core`, shipped in the package)
    and the metadata revisions `crm apply` writes (branch `metadata`, in `versions`)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("version_path_separator", "os")
    cfg.set_main_option("version_locations", os.pathsep.join([str(CORE_VERSIONS), str(versions)]))
    return cfg


def script_directory(versions: Path) -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config(versions))


def is_metadata_revision(script: ScriptDirectory, revision: str) -> bool:
    rev = script.get_revision(revision)
    return rev is not None and hasattr(rev.module, "metadata_digest")


def current_head(versions: Path) -> str | None:
    """The newest metadata revision in `versions` (the one a new revision follows)."""
    script = script_directory(versions)
    heads = [h for h in script.get_heads() if is_metadata_revision(script, h)]
    return heads[0] if heads else None


class MissingRevision(MetadataError):
    """The database was upgraded by a revision file this deployment does not have: Alembic
    cannot tell what it did, so nothing may run until the file is back (CRM-E030)."""

    subject = "the database has"


def database_revisions(connection: sa.Connection, script: ScriptDirectory | None = None) -> set[str]:
    """The revisions the database is at; with `script`, each must be in the history."""
    current = set(MigrationContext.configure(connection).get_current_heads())
    if script is not None:
        missing = sorted(r for r in current if not _known(script, r))
        if missing:
            raise MissingRevision([_missing_problem(r, script) for r in missing])
    return current


def _known(script: ScriptDirectory, revision: str) -> bool:
    try:
        return script.get_revision(revision) is not None
    except (AlembicError, RevisionError):
        return False


def _missing_problem(revision: str, script: ScriptDirectory) -> Problem:
    folders = [Path(p) for p in script.version_locations if Path(p) != CORE_VERSIONS]
    folder = folders[0] if folders else CORE_VERSIONS
    return Problem("CRM-E030", folder, 0,
                   f"the database is at revision {revision}, which is not in the migrations folder",
                   f"restore the file *_{revision}_*.py (from git, or from the server that ran "
                   "`crm apply`) into this folder, or set CRM_MIGRATIONS_DIR to the folder that holds it")


def pending_revisions(engine: sa.Engine, versions: Path) -> list[str]:
    """Revisions of the history (core or metadata, e.g. from git) the database has not run."""
    script = script_directory(versions)
    with engine.connect() as conn:
        current = database_revisions(conn, script)
    done: set[str] = set()
    for rev in current:
        done.update(r.revision for r in script.iterate_revisions(rev, "base"))
    return [r.revision for r in script.walk_revisions() if r.revision not in done][::-1]


def upgrade_history(engine: sa.Engine, versions: Path) -> list[str]:
    """Run every revision the database has not run yet: core tables first on a new database."""
    pending = pending_revisions(engine, versions)
    if pending:
        run_upgrade(engine, versions, "heads")
    return pending


def apply_plan(engine: sa.Engine, models: ModelSet, versions: Path, allow_destructive: bool = False,
               before_commit: Callable[[sa.Connection, str, Path], None] | None = None) -> Applied:
    """`before_commit(connection, revision, path)` runs in the revision's own transaction, after
    its upgrade: what it writes commits with the schema change or not at all."""
    upgrade_history(engine, versions)
    with engine.connect() as conn:
        plan = make_plan(conn, models)
        previous = last_digest(conn)
    refused = [c.describe() for c in plan.changes if c.blocked]
    refused += [c.describe() for c in plan.changes
                if c.destructive and not c.kind.startswith("keep_") and not allow_destructive]
    if refused:
        raise PlanRefused(plan, refused)
    steps = build_steps(plan, allow_destructive, engine.dialect.name)
    if not steps.up:
        record_version(engine, models, note="create" if previous is None else "apply")
        return Applied(None, None, plan)
    versions.mkdir(parents=True, exist_ok=True)
    revision = uuid.uuid4().hex[:12]
    path = versions / f"{dt.date.today():%Y%m%d}_{revision}_metadata_{models.spec.digest}.py"
    path.write_text(render(steps, revision, current_head(versions), models.spec.digest, previous,
                           sqlite=engine.dialect.name == "sqlite"), encoding="utf-8")
    try:
        run_upgrade(engine, versions, then=(lambda conn: before_commit(conn, revision, path)) if before_commit else None)
    except Exception:
        path.unlink(missing_ok=True)  # a revision that did not apply is not kept
        raise
    record_version(engine, models, note=f"apply {revision}", revision=revision)
    return Applied(revision, path, plan)


def last_digest(connection: sa.Connection) -> str | None:
    """The metadata digest the database was last built from (None: never)."""
    if not sa.inspect(connection).has_table("crm_schema_version"):
        return None
    row = connection.execute(sa.text("SELECT digest FROM crm_schema_version ORDER BY id DESC LIMIT 1")).first()
    return row[0] if row else None


def run_upgrade(engine: sa.Engine, versions: Path, target: str = "heads",
                then: Callable[[sa.Connection], None] | None = None) -> None:
    """Run revisions up to `target` in one transaction (with `then`, before it commits)."""
    cfg = alembic_config(versions)
    with migration_transaction(engine) as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, target)
        if then is not None:
            then(conn)


@contextmanager
def migration_transaction(engine: sa.Engine) -> Iterator[sa.Connection]:
    """One transaction for a whole migration: all of it or nothing. SQLite's batch mode
    copies a table and drops the old one, which its foreign keys would refuse: they are
    checked at the end instead."""
    with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        raw = conn.connection.driver_connection if sqlite else None
        if raw is not None:
            # pysqlite commits DDL on its own; take the transaction in hand so the
            # batch copy is all-or-nothing, and check the links ourselves at the end.
            conn.commit()
            isolation = raw.isolation_level
            raw.isolation_level = None
            raw.execute("PRAGMA foreign_keys=OFF")
            raw.execute("BEGIN")
        try:
            with conn.begin():
                yield conn
                if sqlite:
                    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(f"the change would break {len(broken)} links; nothing changed")
        finally:
            if raw is not None:
                if raw.in_transaction:
                    raw.execute("ROLLBACK")
                raw.execute("PRAGMA foreign_keys=ON")
                raw.isolation_level = isolation
