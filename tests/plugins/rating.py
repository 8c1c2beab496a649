"""A test plugin: a `rating` field type (1 to 5 stars), plugged in through crm_field_types.

Used by tests/test_field_type_plugin.py end to end: table column, form, API,
list, filter, JSON Schema, demo data and the checker.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from markupsafe import Markup

from app.fieldtypes import COMMON, FieldType, FieldValueError
from app.plugins.hookspecs import hookimpl

MESSAGE = {"en": "A rating is a whole number of stars from 1 to 5.", "zh": "评分须为 1 到 5 颗星的整数。"}


class RatingType(FieldType):
    name = "rating"
    doc = "A rating of 1 to 5 stars (typed as 1-5 or as stars: ★★★)."
    options = COMMON
    example = "satisfaction: {type: rating}"

    def column_type(self, field: Any) -> sa.types.TypeEngine:
        return sa.SmallInteger()

    def parse(self, field: Any, raw: Any, lang: str | None) -> int:
        if isinstance(raw, str) and raw.strip() and set(raw.strip()) == {"★"}:
            raw = len(raw.strip())
        elif isinstance(raw, str) and raw.strip().isdigit():
            raw = int(raw.strip())
        if isinstance(raw, bool) or not isinstance(raw, int) or not 1 <= raw <= 5:
            raise FieldValueError(MESSAGE["zh" if lang == "zh" else "en"])
        return raw

    def validate(self, field: Any, value: Any, lang: str | None) -> list[str]:
        """A form's select sends a number without the parser: the range is checked here too."""
        return [] if isinstance(value, int) and 1 <= value <= 5 else [MESSAGE["zh" if lang == "zh" else "en"]]

    def default_error(self, value: Any, choices: Any, values: dict[str, Any]) -> str:
        ok = isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 5
        return "" if ok else "is not a rating from 1 to 5"

    def form_field(self, field: Any, common: dict[str, Any], context: Any) -> Any:
        from wtforms import SelectField
        return SelectField(**common, choices=[("", "")] + [(str(n), "★" * n) for n in range(1, 6)],
                           coerce=lambda v: int(v) if v not in (None, "") else None,
                           validate_choice=False, render_kw={"class": "form-control crm-rating"})

    def output_field(self, field: Any) -> Any:
        from marshmallow import fields
        return fields.Integer(allow_none=True, metadata={"minimum": 1, "maximum": 5})

    def schema_rule(self, then: dict[str, Any]) -> None:
        then["properties"]["default"] = {"type": "integer", "minimum": 1, "maximum": 5}

    def formatter(self, field: Any, spec: Any) -> Any:
        return lambda v: "" if v is None else Markup('<span class="crm-rating" title="{}">{}</span>').format(
            v, "★" * v + "☆" * (5 - v))

    def demo_value(self, entity: Any, field: Any, index: int, rng: Any, today: Any, plan: Any) -> int:
        return rng.randint(1, 5)

    def conversion_input(self, field: Any, stored: Any) -> Any:
        return str(stored)


@hookimpl
def crm_field_types() -> list[FieldType]:
    return [RatingType()]
