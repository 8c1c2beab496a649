"""Apply a plan: write an Alembic revision into migrations/ and run it.

Never drops a table or a column unless `allow_destructive`; a change the data
cannot take (values too long for a narrower column, empty values where a
field becomes required) refuses the whole apply, with the plan. PostgreSQL
runs the revision in one transaction; SQLite uses batch mode, whose table
copy is all-or-nothing.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import render_python_code
from alembic.config import Config
from alembic.operations import ops
from alembic.script import ScriptDirectory

from app.models import ModelSet
from app.models.bootstrap import record_version

from .plan import Plan, make_plan

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
    cfg = Config()
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.set_main_option("version_locations", str(versions))
    return cfg


def current_head(versions: Path) -> str | None:
    return ScriptDirectory.from_config(alembic_config(versions)).get_current_head()


def apply_plan(engine: sa.Engine, models: ModelSet, versions: Path, allow_destructive: bool = False) -> Applied:
    with engine.connect() as conn:
        plan = make_plan(conn, models)
    refused = [c.describe() for c in plan.changes if c.blocked]
    refused += [c.describe() for c in plan.changes
                if c.destructive and not c.kind.startswith("keep_") and not allow_destructive]
    if refused:
        raise PlanRefused(plan, refused)
    upgrade = _keep(plan.upgrade_ops, allow_destructive, engine.dialect.name)
    if not upgrade.ops:
        return Applied(None, None, plan)
    versions.mkdir(parents=True, exist_ok=True)
    revision = uuid.uuid4().hex[:12]
    path = versions / f"{dt.date.today():%Y%m%d}_{revision}_metadata_{models.spec.digest}.py"
    path.write_text(_render(upgrade, revision, current_head(versions), models.spec.digest,
                            sqlite=engine.dialect.name == "sqlite"), encoding="utf-8")
    try:
        run_upgrade(engine, versions)
    except Exception:
        path.unlink(missing_ok=True)  # a revision that did not apply is not kept
        raise
    record_version(engine, models, note=f"apply {revision}")
    return Applied(revision, path, plan)


def run_upgrade(engine: sa.Engine, versions: Path, target: str = "head") -> None:
    """Run revisions up to `target` in one transaction. SQLite's batch mode copies a table
    and drops the old one, which its foreign keys would refuse: they are checked after."""
    cfg = alembic_config(versions)
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
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, target)
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


def _keep(upgrade: ops.UpgradeOps, allow_destructive: bool, dialect: str = "sqlite") -> ops.UpgradeOps:
    """The ops to run: drops only when allowed; type changes carry their data conversion."""
    def keep(op: object) -> bool:
        return allow_destructive or not isinstance(op, (ops.DropTableOp, ops.DropColumnOp, ops.DropIndexOp))
    kept: list[Any] = []
    after: list[Any] = []
    for op in upgrade.ops:
        if isinstance(op, ops.ModifyTableOps):
            inner = [_lenient(o) for o in op.ops if keep(o)]
            for o in inner:
                after.extend(_convert(o, dialect))
            inner = [o for o in inner if not _empty_alter(o)]
            if inner:
                kept.append(ops.ModifyTableOps(op.table_name, inner, schema=op.schema))
        elif keep(op):
            kept.append(op)
    return ops.UpgradeOps(ops=kept + after)


def _empty_alter(op: Any) -> bool:
    return isinstance(op, ops.AlterColumnOp) and op.modify_type is None and op.modify_nullable is None \
        and op.modify_name is None and op.modify_server_default is False and op.modify_comment is False


def _convert(op: Any, dialect: str) -> list[Any]:
    """PostgreSQL casts a changed column with USING; text becoming a tag list is rewritten
    as a one-tag JSON list. (The plan has checked every value converts.)"""
    if not isinstance(op, ops.AlterColumnOp) or op.modify_type is None:
        return []
    from sqlalchemy.dialects import postgresql

    from app.models.columns import JSONList

    column, table = op.column_name, op.table_name
    if isinstance(op.modify_type, JSONList):
        return [ops.ExecuteSQLOp(f"UPDATE \"{table}\" SET \"{column}\" = '[\"' || \"{column}\" || '\"]' "
                                 f"WHERE \"{column}\" IS NOT NULL AND \"{column}\" NOT LIKE '[%'")]
    if dialect == "postgresql" and isinstance(op.modify_type, (sa.Numeric, sa.Integer, sa.BigInteger)):
        target = op.modify_type.compile(dialect=postgresql.dialect())
        op.modify_type = None  # done by the ALTER ... USING below, which Alembic cannot render
        return [ops.ExecuteSQLOp(f"ALTER TABLE \"{table}\" ALTER COLUMN \"{column}\" TYPE {target} "
                                 f"USING NULLIF(trim(\"{column}\"::text), '')::{target}")]
    return []


def _lenient(op: Any) -> Any:
    """A required column with no default is added as optional: existing rows have no value
    for it, and the app requires it on every new or edited record (nothing is invented)."""
    if isinstance(op, ops.AddColumnOp) and not op.column.nullable and op.column.server_default is None:
        op.column.nullable = True
    return op


def _render(upgrade: ops.UpgradeOps, revision: str, down: str | None, digest: str, sqlite: bool) -> str:
    body = render_python_code(upgrade, render_as_batch=sqlite)
    schema_only = ops.UpgradeOps(ops=[o for o in upgrade.ops if not isinstance(o, ops.ExecuteSQLOp)])
    reverse = render_python_code(schema_only.reverse(), render_as_batch=sqlite)  # data rewrites stay
    return f'''"""Metadata {digest}: written by `flask crm apply`.

Revision ID: {revision}
Revises: {down}
"""
import sqlalchemy as sa
from alembic import op

import app.models.columns  # noqa: F401  (custom column types)

revision = "{revision}"
down_revision = {down!r}
branch_labels = None
depends_on = None
metadata_digest = "{digest}"


def upgrade() -> None:
{_indent(body)}


def downgrade() -> None:
{_indent(reverse)}
'''


def _indent(code: str) -> str:
    lines = [line for line in code.splitlines() if line.strip() and not line.strip().startswith("###")]
    return "\n".join("    " + line.strip() if not line.startswith("    ") else line for line in lines) or "    pass"
