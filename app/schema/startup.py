"""What start-up does about the schema: the same plan/apply, by mode.

- `auto` (the embedded dev default): create the tables of an empty database,
  apply non-destructive pending changes, and say so.
- `check` (production): refuse to start while changes are pending, printing the plan;
  run `flask crm apply` at deploy time.
- `off`: do nothing (the CLI steps own the schema).
"""

from __future__ import annotations

import logging
from pathlib import Path

import click
import sqlalchemy as sa

from app.models import ModelSet
from app.models.bootstrap import record_version

from . import CORE_VERSIONS
from .quickcheck import nothing_changed

log = logging.getLogger(__name__)


class SchemaPending(Exception):
    """The database does not match the metadata and start-up may not change it."""


def run_by_crm_command() -> bool:
    """Is the app being built for a `flask crm ...` command? Those plan or apply the very
    changes that `check` mode refuses to start with."""
    ctx = click.get_current_context(silent=True)
    while ctx is not None:
        if ctx.info_name == "crm":
            return True
        ctx = ctx.parent
    return False


def ensure_schema(engine: sa.Engine, models: ModelSet, mode: str, versions: Path,
                  command: bool = False) -> list[str]:
    """Bring the schema in line as the mode allows; return what was done, for the log.

    A new database is built like any other: the core revisions, the metadata revisions
    already in `versions` (from git), then a revision for what the metadata still adds."""
    if mode == "off" or (run_by_crm_command() and not command):
        return []  # `crm init`, `crm apply` and `crm rollback` own the schema from the command line
    if nothing_changed(engine, models, [CORE_VERSIONS, versions]):
        return []  # one row read: built from this digest, at the heads the files name (quickcheck.py)
    # Alembic only now: ~110 modules (with mako and pygments) a worker on a current schema never uses
    from .apply import apply_plan, pending_revisions, upgrade_history
    from .plan import make_plan

    if mode == "check":
        pending = pending_revisions(engine, versions)
        with engine.connect() as conn:
            plan = make_plan(conn, models) if not pending else None
        if pending or (plan is not None and plan.pending):
            lines = [f"revision {r} not run yet" for r in pending] if pending else \
                [c.describe() for c in plan.changes]  # type: ignore[union-attr]
            raise SchemaPending("the database does not match the metadata; run `flask crm apply`:\n"
                                + "\n".join(lines))
        return []
    ran = upgrade_history(engine, versions)
    with engine.connect() as conn:
        plan = make_plan(conn, models)
    done = [f"ran revision {r}" for r in ran]
    if not plan.pending:
        record_version(engine, models)
        return done
    applied = apply_plan(engine, models, versions)
    created = [c for c in applied.plan.changes if c.kind == "add_table"]
    if created and all(c.kind in ("add_table", "add_index") for c in applied.plan.changes):
        return [*done, f"created {len(created)} tables (revision {applied.revision})"]
    changes = [c.describe() for c in applied.plan.changes]
    log.warning("schema changes applied at start-up (revision %s):\n%s", applied.revision, "\n".join(changes))
    return done + changes
