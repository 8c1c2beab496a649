"""Turn a plan into a revision: the upgrade, its real downgrade, and what rollback checks.

Each change the upgrade makes gets its reverse, so `crm rollback` can run the
downgrade: a dropped-on-rollback column or table is checked for data first, a
reversed type change for values that no longer fit the old type (the checks are
written into the revision as `rollback_checks` and run by `crm rollback` before
`downgrade()`). Data rewrites are reversed too (a one-tag list becomes a choice again).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from alembic.autogenerate import render_python_code, renderers
from alembic.operations import ops

from .plan import Plan

DROPS = (ops.DropTableOp, ops.DropColumnOp, ops.DropIndexOp)


@renderers.dispatch_for(ops.RenameTableOp)
def _render_rename_table(autogen_context: Any, op: ops.RenameTableOp) -> str:
    """Alembic can run a table rename but has no renderer for one."""
    return f"op.rename_table({op.table_name!r}, {op.new_table_name!r})"


@dataclass
class Steps:
    up: list[Any] = field(default_factory=list)
    down: list[Any] = field(default_factory=list)
    checks: list[dict[str, Any]] = field(default_factory=list)  # evaluated before the downgrade


def build_steps(plan: Plan, allow_destructive: bool, dialect: str) -> Steps:
    """The ops to run (drops only when allowed; type changes carry their data conversion),
    each with its reverse."""
    steps = Steps()
    after_up: list[Any] = []
    after_down: list[Any] = []
    downs: list[Any] = []
    for op in plan.upgrade_ops.ops if plan.upgrade_ops is not None else []:
        if isinstance(op, ops.ModifyTableOps):
            inner_up: list[Any] = []
            inner_down: list[Any] = []
            for inner in op.ops:
                if isinstance(inner, DROPS) and not allow_destructive:
                    continue
                inner = _lenient(inner)
                reverse = _reverse(inner, steps.checks, dialect)
                conv_up, conv_down = _convert(inner, dialect)
                if conv_down and inner.modify_type is None:  # PostgreSQL: the cast is the ALTER
                    for r in reverse:
                        r.modify_type = None
                after_up.extend(conv_up)
                after_down[0:0] = conv_down
                if not _empty_alter(inner):
                    inner_up.append(inner)
                    inner_down[0:0] = [r for r in reverse if not _empty_alter(r)]
            if inner_up:
                steps.up.append(ops.ModifyTableOps(op.table_name, inner_up, schema=op.schema))
            if inner_down:
                downs.insert(0, ops.ModifyTableOps(op.table_name, inner_down, schema=op.schema))
        elif not isinstance(op, DROPS) or allow_destructive:
            steps.up.append(op)
            downs[0:0] = _reverse(op, steps.checks, dialect)
    steps.up.extend(after_up)
    steps.down = after_down + downs
    renamed: dict[str, str] = {}
    for rename in plan.renames:
        steps.up.extend(rename.up)
        steps.down[0:0] = rename.down
        renamed.update({o.table_name: o.new_table_name for o in rename.up if isinstance(o, ops.RenameTableOp)})
    for up, down in plan.value_renames:  # choice values: after the tables have their final names
        steps.up.append(up)
        steps.down.insert(0, down)
    for check in steps.checks:  # checked on the database as the upgrade left it
        check["table"] = renamed.get(check["table"], check["table"])
    return steps


def _reverse(op: Any, checks: list[dict[str, Any]], dialect: str) -> list[Any]:
    if isinstance(op, ops.CreateTableOp):
        checks.append({"check": "empty_table", "table": op.table_name})
        return [ops.DropTableOp(op.table_name)]
    if isinstance(op, ops.DropTableOp):
        return [op.reverse()]  # comes back empty: its rows went with --allow-destructive
    if isinstance(op, ops.AddColumnOp):
        default = op.column.server_default
        checks.append({"check": "empty_column", "table": op.table_name, "column": op.column.name,
                       "default": _literal(getattr(default, "arg", None), dialect) if default is not None else None})
        return [ops.DropColumnOp(op.table_name, op.column.name)]
    if isinstance(op, ops.DropColumnOp):
        back = op.reverse()
        back.column = copy.copy(back.column)
        back.column.nullable = True  # comes back empty
        return [back]
    if isinstance(op, (ops.CreateIndexOp, ops.DropIndexOp, ops.AddConstraintOp, ops.DropConstraintOp)):
        return [op.reverse()]
    if isinstance(op, ops.AlterColumnOp):
        return [_reverse_alter(op, checks)]
    if isinstance(op, ops.ExecuteSQLOp):
        raise ValueError(f"no reverse for {op.sqltext}")
    return [op.reverse()]


def _reverse_alter(op: Any, checks: list[dict[str, Any]]) -> Any:
    table, column = op.table_name, op.modify_name or op.column_name
    kw: dict[str, Any] = {}
    if op.modify_name:
        kw["modify_name"] = op.column_name
    if op.modify_type is not None:
        kw["modify_type"], kw["existing_type"] = op.existing_type, op.modify_type
        checks.append({"check": "fits", "table": table, "column": column, **describe_type(op.existing_type)})
    else:
        kw["existing_type"] = op.existing_type
    if op.modify_nullable is not None:
        kw["modify_nullable"] = not op.modify_nullable
        if op.modify_nullable:  # the rollback makes it required again
            checks.append({"check": "no_empty", "table": table, "column": column})
    kw["existing_nullable"] = op.modify_nullable if op.modify_nullable is not None else op.existing_nullable
    return ops.AlterColumnOp(table, column, **kw)


def describe_type(type_: Any) -> dict[str, Any]:
    """What a value must look like to fit a column type (for rollback checks)."""
    from app.models.columns import JSONList

    if isinstance(type_, JSONList):
        return {"kind": "tags"}
    if isinstance(type_, sa.Integer):
        return {"kind": "integer"}
    if isinstance(type_, sa.Numeric):
        return {"kind": "decimal", "precision": type_.precision or 18, "scale": type_.scale or 0}
    if isinstance(type_, sa.String):
        return {"kind": "text", "length": type_.length}
    return {"kind": "any"}


def _literal(arg: Any, dialect: str) -> str:
    if isinstance(arg, str):
        return "'" + arg.replace("'", "''") + "'"
    from sqlalchemy.dialects import postgresql, sqlite

    return str(arg.compile(dialect=postgresql.dialect() if dialect == "postgresql" else sqlite.dialect()))


def _empty_alter(op: Any) -> bool:
    return isinstance(op, ops.AlterColumnOp) and op.modify_type is None and op.modify_nullable is None \
        and op.modify_name is None and op.modify_server_default is False and op.modify_comment is False


def _lenient(op: Any) -> Any:
    """A required column with no default is added as optional: existing rows have no value
    for it, and the app requires it on every new or edited record (nothing is invented)."""
    if isinstance(op, ops.AddColumnOp) and not op.column.nullable and op.column.server_default is None:
        op.column.nullable = True
    return op


def _convert(op: Any, dialect: str) -> tuple[list[Any], list[Any]]:
    """Data conversions of a type change (the plan has checked every value converts), and
    their reverse: PostgreSQL casts with USING; text becoming a tag list is rewritten as a
    one-tag JSON list, and back."""
    if not isinstance(op, ops.AlterColumnOp) or op.modify_type is None or op.existing_type is None:
        return [], []
    from sqlalchemy.dialects import postgresql

    from app.models.columns import JSONList

    column, table = op.column_name, op.table_name
    if isinstance(op.modify_type, JSONList):
        first = f"(\"{column}\"::json->>0)" if dialect == "postgresql" else f"json_extract(\"{column}\", '$[0]')"
        return ([ops.ExecuteSQLOp(f"UPDATE \"{table}\" SET \"{column}\" = '[\"' || \"{column}\" || '\"]' "
                                  f"WHERE \"{column}\" IS NOT NULL AND \"{column}\" NOT LIKE '[%'")],
                [ops.ExecuteSQLOp(f"UPDATE \"{table}\" SET \"{column}\" = {first} "
                                  f"WHERE \"{column}\" IS NOT NULL AND \"{column}\" LIKE '[%'")])
    if dialect != "postgresql":
        return [], []
    old = op.existing_type.compile(dialect=postgresql.dialect())
    back = [ops.ExecuteSQLOp(f"ALTER TABLE \"{table}\" ALTER COLUMN \"{column}\" TYPE {old} "
                             f"USING \"{column}\"::{old}")]
    if isinstance(op.modify_type, (sa.Numeric, sa.Integer, sa.BigInteger)):
        target = op.modify_type.compile(dialect=postgresql.dialect())
        op.modify_type = None  # done by the ALTER ... USING below, which Alembic cannot render
        return ([ops.ExecuteSQLOp(f"ALTER TABLE \"{table}\" ALTER COLUMN \"{column}\" TYPE {target} "
                                  f"USING NULLIF(trim(\"{column}\"::text), '')::{target}")], back)
    if not isinstance(op.existing_type, sa.String) or isinstance(op.existing_type, JSONList):
        # e.g. a number becoming text: back with an explicit cast, not Alembic's plain ALTER
        op_type, op.modify_type = op.modify_type, None
        target = op_type.compile(dialect=postgresql.dialect())
        return ([ops.ExecuteSQLOp(f"ALTER TABLE \"{table}\" ALTER COLUMN \"{column}\" TYPE {target} "
                                  f"USING \"{column}\"::{target}")], back)
    return [], []


def render(steps: Steps, revision: str, down: str | None, digest: str, previous: str | None,
           sqlite: bool) -> str:
    body = render_python_code(ops.UpgradeOps(ops=steps.up), render_as_batch=sqlite)
    reverse = render_python_code(ops.UpgradeOps(ops=steps.down), render_as_batch=sqlite)
    labels = None if down else ("metadata",)
    checks = "[\n" + "".join(f"    {c!r},\n" for c in steps.checks) + "]" if steps.checks else "[]"
    return f'''"""Metadata {digest}: written by `flask crm apply`.

Revision ID: {revision}
Revises: {down}
Metadata digest: {digest} (the database was at {previous or 'no metadata digest'} before)
Roll back with `flask crm rollback`, then restore the metadata of {previous or 'the revision before'} from git.
"""
import sqlalchemy as sa
from alembic import op

import app.models.columns  # noqa: F401  (custom column types)

revision = "{revision}"
down_revision = {down!r}
branch_labels = {labels!r}
depends_on = None
metadata_digest = "{digest}"
previous_digest = {previous!r}

# Checked by `flask crm rollback` before downgrade(): data the downgrade would lose or not fit.
rollback_checks = {checks}


def upgrade() -> None:
{_indent(body)}


def downgrade() -> None:
{_indent(reverse)}
'''


def _indent(code: str) -> str:
    lines = [line for line in code.splitlines() if line.strip() and not line.strip().startswith("###")]
    return "\n".join("    " + line.strip() if not line.startswith("    ") else line for line in lines) or "    pass"
