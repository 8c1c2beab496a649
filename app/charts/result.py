"""What a chart computes, independent of how it is drawn.

Every chart, plain aggregate or built-in analysis, returns a ChartResult:
points for plotted charts, rows for tables, a value and the previous
period's value for KPIs, or `omitted` with the reason when the viewer may
not see what the chart is about. The web layer draws it (plotly) and turns
each point's `filters` into a link to the list of the records behind it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from app.clock import to_local
from app.metadata.spec import ChartSpec, CrmSpec

# A drill condition: (path on the chart's entity, op, value); ops: eq, gte, lt, empty.
Drill = tuple[str, str, Any]


@dataclass(frozen=True)
class Point:
    """One bar, slice, funnel step or line point."""

    key: Any  # raw group value: a choice value, user id, link id, bucket start date; None for empty
    label: str  # what the axis or legend shows, in the viewer's language
    value: float | int | None
    series_key: Any = None
    series_label: str | None = None
    filters: tuple[Drill, ...] = ()  # the records behind this point, besides the chart's own filters
    extra: tuple[tuple[str, Any], ...] = ()  # e.g. (("conversion", 0.42),) for funnel steps


class Rate(float):
    """A fraction (0-1) that tables and KPIs show as a percentage (0.447 -> 44.7 %); JSON keeps the number."""


@dataclass
class ChartResult:
    chart: ChartSpec
    value_label: str = ""  # e.g. "Sum of Amount" / "金额合计"
    points: list[Point] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)  # tables: column headings
    rows: list[tuple[Any, ...]] = field(default_factory=list)  # tables: one tuple per row
    kpi: float | int | None = None
    previous: float | int | None = None  # the KPI over the period before, when the chart has a period
    omitted: str | None = None  # why the viewer does not see this chart (never the value)
    notes: list[str] = field(default_factory=list)
    drillable: bool = True  # False when points' records cannot be listed (e.g. analyses over history)

    @property
    def empty(self) -> bool:
        return not self.points and not self.rows and self.kpi is None


@dataclass(frozen=True)
class ChartContext:
    """Everything a chart needs to run for one viewer."""

    spec: CrmSpec
    models: Any  # app.models.ModelSet
    session: Any  # SQLAlchemy session
    access: Any  # app.security.access.Access
    lang: str = "en"
    # Naive UTC, as timestamps are stored; relative ranges (this_month...) are taken in the viewer's
    # time zone (their own, else the CRM's: app/clock.py), so "today" starts at their midnight.
    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC).replace(tzinfo=None))
    # what a group's label sorts by: the viewer's language's order (app/i18n/collation.py `text_key`)
    label_key: Callable[[str], Any] = str.casefold

    @property
    def today(self) -> dt.date:
        return to_local(self.now).date()
