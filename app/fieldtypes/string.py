"""string: one line of text."""

from __future__ import annotations

from typing import Any

from .base import TEXTUAL, FieldType


class StringType(FieldType):
    name = "string"
    doc = "One line of text (255 characters unless max_length)."
    options = TEXTUAL
    example = "name: {type: string, required: true, max_length: 200}"
    default_max_length = 255
    searchable = True
    text_default = True
    sorts_as_text = True
    keeps_blank = True
    form_blank_is_empty = True

    def conversion_input(self, field: Any, stored: Any) -> Any:
        return str(stored) if isinstance(stored, (int, float)) else stored


TYPE = StringType()
