"""Field rules: the one validation source for screens, the API and imports.

`check_value` gets an already-typed value (the form or the JSON parser did
the typing) and returns the messages that apply, in the user's language.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from app.metadata.spec import FieldSpec

from .messages import msg

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE = re.compile(r"^\+?[0-9][0-9 ()\-]{2,30}$")
URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)


def is_empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def check_value(field: FieldSpec, value: Any, lang: str | None = None) -> list[str]:
    """Messages for one value of one field; [] when it is acceptable."""
    if is_empty(value):
        return [msg("required", lang)] if field.required else []
    t = field.type
    errors: list[str] = []
    if isinstance(value, str):
        if field.max_length and len(value) > field.max_length:
            errors.append(msg("max_length", lang, n=field.max_length))
        if t == "email" and not EMAIL.match(value):
            errors.append(msg("email", lang))
        if t == "phone" and not PHONE.match(value):
            errors.append(msg("phone", lang))
        if t == "url" and not URL.match(value):
            errors.append(msg("url", lang))
        if field.pattern and not re.fullmatch(field.pattern, value):
            errors.append(field.pattern_message.get(lang) or msg("pattern", lang, p=field.pattern))
    if t == "choice" and value not in {c.value for c in field.choices}:
        errors.append(msg("choice", lang, v=value, choices=choices_text(field, lang)))
    if t == "multichoice":
        bad = [v for v in value if v not in {c.value for c in field.choices}]
        if bad:
            errors.append(msg("choice", lang, v=", ".join(map(str, bad)), choices=choices_text(field, lang)))
    if t in ("integer", "decimal", "money", "percent", "date"):
        errors.extend(_range_errors(field, value, lang))
    return errors


def _range_errors(field: FieldSpec, value: Any, lang: str | None) -> list[str]:
    lo, hi = field.min, field.max
    if field.type == "date":
        if not isinstance(value, dt.date):
            return []
    else:
        value = Decimal(str(value))
        lo = Decimal(str(lo)) if lo is not None else None
        hi = Decimal(str(hi)) if hi is not None else None
    if lo is not None and value < lo:
        return [msg("min", lang, n=field.min)]
    if hi is not None and value > hi:
        return [msg("max", lang, n=field.max)]
    return []


def labelled(value: str, label: Any, lang: str | None = None) -> str:
    """A value as a message names it: the label the user reads, the value beside it when it
    differs (what the API and imports send): `初步接触 (prospecting)`, `展会`."""
    text = label.get(lang) or value
    return text if text == value else f"{text} ({value})"


def choices_text(field: FieldSpec, lang: str | None = None) -> str:
    return ", ".join(labelled(c.value, c.label, lang) for c in field.choices)
