"""Large numbers on a chart in the reader's units (CLDR's short forms): 350万 and 1.2亿 in zh, 3.5M and 1.2B in en.

Plotly writes a big axis value with SI suffixes (3.5M, 1.2G), which a Chinese reader has to
convert (3.5M is 350万) and an English one reads as giga. `figure()` gives the value axis explicit
`tickvals` / `ticktext` (nice steps over the drawn range, stacks summed) and each trace its hover
text in the language's units (app/i18n/formats.py `compact_number`). Pure: no request, no database.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from app.i18n.formats import compact_number

TICKS = 5  # about this many steps from the lowest to the highest value


def in_units(value: Any, lang: str | None) -> str:
    """350万, 1.2亿, 8,500, -3万 in zh, 3.5M in en (— for no value): at most two decimals, none
    trailing (the value is rounded, a tick or a hover label, never an amount to book)."""
    if not isinstance(value, Decimal | int | float) or isinstance(value, bool) or not math.isfinite(value):
        return "—"
    return compact_number(value, lang)


def nice_step(span: float, whole: bool = False) -> float:
    """1, 2, 2.5 or 5 times a power of ten, so that the span takes about `TICKS` steps (for
    `whole` values, counts, no step of 2.5 or under 1)."""
    if span <= 0:
        return 1.0
    raw = span / TICKS
    power = 10 ** math.floor(math.log10(raw))
    steps = [m * power for m in (1, 2, 2.5, 5, 10)]
    return next(s for s in steps if s >= raw and (not whole or (s >= 1 and float(s).is_integer())))


def axis_ticks(values: Iterable[Any], lang: str | None) -> dict[str, list[Any]]:
    """`tickvals` and `ticktext` covering 0 and every value (already summed for stacks)."""
    numbers = [float(v) for v in values if isinstance(v, Decimal | int | float) and not isinstance(v, bool)]
    low, high = min([0.0, *numbers]), max([0.0, *numbers])
    step = nice_step(high - low, whole=all(n.is_integer() for n in numbers))
    first, last = math.floor(low / step), math.ceil(high / step)
    ticks = [round(i * step, 10) for i in range(first, last + 1)]
    return {"tickvals": ticks, "ticktext": [in_units(t, lang) for t in ticks]}


def stacked_totals(points: Iterable[Any]) -> list[Any]:
    """The height of each category's stack (positive and negative parts apart), for the axis range."""
    up: dict[Any, float] = {}
    down: dict[Any, float] = {}
    for p in points:
        value = float(p.value or 0)
        side = up if value >= 0 else down
        side[p.label] = side.get(p.label, 0.0) + value
    return [*up.values(), *down.values()]
