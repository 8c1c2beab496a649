"""text: several lines of text, kept as typed (not stripped)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from markupsafe import Markup

from .base import COMMON, FieldType
from .values import text_value


class TextType(FieldType):
    name = "text"
    doc = "Several lines of text."
    options = COMMON | {"max_length", "normalise"}
    example = "notes: {type: text}"
    in_unique_set = False
    searchable = True
    text_default = True
    sorts_as_text = True
    keeps_blank = True

    def column_type(self, field: Any) -> sa.types.TypeEngine:
        return sa.Text()

    def parse(self, field: Any, raw: Any, lang: str | None) -> Any:
        return text_value(raw, lang, strip=False)

    def form_widget(self) -> Any:
        from flask_appbuilder.fieldwidgets import BS3TextAreaFieldWidget
        return BS3TextAreaFieldWidget()

    def formatter(self, field: Any, spec: Any) -> Callable[[Any], Any]:
        return lambda v: "" if not v else Markup("<br>").join(str(v).splitlines())

    def conversion_input(self, field: Any, stored: Any) -> Any:
        return str(stored) if isinstance(stored, (int, float)) else stored


TYPE = TextType()
