"""Measures as SQL: count, sum, avg, min, max, median and count_distinct of one column.

`median` is PostgreSQL's `percentile_cont(0.5) WITHIN GROUP (ORDER BY x)`; SQLite
has no percentile, so the app registers `crm_median` on every SQLite connection
(`register_sqlite_functions`): an exact aggregate in Python, the mean of the two
middle values for an even count, NULLs ignored as in PostgreSQL.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import sqlalchemy as sa

# Functions whose value over no rows is 0 (not "no value"): empty groups show 0 for them.
ZERO_WHEN_EMPTY = ("count", "sum", "count_distinct")


class SqliteMedian:
    """The exact median of the non-NULL values of a group (sqlite3 aggregate protocol)."""

    def __init__(self) -> None:
        self.values: list[float] = []

    def step(self, value: Any) -> None:
        if value is not None:
            self.values.append(float(value))

    def finalize(self) -> float | None:
        if not self.values:
            return None
        ordered = sorted(self.values)
        middle = len(ordered) // 2
        if len(ordered) % 2:
            return ordered[middle]
        return (ordered[middle - 1] + ordered[middle]) / 2


def register_sqlite_functions(dbapi_connection: Any) -> None:
    """Give a SQLite connection what charts need that SQLite lacks (the median)."""
    dbapi_connection.create_aggregate("crm_median", 1, SqliteMedian)


def aggregate_sql(func: str, expr: Any, dialect: str) -> Any:
    """The SQL aggregate of `expr` (None: count of rows)."""
    if expr is None:
        return sa.func.count()
    if func == "count_distinct":
        return sa.func.count(sa.distinct(expr))
    if func == "median":
        if dialect == "postgresql":
            return sa.func.percentile_cont(0.5).within_group(expr)
        return sa.func.crm_median(expr)
    return getattr(sa.func, func)(expr)


def number(value: Any, func: str) -> Any:
    """Database numbers as plain int/float (Decimal is not JSON); sums and counts of nothing are 0."""
    if value is None:
        return 0 if func in ZERO_WHEN_EMPTY else None
    if func in ("count", "count_distinct"):
        return int(value)
    if isinstance(value, Decimal):
        exact = value == value.to_integral_value() and func not in ("avg", "median")
        return int(value) if exact else float(value)
    return value
