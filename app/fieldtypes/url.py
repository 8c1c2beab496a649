"""url: a web address, shown as a link that opens in a new tab."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from markupsafe import Markup

from app.records.messages import msg

from .base import TEXTUAL, FieldType

URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)


class UrlType(FieldType):
    name = "url"
    doc = "A web address starting with http:// or https://."
    options = TEXTUAL
    example = "website: {type: url}"
    searchable = True
    text_default = True
    form_blank_is_empty = True

    def column_type(self, field: Any) -> sa.types.TypeEngine:
        return sa.String(field.max_length or 2048)

    def validate(self, field: Any, value: Any, lang: str | None) -> list[str]:
        return [] if not isinstance(value, str) or URL.match(value) else [msg("url", lang)]

    def formatter(self, field: Any, spec: Any) -> Callable[[Any], Any]:
        return lambda v: "" if not v else Markup('<a href="{0}" rel="noopener" target="_blank">{0}</a>').format(v)


TYPE = UrlType()
