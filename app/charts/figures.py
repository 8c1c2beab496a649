"""Draw a ChartResult: a plotly figure (as a JSON-able dict), table cells, or KPI text.

Every trace's `customdata` holds the index of each point in `result.points`,
so the page maps a click back to that point's drill filters. Colours come
from the choices (and stages) a chart groups by, as the engine put them in
`Point.extra`. Nothing here touches the database.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any, NamedTuple

import plotly.graph_objects as go
from flask import current_app, has_app_context

from app.i18n import _t
from app.i18n.formats import compact_money, money
from app.metadata.spec import CrmSpec

from .query import field_label, text
from .result import ChartResult, Point, Rate
from .units import axis_ticks, in_units, stacked_totals

DRAWN = ("bar", "stacked_bar", "line", "area", "pie", "funnel")
NOT_AVAILABLE = _t("n/a")
NO_VALUE = "—"


# Analyses whose values are fractions (0-1), shown as percentages.
RATE_ANALYSES = ("win_rate",)


def figure_json(value: Any, **dumps: Any) -> str:
    """JSON by plotly's encoder (its numpy and date values), imported on the first chart drawn:
    plotly.utils pulls in narwhals and plotly's validators, ~5 MB a worker that never draws a
    chart need not hold."""
    from plotly.utils import PlotlyJSONEncoder

    return json.dumps(value, cls=PlotlyJSONEncoder, **dumps)


def figure(result: ChartResult, lang: str) -> dict | None:
    """The plotly figure of a drawn chart; None for kpi, table and pivot charts or when omitted."""
    kind = result.chart.kind
    if result.omitted or kind not in DRAWN:
        return None
    points = result.points
    if kind == "pie":
        traces: list[Any] = [go.Pie(labels=[p.label for p in points], values=[p.value for p in points],
                                    customdata=list(range(len(points))), sort=False, direction="clockwise",
                                    marker=_colors(points, "color", "colors"))]
    elif kind == "funnel":
        traces = [go.Funnel(y=[p.label for p in points], x=[p.value for p in points],
                            customdata=list(range(len(points))), textinfo="value+percent previous",
                            marker=_colors(points, "color"))]
    else:
        traces = [_trace(kind, name, members, points, len(series_of(points)) == 1)
                  for name, members in series_of(points).items()]
    fig = go.Figure(data=traces)
    fig.update_layout(margin={"l": 48, "r": 16, "t": 16, "b": 48}, showlegend=_legend(kind, points),
                      legend={"orientation": "h"}, separators=".,")
    if kind in ("bar", "stacked_bar", "line", "area"):
        order = list(dict.fromkeys(p.label for p in points))
        yaxis = {"title": {"text": result.value_label}, "separatethousands": True}
        if result.chart.analysis in RATE_ANALYSES:
            yaxis["tickformat"] = ".0%"
        if "tickformat" not in yaxis:  # 350万 / 1.2B, not plotly's 3.5M / 1.2G
            stacked = kind in ("stacked_bar", "area") and len(series_of(points)) > 1
            yaxis.update(axis_ticks(stacked_totals(points) if stacked else [p.value for p in points], lang))
        fig.update_layout(barmode="stack" if kind == "stacked_bar" else "group",
                          xaxis={"type": "category", "categoryorder": "array", "categoryarray": order},
                          yaxis=yaxis)
    if result.chart.analysis not in RATE_ANALYSES:
        _hover_in_units(fig, kind, lang)
    return fig.to_plotly_json()


def _hover_in_units(fig: Any, kind: str, lang: str) -> None:
    """Each point's value in the reader's units on hover (and on a funnel's bars)."""
    for trace in fig.data:
        values = trace.values if kind == "pie" else trace.x if kind == "funnel" else trace.y
        shown = [in_units(v, lang) for v in values or ()]
        if kind == "pie":
            trace.update(hovertext=shown, hoverinfo="label+text+percent")
        elif kind == "funnel":
            trace.update(text=shown, textinfo="text+percent previous", hoverinfo="y+text+percent previous")
        else:
            trace.update(hovertext=shown, hoverinfo="x+text+name" if len(fig.data) > 1 else "x+text")


def _legend(kind: str, points: list[Point]) -> bool:
    return kind == "pie" or len(series_of(points)) > 1


def series_of(points: list[Point]) -> dict[str | None, list[int]]:
    """Point indexes per series label, series in the engine's order (its `series_rank`)."""
    ranks: dict[str | None, Any] = {}
    members: dict[str | None, list[int]] = {}
    for index, p in enumerate(points):
        members.setdefault(p.series_label, []).append(index)
        ranks.setdefault(p.series_label, dict(p.extra).get("series_rank", len(ranks)))
    return {name: members[name] for name in sorted(members, key=lambda n: ranks[n])}


def _trace(kind: str, name: str | None, members: list[int], points: list[Point], alone: bool) -> Any:
    xs = [points[i].label for i in members]
    ys = [points[i].value for i in members]
    chosen = [points[i] for i in members]
    if alone:
        marker = _colors(chosen, "color")
    else:
        color = dict(chosen[0].extra).get("series_color")
        marker = {"color": color} if color else {}
    common = {"x": xs, "y": ys, "customdata": members, "name": name or ""}
    if kind in ("bar", "stacked_bar"):
        return go.Bar(marker=marker, **common)
    line = {"color": marker["color"]} if isinstance(marker.get("color"), str) else {}
    if kind == "area":
        return go.Scatter(mode="lines", stackgroup="one", line=line, **common)
    return go.Scatter(mode="lines+markers", line=line, **common)


def _colors(points: list[Point], key: str, attr: str = "color") -> dict:
    """Per-point colours when every point has one (a partial list would mislead)."""
    colors = [dict(p.extra).get(key) for p in points]
    return {attr: colors} if colors and all(colors) else {}


def format_value(value: Any) -> str:
    """A number with thousands separators (two decimals unless whole), a date as ISO."""
    if value is None:
        return NO_VALUE
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, Rate):
        return f"{float(value) * 100:.1f} %"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        value = int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.0f}" if value.is_integer() else f"{value:,.2f}"
    return str(value)


