"""A list page's rows written as JSON values by a writer made per field type (issue 18).

The plain-rows reader (app/web/listread.py) wrote each value through its marshmallow field's
`_serialize` and built an object per row for the fields that read one: per value a method call,
the field's checks and, for a decimal, three more calls. Here the value steps of a page are
turned into plain functions once per request, for the field classes whose `_serialize` is
known to be exactly that function with the options they have:

- `Integer` (not `as_string`): `int(value)`;
- `Decimal(as_string=True)` without `places` or `allow_nan`: `format(Decimal(str(value)), "f")`;
- `String`: `str(value)` (bytes decoded as UTF-8);
- `Date` in ISO format: `date.isoformat(value)`;

None stays None for all; a pipeline's weighted amount (amount x probability) is computed from
the row's two values by the same function its schema field calls. Any other field (a subclass, other options, a plugin's) keeps its own
`_serialize`, with the row object only when some step reads it (a computed field).
`tests/test_api_listroute.py` compares the writers with `_serialize` on every starter list schema.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from marshmallow import fields

from .schemas import weighted_of

Writer = Callable[[Any], Any]


def _integer(value: Any) -> Any:
    return None if value is None else int(value)


def _decimal_text(value: Any) -> Any:
    return None if value is None else format(Decimal(str(value)), "f")


def _string(value: Any) -> Any:
    if value is None:
        return None
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _iso_date(value: Any) -> Any:
    return None if value is None else dt.date.isoformat(value)


def value_writer(field: fields.Field) -> Writer | None:
    """The plain function that writes `field`'s values as its `_serialize` does, or None."""
    kind = type(field)
    if kind is fields.Integer and not field.as_string:
        return _integer
    if kind is fields.Decimal and field.as_string and field.places is None and not field.allow_nan:
        return _decimal_text
    if kind is fields.String:
        return _string
    if kind is fields.Date and field.format in ("iso", "iso8601"):
        return _iso_date
    return None


def _weighted_from(field: Any, values_at: dict[str, int]) -> tuple[int, int] | None:
    """Where a weighted amount's two inputs are in the row, when it is one (schemas.py marks it)."""
    pair = getattr(field, "crm_weighted", None)
    if type(field) is not fields.Function or pair is None or not all(name in values_at for name in pair):
        return None
    return values_at[pair[0]], values_at[pair[1]]


def row_dumper(readers: list[tuple[str, str, Any]], values_at: dict[str, int]) -> Callable[[Any], dict[str, Any]]:
    """One row (a tuple) as the schema dumps its record, fields in the schema's order. `readers`:
    (key, "value", (position, field)), (key, "link", reader of the row), (key, "object", field)."""
    steps: list[tuple[str, int, Any, Any]] = []
    needs_object = False
    for key, kind, data in readers:
        if kind == "value":
            at, field = data
            writer = value_writer(field)
            if writer is not None:
                steps.append((key, 0, writer, at))
            else:
                steps.append((key, 1, field._serialize, at))
                needs_object = True
        elif kind == "link":
            steps.append((key, 2, data, 0))
        elif _weighted_from(data, values_at) is not None:  # amount x probability from the row's own values
            steps.append((key, 4, weighted_of, _weighted_from(data, values_at)))
        else:
            steps.append((key, 3, data._serialize, 0))
            needs_object = True
    object_values = list(values_at.items())

    def dump(row: Any) -> dict[str, Any]:
        obj = None
        if needs_object:
            obj = SimpleNamespace(**{key: row[at] for key, at in object_values})
            obj.id = row[0]
        out: dict[str, Any] = {}
        for key, mode, fn, at in steps:
            if mode == 0:
                out[key] = fn(row[at])
            elif mode == 1:
                out[key] = fn(row[at], key, obj)
            elif mode == 2:
                out[key] = fn(row)
            elif mode == 4:
                out[key] = fn(row[at[0]], row[at[1]])
            else:
                out[key] = fn(None, key, obj)
        return out

    return dump
