"""What a batch of import rows reads from the database, read once for the whole batch.

Row by row, an import asks the database for each row's link targets, its duplicates and
its unique values: about eight round trips a row. A batch asks once per link column and
once per key instead (`IN` over the batch's values) and keeps the answers here; the
record commands then judge each row against these answers, with the same rules and
the same messages, and the batch's records go to the database in one flush (one multi-row
INSERT, its events and stage history in one statement each). Anything the prefetch does
not cover (a key on a multichoice, an entity titled by its id) is asked row by row as before.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from app.records.commands import CreateRecord, UpdateRecord
from app.records.conditions import condition_reads
from app.records.stages import set_stage

from .direct import PendingRecord

PLAIN = ("string", "email", "phone", "url", "integer", "decimal", "money", "percent", "date", "datetime",
         "boolean", "choice", "link", "user", "autonumber", "text")


@dataclass
class Batch:
    """One batch's answers from the database; `held` keeps the records it loaded in the session's
    identity map (a weak map), so the commands' `session.get` finds them without a query."""

    held: list[Any] = field(default_factory=list)
    keys: dict[tuple[str, ...], dict[Any, list[int]]] = field(default_factory=dict)  # key -> record ids
    link_ids: dict[str, set[int]] = field(default_factory=dict)  # link field -> ids the user may read
    taken: dict[str, set[Any]] = field(default_factory=dict)  # unique field -> values held (any record)
    assignees: dict[tuple[str, Any], list[str]] = field(default_factory=dict)  # (field, user) -> errors


def prefetch_links(importer: Any, rows: list[tuple[int, list[Any]]], batch: Batch) -> None:
    """Resolve every link name of the batch (one query a link column for names not seen yet)
    and load the linked records a condition or rule reads through (`account.tier`; one query a
    link column), for the commands' checks."""
    reader, session, spec = importer.reader, importer.ctx.session, importer.ctx.models.spec
    for name, index in reader.columns.items():
        f = importer.entity.field(name)
        if f.type not in ("link", "links"):
            continue
        names: set[str] = set()
        for _, cells in rows:
            raw = cells[index] if index < len(cells) else ""
            if raw in ("", None):
                continue
            names.update(reader.link_names(f, raw))
        ids = reader.prefetch_targets(f, names)
        batch.link_ids[name] = ids
        if ids and name in condition_reads(importer.entity):  # the records a condition or rule reads through
            model = importer.ctx.models.model(spec.entity(f.target).name)
            batch.held.extend(session.scalars(sa.select(model).where(model.id.in_(sorted(ids)))))


def _plain(entity: Any, names: tuple[str, ...]) -> bool:
    return all(entity.field(n).type in PLAIN for n in names)


def canon(value: Any) -> Any:
    """A key value as Python compares it with the database's (Decimal 1.50 is 1.5). Called for
    every cell of every key (a type test, not two attribute probes)."""
    return value.normalize() if isinstance(value, Decimal) else value


def key_of(importer: Any, names: tuple[str, ...], values: dict[str, Any]) -> Any:
    """The key as the batch's answers hold it (`_key` normalises its numbers: `canon`)."""
    return importer._key(names, values)


def key_statements(importer: Any, prepared: list[dict[str, Any]]) -> dict[tuple[str, ...], Any]:
    """The query for the records holding the batch's keys, one a key set (run by `prefetch_keys`, or
    ahead of the batch's judging on a connection of its own: overlap.py)."""
    wanted: dict[tuple[str, ...], set[Any]] = {}
    plain: dict[tuple[str, ...], bool] = {}  # key set -> `_plain`, asked once a batch
    for item in prepared:
        for names, key, _ in item["keys"]:
            known = plain.get(names)
            if known is None:
                known = plain[names] = _plain(importer.entity, names)
            if key is not None and known:
                wanted.setdefault(names, set()).add(key)  # `_key` normalised it (`canon`)
    return {names: _holders_statement(importer, names, keys) for names, keys in wanted.items()}


def prefetch_keys(importer: Any, prepared: list[dict[str, Any]], batch: Batch,
                  answers: dict[tuple[str, ...], list[Any]] | None = None) -> None:
    """The records (in the user's scope) that hold each key the batch's rows bring: one query a
    key set (`answers`: the rows of `key_statements(importer, prepared)`, when they were read
    already). Update and upsert also load those records (one query)."""
    if answers is None:
        session = importer.ctx.session
        answers = {names: session.execute(stmt).all() for names, stmt in key_statements(importer, prepared).items()}
    for names, rows in answers.items():
        batch.keys[names] = _holders(importer, names, rows)
    if importer.plan.mode in ("update", "upsert"):
        ids = sorted({i for found in batch.keys.values() for ids in found.values() for i in ids})
        if ids:
            model = importer.model
            batch.held.extend(importer.ctx.session.scalars(sa.select(model).where(model.id.in_(ids))))


