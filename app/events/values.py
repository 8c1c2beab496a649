"""Field values to JSON and back, by the field's type (the outbox stores JSON text)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from app.fieldtypes import field_type
from app.metadata.spec import FieldSpec


def field_json(f: FieldSpec, value: Any) -> Any:
    """A value as JSON the way its column stores it (2500 given to a money field is "2500.00")."""
    return json_writer(f)(value)


def json_writer(f: FieldSpec) -> Callable[[Any], Any]:
    """`field_json` for one field as a function of the value alone, made once per field (kept on
    the field as its cached properties are): an event is built for every record written, and an
    import writes a million."""
    writer = f.__dict__.get(_WRITER)
    if writer is None:
        scale_of = getattr(field_type(f.type), "scale_of", None)
        writer = _scaled(Decimal(1).scaleb(-scale_of(f))) if scale_of else to_json
        f.__dict__[_WRITER] = writer
    return writer


def _scaled(quantum: Decimal) -> Callable[[Any], Any]:
    """The numeric types' own scale (money: 0.01) applied to a number or a number's text."""

    def write(value: Any) -> Any:
        if isinstance(value, int | float | Decimal | str) and not isinstance(value, bool):
            try:
                return str((value if isinstance(value, Decimal) else Decimal(str(value))).quantize(quantum))
            except ArithmeticError:
                return str(value)
        return to_json(value)

    return write


_WRITER = "_crm_json_writer"


_AS_IS = frozenset({str, int, bool, float, type(None)})  # exact types JSON takes as they are


def to_json(value: Any) -> Any:
    if type(value) in _AS_IS:  # the common case, without the chain of tests below
        return value
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
