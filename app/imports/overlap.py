"""A batch's write overlapped with the judging of the next one (PostgreSQL, create mode).

An import spends its time in two places one after the other: the app's CPU judging a batch
(the record commands) and PostgreSQL writing it (the COPYs of records, events, stage history
and log lines, their indexes and foreign keys, the commit). psycopg2 releases the GIL while
PostgreSQL works, so a writer thread with a connection of its own commits batch N while the
importing thread judges batch N+1, and both cores work at once.

What holds as before: a batch is one transaction (its records with their log lines); batches
commit in file order (one writer, one batch in flight); a row of N+1 that repeats a row of N is
a duplicate of that row either way (in-file duplicates are judged from memory before the
database, batch.py); a batch the database refuses is replayed row by row, and the batch judged
meanwhile (on the assumption that the refused one went in) is forgotten and judged again after
the replay. Progress counts committed batches only, so a worker killed mid-file resumes from
the log lines as before. Not overlapped: update and upsert (their changes go through the ORM
on the importing session), SQLite, an entity the file links to itself (a row may name a
record of the batch before, which must be committed to be found) and an entity with an
autonumber (a batch's blank numbers are given after its rows are judged, so the next batch
would judge its imported numbers against a counter and a table that do not show them yet).
"""

from __future__ import annotations

import contextvars
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from app.events.outbox import mark_written
from app.records.commands import CommandError

from .batch import key_statements
from .direct import send_writes


@dataclass
class Gathered:
    """A batch read before its key query (`Importer.gather`): the lookups so far, each row's reading
    (values, normalised values, keys; or its rejection) and the rows to look up."""

    lookups: Any  # batch.Batch
    results: list[Any]
    prepared: list[dict[str, Any]]
    answers: Future[dict[tuple[str, ...], list[Any]]] | None = field(default=None, repr=False)

    def key_rows(self) -> dict[tuple[str, ...], list[Any]] | None:
        """The key query's rows when it was read ahead (None: `prefetch_keys` runs it itself, as it
        does when that read failed: a lost connection only costs the wait)."""
        answers, self.answers = self.answers, None
        if answers is None:
            return None
        try:
            return answers.result()
        except SQLAlchemyError:
            return None


@dataclass
class Staged:
    """A judged batch: its rows, their outcomes, and the (table, rows) left to write before its commit."""

    batch: list[tuple[int, list[Any]]]
    outcomes: list[str]
    writes: list[Any]  # direct.prepared_writes: COPY texts on PostgreSQL, made before the transaction
    announce: bool = False  # events written without the ORM: the commit wakes the outbox dispatcher
    reached: int = 0  # the file's rows read when the batch was cut (progress, once it commits)
    progress: Any = None  # the job's progress row as it stands once this batch commits (progress.py)
    cancel: bool = False  # what that row said of a cancel request, read when it was written
    future: Future[None] | None = field(default=None, repr=False)


def write_staged(session: Any, staged: Staged) -> None:
    """The batch's rows into their tables, and the job's progress, in `session`'s transaction
    (the caller commits)."""
    send_writes(session, staged.writes)
    if staged.announce:
        mark_written(session)
    if staged.progress is not None:
        staged.cancel = bool(session.execute(staged.progress).scalar())


def overlap_ok(importer: Any, setting: Any) -> bool:
    """Whether this import may write a batch while it judges the next (see the module's docstring)."""
    if str(setting or "on").lower() in ("off", "0", "false", "no"):
        return False
    if not importer.direct or importer.plan.mode != "create":
        return False
    if importer.ctx.session.get_bind().dialect.name != "postgresql":
        return False
    entity = importer.entity
    if any(f.type == "autonumber" for f in entity.fields):
        return False
    return not any(entity.field(n).type in ("link", "links") and entity.field(n).target == entity.name
                   for n in importer.column_of if n in entity.field_map)


class BatchWriter:
    """One thread and one connection of its own that write and commit staged batches, one at a time.
    `relaxed`: its commits do not wait for their WAL flush (synchronous_commit off on PostgreSQL, on
    this connection only, reset when it goes back to the pool; see docs/import.md)."""

    def __init__(self, engine: sa.Engine, relaxed: bool = False):
        self.connection = engine.connect()
        self.relaxed = relaxed and engine.dialect.name == "postgresql"
        if self.relaxed:
            self.connection.exec_driver_sql("SET synchronous_commit TO off")
            self.connection.commit()
        self.session = Session(bind=self.connection)
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-writer")

    def submit(self, staged: Staged) -> None:
        # the importing thread's context (the app, the acting user) goes with the write: the
        # commit's listeners (outbox dispatcher, chart cache) see what they would see there
        context = contextvars.copy_context()
        staged.future = self.executor.submit(context.run, self._write, staged)

    def _write(self, staged: Staged) -> None:
        try:
            write_staged(self.session, staged)
            self.session.commit()
        except BaseException:
            self.session.rollback()
            raise

    def close(self) -> None:
        self.executor.shutdown(wait=True)
        self.session.close()
        try:
            if self.relaxed:
                self.connection.exec_driver_sql("RESET synchronous_commit")
                self.connection.commit()
        except SQLAlchemyError:  # a broken connection: the pool drops it
            self.connection.invalidate()
        finally:
            self.connection.close()


