"""How a chart's groups are ordered, cut to `top` and completed with empty choices.

Python work over the handful of rows a chart's GROUP BY returns: `sort` (value,
label, or the grouping's own order: declared choices and stages, time), `top`
with its tie-break (`ties`), and the choices no record has, shown as 0 so a new
stage appears at once. `col` is the engine's resolved column (its `field`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from app.metadata.spec import ChartSpec, Condition, Grouping


def empty_choices(chart: ChartSpec, grouping: Grouping, col: Any, pipeline: Any = None) -> list[Any]:
    """The choices (stages) of a choice group that no record has, which the chart shows as 0.

    Only the choices the chart's own filters on that field let through: a chart of
    open stages does not grow a 'won' bar; a chart of one pipeline's stage field only
    that pipeline's stages (New business shows no empty renewal stages). A new stage in
    metadata appears at once.
    """
    if grouping.bucket or col.field.type != "choice" or grouping.tail is not None:
        return []
    keys = [c.value for c in col.field.choices]
    if pipeline is not None and grouping.path == pipeline.field:
        keys = [k for k in keys if pipeline.stage(k) is not None]
    for cond in chart.filters:
        if cond.path == grouping.path:
            keys = [k for k in keys if _choice_passes(k, cond)]
    return keys


def _choice_passes(key: str, cond: Condition) -> bool:
    values = cond.value if isinstance(cond.value, (list, tuple)) else (cond.value,)
    if cond.op in ("eq", "in"):
        return key in {str(v) for v in values}
    if cond.op in ("ne", "not_in"):
        return key not in {str(v) for v in values}
    return cond.op == "empty" and not cond.value


def cut_top(chart: ChartSpec, col: Any, groups: list[Any], labels: dict[Any, str],
            totals: dict[Any, float], text: Callable[[str], Any] = str.casefold) -> list[Any]:
    """The N largest groups in `groups`' order; ties broken by `ties` (default: the first label),
    so the cut never depends on row order. `text`: what a label sorts by (the viewer's language's)."""
    if not chart.top or chart.group is None or len(groups) <= chart.top:
        return groups
    ties = chart.ties or "label"
    if ties == "order":
        rank = {k: i for i, k in enumerate(ordered_groups(chart.group, col, labels, totals, "order", text))}
        tie: Any = lambda k: rank[k]  # noqa: E731
    elif ties == "-label":
        ranked = sorted(totals, key=lambda k: text(labels[k]), reverse=True)
        rank = {k: i for i, k in enumerate(ranked)}
        tie = lambda k: rank[k]  # noqa: E731
    else:
        tie = lambda k: text(labels[k])  # noqa: E731
    keep = set(sorted(totals, key=lambda k: (-totals[k], tie(k)))[:chart.top])
    return [k for k in groups if k in keep]


def group_totals(cells: dict[tuple[Any, ...], Any], position: int) -> dict[Any, float]:
    """Sum of the values per group (position 0) or per series (1), to rank them."""
    totals: dict[Any, float] = {}
    for keys, value in cells.items():
        add = value if isinstance(value, (int, float)) else 0
        totals[keys[position]] = totals.get(keys[position], 0) + add
    return totals


def choice_color(name: str, col: Any, grouping: Grouping, key: Any) -> tuple[tuple[str, Any], ...]:
    """A choice's (or stage's) declared colour for the figure, when it has one."""
    if grouping.bucket or col.field.type != "choice":
        return ()
    color = next((c.color for c in col.field.choices if c.value == key), None)
    return ((name, color),) if color else ()


def default_sort(grouping: Grouping, col: Any) -> str:
    """Buckets in time, choices (stages) in declared order, anything else largest first."""
    return "order" if grouping.bucket or col.field.type == "choice" else "-value"


def ordered_groups(grouping: Grouping, col: Any, labels: dict[Any, str], totals: dict[Any, float],
             sort: str, text: Callable[[str], Any] = str.casefold) -> list[Any]:
    """The groups in the chart's `sort`; labels by `text` (pinyin order for a zh viewer: app/i18n/collation.py)."""
    keys = list(totals)
    if sort in ("label", "-label"):
        return sorted(keys, key=lambda k: (k is None, text(labels[k])), reverse=sort == "-label")
    if sort in ("value", "-value"):
        sign = -1 if sort == "-value" else 1
        return sorted(keys, key=lambda k: (sign * totals[k], text(labels[k])))
    if grouping.bucket:
        return sorted(keys, key=lambda k: (k is None, k or dt.date.min))
    rank = {c.value: i for i, c in enumerate(col.field.choices)}
    return sorted(keys, key=lambda k: (k is None, rank.get(k, len(rank)), text(labels[k])))
