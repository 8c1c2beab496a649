"""Choice values renamed with `renamed_from`: a data step rewriting the rows that hold the old value.

A `choice` column holds one value: one UPDATE per renamed value. A `multichoice`
column holds a JSON list (models/columns.py `JSONList`: sorted, no repeats), so
the step rewrites each distinct stored list that names an old value, as the
column itself would write the renamed list; each statement is reversed exactly
by the downgrade (the new value could not be stored before the rename, so no
list held it).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from alembic.operations import ops

from app.metadata.spec import EntitySpec, FieldSpec
from app.models import ModelSet
from app.models.columns import JSONList


def set_value(table: str, column: str, old: str, new: str) -> str:
    """UPDATE rows whose `column` is exactly `old` to `new` (literal SQL for the revision file)."""
    def quoted(text: str) -> str:
        return "'" + text.replace("'", "''") + "'"
    return f'UPDATE "{table}" SET "{column}" = {quoted(new)} WHERE "{column}" = {quoted(old)}'


def value_renames(connection: sa.Connection, models: ModelSet) -> Iterator[tuple[str, str, str, int, Any, Any]]:
    """(table, column, detail, rows, up op, down op) for every rename that still has rows to move."""
    inspector = sa.inspect(connection)
    tables = set(inspector.get_table_names())
    for entity in models.spec.entities:
        if entity.table_name not in tables:
            continue  # a new table, or one renamed in this same change: nothing stored under it yet
        columns = {c["name"] for c in inspector.get_columns(entity.table_name)}
        for f in entity.declared_fields:
            if f.column_name not in columns or not any(c.renamed_from for c in f.choices):
                continue
            if f.type == "choice":
                yield from _single(connection, entity, f)
            elif f.type == "multichoice":
                yield from _lists(connection, entity, f)


def _single(connection: sa.Connection, entity: EntitySpec, f: FieldSpec) -> Iterator[tuple]:
    table, column = sa.table(entity.table_name, sa.column(f.column_name)), f.column_name
    for choice in f.choices:
        if choice.renamed_from is None:
            continue
        rows = connection.scalar(sa.select(sa.func.count()).select_from(table)
                                 .where(table.c[column] == choice.renamed_from)) or 0
        if rows:  # else renamed already, or never stored
            yield (entity.table_name, column, f"'{choice.renamed_from}' -> '{choice.value}'", rows,
                   ops.ExecuteSQLOp(set_value(entity.table_name, column, choice.renamed_from, choice.value)),
                   ops.ExecuteSQLOp(set_value(entity.table_name, column, choice.value, choice.renamed_from)))


def _lists(connection: sa.Connection, entity: EntitySpec, f: FieldSpec) -> Iterator[tuple]:
    renames = {c.renamed_from: c.value for c in f.choices if c.renamed_from is not None}
    table, column = sa.table(entity.table_name, sa.column(f.column_name)), f.column_name
    stored = table.c[column]
    named = sa.or_(*(stored.contains(json.dumps(old, ensure_ascii=False), autoescape=True) for old in renames))
    counts = connection.execute(sa.select(stored, sa.func.count()).where(named).group_by(stored)).all()
    writer = JSONList()
    for text, rows in counts:
        try:
            values = json.loads(text)
        except (TypeError, ValueError):
            continue  # not a list the column wrote: left alone
        if not isinstance(values, list) or not set(values) & set(renames):
            continue  # LIKE matched inside another value
        new = writer.process_bind_param([renames.get(v, v) for v in values], connection.dialect) or "[]"
        moved = ", ".join(f"'{old}' -> '{renames[old]}'" for old in sorted(set(values) & set(renames)))
        yield (entity.table_name, column, f"{moved} in {text}", rows,
               ops.ExecuteSQLOp(set_value(entity.table_name, column, text, new)),
               ops.ExecuteSQLOp(set_value(entity.table_name, column, new, text)))
