"""The head every entry of scoring:, sla:, territories: and pool: shares: its keys checked,
the required ones there, a good name and a known entity."""

from __future__ import annotations

from typing import Any

from app.metadata.definitions import Key
from app.metadata.shapes import check_mapping


def section_head(checker: Any, item: Any, line: int, keys: tuple[Key, ...],
                 what: str) -> tuple[dict[str, Any], str, Any] | None:
    """(values, "what 'name'" for messages, the entity spec), or None after the problems are reported."""
    values = check_mapping(item, keys, checker.sink, what, line)
    if not {k.name for k in keys if k.required} <= set(values):
        return None
    where = f"{what} '{values['name']}'"
    if not checker.name(values["name"], item.line_of("name")) or \
            not checker.entity(values["entity"], item.line_of("entity"), where):
        return None
    return values, where, checker.entities[values["entity"]]
