"""boolean: yes or no (a checkbox on forms, ✓/✗ in lists)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from app.records.messages import msg

from .base import COMMON, FieldType
from .values import FieldValueError


class BooleanType(FieldType):
    name = "boolean"
    doc = "Yes or no."
    options = COMMON
    example = "active: {type: boolean, default: true}"
    python_type = bool

    def column_type(self, field: Any) -> sa.types.TypeEngine:
        return sa.Boolean()

    def parse(self, field: Any, raw: Any, lang: str | None) -> Any:
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.lower() in ("true", "false", "1", "0", "yes", "no"):
            return raw.lower() in ("true", "1", "yes")
        raise FieldValueError(msg("boolean", lang))

    def default_error(self, value: Any, choices: tuple[Any, ...], values: dict[str, Any]) -> str:
        return "" if isinstance(value, bool) else "is not true or false"

    def filter_value(self, field: Any, value: Any, lang: str | None) -> Any:
        return self.parse_value(field, value.strip() if isinstance(value, str) else value, lang)

    def form_field(self, field: Any, common: dict[str, Any], context: Any) -> Any:
        from wtforms import BooleanField
        common = {k: v for k, v in common.items() if k != "validators"}  # unticked is a value
        return BooleanField(**common, false_values=("false", "", "0", "n", "no"))

    def output_field(self, field: Any) -> Any:
        from marshmallow import fields
        return fields.Boolean(allow_none=True)

    def plain_text(self, field: Any, value: Any, lang: str) -> str:
        return "true" if value else "false"

    def card_text(self, field: Any, value: Any, spec: Any, lang: str) -> str:
        return str(self.formatter(field, spec)(value))

    def formatter(self, field: Any, spec: Any) -> Callable[[Any], Any]:
        return lambda v: "" if v is None else ("✓" if v else "✗")

    def demo_value(self, entity: Any, field: Any, index: int, rng: Any, today: Any, plan: Any) -> Any:
        return rng.random() < {True: 0.75, False: 0.25}.get(field.default, 0.5)


TYPE = BooleanType()
