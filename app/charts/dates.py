"""Dates for charts: relative ranges, the range before, and date buckets in SQL.

A relative range (this_month, last_30_days...) becomes a half-open
[start, end) of dates at a given `today`, so a day is never counted twice
by two neighbouring ranges. Buckets are computed in the database, one
expression per dialect, returning a key that sorts in time and turns back
into the bucket's first day (`bucket_start`), so a bar can name its range.
Weeks start on Monday; quarters are calendar quarters.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import sqlalchemy as sa

from app.clock import day_bounds_utc
from app.metadata.definitions import DATE_BUCKETS

Range = tuple[dt.date, dt.date]  # [start, end)

_N_DAYS = re.compile(r"^(last|next)_(\d{1,4})_days$")
# Calendar periods: the unit a range steps by and how many units back from the current one.
_PERIODS = {
    "today": ("day", 0), "yesterday": ("day", 1),
    "this_week": ("week", 0), "last_week": ("week", 1),
    "this_month": ("month", 0), "last_month": ("month", 1),
    "this_quarter": ("quarter", 0), "last_quarter": ("quarter", 1),
    "this_year": ("year", 0), "last_year": ("year", 1),
}


class UnknownRange(ValueError):
    """A relative range name that is neither a calendar period nor last/next_N_days."""


def floor(day: dt.date, unit: str) -> dt.date:
    """First day of the day/week/month/quarter/year holding `day`."""
    if unit == "day":
        return day
    if unit == "week":
        return day - dt.timedelta(days=day.weekday())
    if unit == "month":
        return day.replace(day=1)
    if unit == "quarter":
        return dt.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    if unit == "year":
        return dt.date(day.year, 1, 1)
    raise ValueError(f"unknown date bucket '{unit}'; buckets: {', '.join(DATE_BUCKETS)}")


def step(start: dt.date, unit: str, count: int = 1) -> dt.date:
    """`start` (a bucket's first day) moved by `count` buckets, forwards or back."""
    if unit == "day":
        return start + dt.timedelta(days=count)
    if unit == "week":
        return start + dt.timedelta(weeks=count)
    months = {"month": 1, "quarter": 3, "year": 12}[unit] * count
    index = start.year * 12 + start.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def resolve_range(name: str, today: dt.date) -> Range:
    """[start, end) of a relative range at `today`.

    last_N_days is the N days ending with today; next_N_days the N days starting today.
    """
    if name in _PERIODS:
        unit, back = _PERIODS[name]
        start = step(floor(today, unit), unit, -back)
        return start, step(start, unit)
    match = _N_DAYS.match(name)
    if match is None:
        raise UnknownRange(f"unknown relative date range '{name}'")
    days = int(match.group(2))
    if match.group(1) == "last":
        end = today + dt.timedelta(days=1)
        return end - dt.timedelta(days=days), end
    return today, today + dt.timedelta(days=days)


def previous_range(name: str, today: dt.date) -> Range:
    """The range just before `name`'s, of the same kind: the month before this_month, the
    quarter before last_quarter, the N days before last_N_days."""
    start, end = resolve_range(name, today)
    if name in _PERIODS:
        unit = _PERIODS[name][0]
        return step(start, unit, -1), start
    return start - (end - start), start


def bucket_end(start: dt.date, bucket: str) -> dt.date:
    return step(start, bucket)


def bucket_label(start: dt.date, bucket: str) -> str:
    """2026-03-05, 2026-W05 (ISO week), 2026-03, 2026-Q1, 2026."""
    if bucket == "day":
        return start.isoformat()
    if bucket == "week":
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"
    if bucket == "month":
        return f"{start.year}-{start.month:02d}"
    if bucket == "quarter":
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    if bucket == "year":
        return str(start.year)
    raise ValueError(f"unknown date bucket '{bucket}'")


def bucket_start(key: Any) -> dt.date | None:
    """The bucket's first day from the key `bucket_expr` returned (a date, datetime or ISO text)."""
    if key is None:
        return None
    if isinstance(key, dt.datetime):
        return key.date()
    if isinstance(key, dt.date):
        return key
    return dt.date.fromisoformat(str(key)[:10])


def bucket_expr(column: Any, bucket: str, dialect: str) -> Any:
    """SQL for the first day of `column`'s bucket, for a date or datetime column.

    SQLite gives 'YYYY-MM-DD' text, PostgreSQL a date; both sort in time. Constants are
    literal SQL, not bound parameters, so PostgreSQL sees the same expression in SELECT
    and GROUP BY.
    """
    if bucket not in DATE_BUCKETS:
        raise ValueError(f"unknown date bucket '{bucket}'; buckets: {', '.join(DATE_BUCKETS)}")
    lit = sa.literal_column
    if dialect == "postgresql":
        if bucket == "day":
            return sa.cast(column, sa.Date)
        truncated = sa.func.date_trunc(lit(f"'{bucket}'"), sa.cast(column, sa.DateTime))
        return sa.cast(truncated, sa.Date)
    if dialect != "sqlite":
        raise NotImplementedError(f"date buckets are written for SQLite and PostgreSQL, not {dialect}")
    if bucket == "day":
        return sa.func.date(column)
    if bucket == "week":  # the next Sunday (or today if Sunday), then back six days: Monday
        return sa.func.date(column, lit("'weekday 0'"), lit("'-6 days'"))
    if bucket == "month":
        return sa.func.strftime(lit("'%Y-%m-01'"), column)
    if bucket == "year":
        return sa.func.strftime(lit("'%Y-01-01'"), column)
    month = sa.cast(sa.func.strftime(lit("'%m'"), column), sa.Integer)
    quarter = (month - lit("1")).self_group().op("/", precedence=8)(lit("3"))  # integer division
    first = quarter.self_group() * lit("3") + lit("1")
    return sa.func.printf(lit("'%s-%02d-01'"), sa.func.strftime(lit("'%Y'"), column), first)


def range_bounds(start: dt.date, end: dt.date, is_datetime: bool) -> tuple[Any, Any]:
    """Bounds to compare a column with: dates, or for a datetime column the viewer's midnights
    (their time zone, else the CRM's) as the naive UTC instants the column stores."""
    if not is_datetime:
        return start, end
    return day_bounds_utc(start, end)
