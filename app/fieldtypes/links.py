"""links: references to any number of records (many-to-many, through a link table)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from markupsafe import Markup

from app.records.messages import msg

from .link import TYPE as LINK
from .link import RefType
from .values import FieldValueError, record_id


class LinksType(RefType):
    name = "links"
    doc = "References to any number of records (many-to-many)."
    options = frozenset({"type", "label", "help", "aliases", "required", "read_only", "to", "renamed_from"})
    example = "products: {type: links, to: product}"
    in_unique_set = False

    def parse(self, field: Any, raw: Any, lang: str | None) -> Any:
        if not isinstance(raw, list):
            raise FieldValueError(msg("list", lang))
        return [record_id(v, lang) for v in raw]

    def filter_value(self, field: Any, value: Any, lang: str | None) -> Any:
        return LINK.parse_value(replace(field, type="link"), value, lang)  # one linked id is looked for

    def output_field(self, field: Any) -> Any:
        from marshmallow import fields

        from app.web.schemas import RefSchema
        return fields.List(fields.Nested(RefSchema))

    def input_field(self, field: Any, meta: dict[str, Any]) -> Any:
        from marshmallow import fields
        return fields.List(fields.Integer(), metadata={**meta, "description": f"ids of {field.to} records"})

    def json_value(self, field: Any, value: Any) -> Any:
        return [] if value is None else value

    def plain_text(self, field: Any, value: Any, lang: str) -> str:
        from app.web.linktitles import link_text
        return "; ".join(link_text(v) for v in value)

    def card_text(self, field: Any, value: Any, spec: Any, lang: str) -> str:
        from app.web.linktitles import link_text
        return ", ".join(link_text(v) for v in value)

    def formatter(self, field: Any, spec: Any) -> Callable[[Any], Any]:
        from app.web.display import record_link
        return lambda items: Markup(", ").join(record_link(field.to or "", i) for i in (items or []))


TYPE = LinksType()
