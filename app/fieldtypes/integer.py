"""integer: a whole number (BIGINT on PostgreSQL)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from .base import NUMERIC, FieldType
from .values import integer_value, range_errors


class NumberType(FieldType):
    """What the number types share: min/max, stripped filter text, numbers in the API."""

    numeric = True
    options = NUMERIC

    def validate(self, field: Any, value: Any, lang: str | None) -> list[str]:
        return range_errors(field, value, lang, numeric=True)

    def default_error(self, value: Any, choices: tuple[Any, ...], values: dict[str, Any]) -> str:
        lo, hi = values.get("min", self.default_min), values.get("max", self.default_max)
        numbers = [b for b in (lo, hi) if isinstance(b, (int, float)) and not isinstance(b, bool)]
        if len(numbers) == len([b for b in (lo, hi) if b is not None]) and (
                (lo is not None and value < lo) or (hi is not None and value > hi)):
            return "is outside min/max"
        return ""

    def filter_value(self, field: Any, value: Any, lang: str | None) -> Any:
        return self.parse_value(field, value.strip() if isinstance(value, str) else value, lang)

    def conversion_input(self, field: Any, stored: Any) -> Any:
        return str(stored)

    def demo_value(self, entity: Any, field: Any, index: int, rng: Any, today: Any, plan: Any) -> Any:
        from app.demo.values import generic_number
        return generic_number(field, index, rng, Decimal(1).scaleb(-field.scale))


class IntegerType(NumberType):
    name = "integer"
    doc = "A whole number."
    example = "employees: {type: integer, min: 0}"
    python_type = int

    def column_type(self, field: Any) -> sa.types.TypeEngine:
        return sa.BigInteger().with_variant(sa.Integer(), "sqlite")

    def parse(self, field: Any, raw: Any, lang: str | None) -> Any:
        return integer_value(raw, lang)

    def default_error(self, value: Any, choices: tuple[Any, ...], values: dict[str, Any]) -> str:
        if not isinstance(value, int) or isinstance(value, bool):
            return "is not a whole number"
        return super().default_error(value, choices, values)

    def output_field(self, field: Any) -> Any:
        from marshmallow import fields
        return fields.Integer(allow_none=True)

    def demo_value(self, entity: Any, field: Any, index: int, rng: Any, today: Any, plan: Any) -> Any:
        from app.demo.values import generic_number
        return int(generic_number(field, index, rng, Decimal(1)))


TYPE = IntegerType()
