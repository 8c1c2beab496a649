"""Read an API (or import) payload into typed values, collecting field errors."""

from __future__ import annotations

from typing import Any

from app.metadata.spec import EntitySpec

from .messages import msg
from .parse import FieldValueError, parse_value


def values_from_payload(entity: EntitySpec, payload: Any, lang: str | None = None,
                        create: bool = False) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Typed values by field name, and errors by field name (or '_schema').

    On create, `owner` passes through: CreateRecord lets roles that may reassign set it."""
    if not isinstance(payload, dict):
        return {}, {"_schema": [msg("not_json", lang)]}
    values: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for name, raw in payload.items():
        f = entity.field_map.get(name)
        if f is None:
            errors[name] = [msg("unknown_field", lang)]
            continue
        if create and name == "owner":
            values[name] = raw
            continue
        if not f.editable:
            errors[name] = [msg("read_only", lang)]
            continue
        try:
            values[name] = parse_value(f, raw, lang)
        except FieldValueError as exc:
            errors[name] = [str(exc)]
    return values, errors
