"""The function table: each function's argument types, result type and Python body.

An empty (None) argument gives an empty result unless the function is about
emptiness (coalesce, is_empty, concat, if). SQL bodies live in `sql.py`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .types import BOOL, DATE, DATETIME, NULL, NUMBER, TEXT


@dataclass(frozen=True)
class Signature:
    """`args`: expected types ('any' = anything, 'same' = like the first argument).

    `varargs`: the last argument may repeat. `result`: a type, or 'same'.
    """

    args: tuple[str, ...]
    result: str
    varargs: bool = False
    help: str = ""


SIGNATURES: dict[str, Signature] = {
    "if": Signature(("bool", "any", "same"), "same", help="if(condition, then, else)"),
    "today": Signature((), DATE, help="today's date in the CRM time zone"),
    "now": Signature((), DATETIME, help="the current moment (UTC, as datetimes are stored)"),
    "days_between": Signature(("date", "date"), NUMBER,
                              help="days_between(from, to): whole days from the first date to the second"),
    "add_days": Signature(("date", NUMBER), DATE, help="add_days(date, n)"),
    "round_half_up": Signature((NUMBER, NUMBER), NUMBER,
                               help="round_half_up(x, places): 2.345 → 2.35, -2.345 → -2.35"),
    "concat": Signature(("any",), TEXT, varargs=True, help="concat(a, b, …): empty parts count as ''"),
    "upper": Signature((TEXT,), TEXT, help="upper(text)"),
    "lower": Signature((TEXT,), TEXT, help="lower(text)"),
    "coalesce": Signature(("any", "same"), "same", varargs=True,
                          help="coalesce(a, b, …): the first value that is not empty"),
    "is_empty": Signature(("any",), BOOL, help="is_empty(x): null, or '' for text"),
}


def _as_date(value: Any) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def _days_between(start: Any, end: Any) -> int:
    return (_as_date(end) - _as_date(start)).days


def _add_days(day: Any, count: Any) -> dt.date:
    return _as_date(day) + dt.timedelta(days=int(count))


def round_half_up(value: Any, places: Any) -> Decimal:
    """Decimal rounding, ties away from zero (money's usual rule), never float."""
    exponent = Decimal(1).scaleb(-int(places))
    return Decimal(str(value) if isinstance(value, float) else value).quantize(exponent, ROUND_HALF_UP)


def text_of(value: Any) -> str:
    """How concat shows a value; matches SQL's cast to text for text, numbers and dates."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    return str(value)


# Functions that get None arguments themselves; the others return None on any None.
NULL_AWARE = {"if", "concat", "coalesce", "is_empty"}

PYTHON: dict[str, Callable[..., Any]] = {
    "days_between": _days_between,
    "add_days": _add_days,
    "round_half_up": round_half_up,
    "upper": lambda text: str(text).upper(),
    "lower": lambda text: str(text).lower(),
    "concat": lambda *parts: "".join(text_of(p) for p in parts),
    "coalesce": lambda *values: next((v for v in values if v is not None), None),
    "is_empty": lambda value: value is None or value == "",
}

__all__ = ["SIGNATURES", "PYTHON", "NULL_AWARE", "Signature", "round_half_up", "text_of",
           "BOOL", "DATE", "DATETIME", "NULL", "NUMBER", "TEXT"]
