"""Turn JSON (or CSV-ish text) values into typed field values.

Raises `FieldValueError` with a user-facing message; never lets a bad value
reach the database, where it would become a 500.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from app.metadata.spec import FieldSpec

from .messages import msg
from .normalise import NormaliseError, money_text

TEXT_TYPES = ("string", "text", "email", "phone", "url", "choice", "autonumber")


class FieldValueError(ValueError):
    pass


def parse_value(field: FieldSpec, raw: Any, lang: str | None = None) -> Any:
    """Typed value for `raw`; None and '' mean empty."""
    if raw is None or (raw == "" and field.type not in ("string", "text")):
        return None
    t = field.type
    if t in TEXT_TYPES:
        if not isinstance(raw, str):
            raise FieldValueError(msg("text", lang))
        return raw.strip() if t != "text" else raw
    if t == "integer":
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
    if t in ("decimal", "money", "percent"):
        return _decimal(field, raw, lang)
    if t == "boolean":
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.lower() in ("true", "false", "1", "0", "yes", "no"):
            return raw.lower() in ("true", "1", "yes")
        raise FieldValueError(msg("boolean", lang))
    if t == "date":
        try:
            return dt.date.fromisoformat(str(raw)[:10]) if isinstance(raw, str) else _bad()
        except ValueError:
            raise FieldValueError(msg("date", lang)) from None
    if t == "datetime":
        try:
            moment = dt.datetime.fromisoformat(raw) if isinstance(raw, str) else _bad()
        except ValueError:
            raise FieldValueError(msg("datetime", lang)) from None
        if moment.tzinfo is not None:
            moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
        return moment
    if t == "multichoice":
        if isinstance(raw, str):
            raw = [part.strip() for part in raw.split(",") if part.strip()]
        if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
            raise FieldValueError(msg("list", lang))
        return raw
    if t in ("link", "user"):
        return _id(raw, lang)
    if t == "links":
        if not isinstance(raw, list):
            raise FieldValueError(msg("list", lang))
        return [_id(v, lang) for v in raw]
    raise FieldValueError(msg("text", lang))


def _bad() -> Any:
    raise ValueError


def _decimal(field: FieldSpec, raw: Any, lang: str | None) -> Decimal:
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str, Decimal)):
        raise FieldValueError(msg("number", lang))
    if field.type == "money" and isinstance(raw, str):  # ¥1,280 / ￥3,500.00 / 12万 (units)
        try:
            raw = money_text(field, raw, lang)
        except NormaliseError as exc:
            raise FieldValueError(str(exc)) from None
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        raise FieldValueError(msg("number", lang)) from None
    if not value.is_finite():
        raise FieldValueError(msg("number", lang))
    scale = field.scale if field.type == "decimal" else 2
    precision = 7 if field.type == "percent" else 18  # the column's NUMERIC(p, s)
    limit = Decimal(10) ** (precision - scale)
    if abs(value) >= limit:  # checked before quantize, which fails on huge values
        raise FieldValueError(msg("max", lang, n=limit - Decimal(1).scaleb(-scale)))
    value = value.quantize(Decimal(1).scaleb(-scale))
    return value


MAX_RECORD_ID = 2**31 - 1  # ids are `integer` columns on PostgreSQL


def is_record_id(value: Any) -> bool:
    """True when `value` is a whole number a record can have as id (1..MAX_RECORD_ID).

    Anything else names no record, and must not reach the driver: a number past the
    column's range raises there (an overflow on SQLite, a DataError on PostgreSQL).
    """
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_RECORD_ID


def _id(raw: Any, lang: str | None) -> int:
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
