"""Run an import as a job: every row through the record commands, each row atomic.

A row is written with its line in crm_import_row in one transaction, so a worker
killed mid-file loses nothing and doubles nothing: the retry skips the rows the log
holds and goes on. Duplicates are judged after normalisation, against the database
(in the user's scope) and against earlier rows of the file; a re-run of the same file
creates nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

from app.jobs import JobContext, job_handler
from app.jobs.acting import record_context
from app.records.commands import (
    CommandError,
    CreateRecord,
    FieldErrors,
    Forbidden,
    RecordContext,
    UpdateRecord,
)
from app.records.normalise import normalise_values

from .cells import CellReader
from .files import SourceFile, count_rows, iter_rows
from .mapping import OWNER, ImportPlan, check_plan
from .messages import text
from .report import error_report

OUTCOMES = ("created", "updated", "unchanged", "duplicate", "rejected")
BATCH_ROWS = (20, 500)  # rows a commit, least and most: progress, cancel and resume go by batch
BATCH_SECONDS = 0.5  # the batch size adapts so a transaction holds its locks about this long
IMPORT_KIND = "import"


@dataclass
class Outcome:
    outcome: str
    record_id: int | None = None
    version: int | None = None
    column: str | None = None
    reason: str | None = None
    data: Any = None


def stored(f: Any, record: Any) -> Any:
    """A field's value on a record, as the import compares it (links: sorted ids)."""
    if f.type == "links":
        return sorted(item.id for item in getattr(record, f.name) or [])
    return getattr(record, f.column_name)


