"""Parsing helpers the field types share: text, numbers, decimals, record ids.

Raise `FieldValueError` with a user-facing message (zh/en); a bad value never
reaches the database, where it would become a 500.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from app.records.messages import msg


class FieldValueError(ValueError):
    pass


MAX_RECORD_ID = 2**31 - 1  # ids are `integer` columns on PostgreSQL


def text_value(raw: Any, lang: str | None, strip: bool) -> str:
    if not isinstance(raw, str):
        raise FieldValueError(msg("text", lang))
    return raw.strip() if strip else raw


def integer_value(raw: Any, lang: str | None) -> int:
    if isinstance(raw, bool) or not isinstance(raw, (int, str)):
        if isinstance(raw, float) and raw.is_integer():
            return int(raw)
        raise FieldValueError(msg("integer", lang))
    try:
        value = int(raw)
    except ValueError:
        raise FieldValueError(msg("integer", lang)) from None
    if abs(value) >= 2**63:
        raise FieldValueError(msg("max", lang, n=2**63 - 1))
    return value


def decimal_value(raw: Any, lang: str | None, scale: int, precision: int) -> Decimal:
    """An exact number that fits NUMERIC(precision, scale), rounded to `scale` places."""
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str, Decimal)):
        raise FieldValueError(msg("number", lang))
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        raise FieldValueError(msg("number", lang)) from None
    if not value.is_finite():
        raise FieldValueError(msg("number", lang))
    limit = Decimal(10) ** (precision - scale)
    if abs(value) >= limit:  # checked before quantize, which fails on huge values
        raise FieldValueError(msg("max", lang, n=limit - Decimal(1).scaleb(-scale)))
    return value.quantize(Decimal(1).scaleb(-scale))


def is_record_id(value: Any) -> bool:
    """True when `value` is a whole number a record can have as id (1..MAX_RECORD_ID).

    Anything else names no record, and must not reach the driver: a number past the
    column's range raises there (an overflow on SQLite, a DataError on PostgreSQL).
    """
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_RECORD_ID


def record_id(raw: Any, lang: str | None) -> int:
    if isinstance(raw, dict) and "id" in raw:
        raw = raw["id"]
    if isinstance(raw, bool):
        raise FieldValueError(msg("integer", lang))
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise FieldValueError(msg("integer", lang)) from None
    if not is_record_id(value):
        raise FieldValueError(msg("link", lang, entity="record", id=value))
    return value


_NUMBERS = (int, float, Decimal)  # exact types: Decimal(str(value)) of these never raises (a bool's would)


def range_errors(field: Any, value: Any, lang: str | None, numeric: bool) -> list[str]:
    """min/max messages: numbers compared as Decimal, dates as dates."""
    lo, hi = field.min, field.max
    if lo is None and hi is None and type(value) in _NUMBERS:  # nothing to compare (and nothing to raise)
        return []
    if numeric:
        value = Decimal(str(value))
        lo = Decimal(str(lo)) if lo is not None else None
        hi = Decimal(str(hi)) if hi is not None else None
    elif not isinstance(value, dt.date):
        return []
    if lo is not None and value < lo:
        return [msg("min", lang, n=field.min)]
    if hi is not None and value > hi:
        return [msg("max", lang, n=field.max)]
    return []
