"""The record of which metadata digest (and revision) the database was built from.

Tables are never created here: the core revisions and the revisions `crm apply`
writes build every database (app/schema).
"""

from __future__ import annotations

import sqlalchemy as sa

from .builder import ModelSet
from .events import utcnow


def record_version(engine: sa.Engine, models: ModelSet, note: str = "create", revision: str | None = None,
                   digest: str | None = None) -> None:
    """Remember the metadata digest (and revision) the database was built from."""
    table = models.core["crm_schema_version"]
    digest = models.spec.digest if digest is None else digest
    with engine.begin() as conn:
        last = conn.execute(sa.select(table.c.digest, table.c.revision).order_by(table.c.id.desc()).limit(1)).first()
        if last is None or last.digest != digest or (revision is not None and last.revision != revision):
            conn.execute(sa.insert(table).values(digest=digest, applied_on=utcnow(), note=note, revision=revision))
