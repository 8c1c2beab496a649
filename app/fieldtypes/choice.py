"""choice: one value from the field's `choices`, shown as a coloured label."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from markupsafe import Markup, escape

from app.records.messages import choices_text, msg

from .base import COMMON, FieldType, LangFormatter


def choice_errors(field: Any, values: list[Any], lang: str | None) -> list[str]:
    allowed = field.choice_values
    bad = [v for v in values if v not in allowed]
    if not bad:
        return []
    return [msg("choice", lang, v=", ".join(map(str, bad)), choices=choices_text(field, lang))]


class ChoiceType(FieldType):
    name = "choice"
    doc = "One value from a fixed list."
    options = COMMON | {"choices", "normalise"}
    example = "tier: {type: choice, choices: [a, b, c]}"
    default_max_length = 255
    searchable = True

    def column_type(self, field: Any) -> sa.types.TypeEngine:
        return sa.String(64)

    def validate(self, field: Any, value: Any, lang: str | None) -> list[str]:
        return choice_errors(field, [value], lang)

    def default_error(self, value: Any, choices: tuple[Any, ...], values: dict[str, Any]) -> str:
        if str(value) not in {c.value for c in choices}:
            return f"is not one of the choices ({', '.join(c.value for c in choices)})"
        return ""

    def form_field(self, field: Any, common: dict[str, Any], context: Any) -> Any:
        from wtforms import SelectField

        from app.web.labels import lazy
        return SelectField(**common, choices=[("", "")] + [(c.value, lazy(c.label)) for c in field.choices],
                           render_kw={"class": "form-control"}, validate_choice=False,
                           coerce=lambda v: v or None)

    def plain_text(self, field: Any, value: Any, lang: str) -> str:
        return field.choice_label(value, lang)

    def card_text(self, field: Any, value: Any, spec: Any, lang: str) -> str:
        return field.choice_label(value, lang)

    def formatter(self, field: Any, spec: Any) -> Callable[[Any], Any]:
        """A coloured label in the page's language; each (language, value)'s HTML is made once
        (a list shows the same few choices on every row; the field is fixed for the app's life)."""
        colors = {c.value: c.color for c in field.choices}
        made: dict[tuple[str, Any], Markup] = {}

        def choice(value: Any, lang: str) -> Any:
            if value is None:
                return ""
            key = (lang, value)
            html = made.get(key)
            if html is None:
                color = colors.get(value)
                style = f' style="background:{escape(color)}"' if color else ""
                html = Markup('<span class="label label-default crm-choice"{}>{}</span>').format(
                    Markup(style), field.choice_label(value, lang))
                if value in colors:  # a stored value no longer among the choices is not kept
                    made[key] = html
            return html
        return LangFormatter(choice)

    def demo_value(self, entity: Any, field: Any, index: int, rng: Any, today: Any, plan: Any) -> Any:
        return rng.choice([c.value for c in field.choices])


TYPE = ChoiceType()
