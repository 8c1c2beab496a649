"""multichoice: any number of values from `choices` (tags), stored as a JSON list."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from markupsafe import Markup

from app.records.messages import msg

from .base import COMMON, FieldType
from .choice import choice_errors
from .values import FieldValueError


class MultichoiceType(FieldType):
    name = "multichoice"
    doc = "Any number of values from a fixed list (tags)."
    options = (COMMON - {"index"}) | {"choices", "normalise"}
    example = "tags: {type: multichoice, choices: [vip, partner]}"
    in_unique_set = False

    def column_type(self, field: Any) -> sa.types.TypeEngine:
        from app.models.columns import JSONList
        return JSONList()

    def parse(self, field: Any, raw: Any, lang: str | None) -> Any:
        if isinstance(raw, str):
            raw = [part.strip() for part in raw.split(",") if part.strip()]
        if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
            raise FieldValueError(msg("list", lang))
        return raw

    def validate(self, field: Any, value: Any, lang: str | None) -> list[str]:
        return choice_errors(field, list(value), lang)

    def default_error(self, value: Any, choices: tuple[Any, ...], values: dict[str, Any]) -> str:
        items = value if isinstance(value, list) else [value]
        if any(str(v) not in {c.value for c in choices} for v in items):
            return "names a value that is not among the choices"
        return ""

    def filter_value(self, field: Any, value: Any, lang: str | None) -> Any:
        return value  # matched as text inside the stored list (filtering.py checks it is text)

    def form_field(self, field: Any, common: dict[str, Any], context: Any) -> Any:
        from wtforms import SelectMultipleField

        from app.web.labels import lazy
        return SelectMultipleField(**common, choices=[(c.value, lazy(c.label)) for c in field.choices],
                                   validate_choice=False, render_kw={"class": "form-control"})

    def form_data(self, data: Any) -> Any:
        return list(data or [])

    def output_field(self, field: Any) -> Any:
        from marshmallow import fields
        return fields.Function(lambda obj, name=field.name: getattr(obj, name) or [],
                               metadata={"type": "array", "items": {"type": "string"}})

    def input_field(self, field: Any, meta: dict[str, Any]) -> Any:
        from marshmallow import fields
        return fields.List(fields.String(), metadata=meta)

    def json_value(self, field: Any, value: Any) -> Any:
        return [] if value is None else value

    def plain_text(self, field: Any, value: Any, lang: str) -> str:
        return "; ".join(field.choice_label(v, lang) for v in value)

    def card_text(self, field: Any, value: Any, spec: Any, lang: str) -> str:
        return ", ".join(field.choice_label(v, lang) for v in value)

    def formatter(self, field: Any, spec: Any) -> Callable[[Any], Any]:
        from app.web.labels import current_lang
        return lambda values: Markup(" ").join(
            Markup('<span class="label label-info">{}</span>').format(field.choice_label(v, current_lang()))
            for v in (values or []))

    def demo_value(self, entity: Any, field: Any, index: int, rng: Any, today: Any, plan: Any) -> Any:
        values = [c.value for c in field.choices]
        chosen = rng.sample(values, rng.randint(1 if field.required else 0, min(3, len(values))))
        return [v for v in values if v in chosen]


TYPE = MultichoiceType()
