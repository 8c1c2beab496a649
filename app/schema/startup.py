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
from app.models.bootstrap import create_schema

from .apply import apply_plan, current_head
from .plan import make_plan

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


def ensure_schema(engine: sa.Engine, models: ModelSet, mode: str, versions: Path) -> list[str]:
    """Bring the schema in line as the mode allows; return what was done, for the log."""
    if mode == "off" or (mode == "check" and run_by_crm_command()):
        return []
    existing = set(sa.inspect(engine).get_table_names())
    entity_tables = {e.table_name for e in models.spec.entities}
    if not existing & entity_tables:
        created = create_schema(engine, models)
        _stamp(engine, versions)
        return [f"created {len(created)} tables"]
    with engine.connect() as conn:
        plan = make_plan(conn, models)
    if not plan.pending:
        return []
    if mode == "check":
        lines = "\n".join(c.describe() for c in plan.changes)
        raise SchemaPending(f"the database does not match the metadata; run `flask crm apply`:\n{lines}")
    applied = apply_plan(engine, models, versions)
    done = [c.describe() for c in applied.plan.changes]
    log.warning("schema changes applied at start-up (revision %s):\n%s", applied.revision, "\n".join(done))
    return done


def _stamp(engine: sa.Engine, versions: Path) -> None:
    """A database created from the current metadata is at the newest revision already."""
    if not versions.is_dir() or current_head(versions) is None:
        return
    from alembic import command

    from .apply import alembic_config

    cfg = alembic_config(versions)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.stamp(cfg, "head")
