"""The one error the expression language raises, with a stable CRM code and a column."""

from __future__ import annotations

SYNTAX = "CRM-E031"  # syntax error or unknown function
UNKNOWN_FIELD = "CRM-E032"  # a field the scope does not know
TYPE_MISMATCH = "CRM-E033"  # operands or arguments of the wrong type
CYCLE = "CRM-E034"  # computed fields that depend on each other (raised by the metadata layer)


class ExprError(Exception):
    """A problem in an expression: `code` (CRM-E03x), `pos` (1-based column), `hint`.

    The metadata loader turns it into a located problem (file:line, code, hint).
    """

    def __init__(self, code: str, pos: int, message: str, hint: str = ""):
        self.code, self.pos, self.message, self.hint = code, pos, message, hint
        super().__init__(f"column {pos}: {message}" + (f" (hint: {hint})" if hint else ""))
