"""One import row judged as the importing user: read, normalised, matched, then created or updated.

Duplicates are judged after normalisation, against the database (in the user's scope)
and against earlier rows of the file; a re-run of the same file creates nothing. Inside
a batch (`self.batch`, see batch.py) the database's answers come from the batch's
prefetch and the write waits for the batch's flush; alone (preview, the fallback of a
batch the database refused) each row asks and writes itself.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from app.records.commands import CreateRecord, FieldErrors, Forbidden, RecordContext, UpdateRecord
from app.records.normalise import normalise_values
from app.records.rules import check_value, is_empty

from .batch import Batch, BatchCreate, BatchUpdate, canon, key_of
from .cells import CellReader
from .mapping import OWNER, ImportPlan
from .messages import text
from .numbers import KeepNumbersCreate


@dataclass
class Outcome:
    outcome: str
    record_id: int | None = None
    version: int | None = None
    column: str | None = None
    reason: str | None = None
    data: Any = None
    record: Any = None  # in a batch: the record written at the batch's flush (its id and version then)
    moves: Any = None  # in a batch: the stage moves of a new record, for its history rows


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


def digest(key: Any) -> bytes:
    """A key (`RowJudge._key`'s: numbers normalised already, 12.50 is 12.5) as 16 bytes: BLAKE2b of
    its repr; values of one field have one type, so equal keys have equal reprs. Two keys
    colliding: a 2^-128 chance."""
    return hashlib.blake2b(repr(key).encode("utf-8"), digest_size=16).digest()


class RowJudge:
    """One import's rows, judged one at a time, as the importing user."""

    def __init__(self, ctx: RecordContext, plan: ImportPlan, lang: str | None):
        self.ctx, self.plan, self.lang = ctx, plan, lang
        self.entity = ctx.entity(plan.entity)
        self.model = ctx.models.model(plan.entity)
        self.reader = CellReader(ctx, self.entity, plan, lang)
        self.column_of = {name: column for column, name in plan.mapping.items() if name}
        self.fallback = tuple(n for n in self.column_of if n != OWNER and self.entity.field(n).type != "autonumber")
        self.keysets = self._keysets()
        # key set -> digest of a key met earlier in the file -> its row (a digest, not the key: 16 bytes
        # a row however wide the key, so a million-row file's duplicates fit in memory)
        self.seen: dict[tuple[str, ...], dict[bytes, int]] = defaultdict(dict)
        self._folds: dict[tuple[str, ...], tuple[bool, ...]] = {}  # key set -> its fields' unique_ignore_case
        self.dry = False  # preview: validate each row as the command would, write nothing
        self.batch: Batch | None = None
        self.direct = False  # a batch's new records written without the ORM (direct.py)

    # -- how rows are told apart ---------------------------------------------------------
    def _keysets(self) -> list[tuple[str, ...]]:
        """Update/upsert: the match keys. Create: each unique field, autonumber or set mapped (none:
        a row is judged on all the columns it fills, see `keys`)."""
        if self.plan.keys:
            return [tuple(self.plan.keys)]
        mapped = [n for n in self.column_of if n != OWNER]
        sets: list[tuple[str, ...]] = [(n,) for n in mapped
                                       if self.entity.field(n).unique or self.entity.field(n).type == "autonumber"]
        sets += [tuple(s) for s in self.entity.unique if all(n in mapped for n in s)]
        return sets

    def keys(self, values: dict[str, Any]) -> list[tuple[tuple[str, ...], Any, bytes]]:
        """(key set, key, digest) of each key set the row is judged on, worked out once a row: the
        key sets it fills; a create row that fills none (a blank number or unique field) is judged on
        all its columns, so a re-run still creates nothing."""
        result = []
        for names in self.keysets:
            key = self._key(names, values)
            if key is not None:
                result.append((names, key, digest(key)))
        if not result and not self.plan.keys:
            filled = tuple(n for n in self.fallback if not is_empty(values.get(n)))
            if filled:
                key = self._key(filled, values)
                result.append((filled, key, digest(key)))
        return result

    def _key(self, names: tuple[str, ...], values: dict[str, Any]) -> Any:
        folds = self._folds.get(names)
        if folds is None:  # which of the key's fields compare without case: once a key set
            folds = self._folds[names] = tuple(self.entity.field(n).unique_ignore_case for n in names)
        key = []
        for name, fold in zip(names, folds, strict=True):
            value = values.get(name)
            if is_empty(value):
                return None
            value = tuple(sorted(value)) if isinstance(value, list) else value
            key.append(value.casefold() if fold and isinstance(value, str) else canon(value))
        return tuple(key)

    def _matches(self, names: tuple[str, ...], values: dict[str, Any], key: Any = None) -> list[int]:
        """Up to two records of the user's scope holding the row's key `names` (the batch's answer
        when it has one, else a query). `key`: the row's `_key(names, values)` when known."""
        if self.batch is not None and names in self.batch.keys:
            found = key_of(self, names, values) if key is None else key
            return self.batch.keys[names].get(found, [])[:2]
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

    def _see(self, values: dict[str, Any], row: int, keys: Any = None) -> None:
        for names, _, key_digest in self.keys(values) if keys is None else keys:
            self.seen[names].setdefault(key_digest, row)

    def prepare(self, row: int, cells: list[Any], read: Any = None) -> Outcome | tuple[dict[str, Any], dict[str, Any]]:
        """The row's values as typed and as normalised, or its rejection. `read`: the row's
        `reader.read(cells)` when the caller read it already (a batch, a column at a time)."""
        if len(cells) > len(self.plan.columns):  # an unquoted separator, most likely
            return Outcome("rejected", column="", data={"cells": [as_json(c) for c in cells]},
                           reason=text("too_many_cells", self.lang, n=len(cells), m=len(self.plan.columns)))
        values, errors = self.reader.read(cells) if read is None else read
        norm = {k: v for k, v in values.items() if k not in errors}
        errors = {**errors, **normalise_values(self.entity, norm, self.lang)}
        if errors:
            return self._rejected(self._every_error(values, norm, errors), cells)
        return values, norm

    def _every_error(self, values: dict[str, Any], norm: dict[str, Any],
                     errors: dict[str, list[str]]) -> dict[str, list[str]]:
        """A row's cells that did not read, with what the record command says of the rest (a
        choice it does not know, a required field left blank, a range): given to it as input
        errors, as a form does, so every mistake of the row is reported at once and not one round
        at a time. Nothing is written. An update judges only the cells it fills (the required
        fields and unique values are the matched record's business, known later)."""
        values = {k: v for k, v in values.items() if k not in errors and self.entity.field(k).type != "autonumber"}
        command = CreateRecord(self.ctx, self.entity.name, values, errors)
        try:
            if self.plan.mode == "create":
                command.validate()
                return errors
            found = {**errors}
            for f in (f for f in self.entity.declared_fields if f.name in values):
                problems = check_value(f, norm.get(f.name), self.lang)
                if problems and f.name not in found:
                    found[f.name] = problems
            return found
        except FieldErrors as exc:
            return {**exc.errors, **errors}
        except Forbidden:
            return errors

    def process(self, row: int, cells: list[Any]) -> Outcome:
        prepared = self.prepare(row, cells)
        if isinstance(prepared, Outcome):
            return prepared
        return self.decide(row, *prepared)

    def decide(self, row: int, values: dict[str, Any], norm: dict[str, Any], row_keys: Any = None) -> Outcome:
        """Duplicate, rejected (no match, several), or written: created or updated. `row_keys`: the
        row's `keys(norm)` when the caller has them already."""
        row_keys = self.keys(norm) if row_keys is None else row_keys
        for names, _, key_digest in row_keys:
            earlier = self.seen[names].get(key_digest)
            if earlier is not None:
                return Outcome("duplicate", column=self.column_of.get(names[0]),
                               reason=text("duplicate_row", self.lang, row=earlier))
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
            for names, key, _ in row_keys:
                ids = self._matches(names, norm, key)
                if ids:
                    self._see(norm, row, row_keys)
                    return Outcome("duplicate", record_id=ids[0], column=self.column_of.get(names[0]),
                                   reason=text("duplicate_record", self.lang, id=ids[0]))
        outcome = self._create(values) if record is None else self._update(record, values, norm)
        self._see(norm, row, row_keys)
        return outcome

    def _create(self, values: dict[str, Any]) -> Outcome:
        numbers = {n: values.pop(n) for n in list(values) if self.entity.field(n).type == "autonumber"}
        if self.batch is not None:
            record, moves = BatchCreate(self.ctx, self.entity.name, values, numbers, self.batch,
                                        self.direct).build()
            return Outcome("created", record=record, moves=moves)
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
        if self.batch is not None:
            command = BatchUpdate(self.ctx, self.entity.name, record, changes)
            command.batch = self.batch
            command.build()
            return Outcome("updated", record=record, data={"old": old})
        command = UpdateRecord(self.ctx, self.entity.name, record, changes)
        command.autocommit = False
        if self.dry:
            command.validate()
            return Outcome("updated", record_id=record.id, data={"old": old})
        command.run()
        return Outcome("updated", record_id=record.id, version=record.version, data={"old": old})
