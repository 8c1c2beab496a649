"""Record versions: every generated model carries a `version` the ORM bumps on each UPDATE.

SQLAlchemy's `version_id_col` adds `WHERE version = <read>` to every UPDATE and
DELETE, so two writers racing past the command's own check still cannot both win
(the loser gets StaleDataError). Each update also logs which fields it changed
into `crm_record_change`, so a stale write can be told what changed since.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

from app.metadata.spec import EntitySpec

from .actor import acting_user_id
from .events import utcnow

VERSION_COLUMN = "version"


def version_column() -> sa.Column:
    """Existing rows start at 1 when the column is added (server default): nothing is lost."""
    return sa.Column(VERSION_COLUMN, sa.Integer, nullable=False, server_default="1")


def changed_fields(entity: EntitySpec, target: Any) -> list[str]:
    """Declared fields whose value this flush changes (links by their column or collection)."""
    state: Any = sa.inspect(target)
    names = []
    for f in (*entity.declared_fields, entity.field("owner")):  # a reassignment is a change too
        keys = {f.name, f.column_name} & set(state.attrs.keys())
        if any(state.attrs[k].history.has_changes() for k in keys):
            names.append(f.name)
    return names


def install_version_log(cls: type, entity: EntitySpec, changes: sa.Table) -> None:
    @event.listens_for(cls, "before_update")
    def log_change(mapper: Any, connection: sa.Connection, target: Any) -> None:
        names = changed_fields(entity, target)
        if not names:
            return
        connection.execute(sa.insert(changes).values(
            entity=entity.name, record_id=target.id, version=(target.version or 0) + 1,
            fields=json.dumps(names), changed_by_id=acting_user_id(), changed_on=utcnow()))
