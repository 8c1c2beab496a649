"""Turn JSON (or CSV-ish text) values into typed field values.

Raises `FieldValueError` with a user-facing message; never lets a bad value
reach the database, where it would become a 500. Each field type parses its
own values (app/fieldtypes/<type>.py); this is the one entry point.
"""

from __future__ import annotations

from typing import Any

from app.fieldtypes import field_type
from app.fieldtypes.values import MAX_RECORD_ID, FieldValueError, is_record_id
from app.metadata.spec import FieldSpec

__all__ = ["MAX_RECORD_ID", "FieldValueError", "is_record_id", "parse_value"]


def parse_value(field: FieldSpec, raw: Any, lang: str | None = None) -> Any:
    """Typed value for `raw`; None and '' mean empty."""
    return field_type(field.type).parse_value(field, raw, lang)
