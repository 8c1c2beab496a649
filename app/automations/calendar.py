"""The business calendar SLA due times are counted in: working hours on working days, in the
CRM's time zone (crm.yaml), holidays left out. "4 business hours" from Friday 16:00 with
09:00-18:00 Monday to Friday is Monday 11:00.

    calendar:
      hours: ["09:00", "18:00"]
      weekdays: [1, 2, 3, 4, 5]        # ISO: 1 Monday .. 7 Sunday
      holidays: [2026-10-01, 2026-10-02]
      workdays: [2026-09-27]           # a weekend day worked (调休)

Bad values are CRM-E077 (sla.py checks them).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

MAX_DAYS = 3660  # ten years of days without one working day: the calendar is broken


@dataclass(frozen=True)
class BusinessCalendar:
    start: dt.time = dt.time(9, 0)
    end: dt.time = dt.time(18, 0)
    weekdays: frozenset[int] = frozenset({1, 2, 3, 4, 5})
    holidays: frozenset[dt.date] = frozenset()
    workdays: frozenset[dt.date] = frozenset()

    def works_on(self, day: dt.date) -> bool:
        if day in self.workdays:
            return True
        return day.isoweekday() in self.weekdays and day not in self.holidays

    def add_hours(self, start_utc: dt.datetime, hours: float, timezone: str | None) -> dt.datetime:
        """`hours` business hours after `start_utc` (naive UTC in, naive UTC out)."""
        zone = ZoneInfo(timezone or "UTC")
        local = start_utc.replace(tzinfo=dt.UTC).astimezone(zone).replace(tzinfo=None)
        left = dt.timedelta(hours=hours)
        for _ in range(MAX_DAYS):
            day = local.date()
            opens, closes = dt.datetime.combine(day, self.start), dt.datetime.combine(day, self.end)
            if self.works_on(day) and local < closes:
                local = max(local, opens)
                if local + left <= closes:
                    return (local + left).replace(tzinfo=zone).astimezone(dt.UTC).replace(tzinfo=None)
                left -= closes - local
            local = dt.datetime.combine(day + dt.timedelta(days=1), self.start)
        raise ValueError("the business calendar has no working hours")
