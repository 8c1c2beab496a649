"""ORM lifecycle events: audit columns and autonumbers on every write path.

Hooked on the mapper, so records created by forms, the API, imports, demo
data and plugins all get created/changed stamps and their autonumber.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

from app.metadata.spec import EntitySpec

from .actor import acting_user_id

# Tables a transaction wrote by statements SQLAlchemy's cursor events never see (COPY on a raw
# cursor, app/imports/direct.py), kept in the connection's `info`: whoever watches writes (the
# chart cache) reads it at commit as it reads the INSERT/UPDATE/DELETE it saw.
TABLES_WRITTEN = "crm_tables_written"

_PLACEHOLDER = re.compile(r"\{(0+)\}")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


def format_autonumber(pattern: str, number: int) -> str:
    return _PLACEHOLDER.sub(lambda m: str(number).zfill(len(m.group(1))), pattern, count=1)


def next_number(connection: sa.Connection, counter: sa.Table, entity: str, field: str) -> int:
    """Take the next number for one autonumber field, inside the writing transaction."""
    key = (counter.c.entity == entity) & (counter.c.field == field)
    number = connection.execute(
        sa.update(counter).where(key).values(last=counter.c.last + 1).returning(counter.c.last)
    ).scalar()
    if number is None:
        connection.execute(sa.insert(counter).values(entity=entity, field=field, last=1))
        number = 1
    return int(number)


def stamp_new(target: Any, now: dt.datetime, actor: int | None) -> None:
    """The stamps of a new record (the insert hook's, and the import's write without the ORM)."""
    target.created_on = target.created_on or now
    target.changed_on = target.changed_on or now
    if target.created_by_id is None:
        target.created_by_id = actor
    if target.changed_by_id is None:
        target.changed_by_id = actor
    if target.owner_id is None:
        target.owner_id = actor


def install_record_events(cls: type, entity: EntitySpec, counter: sa.Table) -> None:
    autonumbers = [f for f in entity.fields if f.type == "autonumber"]

    @event.listens_for(cls, "before_insert")
    def before_insert(mapper: Any, connection: sa.Connection, target: Any) -> None:
        stamp_new(target, utcnow(), acting_user_id())
        for f in autonumbers:
            if not getattr(target, f.name):
                number = next_number(connection, counter, entity.name, f.name)
                setattr(target, f.name, format_autonumber(f.format or "{0000}", number))

    @event.listens_for(cls, "before_update")
    def before_update(mapper: Any, connection: sa.Connection, target: Any) -> None:
        target.changed_on = utcnow()
        actor = acting_user_id()
        if actor is not None:
            target.changed_by_id = actor
