"""Run an import as a job: every row through the record commands, each row atomic.

Rows go in batches (sized so a batch takes about half a second, never under a floor in rows:
`next_batch_size`): the batch's lookups are read once (batch.py), its rows judged by the record
commands, its new records written in one flush, and the batch commits with the rows' lines in
crm_import_row. A batch the database refuses as a whole (a unique value raced in, a constraint
the commands do not know) is replayed row by row, each row alone, so a bad row is reported and
the rest goes in. A worker killed mid-file loses nothing and doubles nothing: the retry skips
the rows the log holds and goes on.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

from app.events.outbox import buffered_events
from app.jobs import JobContext, job_handler
from app.jobs.acting import record_context
from app.models.events import utcnow
from app.records.commands import CommandError, FieldErrors, Forbidden, RecordContext

from .batch import Batch, prefetch_keys, prefetch_links, prefetch_taken
from .columns import read_rows
from .direct import created_rows, direct_write_ok, prepared_writes
from .files import SourceFile, count_rows, iter_rows
from .judge import Outcome, RowJudge, as_json
from .mapping import ImportPlan, check_plan
from .messages import text
from .numbers import number_batch
from .overlap import Gathered, OverlappedBatches, Staged, overlap_ok, write_staged
from .progress import Tally
from .report import error_report

OUTCOMES = ("created", "updated", "unchanged", "duplicate", "rejected")
BATCH_ROWS = (20, 1000)  # rows a commit, the first batch and the most: progress, cancel and resume go by batch
BATCH_SECONDS = 0.5  # the batch size adapts so a transaction holds its locks about this long
BATCH_FLOOR = 200  # rows: the least an adapted batch holds (`CRM_IMPORT_BATCH_MIN_ROWS`)
batch_clock = time.monotonic  # what a batch's duration is measured by
IMPORT_KIND = "import"
logger = logging.getLogger(__name__)


class Importer(RowJudge):
    """One import's rows, in batches, as the importing user; each row's line in the log."""

    def __init__(self, ctx: RecordContext, plan: ImportPlan, log: sa.Table, job_id: int, lang: str | None):
        super().__init__(ctx, plan, lang)
        self.log, self.job_id = log, job_id
        self.batched = True  # False: every batch row by row (the path a refused batch replays on)
        self.direct = direct_write_ok(ctx, self.entity, self.model, self.column_of)
        self.columnar = True  # a batch's cells read a column at a time (columns.py); False: cell by cell
        self.statistics = TableStatistics(ctx.session, self.model.__table__)
        self.overlap = False  # a batch written while the next is judged (overlap.py; run_import decides)
        self.ahead = True  # with `overlap`: a batch's key query read while the batch before is judged
        self.side: Any = None  # while overlapped and reading ahead: its connection (ids taken there too)
        self.floor = BATCH_FLOOR  # run_import sets it from CRM_IMPORT_BATCH_MIN_ROWS
        self.relaxed = True  # a batch's commit does not wait for its WAL flush (CRM_IMPORT_SYNCHRONOUS_COMMIT)
        self.tally: Tally | None = None  # while `run` runs

    # -- the file ------------------------------------------------------------------------
    def _line(self, row: int, outcome: Outcome) -> dict[str, Any]:
        return {"job_id": self.job_id, "row": row, "outcome": outcome.outcome, "record_id": outcome.record_id,
                "version": outcome.version, "column": (outcome.column or "")[:255] or None,
                "reason": outcome.reason, "reverted": False,
                "data": json.dumps(outcome.data, ensure_ascii=False) if outcome.data is not None else None}

    def _failed(self, exc: Exception, cells: list[Any]) -> Outcome:
        if isinstance(exc, FieldErrors):
            return self._rejected(exc.errors, cells)
        return Outcome("rejected", column="", reason=str(exc).splitlines()[0][:500],
                       data={"cells": [as_json(c) for c in cells]})

    def run_row(self, row: int, cells: list[Any]) -> Outcome:
        """Process one row inside its own SAVEPOINT: a rejected row rolls back alone, the rows
        before it in the batch stay."""
        session = self.ctx.session
        savepoint = session.begin_nested()
        try:
            with session.no_autoflush:
                outcome = self.process(row, cells)
            if outcome.outcome in ("rejected", "duplicate"):
                savepoint.rollback()
            else:
                savepoint.commit()  # flushes the row: its errors are still this row's
        except (Forbidden, CommandError, SQLAlchemyError) as exc:
            raw = session() if callable(session) else session  # a scoped_session: its Session
            if savepoint.is_active or raw.in_nested_transaction():  # a failed flush deactivates it
                savepoint.rollback()
            outcome = self._failed(exc, cells)
        return outcome

    def run_alone(self, row: int, cells: list[Any]) -> str:
        """One row and its log line in a transaction of their own (SQLite: pysqlite opens no
        transaction before a SAVEPOINT, so its RELEASE would commit a row without its log line,
        and a long write transaction there locks out the job's heartbeat)."""
        session = self.ctx.session
        try:
            outcome = self.process(row, cells)
            if outcome.outcome in ("rejected", "duplicate"):
                session.rollback()
        except (Forbidden, CommandError, SQLAlchemyError) as exc:
            session.rollback()
            outcome = self._failed(exc, cells)
        session.execute(sa.insert(self.log).values(**self._line(row, outcome)))
        session.commit()
        return outcome.outcome

    def run_batch(self, batch: list[tuple[int, list[Any]]], reached: int = 0) -> Staged:
        """The batch written together (its progress row with it), or (refused by the database as a
        whole) row by row."""
        if self.batched:
            staged = self.run_together(batch, reached)
            if staged is not None:
                return staged
        return Staged(batch, self.run_rows(batch), [], reached=reached)

    def _forget(self, rows: set[int]) -> None:
        """Forget what rolled-back rows made "seen" (they are judged again)."""
        for keys in self.seen.values():
            for key in [k for k, r in keys.items() if r in rows]:
                del keys[key]

    def gather(self, batch: list[tuple[int, list[Any]]]) -> Gathered:
        """What judging the batch needs before its key query: its link names resolved (a query for
        the names not met yet), its cells read and normalised, each row's keys."""
        lookups = Batch()
        prefetch_links(self, batch, lookups)
        reads = read_rows(self.reader, [cells for _, cells in batch]) if self.columnar else [None] * len(batch)
        results = [(row, cells, self.prepare(row, cells, read)) for (row, cells), read in zip(batch, reads, strict=True)]
        results = [(row, cells, r if isinstance(r, Outcome) else (*r, self.keys(r[1]))) for row, cells, r in results]
        prepared = [{"values": r[0], "norm": r[1], "keys": r[2]} for _, _, r in results if not isinstance(r, Outcome)]
        return Gathered(lookups, results, prepared)

    def _judge_batch(self, batch: list[tuple[int, list[Any]]], gathered: Gathered | None = None) -> list[Outcome]:
        """Every row of the batch judged against the batch's prefetched answers; new and changed
        records wait in the session for the flush. `gathered`: the batch's `gather`, when it ran
        already (with its key query's rows, `answers`, when they were read ahead: overlap.py)."""
        gathered = self.gather(batch) if gathered is None else gathered
        lookups = self.batch = gathered.lookups
        results, prepared = gathered.results, gathered.prepared
        prefetch_keys(self, prepared, lookups, gathered.key_rows())
        prefetch_taken(self, prepared, lookups)
        outcomes = []
        for row, cells, result in results:
            if isinstance(result, Outcome):
                outcomes.append(result)
                continue
            try:
                outcomes.append(self.decide(row, *result))
            except (Forbidden, FieldErrors) as exc:  # refused before it touched the session
                outcomes.append(self._failed(exc, cells))
        return outcomes

    def stage(self, batch: list[tuple[int, list[Any]]], gathered: Gathered | None = None) -> Staged:
        """Judge the batch and build everything it writes (its new records' ids taken, autonumbers
        taken as a block, ORM changes flushed): what is left is `Staged.writes`, then the commit."""
        session = self.ctx.session
        try:
            with buffered_events(session):
                with session.no_autoflush:
                    outcomes = self._judge_batch(batch, gathered)
                    created = [o for o in outcomes if o.outcome == "created"]
                    number_batch(self.ctx, self.entity, [o.record for o in created])
                session.flush()
            records = [o.record for o in created]
            writes = created_rows(self.ctx, self.entity, self.model, records, self.side) if self.direct else []
            writes.append((self.ctx.models.core["crm_stage_history"], self._history(created)))
            lines = []
            for (row, _), outcome in zip(batch, outcomes, strict=True):
                if outcome.record is not None:
                    outcome.record_id, outcome.version = outcome.record.id, outcome.record.version
                lines.append(self._line(row, outcome))
            writes.append((self.log, lines))
            writes = prepared_writes(session, writes)  # COPY text made here, not in the writer thread
        finally:
            self.batch = None
        return Staged(batch, [o.outcome for o in outcomes], writes, announce=bool(self.direct and records))

    def run_together(self, batch: list[tuple[int, list[Any]]], reached: int = 0) -> Staged | None:
        """Judge the batch, insert its new records in one flush (autonumbers taken as a block, events
        and stage history in one statement each), its log lines and the job's progress with them,
        commit. None when the database refused the batch: it is rolled back whole, to be replayed
        row by row."""
        session = self.ctx.session
        try:
            staged = self.stage(batch)
            staged.reached = reached
            if self.tally is not None:
                self.tally.note(staged)
            if self.relaxed and session.get_bind().dialect.name == "postgresql":
                session.execute(sa.text("SET LOCAL synchronous_commit TO off"))
            write_staged(session, staged)
            session.commit()
        except (SQLAlchemyError, CommandError) as exc:
            self.refused(batch, exc)
            return None
        return staged

    def refused(self, batch: list[tuple[int, list[Any]]], exc: Exception) -> None:
        """A batch the database refused: the session rolled back, what its rows made "seen" forgotten."""
        logger.warning("import %s: batch of rows %s-%s replayed row by row: %s", self.job_id, batch[0][0],
                       batch[-1][0], str(exc).splitlines()[0][:300])
        self.ctx.session.rollback()
        self._forget({row for row, _ in batch})

    def _history(self, created: list[Outcome]) -> list[dict[str, Any]]:
        """The stage history rows of the batch's new records (entering their first stage)."""
        now = utcnow()
        return [{"entity": self.entity.name, "record_id": o.record.id, "pipeline": pipeline.name,
                 "from_stage": None, "to_stage": target, "moved_by_id": self.ctx.user_id, "moved_on": now,
                 "seconds_in_from": None} for o in created for pipeline, _, target in o.moves or ()]

    def run_rows(self, batch: list[tuple[int, list[Any]]]) -> list[str]:
        """Rows and their log lines in one transaction (one commit per batch, so a worker killed
        mid-batch loses the batch whole and its retry redoes it). A command that rolls the whole
        transaction back on a failure (a database refusal) costs a replay of the batch's earlier
        rows; the failed row is then logged rejected without running again."""
        session = self.ctx.session
        if session.get_bind().dialect.name == "sqlite":
            return [self.run_alone(row, cells) for row, cells in batch]
        failed: dict[int, Outcome] = {}
        while True:
            raw = session() if callable(session) else session  # a scoped_session: its Session
            outer = raw.get_transaction() or raw.begin()
            lines, outcomes, lost = [], [], False
            for row, cells in batch:
                outcome = failed.get(row) or self.run_row(row, cells)
                if outer is not None and not outer.is_active:  # the command rolled back everything
                    failed[row] = outcome if outcome.outcome == "rejected" else self._failed(
                        CommandError("rolled back"), cells)
                    lost = True
                    break
                lines.append(self._line(row, outcome))
                outcomes.append(outcome.outcome)
            if lost:
                session.rollback()
                self._forget({row for row, _ in batch})
                continue
            if lines:
                session.execute(sa.insert(self.log), lines)
            session.commit()
            return outcomes

    def preview(self, source: SourceFile, limit: int) -> list[dict[str, Any]]:
        """The first rows as the import would take them, nothing written: outcome, errors by column."""
        self.dry = True
        result = []
        for row, cells in iter_rows(source, limit=limit):
            try:
                outcome = self.process(row, cells)
            except FieldErrors as exc:
                outcome = self._rejected(exc.errors, cells)
            except CommandError as exc:
                outcome = Outcome("rejected", column="", reason=str(exc))
            finally:
                self.ctx.session.rollback()
            errors = (outcome.data or {}).get("errors") if outcome.outcome == "rejected" else None
            if outcome.outcome == "rejected" and not errors:
                errors = {outcome.column or "": [outcome.reason or ""]}
            result.append({"row": row, "cells": [as_json(c) for c in cells], "outcome": outcome.outcome,
                           "record_id": outcome.record_id, "errors": errors or {},
                           "note": outcome.reason if outcome.outcome == "duplicate" else None})
        return result

    def logged(self) -> dict[int, str]:
        rows = self.ctx.session.execute(sa.select(self.log.c.row, self.log.c.outcome)
                                        .where(self.log.c.job_id == self.job_id))
        result = {row: outcome for row, outcome in rows}
        self.ctx.session.rollback()
        return result

    def run(self, source: SourceFile, job: JobContext | None = None) -> dict[str, int]:
        done = self.logged()  # rows a past attempt of this job imported: skipped, not doubled
        counts = dict.fromkeys(OUTCOMES, 0)
        for outcome in done.values():
            counts[outcome] += 1
        total = count_rows(source) if job is not None else None
        tally = self.tally = Tally(job, total, counts, self.statistics.grown)
        overlapped = (OverlappedBatches(self, self.ctx.session.get_bind(), tally, self.relaxed, self.ahead)
                      if self.overlap else None)
        seen = 0
        batch: list[tuple[int, list[Any]]] = []
        size = BATCH_ROWS[0]
        try:
            for row, cells in iter_rows(source):
                seen += 1
                if row in done:
                    if done[row] != "rejected":
                        self.remember(row, cells)
                    continue
                batch.append((row, cells))
                if len(batch) >= size:
                    started = batch_clock()
                    if overlapped:
                        overlapped.feed(batch, seen)
                    else:
                        tally.settle([self.run_batch(batch, seen)])
                    took = batch_clock() - started
                    size = next_batch_size(len(batch), took, self.floor)
                    logger.debug("import %s: a batch of %d rows took %.3f s; next %d rows", self.job_id,
                                 len(batch), took, size)
                    batch = []
                    if tally.cancelled():
                        break
            else:
                if batch and overlapped:
                    overlapped.feed(batch, seen)
                elif batch:
                    tally.settle([self.run_batch(batch, seen)])
                if overlapped:
                    overlapped.flush()  # the batch read ahead
            if overlapped:
                seen = overlapped.drain(seen)
        finally:
            self.tally = None
            try:
                if overlapped:
                    overlapped.close()
            finally:
                self.statistics.wait()
        if job is not None:
            job.progress(seen, total, **counts)
        return counts


def next_batch_size(rows: int, seconds: float, floor: int) -> int:
    """Rows for the next batch: as many as `BATCH_SECONDS` holds at the last batch's pace, within
    `floor` and the ceiling. The floor is in rows, not seconds: on a loaded machine a batch takes
    longer, and shrinking it only multiplies the per-batch work (the key and link queries, the
    COPYs, the commit) for the same rows (10,000 rows made 57 batches at load 3, 185 at load 9)."""
    least, most = BATCH_ROWS[0], BATCH_ROWS[1]
    paced = int(rows * BATCH_SECONDS / max(seconds, 1e-3))
    return min(most, max(least, floor, paced))


class TableStatistics:
    """ANALYZE the entity's table (PostgreSQL) each time the import has doubled the rows it created,
    from `CRM_IMPORT_ANALYZE_ROWS` on (0: never). The batches' duplicate and link checks are planned from the table's
    statistics; a table filled faster than autovacuum looks at it (or with autovacuum off) keeps
    those of an empty table, and PostgreSQL then picks plans whose cost grows with the table
    (measured: 1,230 rows/s at 100,000 records fell to 480 at 480,000, back to 800-840 after
    one ANALYZE). About log2(rows) runs, a second or two each, outside the batch's transaction, on a thread
    of its own."""

    def __init__(self, session: Any, table: sa.Table, first: int = 20_000):
        self.session, self.table = session, table
        self.next = first
        self.running: threading.Thread | None = None  # an ANALYZE under way (its own thread and connection)

    def grown(self, created: int) -> None:
        """Called as batches commit: ANALYZE once `created` reached the next threshold. It runs on a
        thread of its own (PostgreSQL does the work; the import goes on judging meanwhile), one at
        a time; `wait` lets the last one end before the import does."""
        if not self.next or created < self.next:
            return
        self.next = created * 2
        engine = self.session.get_bind()
        if engine.dialect.name != "postgresql":
            return
        self.wait()
        self.running = threading.Thread(target=self._analyze, args=(engine,), name="import-analyze", daemon=True)
        self.running.start()

    def wait(self) -> None:
        if self.running is not None:
            self.running.join()
            self.running = None

    def _analyze(self, engine: sa.Engine) -> None:
        try:
            with engine.connect() as connection:
                connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                    f"ANALYZE {engine.dialect.identifier_preparer.format_table(self.table)}")
        except SQLAlchemyError as exc:  # not the table's owner, say: the import goes on, slower
            logger.warning("import: ANALYZE %s refused: %s", self.table.name, str(exc).splitlines()[0][:300])


