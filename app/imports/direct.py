"""A batch's new records written without the ORM: COPY on PostgreSQL, one executemany elsewhere.

The rows are judged exactly as before (the record commands' validate(): parsing, normalisers,
rules, conditions, gates, pipelines, links, uniqueness); what changes is the write. The ORM's
unit of work and its per-object events cost about half of an import's time and its
multi-row INSERT about 200 µs a row on PostgreSQL; here the batch's ids are taken from the
sequence in one statement and the records, their outbox events, their stage history and the
import's log lines each go in one COPY. What the ORM's insert hooks do is done here with the
same functions (`stamp_new`, `created_events`, the version starting at 1). An entity whose
inserts need more than that (a stored formula, a many-to-many field, a plugin's
`crm_before_insert` or a listener of its own on the model) keeps the ORM's write.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from app.events.outbox import created_events
from app.models.actor import acting_user_id
from app.models.events import TABLES_WRITTEN, stamp_new, utcnow

OWN_LISTENERS = {"before_insert": 1, "after_insert": 1}  # stamps/autonumbers, the outbox event


class PendingRecord:
    """A new record before its row is written: the attributes set on it, None for the others."""

    # read by `stamp_new` for every record before it sets them: None found here, not via __getattr__
    created_on: Any = None
    changed_on: Any = None
    created_by_id: Any = None
    changed_by_id: Any = None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return None

    def values(self) -> dict[str, Any]:
        return dict(vars(self))


def direct_write_ok(ctx: Any, entity: Any, model: Any, mapped: Iterable[str]) -> bool:
    """Whether the batch's new records of `entity` may skip the ORM (see the module's docstring)."""
    if any(entity.field(n).type == "links" for n in mapped if n in entity.field_map):
        return False
    if any(f.computed is not None and f.computed.stored for f in entity.fields):
        return False
    hooks = ctx.hooks
    if hooks is not None and hooks.crm_before_insert.get_hookimpls():
        return False
    dispatch = sa.inspect(model).dispatch
    return all(len(getattr(dispatch, kind)) == count for kind, count in OWN_LISTENERS.items())


def created_rows(ctx: Any, entity: Any, model: Any, records: list[PendingRecord],
                 side: Any = None) -> list[tuple[sa.Table, list[dict[str, Any]]]]:
    """Stamp the batch's new records and give them their ids and version; the rows still to write,
    (table, rows): the records (PostgreSQL: SQLite inserted them to learn their ids) and their
    outbox events. Built in the importing thread (the stamps read the acting user), written by
    `send_writes` on whichever connection commits the batch. `side` (PostgreSQL, overlap.KeyReader):
    a connection of its own that takes the ids from the sequence while the events' values are made
    (they do not read the id)."""
    if not records:
        return []
    now, actor = utcnow(), acting_user_id()
    for record in records:
        stamp_new(record, now, actor)
        record.version = 1
    table: sa.Table = model.__table__
    postgresql = _dialect(ctx.session) == "postgresql"
    taking = side.submit_one(_ids_statement(table, len(records))) if side is not None and postgresql else None

    def ids() -> list[int]:
        found = _taken(taking) if taking is not None else None
        found = _ids(ctx.session, table, [r.values() for r in records]) if found is None else found
        for record, record_id in zip(records, found, strict=True):
            record.id = record_id
        return found

    events = created_events(entity, records, lambda r: vars(r).get, ids)
    writes = [(table, [r.values() for r in records])] if postgresql else []
    writes.append((ctx.models.core["crm_event"], events))
    return writes


def _taken(future: Any) -> list[int] | None:
    """The ids a side connection took (None: it failed, and the importing session takes them)."""
    try:
        return [int(i) for (i,) in future.result()]
    except SQLAlchemyError:
        return None


def _dialect(session: Any) -> str:
    return str(session.get_bind().dialect.name)


def _ids(session: Any, table: sa.Table, rows: list[dict[str, Any]]) -> list[int]:
    """PostgreSQL: ids taken from the table's sequence (the rows are COPYed after). Elsewhere:
    the rows inserted here, in one executemany, their ids returned in order."""
    if _dialect(session) == "postgresql":
        return [int(i) for i in session.execute(_ids_statement(table, len(rows))).scalars()]
    groups: dict[tuple[str, ...], list[int]] = {}
    for index, row in enumerate(rows):
        groups.setdefault(tuple(sorted(row)), []).append(index)
    ids: list[int] = [0] * len(rows)
    for keys, indexes in groups.items():
        stmt = sa.insert(table).returning(table.c.id, sort_by_parameter_order=True)
        found = session.execute(stmt, [{k: rows[i][k] for k in keys} for i in indexes]).scalars().all()
        for index, record_id in zip(indexes, found, strict=True):
            ids[index] = int(record_id)
    return ids


def _ids_statement(table: sa.Table, count: int) -> Any:
    """`count` ids from the table's sequence (PostgreSQL)."""
    sequence = sa.func.pg_get_serial_sequence(table.name, "id")
    return sa.select(sa.func.nextval(sequence)).select_from(sa.func.generate_series(1, count))


@dataclass(frozen=True)
class CopyText:
    """Rows of one table as one COPY statement and its text, made before the batch's transaction
    (in the importing thread: the writer thread then only sends them, see overlap.py)."""

    table: sa.Table
    statement: str
    text: str


