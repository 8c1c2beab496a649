"""A batch's cells read a column at a time, for the plain types, with the row path as the judge.

`CellReader.read` (cells.py) is the one definition of what a cell means: it calls the field
type's parser with the import's extras (choice labels, 是/否, dates typed with / or 年月日,
links by name). Reading a million rows through it costs a dozen function calls a cell. Here
each mapped column gets a fast reader made once for its field, which ACCEPTS a cell only
when its shape proves the row path would give the same value (`¥12,345.60`, `2026/3/5`, a
name the batch's link prefetch resolved, a choice label, a word of 是/否) and answers MISS
for anything else: blank-looking, unusual, invalid or not text. A missed cell is read by
`CellReader.value`, so every error message still comes from the one definition.
`tests/test_import_columns.py` runs a corpus of tricky cells through both and compares.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from app.fieldtypes import field_type
from app.fieldtypes.base import FieldType
from app.fieldtypes.date import DateType
from app.fieldtypes.decimal import DecimalType
from app.fieldtypes.integer import IntegerType
from app.fieldtypes.money import MoneyType
from app.metadata.spec import FieldSpec
from app.records.normalise import CURRENCY_SIGNS
from app.records.parse import FieldValueError

from .cells import FALSE_WORDS, TRUE_WORDS, CellReader

MISS = object()  # "not sure": the cell goes through CellReader.value
FastReader = Callable[[Any], Any]
ISO_DIGITS = re.compile(r"^[0-9]{1,18}$")
DATE = re.compile(r"^([0-9]{4})[/.年-]([0-9]{1,2})[/.月-]([0-9]{1,2})日?$")
PLAIN_TEXT_TYPES = ("string", "email", "phone", "url")  # parsed by FieldType.parse: the text, stripped


def read_rows(reader: CellReader, rows: list[list[Any]]) -> list[tuple[dict[str, Any], dict[str, list[str]]]]:
    """What `reader.read(cells)` gives for each row of `rows`, a column at a time."""
    results: list[tuple[dict[str, Any], dict[str, list[str]]]] = [({}, {}) for _ in rows]
    for name, index in reader.columns.items():
        f = reader.entity.field(name)
        fast = fast_reader(reader, f)
        for cells, (values, errors) in zip(rows, results, strict=True):
            raw = cells[index] if index < len(cells) else ""
            if raw == "" or raw is None:
                continue
            value = fast(raw) if fast is not None else MISS
            if value is MISS:
                try:
                    value = reader.value(f, raw)
                except FieldValueError as exc:
                    errors[name] = [str(exc)]
                    continue
            values[name] = value
    return results


def fast_reader(reader: CellReader, f: FieldSpec) -> FastReader | None:
    """The column's fast reader, or None when its type has none (every cell by the row path)."""
    kind = type(field_type(f.type))
    if f.type == "link":
        return _link_reader(reader, f)
    if f.type == "date" and kind.parse is DateType.parse:
        return _date
    if f.type == "boolean":
        return _boolean
    if f.type == "choice" and kind.parse is FieldType.parse:
        return _choice_reader(f)
    if f.type == "money" and kind.parse is MoneyType.parse:
        return _decimal_reader(f, _money_pattern(f))
    if f.type == "decimal" and kind.parse is DecimalType.parse:
        return _decimal_reader(f, re.compile(r"^([0-9]{1,15})(?:\.([0-9]{1,6}))?$"))
    if f.type == "integer" and kind.parse is IntegerType.parse:
        return _integer
    if f.type in PLAIN_TEXT_TYPES and kind.parse is FieldType.parse:
        return _stripped
    return None


def _stripped(raw: Any) -> Any:
    """A one-line text cell: the text without its outer spaces (empty once stripped: MISS)."""
    if type(raw) is not str:
        return MISS
    text = raw.strip()
    return text or MISS


def _integer(raw: Any) -> Any:
    if type(raw) is not str:
        return MISS
    text = raw.strip()
    return int(text) if ISO_DIGITS.match(text) else MISS


def _boolean(raw: Any) -> Any:
    if type(raw) is not str:
        return MISS
    word = raw.strip().casefold()
    if word in TRUE_WORDS:
        return True
    return False if word in FALSE_WORDS else MISS


def _date(raw: Any) -> Any:
    """2026/3/5, 2026-03-05, 2026.3.5, 2026年3月5日 (ASCII digits): the date, or MISS (an invalid
    date, a time after it, full-width digits, an Excel serial)."""
    if type(raw) is not str:
        return MISS
    match = DATE.match(raw.strip())
    if match is None:
        return MISS
    try:
        return dt.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return MISS


def _link_reader(reader: CellReader, f: FieldSpec) -> FastReader | None:
    """A name the batch's prefetch resolved to exactly one record: its id (one dict lookup)."""
    target_field = reader._target_key(f)[1]
    if target_field is None:
        return None
    folded, targets = target_field.unique_ignore_case, reader._targets

    def read(raw: Any) -> Any:
        if type(raw) is not str:
            return MISS
        name = raw.strip()
        found = targets.get((f.name, name.casefold() if folded else name))
        return found if type(found) is int else MISS

    return read


def _choice_reader(f: FieldSpec) -> FastReader:
    """A choice's value from its value or any label, case ignored: the first choice that has it,
    as `cells._choice` looks them up in order."""
    table: dict[str, Any] = {}
    for choice in f.choices:
        value = choice.value.strip() or MISS  # a blank value would read as no value: the row path says
        table.setdefault(choice.value.casefold(), value)
        for _, label in choice.label.values:
            table.setdefault(label.casefold(), value)

    def read(raw: Any) -> Any:
        if type(raw) is not str:
            return MISS
        return table.get(raw.strip().casefold(), MISS)

    return read


def _money_pattern(f: FieldSpec) -> re.Pattern[str]:
    """An amount as people type it in the CRM's currency: an optional sign of it before the number
    (¥, RMB), thousands separators in threes or none, up to six decimals."""
    signs = sorted((s for s in CURRENCY_SIGNS.get(f.currency, (f.currency,)) if s), key=len, reverse=True)
    prefix = "|".join(re.escape(s) for s in signs) or "(?!)"
    return re.compile(rf"^(?:{prefix})?([0-9]{{1,3}}(?:,[0-9]{{3}})+|[0-9]{{1,15}})(?:\.([0-9]{{1,6}}))?$")


def _decimal_reader(f: FieldSpec, pattern: re.Pattern[str]) -> FastReader:
    """A plain positive amount with no more decimals than the field keeps: Decimal, quantized as
    `decimal_value` does (more decimals, a sign, an exponent, a unit: MISS)."""
    kind = field_type(f.type)
    scale = kind.scale_of(f)  # type: ignore[attr-defined]
    quantum = Decimal(1).scaleb(-scale)
    limit = Decimal(10) ** (kind.precision - scale)  # type: ignore[attr-defined]

    def read(raw: Any) -> Any:
        if type(raw) is not str:
            return MISS
        match = pattern.match(raw.strip())
        if match is None or (match[2] is not None and len(match[2]) > scale):
            return MISS
        value = Decimal(match[1].replace(",", "") + ("." + match[2] if match[2] else ""))
        return value.quantize(quantum) if value < limit else MISS

    return read
