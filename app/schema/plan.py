"""What applying the metadata would change in the database, and what it does to the data.

The diff comes from Alembic's autogenerate, run against the models built from
the metadata and limited to MetaCRM's own tables (never FAB's ab_*). Each
change says how many rows it touches and whether it would lose data; a
destructive change is only applied when asked explicitly, and a removed
field or entity is kept (and listed) rather than dropped.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass, field
from typing import Any

import sqlalchemy as sa
from alembic.autogenerate import produce_migrations
from alembic.migration import MigrationContext
from alembic.operations import ops

from app.models import ModelSet

from .case_indexes import add_case_indexes, is_case_index, repeats_ignoring_case
from .renames import ENTITY_COLUMNS, EntityRename, build_rename_ops, find_renames, table_pairs
from .sort_indexes import add_sort_indexes, is_sort_index
from .value_renames import value_renames

# FAB's tables are FAB's; MetaCRM's own crm_* tables have hand-written core revisions.
FOREIGN = ("ab_", "alembic_version", "crm_")


@dataclass
class Change:
    kind: str  # add_table, add_column, add_index, keep_column, keep_table, alter_type, ...
    table: str
    column: str | None = None
    detail: str = ""
    rows: int | None = None
    destructive: bool = False
    blocked: str = ""  # why it cannot be applied as it stands

    def describe(self) -> str:
        where = f"{self.table}.{self.column}" if self.column else self.table
        text = f"{self.kind:<12} {where}"
        if self.detail:
            text += f"  {self.detail}"
        if self.rows is not None:
            text += f"  ({self.rows} rows)"
        if self.destructive:
            text += "  [destructive: needs --allow-destructive]"
        if self.blocked:
            text += f"  [refused: {self.blocked}]"
        return text


@dataclass
class Plan:
    changes: list[Change] = field(default_factory=list)
    upgrade_ops: Any = None
    renames: list[EntityRename] = field(default_factory=list)  # run after upgrade_ops
    value_renames: list[tuple[Any, Any]] = field(default_factory=list)  # (up, down) ops, run last

    @property
    def pending(self) -> bool:
        return any(not c.kind.startswith("keep_") for c in self.changes)

    def as_json(self) -> dict[str, Any]:
        return {"pending": self.pending, "changes": [asdict(c) for c in self.changes]}


def ours(names: set[str]) -> Any:
    def include_name(name: str | None, type_: str, parent: Any) -> bool:
        if type_ == "table":
            return bool(name) and not str(name).startswith(FOREIGN)
        return True
    return include_name


def make_plan(connection: sa.Connection, models: ModelSet) -> Plan:
    with warnings.catch_warnings():  # lower(column) indexes are planned by case_indexes.py
        warnings.filterwarnings("ignore", message=".*expression-based index")
        return _make_plan(connection, models)


def _make_plan(connection: sa.Connection, models: ModelSet) -> Plan:
    check = find_renames(connection, models)
    compare = check.before or models  # renamed entities under their old names: the rest of the diff

    def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        if is_case_index(name, type_) or is_sort_index(name, type_):
            return False  # planned by name below: Alembic cannot compare them on SQLite
        return type_ != "table" or (bool(name) and not str(name).startswith(FOREIGN))

    context = MigrationContext.configure(connection, opts={
        "compare_type": True, "include_name": ours(set()), "include_object": include_object,
        "target_metadata": compare.metadata,
        "render_as_batch": connection.dialect.name == "sqlite"})
    plan = Plan(upgrade_ops=_upgrade_ops(context, compare.metadata))
    add_case_indexes(connection, compare.metadata, plan.upgrade_ops)
    add_sort_indexes(connection, compare.metadata, plan.upgrade_ops)  # PostgreSQL only
    for entity, why in check.refused:
        plan.changes.append(Change("rename_table", entity.table_name, detail=f"from {entity.renamed_from}",
                                   blocked=f"{entity.source.name}:{entity.renamed_line}: entity '{entity.name}' {why}"))
    _renames(connection, compare, plan)
    for op in _flatten(plan.upgrade_ops.ops):
        plan.changes.append(_describe(connection, op, compare))
    if check.before is not None:
        _entity_renames(connection, check.renames, check.before, models, plan)
    _choice_renames(connection, models, plan)
    return plan


def _choice_renames(connection: sa.Connection, models: ModelSet, plan: Plan) -> None:
    """A choice with `renamed_from`: rows still holding the old value get the new one (a data step)."""
    for table, column, detail, rows, up, down in value_renames(connection, models):
        plan.changes.append(Change("rename_value", table, column, detail=detail, rows=rows))
        plan.value_renames.append((up, down))


def _upgrade_ops(context: MigrationContext, metadata: sa.MetaData) -> ops.UpgradeOps:
    """Autogenerate's upgrade ops. `produce_migrations` also builds Alembic's own downgrade,
    which costs more than the comparison (half a second for the starter CRM) and which
    the revision replaces with its own: skip it where Alembic lets us."""
    try:
        from alembic.autogenerate.api import AutogenContext
        from alembic.autogenerate.compare import _produce_net_changes
    except ImportError:  # another Alembic: the public, slower way
        script = produce_migrations(context, metadata)
        assert script.upgrade_ops is not None
        return script.upgrade_ops
    upgrade = ops.UpgradeOps([])
    _produce_net_changes(AutogenContext(context, metadata=metadata), upgrade)
    return upgrade


def _entity_renames(connection: sa.Connection, renames: list[EntityRename], before: ModelSet,
                    after: ModelSet, plan: Plan) -> None:
    """Rename tables after the other changes (made under the old names); say so, with the rows."""
    tables = set(sa.inspect(connection).get_table_names())
    new_name: dict[str, str] = {}
    changes: list[Change] = []
    for rename in renames:
        build_rename_ops(rename, before, after, connection.dialect.name, tables)
        for old, new in table_pairs(rename, before, after):
            new_name[old.name] = new.name
            rows = _count(connection, old.name) if old.name in tables else None
            changes.append(Change("rename_table", new.name, detail=f"from {old.name}, rows kept", rows=rows))
        for table in ENTITY_COLUMNS:
            if table in tables:
                rows = _count(connection, table, f"entity = '{rename.old}'")
                if rows:
                    changes.append(Change("rename_value", table, "entity", detail=f"{rename.old} -> {rename.new}",
                                          rows=rows))
        plan.renames.append(rename)
    for change in plan.changes:  # the other changes, under the names the metadata uses now
        change.table = new_name.get(change.table, change.table)
    plan.changes[:0] = changes


def _renames(connection: sa.Connection, models: ModelSet, plan: Plan) -> None:
    """Turn add-new + drop-old into a rename where a field says `renamed_from`: data kept."""
    inspector = sa.inspect(connection)
    tables = set(inspector.get_table_names())
    for entity in models.spec.entities:
        if entity.table_name not in tables:
            continue
        columns = {c["name"] for c in inspector.get_columns(entity.table_name)}
        for f in entity.declared_fields:
            if f.renamed_from is None:
                continue
            old = f"{f.renamed_from}_id" if f.is_link else f.renamed_from
            new = f.column_name
            if new in columns:
                continue  # already renamed
            if old not in columns:
                plan.changes.append(Change("rename", entity.table_name, new, blocked=(
                    f"{entity.source.name}:{f.line}: field '{f.name}' renamed_from '{f.renamed_from}' "
                    f"names no column of {entity.table_name}")))
                continue
            _swap_for_rename(plan.upgrade_ops, entity.table_name, old, new)


def _swap_for_rename(upgrade: Any, table: str, old: str, new: str) -> None:
    for op in upgrade.ops:
        if isinstance(op, ops.ModifyTableOps) and op.table_name == table:
            added = next((o for o in op.ops if isinstance(o, ops.AddColumnOp) and o.column.name == new), None)
            kept = [o for o in op.ops if not (isinstance(o, ops.AddColumnOp) and o.column.name == new)
                    and not (isinstance(o, ops.DropColumnOp) and o.column_name == old)]
            rename = ops.AlterColumnOp(table, old, modify_name=new,
                                       existing_type=added.column.type if added is not None else None,
                                       existing_nullable=True)
            op.ops = [rename, *kept]


def _flatten(items: list[Any]) -> list[Any]:
    out: list[Any] = []
    for op in items:
        if isinstance(op, ops.ModifyTableOps):
            out.extend((op.table_name, inner) for inner in op.ops)
        else:
            out.append((getattr(op, "table_name", None), op))
    return out


def _count(connection: sa.Connection, table: str, where: str = "") -> int:
    query = f'SELECT count(*) FROM "{table}"' + (f" WHERE {where}" if where else "")
    return int(connection.execute(sa.text(query)).scalar() or 0)


def _describe(connection: sa.Connection, item: tuple[str | None, Any], models: ModelSet) -> Change:
    table, op = item
    if isinstance(op, ops.CreateTableOp):
        return Change("add_table", op.table_name, detail=f"{len(op.columns)} columns")
    if isinstance(op, ops.DropTableOp):
        return Change("keep_table", op.table_name, rows=_count(connection, op.table_name),
                      detail="no entity uses it any more; kept with its data", destructive=True)
    if isinstance(op, ops.AddColumnOp):
        column = op.column
        change = Change("add_column", op.table_name, column.name, detail=str(column.type))
        if not column.nullable:
            change.rows = _count(connection, op.table_name)
            if column.server_default is not None:
                change.detail += ", required: existing rows get the default"
            else:
                change.detail += ", required for new and edited records; existing rows stay empty"
        return change
    if isinstance(op, ops.DropColumnOp):
        return Change("keep_column", op.table_name, op.column_name,
                      detail="no field uses it any more; kept with its data (exportable)",
                      rows=_count(connection, op.table_name, f'"{op.column_name}" IS NOT NULL'), destructive=True)
    if isinstance(op, ops.CreateIndexOp) and is_case_index(op.index_name, "index"):
        repeated = repeats_ignoring_case(connection, op)
        return Change("add_unique", op.table_name, detail=f"{op.index_name}: unique ignoring case",
                      rows=repeated or None, blocked=f"{repeated} values repeat ignoring case" if repeated else "")
    if isinstance(op, ops.CreateIndexOp):
        names = ", ".join(getattr(c, "name", str(c)) for c in op.columns)
        return Change("add_index", op.table_name, names, detail=op.index_name or "")
    if isinstance(op, ops.DropIndexOp):
        return Change("keep_index", op.table_name or "?", detail=f"{op.index_name}: no longer declared; kept",
                      destructive=True)
    if isinstance(op, ops.AlterColumnOp):
        return _alter(connection, op, models)
    if isinstance(op, (ops.AddConstraintOp, ops.CreateIndexOp)) and _unique_columns(op):
        return _unique(connection, str(getattr(op, "table_name", "")), _unique_columns(op))
    if isinstance(op, ops.DropConstraintOp) and op.constraint_type == "unique":
        return Change("drop_unique", op.table_name, detail=f"{op.constraint_name}: values may repeat from now on")
    return Change(type(op).__name__, table or "?", detail=str(getattr(op, "constraint_name", "")))


def _unique_columns(op: Any) -> list[str]:
    if isinstance(op, ops.CreateUniqueConstraintOp):
        return list(op.columns)
    if isinstance(op, ops.CreateIndexOp) and op.unique:
        return [getattr(c, "name", str(c)) for c in op.columns]
    return []


def _unique(connection: sa.Connection, table: str, columns: list[str]) -> Change:
    """A field made unique: refused while values repeat, with the values and how often."""
    existing = {c["name"] for c in sa.inspect(connection).get_columns(table)}
    if not set(columns) <= existing:
        # a column added by the same plan starts empty (a unique field takes no server default),
        # so nothing repeats; quoting a missing column would be a string literal on SQLite
        return Change("add_unique", table, ", ".join(columns), detail="new column")
    cols = ", ".join(f'"{c}"' for c in columns)
    present = " AND ".join(f'"{c}" IS NOT NULL' for c in columns)
    repeated = connection.execute(sa.text(
        f'SELECT {cols}, count(*) FROM "{table}" WHERE {present} GROUP BY {cols} HAVING count(*) > 1 '
        f"ORDER BY count(*) DESC LIMIT 5")).fetchall()
    change = Change("add_unique", table, ", ".join(columns))
    if repeated:
        total = connection.execute(sa.text(
            f'SELECT count(*) FROM (SELECT {cols} FROM "{table}" WHERE {present} GROUP BY {cols} '
            f"HAVING count(*) > 1) AS d")).scalar()
        change.rows = int(total or 0)
        shown = ", ".join(f"{tuple(r)[:-1][0]!r} x{tuple(r)[-1]}" for r in repeated)
        change.blocked = f"{total} values repeat ({shown}{' ...' if (total or 0) > len(repeated) else ''})"
    return change


def _field_of(models: ModelSet, table: str, column: str) -> Any:
    entity = next((e for e in models.spec.entities if e.table_name == table), None)
    if entity is None:
        return None
    return next((f for f in entity.fields if f.column_name == column), None)


def conversion_errors(connection: sa.Connection, table: str, column: str, f: Any) -> tuple[int, list[int]]:
    """Values of `column` that do not convert to field `f` (count, first ids), checked with
    the same parser and rules as any input."""
    from app.fieldtypes import field_type
    from app.records.parse import FieldValueError, parse_value
    from app.records.rules import check_value

    bad: list[int] = []
    rows = connection.execute(sa.text(f'SELECT id, "{column}" FROM "{table}" WHERE "{column}" IS NOT NULL'))
    for pk, value in rows:
        try:  # the field type says how an old value is read (numbers as text for a string...)
            parsed = parse_value(f, field_type(f.type).conversion_input(f, value))
            problems = [p for p in check_value(f, parsed) if "required" not in p]
        except FieldValueError:
            problems = ["no"]
        if problems:
            bad.append(pk)
    return len(bad), bad[:10]


def _alter(connection: sa.Connection, op: Any, models: ModelSet) -> Change:
    if op.modify_name:
        rows = _count(connection, op.table_name, f'"{op.column_name}" IS NOT NULL')
        return Change("rename", op.table_name, op.modify_name, detail=f"from {op.column_name}", rows=rows)
    change = Change("alter_column", op.table_name, op.column_name)
    if op.modify_type is not None:
        new, old = op.modify_type, op.existing_type
        change.kind, change.detail = "alter_type", f"{old} -> {new}"
        length = getattr(new, "length", None)
        if isinstance(new, sa.String) and isinstance(old, sa.String) and length and (
                not getattr(old, "length", None) or old.length > length):
            too_long = _count(connection, op.table_name, f'length("{op.column_name}") > {length}')
            change.rows = too_long
            if too_long:
                change.blocked = f"{too_long} values longer than {length} characters"
        f = _field_of(models, op.table_name, op.column_name)
        if f is not None and not change.blocked:
            count, ids = conversion_errors(connection, op.table_name, op.column_name, f)
            change.rows = _count(connection, op.table_name, f'"{op.column_name}" IS NOT NULL')
            if count:
                change.blocked = (f"{count} values do not convert to {f.type} "
                                  f"(ids {', '.join(map(str, ids))}{' ...' if count > len(ids) else ''})")
    if op.modify_nullable is False:
        empty = _count(connection, op.table_name, f'"{op.column_name}" IS NULL')
        change.detail += " now required"
        change.rows = empty
        if empty:
            change.blocked = f"{empty} rows have no value"
    return change