def as_json(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def same(f: Any, new: Any, old: Any) -> bool:
    if f.type == "links":
        return sorted(new or []) == (old or [])
    if new in (None, "") or old in (None, ""):
        return new in (None, "") and old in (None, "")
    if isinstance(new, Decimal) or isinstance(old, Decimal):
        try:
            return Decimal(str(new)) == Decimal(str(old))
        except ArithmeticError:
            return False
    return bool(new == old)


class KeepNumbersCreate(CreateRecord):
    """CreateRecord that keeps the autonumbers a file brings (every rule of the command still
    applies); the counter then moves past them, so the next record never repeats one."""

    def __init__(self, ctx: RecordContext, entity: str, values: dict[str, Any], numbers: dict[str, str]):
        super().__init__(ctx, entity, values)
        self.numbers = numbers

    def _assign(self, record: Any) -> None:
        super()._assign(record)
        for name, value in self.numbers.items():
            setattr(record, name, value)
            move_counter(self.ctx, self.entity.name, self.entity.field(name), value)


PLACEHOLDER = re.compile(r"\\\{0+\\\}")  # `{0000}` once escaped


def move_counter(ctx: RecordContext, entity: str, f: Any, value: str) -> None:
    """Make the autonumber counter of `f` at least the number in `value` (when it has the format)."""
    pattern = PLACEHOLDER.sub(lambda _: r"(\d+)", re.escape(f.format or "{0000}"), count=1)
    match = re.fullmatch(pattern, value)
    if match is None:
        return
    number, counter = int(match.group(1)), ctx.models.core["crm_counter"]
    key = (counter.c.entity == entity) & (counter.c.field == f.name)
    moved = ctx.session.execute(sa.update(counter).where(key, counter.c.last < number).values(last=number)).rowcount
    if not moved and ctx.session.execute(sa.select(counter.c.last).where(key)).first() is None:
        ctx.session.execute(sa.insert(counter).values(entity=entity, field=f.name, last=number))


class Importer:
    """One import's rows, one at a time, as the importing user."""

    def __init__(self, ctx: RecordContext, plan: ImportPlan, log: sa.Table, job_id: int, lang: str | None):
        self.ctx, self.plan, self.log, self.job_id, self.lang = ctx, plan, log, job_id, lang
        self.entity = ctx.entity(plan.entity)
        self.model = ctx.models.model(plan.entity)
        self.reader = CellReader(ctx, self.entity, plan, lang)
        self.column_of = {name: column for column, name in plan.mapping.items() if name}
        self.fallback = tuple(n for n in self.column_of if n != OWNER and self.entity.field(n).type != "autonumber")
        self.keysets = self._keysets()
        self.seen: dict[tuple[str, ...], dict[Any, int]] = defaultdict(dict)
        self.dry = False  # preview: validate each row as the command would, write nothing

    # -- how rows are told apart ---------------------------------------------------------
    def _keysets(self) -> list[tuple[str, ...]]:
        """Update/upsert: the match keys. Create: each unique field, autonumber or set mapped (none:
        a row is judged on all the columns it fills, see `_judging`)."""
        if self.plan.keys:
            return [tuple(self.plan.keys)]
        mapped = [n for n in self.column_of if n != OWNER]
        sets: list[tuple[str, ...]] = [(n,) for n in mapped
                                       if self.entity.field(n).unique or self.entity.field(n).type == "autonumber"]
        sets += [tuple(s) for s in self.entity.unique if all(n in mapped for n in s)]
        return sets

    def _judging(self, values: dict[str, Any]) -> list[tuple[str, ...]]:
        """The key sets a row is judged on: those it fills; a create row that fills none (a blank
        number or unique field) is judged on all its columns, so a re-run still creates nothing."""
        names = [k for k in self.keysets if self._key(k, values) is not None]
        if not names and not self.plan.keys:
            filled = tuple(n for n in self.fallback if values.get(n) not in (None, "", []))
            names = [filled] if filled else []
        return names

    def _key(self, names: tuple[str, ...], values: dict[str, Any]) -> Any:
        key = []
        for name in names:
            value = values.get(name)
            if value in (None, "", []):
                return None
            f = self.entity.field(name)
            value = tuple(sorted(value)) if isinstance(value, list) else value
            key.append(value.casefold() if f.unique_ignore_case and isinstance(value, str) else value)
        return tuple(key)

    def _matches(self, names: tuple[str, ...], values: dict[str, Any]) -> list[int]:
        clauses = []
        for name in names:
            f = self.entity.field(name)
            value = values[name]
            if f.type == "links":
                return []  # a many-to-many is no key
            column = getattr(self.model, f.column_name)
            ignore = f.unique_ignore_case and isinstance(value, str)
            clauses.append(sa.func.lower(column) == value.lower() if ignore else column == value)
        stmt = sa.select(self.model.id).where(*clauses).order_by(self.model.id).limit(2)
        if self.ctx.access is not None:
            stmt = self.ctx.access.records(self.ctx.models, self.entity.name).where(stmt)
        return list(self.ctx.session.scalars(stmt))

    # -- one row -------------------------------------------------------------------------
    def _rejected(self, errors: dict[str, list[str]], cells: list[Any]) -> Outcome:
        by_column = {self.column_of.get(name, name): messages for name, messages in errors.items()}
        column, messages = next(iter(by_column.items()))
        return Outcome("rejected", column=column if column != "_schema" else "", reason=" ".join(messages),
                       data={"cells": [as_json(c) for c in cells], "errors": by_column})

    def remember(self, row: int, cells: list[Any]) -> None:
        """A row a past attempt imported: its keys still make later rows duplicates."""
        values, errors = self.reader.read(cells)
        if not errors and not normalise_values(self.entity, values, self.lang):
            self._see(values, row)

    def _see(self, values: dict[str, Any], row: int) -> None:
        for names in self._judging(values):
            self.seen[names].setdefault(self._key(names, values), row)

    def process(self, row: int, cells: list[Any]) -> Outcome:
        if len(cells) > len(self.plan.columns):  # an unquoted separator, most likely
            return Outcome("rejected", column="", data={"cells": [as_json(c) for c in cells]},
                           reason=text("too_many_cells", self.lang, n=len(cells), m=len(self.plan.columns)))
        values, errors = self.reader.read(cells)
        if errors:
            return self._rejected(errors, cells)
        norm = dict(values)
        errors = normalise_values(self.entity, norm, self.lang)
        if errors:
            return self._rejected(errors, cells)
        for names in self._judging(norm):
            key = self._key(names, norm)
            if key in self.seen[names]:
                return Outcome("duplicate", column=self.column_of.get(names[0]),
                               reason=text("duplicate_row", self.lang, row=self.seen[names][key]))
        record = None
        if self.plan.mode in ("update", "upsert"):
            keys = tuple(self.plan.keys)
            label = ", ".join(self.column_of.get(k, k) for k in keys)
            ids = self._matches(keys, norm) if self._key(keys, norm) is not None else []
            if len(ids) > 1:
                return Outcome("rejected", column=self.column_of.get(keys[0]),
                               reason=text("many_match", self.lang, n=len(ids), keys=label))
            if not ids and self.plan.mode == "update":
                return Outcome("rejected", column=self.column_of.get(keys[0]),
                               reason=text("no_match", self.lang, keys=label))
            record = self.ctx.session.get(self.model, ids[0]) if ids else None
        else:
            for names in self._judging(norm):
                ids = self._matches(names, norm)
                if ids:
                    self._see(norm, row)
                    return Outcome("duplicate", record_id=ids[0], column=self.column_of.get(names[0]),
                                   reason=text("duplicate_record", self.lang, id=ids[0]))
        outcome = self._create(values) if record is None else self._update(record, values, norm)
        self._see(norm, row)
        return outcome

    def _create(self, values: dict[str, Any]) -> Outcome:
        numbers = {n: values.pop(n) for n in list(values) if self.entity.field(n).type == "autonumber"}
        command = KeepNumbersCreate(self.ctx, self.entity.name, values, numbers)
        command.autocommit = False
        if self.dry:
            command.validate()
            return Outcome("created")
        record = command.run()
        return Outcome("created", record_id=record.id, version=record.version)

    def _update(self, record: Any, values: dict[str, Any], norm: dict[str, Any]) -> Outcome:
        changes, old = {}, {}
        for name, value in values.items():
            f = self.entity.field(name)
            if name == OWNER or f.type == "autonumber" or (name in self.plan.keys and self.plan.mode == "update"):
                continue
            current = stored(f, record)
            if not same(f, norm[name], current):
                changes[name], old[name] = value, as_json(current)
        if not changes:
            return Outcome("unchanged", record_id=record.id, version=record.version)
        command = UpdateRecord(self.ctx, self.entity.name, record, changes)
        command.autocommit = False
        if self.dry:
            command.validate()
            return Outcome("updated", record_id=record.id, data={"old": old})
        command.run()
        return Outcome("updated", record_id=record.id, version=record.version, data={"old": old})

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
            if savepoint.is_active:
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

    def run_batch(self, batch: list[tuple[int, list[Any]]]) -> list[str]:
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
                rows = {row for row, _ in batch}
                for keys in self.seen.values():  # forget what the lost rows made "seen"
                    for key in [k for k, r in keys.items() if r in rows]:
                        del keys[key]
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
        seen = 0
        batch: list[tuple[int, list[Any]]] = []
        size = BATCH_ROWS[0]
        for row, cells in iter_rows(source):
            seen += 1
            if row in done:
                if done[row] != "rejected":
                    self.remember(row, cells)
                continue
            batch.append((row, cells))
            if len(batch) >= size:
                started = time.monotonic()
                for outcome in self.run_batch(batch):
                    counts[outcome] += 1
                took = max(time.monotonic() - started, 1e-3)
                size = max(BATCH_ROWS[0], min(BATCH_ROWS[1], int(len(batch) * BATCH_SECONDS / took)))
                batch = []
                if job is not None:
                    job.progress(seen, total, **counts)
                    if job.cancelled():
                        break
        else:
            for outcome in self.run_batch(batch):
                counts[outcome] += 1
        if job is not None:
            job.progress(seen, total, **counts)
        return counts


def import_tables(app: Flask) -> sa.Table:
    return app.extensions["crm"].models.core["crm_import_row"]


@job_handler(IMPORT_KIND)
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
    counts = Importer(ctx, plan, log, job.job_id, lang).run(source, job)
    report = Path("imports") / f"job-{job.job_id}-errors.csv"
    rejected = error_report(ctx.session, log, job.job_id, list(plan.columns), root / report)
    ctx.session.rollback()
    result: dict[str, Any] = {"entity": plan.entity, "mode": plan.mode, "counts": counts,
                              "file_name": payload.get("file_name")}
    if rejected:
        result["files"] = {"errors": str(report)}
    return result
