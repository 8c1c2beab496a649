"""formula: a read-only value computed from an expression (app/expr), in SQL.

The metadata kinds formula, lookup and rollup own their options here; once
loaded, a computed field's `type` is the type of its value (`returns`, the
looked-up field's type, the rolled-up field's type or integer for count), so
parsing, display, API and filters come from that type and the SQL from
app/models/computed.py.
"""

from __future__ import annotations

from .base import FieldType


class ComputedKind(FieldType):
    computed = True


class FormulaType(ComputedKind):
    name = "formula"
    doc = "Read-only value computed from an expression, in SQL (lists, filters, charts)."
    options = frozenset({"type", "label", "help", "expression", "returns", "stored", "scale", "index"})
    example = "weighted: {type: formula, returns: money, expression: amount * probability / 100}"


TYPE = FormulaType()
