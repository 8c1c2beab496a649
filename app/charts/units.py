"""Large numbers on a chart in the reader's units: 万 (10⁴) and 亿 (10⁸) for Chinese readers.

Plotly writes a big axis value with SI suffixes (3.5M, 1.2G), which a Chinese reader has to
convert (3.5M is 350万). For languages in `UNITS`, `figure()` gives the value axis explicit
`tickvals` / `ticktext` (nice steps over the drawn range, stacks summed) and each trace its
hover text in those units; other languages keep plotly's own axis. Pure: no request, no database.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

# a language's large-number units, largest first: (factor, word)
UNITS: dict[str, tuple[tuple[int, str], ...]] = {"zh": ((100_000_000, "亿"), (10_000, "万"))}
TICKS = 5  # about this many steps from the lowest to the highest value


def uses_units(lang: str | None) -> bool:
    return (lang or "").split("-")[0].split("_")[0] in UNITS


def in_units(value: Any, lang: str | None) -> str:
    """350万, 1.2亿, 8,500, -3万 (— for no value): at most two decimals, none trailing (the value is rounded, a tick
    or a hover label, never an amount to book)."""
    if not isinstance(value, Decimal | int | float) or isinstance(value, bool):
        return "—"
    number = float(value)
    for factor, word in UNITS.get((lang or "").split("-")[0].split("_")[0], ()):
        if abs(number) >= factor:
            return f"{_plain(number / factor)}{word}"
    return _plain(number)


def _plain(number: float) -> str:
    text = f"{round(number, 2):,.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def nice_step(span: float) -> float:
    """1, 2, 2.5 or 5 times a power of ten, so that the span takes about `TICKS` steps."""
    if span <= 0:
        return 1.0
    raw = span / TICKS
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)


def axis_ticks(values: Iterable[Any], lang: str | None) -> dict[str, list[Any]]:
    """`tickvals` and `ticktext` covering 0 and every value (already summed for stacks)."""
    numbers = [float(v) for v in values if isinstance(v, Decimal | int | float) and not isinstance(v, bool)]
    low, high = min([0.0, *numbers]), max([0.0, *numbers])
    step = nice_step(high - low)
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
