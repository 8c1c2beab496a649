"""rollup: count / sum / min / max / avg of child records' field (see formula.py for computed kinds)."""

from __future__ import annotations

from .formula import ComputedKind


class RollupType(ComputedKind):
    name = "rollup"
    doc = "Read-only count, sum, min, max or avg of child records' field, in SQL."
    options = frozenset({"type", "label", "help", "to", "via", "function", "of", "where"})
    example = "open_pipeline: {type: rollup, to: opportunity, via: account, function: sum, of: amount}"


TYPE = RollupType()
