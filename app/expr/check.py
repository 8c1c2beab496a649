"""Type-check a tree against a scope of fields: the result type, or a located ExprError."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from decimal import Decimal

from .errors import SYNTAX, TYPE_MISMATCH, UNKNOWN_FIELD, ExprError
from .functions import SIGNATURES
from .nodes import Binary, Call, Field, InList, Literal, Node, Unary
from .types import BOOL, DATE, DATETIME, NULL, NUMBER, TEXT, comparable, fits

# A scope maps a dotted path ("amount", "account.industry") to its expression type,
# or is a function of the path tuple returning the type or None when unknown.
Scope = Mapping[str, str] | Callable[[tuple[str, ...]], str | None]
ARITHMETIC = {"+", "-", "*", "/"}
COMPARISONS = {"=", "!=", "<", "<=", ">", ">="}


def _hint(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else ""


def literal_type(value: object) -> str:
    if value is None:
        return NULL
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, (int, Decimal, float)):
        return NUMBER
    return TEXT


def check(node: Node, scope: Scope) -> str:
    """Return the type of `node` (number/text/bool/date/datetime/null) or raise ExprError."""
    if isinstance(node, Literal):
        return literal_type(node.value)
    if isinstance(node, Field):
        return _field_type(node, scope)
    if isinstance(node, Unary):
        wanted = NUMBER if node.op == "-" else BOOL
        got = check(node.operand, scope)
        _want(got, wanted, node.operand.pos, f"'{node.op}'")
        return wanted if got != NULL else NULL
    if isinstance(node, Binary):
        return _binary(node, scope)
    if isinstance(node, InList):
        got = check(node.operand, scope)
        for item in node.items:
            if not comparable(got, literal_type(item.value)):
                raise ExprError(TYPE_MISMATCH, item.pos,
                                f"'in' compares {got} with {literal_type(item.value)} {item.value!r}")
        return BOOL
    if isinstance(node, Call):
        return _call(node, scope)
    raise ExprError(SYNTAX, node.pos, "unknown expression")


def _field_type(node: Field, scope: Scope) -> str:
    if callable(scope):
        found = scope(node.path)
        if found is None:
            raise ExprError(UNKNOWN_FIELD, node.pos, f"unknown field '{node.dotted}'")
        return found
    if node.dotted not in scope:
        raise ExprError(UNKNOWN_FIELD, node.pos, f"unknown field '{node.dotted}'",
                        _hint(node.dotted, list(scope)))
    return scope[node.dotted]


def _want(got: str, wanted: str, pos: int, where: str) -> None:
    if wanted == DATE and got == DATETIME:
        return
    if not fits(got, wanted):
        raise ExprError(TYPE_MISMATCH, pos, f"{where} needs {wanted}, got {got}")


def _binary(node: Binary, scope: Scope) -> str:
    left, right = check(node.left, scope), check(node.right, scope)
    if node.op in ARITHMETIC:
        _want(left, NUMBER, node.left.pos, f"'{node.op}'")
        _want(right, NUMBER, node.right.pos, f"'{node.op}'")
        hint = "use concat(…) for text and add_days(…) for dates"
        if NUMBER not in (left, right) and NULL not in (left, right):
            raise ExprError(TYPE_MISMATCH, node.pos, f"'{node.op}' needs numbers", hint)
        return NUMBER
    if node.op in COMPARISONS:
        if not comparable(left, right):
            raise ExprError(TYPE_MISMATCH, node.pos, f"cannot compare {left} with {right}")
        return BOOL
    _want(left, BOOL, node.left.pos, f"'{node.op}'")
    _want(right, BOOL, node.right.pos, f"'{node.op}'")
    return BOOL


def _call(node: Call, scope: Scope) -> str:
    signature = SIGNATURES.get(node.name)
    if signature is None:
        raise ExprError(SYNTAX, node.pos, f"unknown function '{node.name}'",
                        _hint(node.name, list(SIGNATURES)) or f"functions: {', '.join(SIGNATURES)}")
    wanted = list(signature.args)
    count = len(node.args)
    if signature.varargs:
        if count < len(wanted):
            raise ExprError(TYPE_MISMATCH, node.pos,
                            f"{node.name}() takes at least {len(wanted)} arguments, got {count}",
                            signature.help)
        wanted += [wanted[-1]] * (count - len(wanted))
    elif count != len(wanted):
        raise ExprError(TYPE_MISMATCH, node.pos,
                        f"{node.name}() takes {len(wanted)} argument{'s' if len(wanted) != 1 else ''}, "
                        f"got {count}", signature.help)
    same = NULL
    for arg, want in zip(node.args, wanted, strict=True):
        got = check(arg, scope)
        if want in ("any", "same"):
            if want == "same" and not (fits(got, same) or comparable(got, same)):
                raise ExprError(TYPE_MISMATCH, arg.pos,
                                f"{node.name}(): this argument is {got}, the others {same}", signature.help)
            if same == NULL:
                same = got
            continue
        _want(got, want, arg.pos, f"{node.name}()")
    return same if signature.result == "same" else signature.result