class KeyReader:
    """One thread and one connection of its own (autocommit) that run a batch's key query while the
    importing thread judges the batch before it (psycopg2 releases the GIL while PostgreSQL works)."""

    def __init__(self, engine: sa.Engine):
        self.connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-keys")

    def submit(self, statements: dict[tuple[str, ...], Any]) -> Future[dict[tuple[str, ...], list[Any]]]:
        return self.executor.submit(self._read, statements)

    def submit_one(self, statement: Any) -> Future[list[Any]]:
        return self.executor.submit(self._read_one, statement)

    def _read_one(self, statement: Any) -> list[Any]:
        return [tuple(r) for r in self.connection.execute(statement)]

    def _read(self, statements: dict[tuple[str, ...], Any]) -> dict[tuple[str, ...], list[Any]]:
        return {names: [tuple(r) for r in self.connection.execute(stmt)] for names, stmt in statements.items()}

    def close(self) -> None:
        self.executor.shutdown(wait=True)
        try:
            self.connection.close()
        except SQLAlchemyError:  # a broken connection: the pool drops it
            pass


class OverlappedBatches:
    """Feeds an Importer's batches through a BatchWriter: `feed` judges a batch while the one before
    it is written, and settles (`Tally.settle`) the batches that finished, in file order."""

    def __init__(self, importer: Any, engine: sa.Engine, tally: Any, relaxed: bool = False, ahead: bool = True):
        self.importer, self.tally = importer, tally
        self.writer = BatchWriter(engine, relaxed)
        self.in_flight: Staged | None = None
        # `ahead`: a batch is read (`gather`) and its key query sent before the batch before it is
        # judged, so that query runs while the importing thread judges (KeyReader)
        self.keys = KeyReader(engine) if ahead else None
        importer.side = self.keys  # a batch's ids taken there while its events are made (direct.created_rows)
        self.waiting: tuple[list[tuple[int, list[Any]]], int, Gathered | None] | None = None
        self.judged = 0  # the file's rows read up to the end of the last batch judged (not read ahead)

    def feed(self, batch: list[tuple[int, list[Any]]], reached: int) -> None:
        if self.keys is None:
            self._stage(batch, reached, None)
            return
        if self.waiting is None:  # the rows read before this batch (those a past attempt logged among them)
            self.judged = reached - len(batch)
        gathered = self._gather(batch)
        waiting, self.waiting = self.waiting, (batch, reached, gathered)
        if waiting is not None:
            self._stage(*waiting)

    def _gather(self, batch: list[tuple[int, list[Any]]]) -> Gathered | None:
        """The batch read and its key query sent (None: a query of its reading failed; the batch is
        then judged whole when its turn comes, as without the read ahead)."""
        importer, session = self.importer, self.importer.ctx.session
        try:
            with session.no_autoflush:
                gathered = importer.gather(batch)
                statements = key_statements(importer, gathered.prepared)
        except (SQLAlchemyError, CommandError):
            session.rollback()
            return None
        if statements and self.keys is not None:
            gathered.answers = self.keys.submit(statements)
        return gathered

    def flush(self) -> None:
        """Judge and send the batch read ahead (the end of the file)."""
        waiting, self.waiting = self.waiting, None
        if waiting is not None:
            self._stage(*waiting)

    def _stage(self, batch: list[tuple[int, list[Any]]], reached: int, gathered: Gathered | None) -> None:
        importer, session = self.importer, self.importer.ctx.session
        self.judged = reached
        try:
            staged: Staged | None = importer.stage(batch, gathered)
            session.commit()  # the reads' snapshot (and an autonumber block) let go before the write
        except (SQLAlchemyError, CommandError) as exc:
            importer.refused(batch, exc)
            staged = None
        replayed = self._finish()
        if replayed and staged is not None:  # judged as if the refused batch had gone in: again
            importer._forget({row for row, _ in batch})
            staged = None
            try:
                staged = importer.stage(batch)
                session.commit()
            except (SQLAlchemyError, CommandError) as exc:
                importer.refused(batch, exc)
                staged = None
        if replayed and self.waiting is not None and self.waiting[2] is not None:
            self.waiting[2].key_rows()  # read before the replay: asked again when that batch is judged
        if staged is None:
            self.tally.settle([Staged(batch, importer.run_rows(batch), [], reached=reached)])
            return
        staged.reached = reached
        self.tally.note(staged)  # every batch before it settled: its counts are known
        self.writer.submit(staged)
        self.in_flight = staged

    def _finish(self) -> bool:
        """Wait for the batch in flight and settle it (refused: its rows replayed one by one first);
        whether it was refused."""
        staged, self.in_flight = self.in_flight, None
        if staged is None or staged.future is None:
            return False
        try:
            staged.future.result()
        except (SQLAlchemyError, CommandError) as exc:
            self.importer.refused(staged.batch, exc)
            self.tally.settle([Staged(staged.batch, self.importer.run_rows(staged.batch), [],
                                      reached=staged.reached)])
            return True
        self.tally.settle([staged])
        return False

    def drain(self, seen: int) -> int:
        """Finish the batch in flight (the end of the file, after `flush`; a cancel: a batch read
        ahead is dropped, nothing of it written). `seen`: the file's rows read; returned as the
        rows read up to the last batch judged when a batch read ahead was dropped."""
        if self.waiting is not None:
            self.waiting, seen = None, self.judged
        self._finish()
        return seen

    def close(self) -> None:
        """Let the batch in flight end (committed or not) before the job does; its log lines say which."""
        self.in_flight = self.waiting = self.importer.side = None
        try:
            self.writer.close()
        finally:
            if self.keys is not None:
                self.keys.close()
