"""Once per record per due moment: the moment a time rule or a reminder last fired for a
record, kept in `crm_counter` (entity `@tick:<rule>` or `@remind:<entity>`, field the record
id, last the moment in minutes since 1970) and taken in the firing transaction."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

EPOCH = dt.datetime(1970, 1, 1)


def minutes(moment: dt.datetime) -> int:
    return int((moment - EPOCH).total_seconds() // 60)


def take_moment(session: Any, counter: sa.Table, key: str, record_id: int, due: dt.datetime) -> bool:
    """Remember (key, record, due) in this transaction; False: taken for this moment (or a later one) already."""
    where = (counter.c.entity == key[:64]) & (counter.c.field == str(record_id))
    stamp = minutes(due)
    last = session.execute(sa.select(counter.c.last).where(where).with_for_update()).scalar()
    if last is None:
        session.execute(sa.insert(counter).values(entity=key[:64], field=str(record_id), last=stamp))
        return True
    if last >= stamp:
        return False
    return session.execute(sa.update(counter).where(where, counter.c.last < stamp).values(last=stamp)).rowcount == 1


def taken(session: Any, counter: sa.Table, key: str, record_id: int | None = None) -> dict[str, int]:
    """record id (text) -> the last moment taken, for one key (and one record, if given)."""
    stmt = sa.select(counter.c.field, counter.c.last).where(counter.c.entity == key[:64])
    if record_id is not None:
        stmt = stmt.where(counter.c.field == str(record_id))
    return dict(session.execute(stmt).all())
