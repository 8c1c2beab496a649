"""date: a calendar date (ISO text in and out, a date picker on forms)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from app.records.messages import msg

from .base import COMMON, DATE_PATTERN, FieldType
from .values import FieldValueError, range_errors


class DateType(FieldType):
    name = "date"
    doc = "A calendar date."
    options = COMMON | {"min", "max"}
    example = "close_date: {type: date, default: today}"
    python_type = dt.date

    def column_type(self, field: Any) -> sa.types.TypeEngine:
        return sa.Date()

    def parse(self, field: Any, raw: Any, lang: str | None) -> Any:
        try:
            if not isinstance(raw, str):
                raise ValueError
            return dt.date.fromisoformat(raw[:10])
        except ValueError:
            raise FieldValueError(msg("date", lang)) from None

    def validate(self, field: Any, value: Any, lang: str | None) -> list[str]:
        return range_errors(field, value, lang, numeric=False)

    def default_error(self, value: Any, choices: tuple[Any, ...], values: dict[str, Any]) -> str:
        return "" if isinstance(value, dt.date) else "is not a date (2024-01-31) or today"

    def form_widget(self) -> Any:
        from app.web.forms import DateTextWidget
        return DateTextWidget("YYYY-MM-DD")

    def output_field(self, field: Any) -> Any:
        from marshmallow import fields
        return fields.Date(allow_none=True)

    def schema_rule(self, then: dict[str, Any]) -> None:
        then["properties"].update(min={"type": "string", "pattern": DATE_PATTERN},
                                  max={"type": "string", "pattern": DATE_PATTERN})

    def card_text(self, field: Any, value: Any, spec: Any, lang: str) -> str:
        return value.isoformat()

    def demo_value(self, entity: Any, field: Any, index: int, rng: Any, today: Any, plan: Any) -> Any:
        from app.demo.values import generic_date
        return generic_date(field, rng, today)


TYPE = DateType()