def _columns(importer: Any, names: tuple[str, ...]) -> list[Any]:
    columns = []
    for name in names:
        f = importer.entity.field(name)
        column = getattr(importer.model, f.column_name)
        columns.append(sa.func.lower(column) if f.unique_ignore_case else column)
    return columns


def _holders_statement(importer: Any, names: tuple[str, ...], keys: set[Any]) -> Any:
    model, session = importer.model, importer.ctx.session
    columns = _columns(importer, names)
    lowered = [importer.entity.field(n).unique_ignore_case for n in names]
    wanted = [tuple(v.lower() if low and isinstance(v, str) else v for v, low in zip(key, lowered, strict=True))
              for key in keys]
    stmt = sa.select(model.id, *[getattr(model, importer.entity.field(n).column_name) for n in names])
    if len(columns) == 1:
        stmt = stmt.where(columns[0].in_([k[0] for k in wanted]))
    elif session.get_bind().dialect.name == "postgresql":
        stmt = _joined(stmt, columns, wanted)
    else:  # SQLite has no column names on a VALUES list; its files are small
        stmt = stmt.where(sa.tuple_(*columns).in_(wanted))
    stmt = stmt.order_by(model.id)
    if importer.ctx.access is not None:
        stmt = importer.ctx.access.records(importer.ctx.models, importer.entity.name).where(stmt)
    return stmt


def _holders(importer: Any, names: tuple[str, ...], rows: list[Any]) -> dict[Any, list[int]]:
    """The key query's rows (id, then the key's columns) by key."""
    found: dict[Any, list[int]] = {}
    for record_id, *stored in rows:
        key = key_of(importer, names, dict(zip(names, stored, strict=True)))
        if key is not None:
            found.setdefault(key, []).append(record_id)
    return found


def _joined(stmt: Any, columns: list[Any], wanted: list[tuple[Any, ...]]) -> Any:
    """A key of several columns on PostgreSQL: the batch's keys as arrays, one a column, joined
    (`unnest`) on the key's columns (a hash join), narrowed by `= ANY` on an indexed column of
    the key when there is one (an index scan). A `(a, b, c) IN ((...), ...)` of literals is a
    chain of ORs evaluated on every row of a sequential scan: at a million records it cost
    seconds a batch (and PostgreSQL's JIT compiling that expression, minutes); a VALUES list
    costs SQLAlchemy a bound parameter a cell to compile."""
    names = [f"k{i}" for i in range(len(columns))]
    arrays = [array_parameter(name, [k[i] for k in wanted], c.type)
              for i, (name, c) in enumerate(zip(names, columns, strict=True))]
    keys = sa.func.unnest(*arrays).table_valued(*names, name="import_keys").render_derived()
    stmt = stmt.join(keys, sa.and_(*[c == keys.c[name] for name, c in zip(names, columns, strict=True)]))
    indexed = [i for i, c in enumerate(columns) if _indexed(c)]
    if indexed:  # the column whose batch values are the most distinct: the narrowest index scan
        best = max(indexed, key=lambda i: len({k[i] for k in wanted}))
        values = sorted({k[best] for k in wanted}, key=repr)
        stmt = stmt.where(columns[best] == sa.any_(array_parameter("narrow", values, columns[best].type)))
    return stmt


def array_parameter(name: str, values: list[Any], element: Any) -> Any:
    """One array parameter of a batch's key values (PostgreSQL). Values all text, all integers (of
    64 bits), all decimals or all dates go as one array literal cast to that base type: psycopg2
    adapts a list a value at a time, about 5 ms for a batch's 1,000 keys in four columns. Others
    (datetimes, booleans, mixed types) go as a list, as before."""
    literal = _array_literal(values)
    if literal is None:
        return sa.bindparam(name, values, type_=postgresql.ARRAY(element))
    base, text = literal
    return sa.cast(sa.bindparam(name, text, type_=sa.Text()), postgresql.ARRAY(base))


def _array_literal(values: list[Any]) -> tuple[Any, str] | None:
    """(base type, PostgreSQL array literal) of values of one exact type, or None."""
    kinds = set(map(type, values))
    if len(kinds) != 1:
        return None
    kind = kinds.pop()
    if kind is str:
        joined = "".join(values)
        if '"' in joined or "\\" in joined:  # quoted elements escape these two
            values = [v.replace("\\", "\\\\").replace('"', '\\"') for v in values]
        return sa.Text(), '{"' + '","'.join(values) + '"}'
    if kind is int and -(1 << 63) <= min(values) and max(values) < (1 << 63):
        return sa.BigInteger(), "{" + ",".join(map(str, values)) + "}"
    if kind is Decimal and all(map(Decimal.is_finite, values)):  # psycopg2 sends the others as NaN
        return sa.Numeric(), "{" + ",".join(map(str, values)) + "}"
    if kind is dt.date:
        return sa.Date(), "{" + ",".join(map(dt.date.isoformat, values)) + "}"
    return None


