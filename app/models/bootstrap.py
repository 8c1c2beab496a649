"""Create the tables for the current metadata: the first-boot schema step.

Only creates what is missing; it never alters or drops. Changing a live
schema is the job of plan/apply (Alembic), not of start-up.
"""

from __future__ import annotations

import sqlalchemy as sa

from .builder import ModelSet
from .events import utcnow


def create_schema(engine: sa.Engine, models: ModelSet) -> list[str]:
    """Create missing MetaCRM tables; return the names created."""
    existing = set(sa.inspect(engine).get_table_names())
    tables = [t for t in models.own_tables() if t.name not in existing]
    models.metadata.create_all(engine, tables=tables)
    record_version(engine, models)
    return [t.name for t in tables]


def record_version(engine: sa.Engine, models: ModelSet, note: str = "create") -> None:
    """Remember the metadata digest the database was built from."""
    table = models.core["crm_schema_version"]
    with engine.begin() as conn:
        last = conn.execute(sa.select(table.c.digest).order_by(table.c.id.desc()).limit(1)).scalar()
        if last != models.spec.digest:
            conn.execute(sa.insert(table).values(digest=models.spec.digest, applied_on=utcnow(), note=note))
