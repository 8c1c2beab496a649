"""percent: a percentage, 0-100 unless min/max say otherwise (NUMERIC(7, 2))."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from .base import NUMERIC
from .decimal import DecimalType


class PercentType(DecimalType):
    name = "percent"
    doc = "A percentage, 0-100 unless min/max say otherwise."
    options = NUMERIC
    example = "probability: {type: percent}"
    precision = 7
    default_min, default_max = 0, 100

    def scale_of(self, field: Any) -> int:
        return 2

    def card_text(self, field: Any, value: Any, spec: Any, lang: str) -> str:
        return str(self.formatter(field, spec)(value))

    def formatter(self, field: Any, spec: Any) -> Callable[[Any], Any]:
        return lambda v: "" if v is None else f"{Decimal(v):.2f}".rstrip("0").rstrip(".") + "%"


TYPE = PercentType()
