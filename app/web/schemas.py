"""marshmallow schemas per entity: what the API returns and documents.

Built from the spec rather than by FAB's converter so that links come out
as {id, title} (never a nested user row), tags as lists, money as strings.
Input is parsed by the records layer; the input schemas exist for OpenAPI.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from marshmallow import Schema, fields

from app.fieldtypes import field_type
from app.metadata.spec import EntitySpec, FieldSpec

from .linktitles import link_title


class UtcDateTime(fields.DateTime):
    """Stored datetimes are naive UTC: say so (+00:00), as OpenAPI's date-time requires an offset."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        if isinstance(value, dt.datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return super()._serialize(value, attr, obj, **kwargs)


class RefSchema(Schema):
    """A linked record or user as the API shows it (a record the user may not read: restricted)."""

    id = fields.Integer()
    title = fields.Function(lambda obj: link_title(obj))


def output_field(f: FieldSpec) -> fields.Field:
    """How the API writes a field's value: its field type decides (app/fieldtypes/)."""
    return field_type(f.type).output_field(f)


def input_field(f: FieldSpec) -> fields.Field:
    """How the API documents a field's input (parsing is the records layer's)."""
    meta: dict[str, Any] = {"description": f.help.get() or f.label.get()}
    if f.choices:
        meta["enum"] = [c.value for c in f.choices]
    return field_type(f.type).input_field(f, meta)


def weighted(entity: EntitySpec) -> tuple[str, str] | None:
    """(amount field, probability field) when a pipeline weights an amount by probability."""
    for pipeline in entity.pipelines:
        if pipeline.amount_field and pipeline.probability_field:
            return pipeline.amount_field, pipeline.probability_field
    return None


def weighted_value(obj: Any, amount: str, probability: str) -> str | None:
    return weighted_of(getattr(obj, amount, None), getattr(obj, probability, None))


def weighted_of(amount: Any, probability: Any) -> str | None:
    """amount x probability / 100 to the cent, as text (None when either is missing)."""
    if amount is None or probability is None:
        return None
    return str((Decimal(amount) * Decimal(probability) / 100).quantize(Decimal("0.01")))


VERSION_HELP = ("the record's version: send it back (If-Match or `version`) with a change or delete; "
                "a write from another version is refused with 409")


def output_schema(entity: EntitySpec, names: list[str], suffix: str) -> Schema:
    attrs: dict[str, Any] = {"id": fields.Integer(),
                             "version": fields.Integer(dump_only=True, metadata={"description": VERSION_HELP})}
    for name in names:
        attrs[name] = output_field(entity.field(name))
    pair = weighted(entity)
    if pair and all(n in names for n in pair):  # derived: amount x probability
        derived = fields.Function(
            lambda obj, pair=pair: weighted_value(obj, *pair),
            metadata={"type": "string", "description": f"{pair[0]} x {pair[1]} / 100 (derived)"})
        derived.crm_weighted = pair  # type: ignore[attr-defined]  # a list's rows compute it from theirs (rowdump.py)
        attrs[f"weighted_{pair[0]}"] = derived
    cls = type(f"{entity.class_name}{suffix}Schema", (Schema,), attrs)
    return cls()


def input_schema(entity: EntitySpec, suffix: str, create: bool) -> Schema:
    attrs: dict[str, Any] = {}
    for f in entity.declared_fields:
        if f.editable:
            field = input_field(f)
            field.required = create and f.required and f.default is None
            attrs[f.name] = field
    if not create:
        attrs["version"] = fields.Integer(required=False, metadata={"description": VERSION_HELP})
    cls = type(f"{entity.class_name}{suffix}Schema", (Schema,), attrs)
    return cls()
