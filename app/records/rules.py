"""Field rules: the one validation source for screens, the API and imports.

`check_value` gets an already-typed value (the form or the JSON parser did
the typing) and returns the messages that apply, in the user's language.
"""

from __future__ import annotations

import re
from typing import Any

from app.fieldtypes import field_type
from app.metadata.spec import FieldSpec

from .messages import choices_text, labelled, msg

__all__ = ["check_value", "choices_text", "is_empty", "labelled"]


def is_empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def check_value(field: FieldSpec, value: Any, lang: str | None = None) -> list[str]:
    """Messages for one value of one field; [] when it is acceptable."""
    if is_empty(value):
        return [msg("required", lang)] if field.required else []
    errors: list[str] = []
    if isinstance(value, str):
        if field.max_length and len(value) > field.max_length:
            errors.append(msg("max_length", lang, n=field.max_length))
    errors.extend(field_type(field.type).validate(field, value, lang))  # format, choices, min/max
    if isinstance(value, str) and field.pattern and not re.fullmatch(field.pattern, value):
        errors.append(field.pattern_message.get(lang) or msg("pattern", lang, p=field.pattern))
    return errors
