"""The five standard cron fields (minute hour day-of-month month day-of-week), parsed here
so a bad one is a located CRM-E066 at start-up; `*`, lists, ranges and `/steps`.
Day of week 0-7 (0 and 7: Sunday). Both days restricted: either matches (as cron does)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day of month", 1, 31), ("month", 1, 12), ("day of week", 0, 7))


class CronError(ValueError):
    """What is wrong with a cron expression, in words a consultant can act on."""


@dataclass(frozen=True)
class Cron:
    text: str
    values: tuple[frozenset[int], ...]
    any_day: bool  # day of month is *
    any_weekday: bool  # day of week is *

    def matches(self, moment: dt.datetime) -> bool:
        minute, hour, day, month, weekday = self.values
        if moment.minute not in minute or moment.hour not in hour or moment.month not in month:
            return False
        in_day, in_week = moment.day in day, (moment.weekday() + 1) % 7 in weekday
        if self.any_day or self.any_weekday:
            return in_day and in_week
        return in_day or in_week

    def last_due(self, now: dt.datetime, lookback: dt.timedelta = dt.timedelta(days=1)) -> dt.datetime | None:
        """The latest matching minute at or before `now` (within `lookback`), or None."""
        moment = now.replace(second=0, microsecond=0)
        earliest = now - lookback
        while moment > earliest:
            if self.matches(moment):
                return moment
            moment -= dt.timedelta(minutes=1)
        return None


def _field(text: str, name: str, low: int, high: int) -> frozenset[int]:
    found: set[int] = set()
    for part in text.split(","):
        span, _, step_text = part.partition("/")
        try:
            step = int(step_text) if step_text else 1
            if span == "*":
                start, end = low, high
            elif "-" in span:
                start, end = (int(x) for x in span.split("-", 1))
            else:
                start = end = int(span)
        except ValueError:
            raise CronError(f"{name} '{part}' is not a number, range, list or step") from None
        if step < 1 or not low <= start <= end <= high:
            raise CronError(f"{name} '{part}' is outside {low}-{high}")
        found.update(range(start, end + 1, step))
    return frozenset(found)


def parse_cron(text: str) -> Cron:
    parts = str(text).split()
    if len(parts) != 5:
        raise CronError(f"'{text}' has {len(parts)} fields, not 5 (minute hour day-of-month month day-of-week)")
    values = [_field(part, name, low, high) for part, (name, low, high) in zip(parts, FIELDS, strict=True)]
    values[4] = frozenset(v % 7 for v in values[4])  # 7 is Sunday too
    return Cron(str(text), tuple(values), parts[2] == "*", parts[4] == "*")