def _indexed(column: Any) -> bool:
    """A plain table column that leads an index (or a unique constraint) of its table."""
    column = getattr(column, "expression", column)
    if not isinstance(column, sa.Column) or column.table is None:
        return False
    table = column.table
    leads = [next(iter(index.columns), None) for index in table.indexes]
    leads += [next(iter(c.columns), None) for c in table.constraints if isinstance(c, sa.UniqueConstraint)]
    return any(lead is not None and lead.name == column.name for lead in leads)


def prefetch_taken(importer: Any, prepared: list[dict[str, Any]], batch: Batch) -> None:
    """For each unique field the file fills: which of the batch's values a record (any, not only
    those the user reads: the uniqueness rule is global) holds already. One query a field."""
    for name in importer.column_of:
        f = importer.entity.field_map.get(name)
        if f is None or not f.unique or f.type not in PLAIN:
            continue
        values = {item["norm"].get(name) for item in prepared} - {None, ""}
        column = getattr(importer.model, f.column_name)
        if f.unique_ignore_case:
            lowered = {v.lower() for v in values if isinstance(v, str)}
            stmt = sa.select(sa.func.lower(column)).where(sa.func.lower(column).in_(sorted(lowered)))
        else:
            stmt = sa.select(column).where(column.in_(list(values)))
        batch.taken[name] = {canon(v) for v in importer.ctx.session.scalars(stmt)} if values else set()


class BatchCreate(CreateRecord):
    """CreateRecord that judges links, unique values and assignees by the batch's answers and
    leaves the write to the batch's flush (stage history written by the batch after it)."""

    def __init__(self, ctx: Any, entity: str, values: dict[str, Any], numbers: dict[str, str], batch: Batch,
                 direct: bool = False):
        super().__init__(ctx, entity, values)
        self.numbers, self.batch, self.direct = numbers, batch, direct

    def _reference_errors(self, f: Any) -> list[str]:
        return batch_reference_errors(self, f)

    def _unique_errors(self, f: Any) -> list[str]:
        if not f.unique:  # the command's own answer for it, without asking
            return []
        taken = self.batch.taken.get(f.name)
        if taken is None or self.record is not None:
            return super()._unique_errors(f)
        value = self.values[f.name]
        value = value.lower() if f.unique_ignore_case and isinstance(value, str) else value
        return super()._unique_errors(f) if canon(value) in taken else []

    def _assign(self, record: Any) -> None:
        super()._assign(record)
        for name, value in self.numbers.items():
            setattr(record, name, value)

    def build(self) -> tuple[Any, list[tuple[Any, str | None, str]]]:
        """Validate, then a new record in the session (unflushed), or (`direct`) a PendingRecord
        the batch writes without the ORM (direct.py), and its stage moves."""
        self.validate()
        moves = self._stage_moves()
        record = PendingRecord() if self.direct else self.model()
        self._assign(record)
        record.owner_id = self.owner_id if self.owner_id is not None else self.ctx.user_id
        if not self.direct:
            self.ctx.session.add(record)
        for pipeline, source, target in moves:
            set_stage(pipeline, record, source, target, self.values)
        if self.ctx.hooks is not None and not self.direct:
            self.ctx.hooks.crm_before_insert(entity=self.entity, record=record, session=self.ctx.session)
        return record, moves


class BatchUpdate(UpdateRecord):
    """UpdateRecord whose plain changes wait for the batch's flush (a stage move writes at once)."""

    batch: Batch | None = None

    def _reference_errors(self, f: Any) -> list[str]:
        return batch_reference_errors(self, f)

    def build(self) -> Any:
        self.validate()
        moves = self._stage_moves()
        self._assign(self.record)
        self._apply_stages(self.record, moves)  # reads the stage's past: flushes, as a form's save does
        return self.record


def batch_reference_errors(command: Any, f: Any) -> list[str]:
    """A link to records the batch found among those the user reads, or an assignee judged
    earlier in the batch: no query; anything else as the command asks it."""
    batch: Batch | None = command.batch
    value = command.values[f.name]
    if batch is not None and f.type in ("link", "links"):
        ids = set(value if f.type == "links" else [value])
        if ids <= batch.link_ids.get(f.name, set()):
            return []
    if batch is not None and f.type == "user" and command.record is None:
        key = (f.name, value)
        if key not in batch.assignees:
            batch.assignees[key] = CreateRecord._reference_errors(command, f)
        return list(batch.assignees[key])
    return CreateRecord._reference_errors(command, f)  # the command's own check (a query)
