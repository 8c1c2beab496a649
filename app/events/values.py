"""Field values to JSON and back, by the field's type (the outbox stores JSON text)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from app.fieldtypes import field_type
from app.metadata.spec import FieldSpec


def field_json(f: FieldSpec, value: Any) -> Any:
    """A value as JSON the way its column stores it (2500 given to a money field is "2500.00")."""
    quantum = _quantum(f)
    if quantum is not None and isinstance(value, int | float | Decimal | str) and not isinstance(value, bool):
        try:
            return str((value if isinstance(value, Decimal) else Decimal(str(value))).quantize(quantum))
        except ArithmeticError:
            return str(value)
    return to_json(value)


def _quantum(f: FieldSpec) -> Decimal | None:
    """The numeric types' own scale as a quantum (money: 0.01), None for the other types. Kept on
    the field as its cached properties are (read for each value of every event): computed once."""
    quantum = f.__dict__.get(_QUANTUM, _UNSET)
    if quantum is _UNSET:
        scale_of = getattr(field_type(f.type), "scale_of", None)
        quantum = Decimal(1).scaleb(-scale_of(f)) if scale_of else None
        f.__dict__[_QUANTUM] = quantum
    return quantum


_QUANTUM, _UNSET = "_crm_json_quantum", object()


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
