"""autonumber: a number given on create from a pattern (TCK-00042), read-only."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from .base import FieldType


class AutonumberType(FieldType):
    name = "autonumber"
    doc = "A number given on create from a pattern, read-only."
    options = frozenset({"type", "label", "help", "aliases", "index", "format", "renamed_from"})
    example = 'number: {type: autonumber, format: "TCK-{00000}"}'
    always_unique = True
    searchable = True
    filled_by_loader = True

    def column_type(self, field: Any) -> sa.types.TypeEngine:
        return sa.String(64)

    def demo_value(self, entity: Any, field: Any, index: int, rng: Any, today: Any, plan: Any) -> Any:
        return None  # the loader numbers the records (format_autonumber)


TYPE = AutonumberType()
