"""lookup: the value of a field of the linked record (see formula.py for computed kinds)."""

from __future__ import annotations

from .formula import ComputedKind


class LookupType(ComputedKind):
    name = "lookup"
    doc = "Read-only value of a field of the linked record."
    options = frozenset({"type", "label", "help", "path", "copy_at_create"})
    example = "account_industry: {type: lookup, path: account.industry}"


TYPE = LookupType()
