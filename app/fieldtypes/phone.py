"""phone: a phone number (the `phone` normaliser makes it canonical)."""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa

from app.records.messages import msg

from .base import TEXTUAL, FieldType

PHONE = re.compile(r"^\+?[0-9][0-9 ()\-]{2,30}$")


class PhoneType(FieldType):
    name = "phone"
    doc = "A phone number: digits, spaces, + - ( )."
    options = TEXTUAL
    example = "mobile: {type: phone}"
    searchable = True
    text_default = True
    form_blank_is_empty = True

    def column_type(self, field: Any) -> sa.types.TypeEngine:
        return sa.String(field.max_length or 32)

    def validate(self, field: Any, value: Any, lang: str | None) -> list[str]:
        return [] if not isinstance(value, str) or PHONE.match(value) else [msg("phone", lang)]


TYPE = PhoneType()
