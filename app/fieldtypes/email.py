"""email: an e-mail address (checked loosely here; the `email` normaliser checks strictly)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from markupsafe import Markup

from app.records.messages import msg

from .base import TEXTUAL, FieldType

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class EmailType(FieldType):
    name = "email"
    doc = "An e-mail address."
    options = TEXTUAL
    example = "email: {type: email, unique: true}"
    searchable = True
    text_default = True
    form_blank_is_empty = True

    def column_type(self, field: Any) -> sa.types.TypeEngine:
        return sa.String(field.max_length or 254)

    def validate(self, field: Any, value: Any, lang: str | None) -> list[str]:
        return [] if not isinstance(value, str) or EMAIL.match(value) else [msg("email", lang)]

    def formatter(self, field: Any, spec: Any) -> Callable[[Any], Any]:
        return lambda v: "" if not v else Markup('<a href="mailto:{0}">{0}</a>').format(v)


TYPE = EmailType()
