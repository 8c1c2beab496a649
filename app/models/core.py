"""MetaCRM's own tables, beside the generated ones.

`crm_counter` hands out autonumbers; `crm_schema_version` records which
metadata digest the database was last built from, so every web process
agrees on the version in force (the web tier keeps no state of its own).
"""

from __future__ import annotations

import sqlalchemy as sa


def define_core_tables(metadata: sa.MetaData) -> dict[str, sa.Table]:
    counter = sa.Table(
        "crm_counter", metadata,
        sa.Column("entity", sa.String(64), primary_key=True),
        sa.Column("field", sa.String(64), primary_key=True),
        sa.Column("last", sa.BigInteger, nullable=False, default=0),
    )
    version = sa.Table(
        "crm_schema_version", metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("applied_on", sa.DateTime, nullable=False),
        sa.Column("note", sa.String(255)),
    )
    return {"crm_counter": counter, "crm_schema_version": version}
