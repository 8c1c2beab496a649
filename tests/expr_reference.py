"""The reference meaning of the expression language: a plain tree walk, the app's evaluator
until the compiled closures (app/expr/compiled.py) replaced it.

Kept here, as a test oracle only, because it says the meaning in the most direct form:
tests/test_expr_closure.py holds the closures (and the SQL of `sql.py`) equal to it over a
table of expressions and records. Same answers as the SQL: Decimal arithmetic, an empty
operand or a division by zero gives empty (None), comparisons with empty are empty, and/or
follow SQL's three-valued logic, `if` with an empty condition takes the else branch.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from app.expr.functions import NULL_AWARE, PYTHON
from app.expr.nodes import Binary, Call, Field, InList, Literal, Node, Unary

_MISSING = object()


def _number(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, bool):
        return value
    return value


def read_path(record: Any, path: tuple[str, ...]) -> Any:
    """Follow a path through mappings or objects; an empty link on the way gives None."""
    value = record
    for part in path:
        if value is None:
            return None
        if isinstance(value, Mapping):
            value = value.get(part)
        else:
            value = getattr(value, part, None)
    return _number(value)


class Evaluator:
    def __init__(self, record: Any, timezone: str | dt.tzinfo = "UTC", now: dt.datetime | None = None):
        self.record = record
        zone = ZoneInfo(timezone) if isinstance(timezone, str) else timezone
        moment = now or dt.datetime.now(dt.UTC)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        self.today = moment.astimezone(zone).date()
        self.now = moment.astimezone(dt.UTC).replace(tzinfo=None)

    def run(self, node: Node) -> Any:
        if isinstance(node, Literal):
            return node.value
        if isinstance(node, Field):
            return read_path(self.record, node.path)
        if isinstance(node, Unary):
            value = self.run(node.operand)
            if value is None:
                return None
            return -value if node.op == "-" else not value
        if isinstance(node, Binary):
            return self.binary(node)
        if isinstance(node, InList):
            value = self.run(node.operand)
            if value is None:
                return None
            found = any(_equal(value, item.value) for item in node.items)
            return found != node.negated
        if isinstance(node, Call):
            return self.call(node)
        raise TypeError(node)

    def binary(self, node: Binary) -> Any:
        if node.op in ("and", "or"):
            return self.logic(node)
        left, right = self.run(node.left), self.run(node.right)
        if left is None or right is None:
            return None
        op = node.op
        try:
            if op == "+":
                return left + right
            if op == "-":
                return left - right
            if op == "*":
                return left * right
            if op == "/":
                return None if right == 0 else Decimal(left) / Decimal(right)
        except (InvalidOperation, ArithmeticError):
            return None
        left, right = _align(left, right)
        if op == "=":
            return left == right
        if op == "!=":
            return left != right
        if op == "<":
            return left < right
        if op == "<=":
            return left <= right
        if op == ">":
            return left > right
        return left >= right

    def logic(self, node: Binary) -> bool | None:
        left = self.run(node.left)
        if node.op == "and" and left is False:
            return False
        if node.op == "or" and left is True:
            return True
        right = self.run(node.right)
        if node.op == "and":
            if right is False:
                return False
            return None if None in (left, right) else True
        if right is True:
            return True
        return None if None in (left, right) else False

    def call(self, node: Call) -> Any:
        if node.name == "if":
            condition = self.run(node.args[0])
            return self.run(node.args[1] if condition is True else node.args[2])
        if node.name == "today":
            return self.today
        if node.name == "now":
            return self.now
        args = [self.run(arg) for arg in node.args]
        if node.name not in NULL_AWARE and any(arg is None for arg in args):
            return None
        try:
            return PYTHON[node.name](*args)
        except (InvalidOperation, ArithmeticError, ValueError, OverflowError):
            return None


def _align(left: Any, right: Any) -> tuple[Any, Any]:
    """Compare a date with a datetime as SQL does (the date at midnight)."""
    if isinstance(left, dt.datetime) and type(right) is dt.date:
        return left, dt.datetime.combine(right, dt.time())
    if isinstance(right, dt.datetime) and type(left) is dt.date:
        return dt.datetime.combine(left, dt.time()), right
    return left, right


def _equal(left: Any, right: Any) -> bool:
    left, right = _align(left, right)
    return bool(left == right)


def evaluate(node: Node, record: Any, *, timezone: str | dt.tzinfo = "UTC",
             now: dt.datetime | None = None) -> Any:
    """The value of `node` for `record` (a mapping or an object; paths follow links)."""
    return Evaluator(record, timezone, now).run(node)