def copy_texts(dialect: Any, table: sa.Table, rows: list[dict[str, Any]]) -> list[CopyText]:
    """PostgreSQL: the rows as a COPY a set of columns (columns a row leaves out take their server
    default, as the ORM's INSERT leaves them out)."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(row), []).append(row)
    copies = []
    for keys, group in groups.items():
        # the processors SQLAlchemy binds with (the dialect's own types: psycopg2 takes a Decimal as it is;
        # the generic Numeric's processor would send it through a float, 18 digits inexact)
        processors = [table.c[k].type.dialect_impl(dialect).bind_processor(dialect) for k in keys]
        names = ", ".join(dialect.identifier_preparer.quote(k) for k in keys)
        statement = f"COPY {dialect.identifier_preparer.format_table(table)} ({names}) FROM STDIN"
        copies.append(CopyText(table, statement, _copy_lines(keys, processors, group)))
    return copies


def prepared_writes(session: Any, writes: list[tuple[sa.Table, list[dict[str, Any]]]]) -> list[Any]:
    """A batch's (table, rows) as they go to the database: CopyTexts on PostgreSQL, else as they are."""
    if _dialect(session) != "postgresql":
        return [(table, rows) for table, rows in writes if rows]
    dialect = session.get_bind().dialect
    return [copy for table, rows in writes if rows for copy in copy_texts(dialect, table, rows)]


def send_writes(session: Any, writes: list[Any]) -> None:
    """`prepared_writes` into their tables in the session's transaction (the caller commits)."""
    for write in writes:
        if isinstance(write, CopyText):
            send_copy(session, write)
        else:
            insert_rows(session, *write)


def insert_rows(session: Any, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """Rows into `table` in the session's transaction: COPY on PostgreSQL, one executemany elsewhere."""
    if not rows:
        return
    if _dialect(session) == "postgresql":
        for copy in copy_texts(session.get_bind().dialect, table, rows):
            send_copy(session, copy)
        return
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(row), []).append(row)
    for group in groups.values():
        session.execute(sa.insert(table), group)


def send_copy(session: Any, copy: CopyText) -> None:
    """One COPY, its text handed to psycopg2 in one read: it takes the GIL back after each read
    (8 KB by default), and a thread that wants the GIL back while another computes waits up to the
    switch interval (5 ms) each time, so a batch's COPYs in 8 KB pieces cost the writer thread
    seconds of an import (about a hundred pieces a batch of 1,000 records)."""
    connection = session.connection()
    dialect = connection.dialect
    raw = connection.connection.dbapi_connection
    try:
        raw.cursor().copy_expert(copy.statement, io.StringIO(copy.text), size=max(len(copy.text), 8192))
    except dialect.loaded_dbapi.Error as exc:  # a refused batch: replayed row by row
        raise DBAPIError.instance(copy.statement, None, exc, dialect.loaded_dbapi.Error) from exc
    connection.info.setdefault(TABLES_WRITTEN, set()).add(copy.table.name)  # COPY bypasses the cursor events


def _copy_lines(keys: tuple[str, ...], processors: list[Any], rows: list[dict[str, Any]]) -> str:
    """The rows' COPY text, made a column at a time (the same text a cell at a time makes): a
    column of one type, empty cells aside, is written by that type's writer mapped over it, a
    text column with nothing to escape is taken as it is, an empty column is all `\\N`; a column
    of mixed types is written a cell at a time by `_copy_text`."""
    if not rows:
        return ""
    columns = [_column_text([row[key] for row in rows], process) for key, process in zip(keys, processors, strict=True)]
    return "\n".join(map("\t".join, zip(*columns, strict=True))) + "\n"


def _column_text(values: list[Any], process: Callable[[Any], Any] | None) -> list[str]:
    """One column's cells in COPY's text format; `process`: its type's bind processor (JSON...)."""
    if process is not None:
        values = [None if value is None else process(value) for value in values]
    kinds = set(map(type, values))
    empty = NONE in kinds
    kinds.discard(NONE)
    if not kinds:
        return ["\\N"] * len(values)
    write = COPY_TEXT.get(next(iter(kinds))) if len(kinds) == 1 else None
    if write is None:
        return [_copy_text(value) for value in values]
    if write is COPY_TEXT[dt.datetime]:  # a batch's stamps are one object (one clock): written once
        texts = {key: "\\N" if value is None else write(value) for key, value in {id(v): v for v in values}.items()}
        return [texts[key] for key in map(id, values)]
    if write is _escaped and not empty and not _escapes("".join(values)):
        return values  # text with nothing to escape: the cells as they are
    if not empty:
        return list(map(write, values))
    return ["\\N" if value is None else write(value) for value in values]


def _escaped(text: str) -> str:
    if not _escapes(text):
        return text
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _escapes(text: str) -> bool:
    """Whether the text holds a character COPY's text format escapes (four searches of the
    text: a regular expression's character class is several times slower on a batch's text)."""
    return "\\" in text or "\t" in text or "\n" in text or "\r" in text


NONE = type(None)
COPY_TEXT: dict[type, Callable[[Any], str]] = {  # by exact type: the cell's formatting without a chain of tests
    str: _escaped, int: str, Decimal: str, float: str, bool: {True: "t", False: "f"}.__getitem__,
    dt.datetime: functools.partial(dt.datetime.isoformat, sep=" "), dt.date: dt.date.isoformat,
    type(None): "\\N".format,  # str.format ignores an argument its text does not name: always \N
}


def _copy_text(value: Any) -> str:
    """One value in COPY's text format."""
    write = COPY_TEXT.get(type(value))
    if write is not None:
        return write(value)
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (dt.date, Decimal, int, float)):
        return str(value) if not isinstance(value, dt.date) else value.isoformat()
    return _escaped(str(value))
