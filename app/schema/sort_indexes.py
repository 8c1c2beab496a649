"""Indexes on (column COLLATE "zh-x-icu") for indexed text fields, PostgreSQL only, planned by name.

A reader of zh sorts text `COLLATE "zh-x-icu"` (app/i18n/collation.py), which a plain index on
the column cannot serve: page 1 of a sort by an indexed name went from an index scan (0.5 ms at
1M rows) to a full sort (270 ms; bench/README.md). The models declare the collated index beside
the plain one (`ddl_if` PostgreSQL). Like the lower(column) indexes (case_indexes.py) they are
taken out of Alembic's comparison and planned here: added on PostgreSQL when missing, never on
SQLite, where the collation exists only in our connections (a tool without it could not write
to the table).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic.operations import ops

from app.i18n.collation import SORT_INDEX

from .case_indexes import existing_indexes


def is_sort_index(name: str | None, type_: str) -> bool:
    return type_ == "index" and bool(name) and str(name).startswith("ix_") and SORT_INDEX in str(name)


def add_sort_indexes(connection: sa.Connection, metadata: sa.MetaData, upgrade: ops.UpgradeOps) -> None:
    """Append a create for every declared collated index a PostgreSQL database does not have."""
    if connection.dialect.name != "postgresql":
        return
    have = existing_indexes(connection)
    for table in metadata.sorted_tables:
        for index in table.indexes:
            if is_sort_index(index.name, "index") and index.name not in have:
                upgrade.ops.append(ops.ModifyTableOps(table.name, [ops.CreateIndexOp.from_index(index)]))
