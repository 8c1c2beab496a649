"""decimal: an exact decimal number of `scale` places (NUMERIC(18, scale))."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from .base import NUMERIC, FieldType
from .integer import NumberType
from .values import decimal_value


class DecimalType(NumberType):
    name = "decimal"
    doc = "An exact decimal number."
    options = NUMERIC | {"scale"}
    example = "weight: {type: decimal, scale: 3}"
    python_type = Decimal
    default_scale = 4
    precision = 18

    def scale_of(self, field: Any) -> int:
        return field.scale

    def column_type(self, field: Any) -> sa.types.TypeEngine:
        return sa.Numeric(self.precision, self.scale_of(field))

    def parse(self, field: Any, raw: Any, lang: str | None) -> Any:
        return decimal_value(raw, lang, self.scale_of(field), self.precision)

    def default_error(self, value: Any, choices: tuple[Any, ...], values: dict[str, Any]) -> str:
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            return "is not a number"
        return super().default_error(value, choices, values)

    def output_field(self, field: Any) -> Any:
        """Exact amounts as text ("12.50"): documented as a string, since that is what goes out."""
        from marshmallow import fields
        return fields.Decimal(as_string=True, allow_none=True,
                              metadata={"type": "string", "format": "decimal", "example": "12.50"})

    def card_text(self, field: Any, value: Any, spec: Any, lang: str) -> str:
        return f"{value:,}"

    def json_value(self, field: Any, value: Any) -> Any:
        return None if value is None else str(value)


TYPE: FieldType = DecimalType()
