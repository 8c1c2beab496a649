"""Autonumbers in an import: numbers a file brings are kept, blank ones are numbered.

Row by row (`KeepNumbersCreate`) the counter moves past each imported number; a batch
(`number_batch`) moves it once past the batch's highest imported number and takes a
block of numbers for its blank rows in one statement, so no number is ever repeated.
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa

from app.models.events import format_autonumber
from app.records.commands import CreateRecord, RecordContext

PLACEHOLDER = re.compile(r"\\\{0+\\\}")  # `{0000}` once escaped


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


def number_of(f: Any, value: str) -> int | None:
    """The number in `value` when it has the field's format (`TCK-00100` -> 100), else None."""
    pattern = PLACEHOLDER.sub(lambda _: r"(\d+)", re.escape(f.format or "{0000}"), count=1)
    match = re.fullmatch(pattern, value)
    return int(match.group(1)) if match else None


def _counter_key(counter: sa.Table, entity: str, f: Any) -> Any:
    return (counter.c.entity == entity) & (counter.c.field == f.name)


def move_counter(ctx: RecordContext, entity: str, f: Any, value: str) -> None:
    """Make the autonumber counter of `f` at least the number in `value` (when it has the format)."""
    number = number_of(f, value)
    if number is None:
        return
    counter = ctx.models.core["crm_counter"]
    key = _counter_key(counter, entity, f)
    moved = ctx.session.execute(sa.update(counter).where(key, counter.c.last < number).values(last=number)).rowcount
    if not moved and ctx.session.execute(sa.select(counter.c.last).where(key)).first() is None:
        ctx.session.execute(sa.insert(counter).values(entity=entity, field=f.name, last=number))


def take_numbers(ctx: RecordContext, entity: str, f: Any, count: int) -> list[int]:
    """`count` fresh numbers of the field's counter, in one statement (inside the batch's transaction)."""
    counter = ctx.models.core["crm_counter"]
    key = _counter_key(counter, entity, f)
    last = ctx.session.execute(sa.update(counter).where(key).values(last=counter.c.last + count)
                               .returning(counter.c.last)).scalar()
    if last is None:
        ctx.session.execute(sa.insert(counter).values(entity=entity, field=f.name, last=count))
        last = count
    return list(range(int(last) - count + 1, int(last) + 1))


def number_batch(ctx: RecordContext, entity: Any, records: list[Any]) -> None:
    """Before a batch's flush: move each counter past the batch's imported numbers, then number
    the records left blank from one block (the insert hook would take a number per record)."""
    for f in (f for f in entity.fields if f.type == "autonumber"):
        imported = [getattr(r, f.name) for r in records if getattr(r, f.name, None)]
        numbers = [n for n in (number_of(f, v) for v in imported) if n is not None]
        if numbers:
            move_counter(ctx, entity.name, f, format_autonumber(f.format or "{0000}", max(numbers)))
        blank = [r for r in records if not getattr(r, f.name, None)]
        if blank:
            for record, number in zip(blank, take_numbers(ctx, entity.name, f, len(blank)), strict=True):
                setattr(record, f.name, format_autonumber(f.format or "{0000}", number))
