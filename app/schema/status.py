"""Which revisions and which metadata version are in force in a database."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from app.models import ModelSet

from .apply import database_revisions, is_metadata_revision, pending_revisions, script_directory


@dataclass
class SchemaStatus:
    metadata_revision: str | None  # the metadata revision in force
    revision_digest: str | None  # the metadata digest that revision was written from
    core_revision: str | None
    recorded: dict[str, Any] | None  # the last crm_schema_version row
    metadata_digest: str  # the metadata on disk now
    pending_revisions: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    def lines(self) -> list[str]:
        rev = self.metadata_revision or "none"
        out = [f"database: metadata revision {rev} (metadata {self.revision_digest or 'none'}), "
               f"core revision {self.core_revision or 'none'}"]
        if self.recorded:
            out.append(f"last recorded: metadata {self.recorded['digest']} on {str(self.recorded['applied_on'])[:16]} "
                       f"({self.recorded['note']})")
        out.append(f"metadata on disk: {self.metadata_digest}")
        out += [f"revision {r} not run yet (`crm apply` runs it)" for r in self.pending_revisions]
        return out


def schema_status(engine: sa.Engine, models: ModelSet, versions: Path) -> SchemaStatus:
    script = script_directory(versions)
    with engine.connect() as conn:
        current = database_revisions(conn, script)
        recorded = None
        if sa.inspect(conn).has_table("crm_schema_version"):
            row = conn.execute(sa.text("SELECT * FROM crm_schema_version ORDER BY id DESC LIMIT 1")).mappings().first()
            recorded = dict(row) if row else None
    meta = next((r for r in current if is_metadata_revision(script, r)), None)
    core = next((r for r in current if not is_metadata_revision(script, r)), None)
    digest = getattr(script.get_revision(meta).module, "metadata_digest", None) if meta else None
    return SchemaStatus(meta, digest, core, recorded, models.spec.digest, pending_revisions(engine, versions))
