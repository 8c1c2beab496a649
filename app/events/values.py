"""Field values to JSON and back, by the field's type (the outbox stores JSON text)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from app.metadata.spec import FieldSpec


def to_json(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | tuple | set):
        return [to_json(v) for v in value]
    return value


def from_json(f: FieldSpec | None, value: Any) -> Any:
    """The stored JSON value as the field holds it (what expressions and hooks expect)."""
    if value is None or f is None:
        return value
    if f.type == "date" and isinstance(value, str):
        return dt.date.fromisoformat(value)
    if f.type == "datetime" and isinstance(value, str):
        return dt.datetime.fromisoformat(value)
    if f.type in ("decimal", "money", "percent") and isinstance(value, str | int | float):
        return Decimal(str(value))
    return value