def import_tables(app: Flask) -> sa.Table:
    return app.extensions["crm"].models.core["crm_import_row"]


@job_handler(IMPORT_KIND, resumable=True)  # rows logged in crm_import_row are skipped
def run_import(job: JobContext) -> dict[str, Any]:
    """The import job: payload {plan, file, kind, encoding, lang} (see app/web/imports_api.py)."""
    payload = job.payload
    lang = payload.get("lang")
    plan = ImportPlan.from_json(payload["plan"])
    ctx = record_context(job.app, job.user_id, lang)
    entity = ctx.entity(plan.entity)
    if ctx.access is not None and ctx.access.scope(entity.name, "import") == "no":
        raise PermissionError(text("no_import", lang, entity=entity.label.get(lang)))
    check_plan(plan, entity, ctx.models.spec, ctx.access, lang)
    root = Path(job.app.config["CRM_FILES_DIR"])
    source = SourceFile(root / payload["file"], payload["kind"], payload.get("encoding"))
    log = import_tables(job.app)
    importer = Importer(ctx, plan, log, job.job_id, lang)
    importer.direct = importer.direct and job.app.config.get("CRM_IMPORT_WRITE", "direct") == "direct"
    importer.columnar = job.app.config.get("CRM_IMPORT_READ", "columns") == "columns"
    importer.statistics.next = int(job.app.config.get("CRM_IMPORT_ANALYZE_ROWS", 20_000))
    importer.floor = int(job.app.config.get("CRM_IMPORT_BATCH_MIN_ROWS", BATCH_FLOOR))
    importer.overlap = overlap_ok(importer, job.app.config.get("CRM_IMPORT_OVERLAP", "on"))
    importer.ahead = str(job.app.config.get("CRM_IMPORT_READ_AHEAD", "on")).lower() not in ("off", "0", "false", "no")
    importer.relaxed = str(job.app.config.get("CRM_IMPORT_SYNCHRONOUS_COMMIT", "off")).lower() in ("off", "0", "false", "no")
    counts = importer.run(source, job)
    report = Path("imports") / f"job-{job.job_id}-errors.csv"
    rejected = error_report(ctx.session, log, job.job_id, list(plan.columns), root / report)
    ctx.session.rollback()
    result: dict[str, Any] = {"entity": plan.entity, "mode": plan.mode, "counts": counts,
                              "file_name": payload.get("file_name")}
    if rejected:
        result["files"] = {"errors": str(report)}
    return result
