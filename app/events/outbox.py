"""Write the outbox: one `crm_event` per record insert, update and delete, inside the flush.

Hooked on each generated model's mapper (like the version log), so the event is part
of the same transaction as the change on every path: a rolled-back change leaves no
event, a committed one always has its event. After a commit that wrote events the
session tells the dispatcher (`on_events_committed`), which delivers them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session, object_session

from app.metadata.spec import EntitySpec
from app.models.actor import acting_user_id
from app.models.events import utcnow

from .context import acting
from .values import field_json, json_writer

PENDING_KEY = "crm_events_written"
BUFFER_KEY = "crm_events_buffer"
_listeners: list[Callable[[Session], None]] = []


def on_events_committed(listener: Callable[[Session], None]) -> None:
    """Call `listener(session)` after each commit that wrote events (the dispatcher)."""
    if listener not in _listeners:
        _listeners.append(listener)


def _changed(entity: EntitySpec, target: Any) -> dict[str, list[Any]]:
    """{field: [old, new]} for each field this flush changes (declared fields and owner)."""
    state: Any = sa.inspect(target)
    result: dict[str, list[Any]] = {}
    for f in (*entity.declared_fields, entity.field("owner")):
        if not (f.has_column or f.is_many):
            continue
        key = f.name if f.type == "links" else f.column_name
        if key not in state.attrs:
            continue
        history = state.attrs[key].history
        if not history.has_changes():
            continue
        old: Any
        new: Any
        if f.type == "links":
            kept = [item.id for item in history.unchanged or ()]
            old = sorted(kept + [item.id for item in history.deleted or ()])
            new = sorted(kept + [item.id for item in history.added or ()])
        else:
            old = field_json(f, history.deleted[0]) if history.deleted else None
            new = field_json(f, history.added[0]) if history.added else None
        if old != new:
            result[f.name] = [old, new]
    return result


def _event_plan(entity: EntitySpec) -> tuple[tuple[str, str, bool, Callable[[Any], Any]], ...]:
    """(field, attribute, is links, value to JSON) of each field an event carries: made once per
    entity (kept on it as its cached properties are), read for every record written."""
    plan = entity.__dict__.get(_PLAN)
    if plan is None:
        plan = tuple((f.name, f.name if f.type == "links" else f.column_name, f.type == "links", json_writer(f))
                     for f in entity.event_fields)
        entity.__dict__[_PLAN] = plan
    return plan


_PLAN = "_crm_event_plan"


def _all_values(entity: EntitySpec, read: Callable[[str], Any], new: bool) -> dict[str, list[Any]]:
    """{field: [None, value]} (new) or {field: [value, None]} of each field the record fills;
    `read(attribute)` gives the record's attribute (None when it has none)."""
    result = {}
    for name, key, links, write in _event_plan(entity):
        value = read(key)
        if links:
            value = sorted(item.id for item in value or [])
        elif value is not None:
            value = write(value)
        if value is not None and value != "" and value != []:
            result[name] = [None, value] if new else [value, None]
    return result


def _reader(target: Any) -> Callable[[str], Any]:
    return lambda key: getattr(target, key, None)


_ENCODE = json.JSONEncoder(ensure_ascii=False).encode  # what json.dumps(..., ensure_ascii=False) makes, made once


def _stamp() -> dict[str, Any]:
    """Who made the change (the acting user, or the automation and its depth) and when."""
    who = acting()
    return dict(actor_id=None if who.rule else acting_user_id(), automation=who.rule, depth=who.depth,
                created_on=utcnow())


def event_row(entity: EntitySpec, record_id: int, kind: str, changes: dict[str, list[Any]],
              stamp: dict[str, Any] | None = None) -> dict[str, Any]:
    """The outbox row of one change, as the acting user or automation made it (`stamp`: `_stamp()`
    when the caller made it once for several changes of one write)."""
    return _event(entity, record_id, kind, _ENCODE(changes), stamp)


def _event(entity: EntitySpec, record_id: int, kind: str, text: str, stamp: dict[str, Any] | None) -> dict[str, Any]:
    return dict(entity=entity.name, record_id=record_id, kind=kind, changes=text, **(stamp or _stamp()))


