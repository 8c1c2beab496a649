"""link: a reference to one record of another entity (a foreign key, a search-as-you-type picker)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from .base import COMMON, FieldType
from .values import record_id


class RefType(FieldType):
    """What link, links and user share: ids in, {id, title} out, filled by the demo loader."""

    filled_by_loader = True

    def column_type(self, field: Any) -> sa.types.TypeEngine:
        return sa.Integer()  # the foreign key column (models/builder.py adds the constraint)

    def parse(self, field: Any, raw: Any, lang: str | None) -> Any:
        return record_id(raw, lang)

    def output_field(self, field: Any) -> Any:
        from marshmallow import fields

        from app.web.schemas import RefSchema
        return fields.Nested(RefSchema, allow_none=True)

    def input_field(self, field: Any, meta: dict[str, Any]) -> Any:
        from marshmallow import fields
        return fields.Integer(allow_none=True, required=False,
                              metadata={**meta, "description": f"id of the {field.to or 'user'}"})

    def card_text(self, field: Any, value: Any, spec: Any, lang: str) -> str:
        from app.web.linktitles import link_text
        return link_text(value)

    def picker_url(self, field: Any, context: Any) -> str:
        return f"{context.api_prefix}/{field.to}/picker"

    def form_field(self, field: Any, common: dict[str, Any], context: Any) -> Any:
        from app.web.forms import PickerField
        return PickerField(field, self.picker_url(field, context), **common)

    def demo_value(self, entity: Any, field: Any, index: int, rng: Any, today: Any, plan: Any) -> Any:
        return None  # the loader picks records made earlier


class LinkType(RefType):
    name = "link"
    doc = "A reference to one record of another entity (many-to-one)."
    options = (COMMON - {"default"}) | {"to", "on_delete", "unique"}
    example = "account: {type: link, to: account, on_delete: restrict}"

    def plain_text(self, field: Any, value: Any, lang: str) -> str:
        from app.web.linktitles import link_text
        return link_text(value)

    def formatter(self, field: Any, spec: Any) -> Callable[[Any], Any]:
        from app.web.display import RecordLink
        return RecordLink(field.to or "")


TYPE = LinkType()