class KpiText(NamedTuple):
    """What a KPI card shows: the value in the language's units (¥350万, CN¥3.5M, 1.2K), its change
    against the previous period ("+12.5%", "n/a", or "" with no period), and the exact figure
    (¥3,500,000.00) for the card's title. Tables keep exact figures: they are read to the unit."""

    value: str
    change: str
    exact: str


def kpi_text(result: ChartResult, lang: str) -> KpiText:
    """A KPI card's texts: a money KPI in the CRM's currency, a rate as a percentage."""
    if result.omitted:
        return KpiText(result.omitted, "", result.omitted)
    value = exact = format_value(result.kpi)
    if result.chart.analysis in RATE_ANALYSES and result.kpi is not None and _numeric(result.kpi):
        value = exact = format_value(Rate(result.kpi))
    elif _numeric(result.kpi) and not isinstance(result.kpi, Rate):
        currency = _money_currency(result)
        value = in_units(result.kpi, lang) if currency is None else compact_money(result.kpi, currency, lang)
        exact = exact if currency is None else money(result.kpi, currency, lang)
    if result.chart.period is None and result.previous is None:
        return KpiText(value, "", exact)
    current, previous = result.kpi, result.previous
    if previous in (None, 0) or current is None or not _numeric(current) or not _numeric(previous):
        return KpiText(value, NOT_AVAILABLE.get(lang, NOT_AVAILABLE["en"]), exact)
    change = (float(current) - float(previous)) / abs(float(previous)) * 100
    return KpiText(value, f"{change:+.1f}%", exact)


def _money_currency(result: ChartResult) -> str | None:
    """The CRM's currency when the KPI sums (or averages) a money field, else None."""
    measure = result.chart.measure
    if not has_app_context() or measure is None or measure.field is None or measure.func == "count_distinct":
        return None
    spec = current_app.extensions["crm"].spec
    f = spec.entity(result.chart.entity).field_map.get(measure.field)
    return spec.currency if f is not None and f.type == "money" else None


def _numeric(value: Any) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def table(result: ChartResult, lang: str, spec: CrmSpec | None = None) -> tuple[list[str], list[list[str]]]:
    """Headings and formatted cells: an analysis's own rows, a pivot (groups × series with
    totals), or one row per point."""
    if result.omitted:
        return [], []
    if result.columns or result.rows:
        return list(result.columns), [[format_value(v) for v in row] for row in result.rows]
    chart = result.chart
    spec = spec or (current_app.extensions["crm"].spec if has_app_context() else None)
    heading = (lambda path: field_label(spec, spec.entity(chart.entity), path, lang)) if spec else str
    group = heading(chart.group.path) if chart.group else ""
    if chart.kind == "pivot" and chart.series is not None:
        return _pivot(result, lang, group)
    headings = [group, *([heading(chart.series.path)] if chart.series else []), result.value_label]
    rows = [[p.label, *([p.series_label or ""] if chart.series else []), format_value(p.value)]
            for p in result.points]
    return headings, rows


def _pivot(result: ChartResult, lang: str, group_heading: str) -> tuple[list[str], list[list[str]]]:
    points = result.points
    columns = list(series_of(points))
    groups = list(dict.fromkeys(p.label for p in points))
    cell = {(p.label, p.series_label): p.value for p in points}
    additive = result.chart.measure.func in ("count", "sum")
    total = text("total", lang)
    headings = [group_heading, *[c or "" for c in columns], *([total] if additive else [])]
    rows = []
    for g in groups:
        values = [cell.get((g, c)) for c in columns]
        rows.append([g, *[format_value(v) if v is not None else "" for v in values],
                     *([format_value(sum(v for v in values if v is not None))] if additive else [])])
    if additive:
        sums = [sum(v for g in groups if (v := cell.get((g, c))) is not None) for c in columns]
        rows.append([total, *[format_value(s) for s in sums], format_value(sum(sums))])
    return headings, rows
