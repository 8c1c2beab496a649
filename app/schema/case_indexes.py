"""Unique indexes on lower(column) (`unique: ignore_case`), planned by name.

Alembic cannot compare expression indexes on SQLite (it skips them with a
warning, so they would never be created) and compares them loosely on
PostgreSQL; we take them out of autogenerate (`is_case_index`) and plan them
here instead: an index the metadata declares and the database lacks is added,
refused while values repeat ignoring case.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic.operations import ops

SUFFIX = "_ci"


def is_case_index(name: str | None, type_: str) -> bool:
    return type_ == "index" and bool(name) and str(name).startswith("uq_") and str(name).endswith(SUFFIX)


def existing_indexes(connection: sa.Connection) -> set[str]:
    if connection.dialect.name == "sqlite":
        query = "SELECT name FROM sqlite_master WHERE type = 'index'"
    else:
        query = "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"
    return {row[0] for row in connection.execute(sa.text(query))}


def declared(metadata: sa.MetaData) -> list[sa.Index]:
    return [index for table in metadata.sorted_tables for index in table.indexes
            if is_case_index(index.name, "index")]  # type: ignore[arg-type]


def add_case_indexes(connection: sa.Connection, metadata: sa.MetaData, upgrade: ops.UpgradeOps) -> None:
    """Append a create for every declared lower(column) index the database does not have."""
    have = existing_indexes(connection)
    for index in declared(metadata):
        if index.name not in have:
            upgrade.ops.append(ops.ModifyTableOps(index.table.name,  # type: ignore[union-attr]
                                                  [ops.CreateIndexOp.from_index(index)]))


def repeats_ignoring_case(connection: sa.Connection, op: ops.CreateIndexOp) -> int:
    """How many values repeat ignoring case (0 for a table the plan creates)."""
    if op.table_name not in sa.inspect(connection).get_table_names():
        return 0
    column = str(op.index_name)[len(f"uq_{op.table_name}_"):-len(SUFFIX)]
    return int(connection.execute(sa.text(
        f'SELECT count(*) FROM (SELECT lower("{column}") FROM "{op.table_name}" WHERE "{column}" IS NOT NULL '
        f'GROUP BY lower("{column}") HAVING count(*) > 1) AS d')).scalar() or 0)