def created_events(entity: EntitySpec, targets: list[Any], read: Callable[[Any], Callable[[str], Any]],
                   ids: Callable[[], list[int]] | None = None) -> list[dict[str, Any]]:
    """The `created` event of each of a write's new records (an import batch's: anything with their
    attributes), stamped once for the write as the records themselves are (`stamp_new`, one clock);
    `read(target)`: how to read an attribute of it. `ids`: the records' ids, asked once their
    events' values are made (an import batch's ids come from the sequence meanwhile); else `t.id`."""
    stamp = _stamp()
    texts = [_ENCODE(_all_values(entity, read(t), new=True)) for t in targets]
    record_ids = ids() if ids is not None else [t.id for t in targets]
    return [_event(entity, i, "created", text, stamp) for i, text in zip(record_ids, texts, strict=True)]


def mark_written(session: Any) -> None:
    """Events were written outside a flush (the import's write without the ORM): the commit
    wakes the dispatcher as after a flush that wrote them."""
    raw = session() if callable(session) else session
    raw.info[PENDING_KEY] = True


def _write(connection: sa.Connection, table: sa.Table, entity: EntitySpec, target: Any, kind: str,
           changes: dict[str, list[Any]]) -> None:
    row = event_row(entity, target.id, kind, changes)
    session = object_session(target)
    buffer = session.info.get(BUFFER_KEY) if session is not None else None
    if buffer is not None:  # a batch import: written at the end of this flush, one statement
        buffer.setdefault(table, []).append(row)
    else:
        connection.execute(sa.insert(table).values(**row))
    if session is not None:
        session.info[PENDING_KEY] = True


@contextmanager
def buffered_events(session: Any) -> Iterator[None]:
    """Inside the block, the events a flush makes are inserted together at its end (one
    multi-row INSERT, still inside the flush's transaction) instead of one statement each."""
    raw = session() if callable(session) else session  # a scoped_session: its Session
    raw.info[BUFFER_KEY] = {}  # drained by `_drain`, listening on every Session (install_session_signal)
    try:
        yield
    finally:
        raw.info.pop(BUFFER_KEY, None)


def _drain(session: Session, _context: Any) -> None:
    buffer = session.info.get(BUFFER_KEY)
    if not buffer:
        return
    connection = session.connection()
    for table, rows in list(buffer.items()):
        connection.execute(sa.insert(table), rows)
    buffer.clear()


def install_outbox(cls: type, entity: EntitySpec, table: sa.Table) -> None:
    @event.listens_for(cls, "after_insert")
    def created(mapper: Any, connection: sa.Connection, target: Any) -> None:
        _write(connection, table, entity, target, "created", _all_values(entity, _reader(target), new=True))

    @event.listens_for(cls, "after_update")
    def updated(mapper: Any, connection: sa.Connection, target: Any) -> None:
        changes = _changed(entity, target)
        if changes:
            _write(connection, table, entity, target, "updated", changes)

    @event.listens_for(cls, "after_delete")
    def deleted(mapper: Any, connection: sa.Connection, target: Any) -> None:
        _write(connection, table, entity, target, "deleted", _all_values(entity, _reader(target), new=False))


def install_session_signal(session_class: Any) -> None:
    """After a commit that wrote events, wake the dispatcher; a rollback forgets them; a flush
    inside `buffered_events` writes its buffered events at its end.

    Installed on SQLAlchemy's own Session class, which lives as long as the process, so that
    every session (each app's sessionmaker makes its own subclass) hears these. Not on a
    sessionmaker's subclass: SQLAlchemy's listener registry is keyed by the class's id(), so
    after such a class is collected a new class at the same address reads as already listened
    to, and a batch's buffered events were silently never written."""
    if event.contains(session_class, "after_commit", _after_commit):
        return
    event.listen(session_class, "after_commit", _after_commit)
    event.listen(session_class, "after_rollback", _after_rollback)
    event.listen(session_class, "after_flush", _drain)


def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():  # a SAVEPOINT released (SQLAlchemy signals those too): not yet
        return
    if session.info.pop(PENDING_KEY, False):
        for listener in list(_listeners):
            listener(session)


def _after_rollback(session: Session) -> None:
    session.info.pop(PENDING_KEY, None)
    buffer = session.info.get(BUFFER_KEY)
    if buffer:  # rows of a flush that failed
        buffer.clear()
