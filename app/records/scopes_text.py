"""Reading a scope string in the records layer, which does not import the security layer."""

from __future__ import annotations


def scope_kinds(scope: str) -> set[str]:
    """The kinds of a scope's clauses: `own or team(x)` -> {own, team}."""
    return {part.strip().split("(")[0] for part in (scope or "no").split(" or ")}
