"""Field rules: the one validation source for screens, the API and imports.

`check_value` gets an already-typed value (the form or the JSON parser did
the typing) and returns the messages that apply, in the user's language.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from app.fieldtypes import field_type
from app.metadata.spec import FieldSpec

from .messages import choices_text, labelled, msg

__all__ = ["check_value", "choices_text", "is_empty", "labelled"]


def is_empty(value: Any) -> bool:
    """None, '' or []. Asked for every value of every write: a number or a date is answered by its
    type (`Decimal(...) == ''` would consult the numbers ABCs first), anything else by comparing."""
    if value is None:
        return True
    kind = type(value)
    if kind is str or kind is list:
        return not value
    if kind in _NEVER_EMPTY:
        return False
    return bool(value == "" or value == [])


_NEVER_EMPTY = frozenset({Decimal, int, bool, float, dt.date, dt.datetime})


def check_value(field: FieldSpec, value: Any, lang: str | None = None) -> list[str]:
    """Messages for one value of one field; [] when it is acceptable."""
    if is_empty(value):
        return [msg("required", lang)] if field.required else []
    text = isinstance(value, str)
    errors: list[str] = []
    if text and field.max_length and len(value) > field.max_length:
        errors.append(msg("max_length", lang, n=field.max_length))
    found = field_type(field.type).validate(field, value, lang)  # format, choices, min/max
    if found:
        errors.extend(found)
    if text and field.pattern and not re.fullmatch(field.pattern, value):
        errors.append(field.pattern_message.get(lang) or msg("pattern", lang, p=field.pattern))
    return errors
