"""Compile a tree once into nested Python closures: the language's meaning for one record.

Why closures and not a tree walk: forms, imports and automations evaluate the same few
conditions for every record; a walk dispatched on the node's class at every step, and a
clock built for every evaluation, cost more than the arithmetic. Here each node becomes a
function `(record, clock) -> value` chosen once, and the clock (`today()`, `now()`) is read
only when an evaluation reaches it.

The meaning is the one `sql.py` gives in SQL: Decimal arithmetic, an empty operand or a
division by zero gives empty (None), comparisons with empty are empty, and/or follow SQL's
three-valued logic, `if` with an empty condition takes the else branch, a date compared with
a datetime is that date at midnight. Operands of the wrong type (possible only for values
the type check did not see, such as a mapping with a text where a number belongs) raise
Python's own TypeError, as the operators do.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from .functions import NULL_AWARE, PYTHON
from .nodes import Binary, Call, Field, InList, Literal, Node, Unary
from .parser import parse

Compiled = Callable[..., Any]  # (record, timezone="UTC", now=None) -> value

_FAILED = (InvalidOperation, ArithmeticError)  # an arithmetic failure is empty, like SQL's NULL
_CALL_FAILED = (InvalidOperation, ArithmeticError, ValueError, OverflowError)
_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "=": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}
_ARITHMETIC: dict[str, Callable[[Any, Any], Any]] = {"+": operator.add, "-": operator.sub, "*": operator.mul}


def clock(timezone: str | dt.tzinfo = "UTC", now: dt.datetime | None = None) -> tuple[dt.date, dt.datetime]:
    """(today in `timezone`, now as naive UTC) for one evaluation; `now` naive means UTC."""
    zone = ZoneInfo(timezone) if isinstance(timezone, str) else timezone
    moment = now or dt.datetime.now(dt.UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(zone).date(), moment.astimezone(dt.UTC).replace(tzinfo=None)


class Clock:
    """The clock of one evaluation, read when `today()` or `now()` is first reached (a rule that
    decides before reaching them never reads it) and then kept: both see one moment."""

    __slots__ = ("timezone", "given", "moment")

    def __init__(self, timezone: str | dt.tzinfo, given: dt.datetime | None):
        self.timezone, self.given = timezone, given
        self.moment: tuple[dt.date, dt.datetime] | None = None

    def read(self) -> tuple[dt.date, dt.datetime]:
        if self.moment is None:
            self.moment = clock(self.timezone, self.given)
        return self.moment


Step = Callable[[Any, Clock | None], Any]


def _number(value: Any) -> Any:
    """A float read from a record counts as the decimal it prints as (10.1, not 10.0999…)."""
    return Decimal(str(value)) if isinstance(value, float) else value


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


def _field(path: tuple[str, ...]) -> Step:
    if len(path) > 1:
        return lambda record, _: read_path(record, path)
    name = path[0]

    def read(record: Any, _: Clock | None) -> Any:
        if type(record) is dict:  # the usual case: a record's state
            value = record.get(name)
        elif record is None:
            return None
        elif isinstance(record, Mapping):
            value = record.get(name)
        else:
            value = getattr(record, name, None)
        return Decimal(str(value)) if isinstance(value, float) else value

    return read


def _unary(node: Unary) -> Step:
    operand = _step(node.operand)
    if node.op == "-":
        return lambda record, now: None if (value := operand(record, now)) is None else -value
    return lambda record, now: None if (value := operand(record, now)) is None else not value


def _align(left: Any, right: Any) -> tuple[Any, Any]:
    """Compare a date with a datetime as SQL does (the date at midnight)."""
    if isinstance(left, dt.datetime) and type(right) is dt.date:
        return left, dt.datetime.combine(right, dt.time())
    if isinstance(right, dt.datetime) and type(left) is dt.date:
        return dt.datetime.combine(left, dt.time()), right
    return left, right


def _dated(node: Node) -> bool:
    """Could the node's value be a date or datetime? Literals never are (the parser makes none)."""
    return not isinstance(node, Literal) or isinstance(node.value, dt.date)


def _comparison(node: Binary, left: Step, right: Step) -> Step:
    compare = _COMPARE[node.op]
    if not (_dated(node.left) and _dated(node.right)):  # a literal side: nothing to align
        def plain(record: Any, now: Clock | None) -> Any:
            a, b = left(record, now), right(record, now)
            return None if a is None or b is None else compare(a, b)
        return plain

    def aligned(record: Any, now: Clock | None) -> Any:
        a, b = left(record, now), right(record, now)
        if a is None or b is None:
            return None
        if type(a) is not type(b) and (type(a) is dt.date or type(b) is dt.date):
            a, b = _align(a, b)
        return compare(a, b)

    return aligned


def _arithmetic(node: Binary, left: Step, right: Step) -> Step:
    if node.op == "/":
        def divide(record: Any, now: Clock | None) -> Any:
            a, b = left(record, now), right(record, now)
            if a is None or b is None:
                return None
            try:
                return None if b == 0 else Decimal(a) / Decimal(b)
            except _FAILED:
                return None
        return divide
    apply = _ARITHMETIC[node.op]

    def arithmetic(record: Any, now: Clock | None) -> Any:
        a, b = left(record, now), right(record, now)
        if a is None or b is None:
            return None
        try:
            return apply(a, b)
        except _FAILED:
            return None

    return arithmetic


def _logic(node: Binary, left: Step, right: Step) -> Step:
    """SQL's three-valued and/or: a side holding the deciding value (false for and, true for or)
    decides alone; otherwise an empty side makes the answer empty."""
    decisive = node.op == "or"

    def logic(record: Any, now: Clock | None) -> Any:
        a = left(record, now)
        if a is decisive:
            return decisive
        b = right(record, now)
        if b is decisive:
            return decisive
        return None if a is None or b is None else not decisive

    return logic


def _binary(node: Binary) -> Step:
    left, right = _step(node.left), _step(node.right)
    if node.op in ("and", "or"):
        return _logic(node, left, right)
    if node.op in _COMPARE:
        return _comparison(node, left, right)
    return _arithmetic(node, left, right)


def _in_list(node: InList) -> Step:
    operand, negated = _step(node.operand), node.negated
    items = tuple(item.value for item in node.items)
    if any(isinstance(item, dt.date) for item in items):
        def dated(record: Any, now: Clock | None) -> Any:
            value = operand(record, now)
            if value is None:
                return None
            return any(operator.eq(*_align(value, item)) for item in items) != negated
        return dated

    def member(record: Any, now: Clock | None) -> Any:
        value = operand(record, now)
        if value is None:
            return None
        for item in items:
            if value == item:
                return not negated
        return negated

    return member


def _call(node: Call) -> Step:
    name = node.name
    if name == "today":
        return lambda _, now: now.read()[0]  # type: ignore[union-attr]
    if name == "now":
        return lambda _, now: now.read()[1]  # type: ignore[union-attr]
    args = tuple(_step(arg) for arg in node.args)
    if name == "if":
        condition, then, otherwise = args
        return lambda record, now: (then if condition(record, now) is True else otherwise)(record, now)
    body = PYTHON[name]
    if name in NULL_AWARE:
        def aware(record: Any, now: Clock | None) -> Any:
            values = [arg(record, now) for arg in args]
            try:
                return body(*values)
            except _CALL_FAILED:
                return None
        return aware
    if len(args) == 2:
        first, second = args

        def pair(record: Any, now: Clock | None) -> Any:
            a, b = first(record, now), second(record, now)
            if a is None or b is None:
                return None
            try:
                return body(a, b)
            except _CALL_FAILED:
                return None
        return pair

    def call(record: Any, now: Clock | None) -> Any:
        values = [arg(record, now) for arg in args]
        if any(value is None for value in values):
            return None
        try:
            return body(*values)
        except _CALL_FAILED:
            return None

    return call


def _step(node: Node) -> Step:
    if isinstance(node, Literal):
        value = node.value
        return lambda record, now: value
    if isinstance(node, Field):
        return _field(node.path)
    if isinstance(node, Unary):
        return _unary(node)
    if isinstance(node, Binary):
        return _binary(node)
    if isinstance(node, InList):
        return _in_list(node)
    if isinstance(node, Call):
        return _call(node)
    raise TypeError(node)


def _timed(node: Node) -> bool:
    """Does the tree read the clock (`today()`, `now()`)?"""
    if isinstance(node, Call):
        return node.name in ("today", "now") or any(_timed(arg) for arg in node.args)
    if isinstance(node, Unary):
        return _timed(node.operand)
    if isinstance(node, Binary):
        return _timed(node.left) or _timed(node.right)
    if isinstance(node, InList):
        return _timed(node.operand)
    return False


def compile_python(node: Node) -> Compiled:
    """A function `(record, timezone="UTC", now=None) -> value` with the meaning of `node`.

    `record` is a mapping or an object (paths follow links: `account.industry`)."""
    step = _step(node)
    if _timed(node):
        return lambda record, timezone="UTC", now=None: step(record, Clock(timezone, now))
    return lambda record, timezone="UTC", now=None: step(record, None)


@lru_cache(maxsize=4096)
def compiled(text: str) -> Compiled:
    """The compiled form of an expression text, made once per process (texts come from metadata,
    checked at load; the function depends on the text alone: paths are read as the record has them)."""
    return compile_python(parse(text))


def evaluate(node: Node, record: Any, *, timezone: str | dt.tzinfo = "UTC",
             now: dt.datetime | None = None) -> Any:
    """The value of `node` for `record`, compiling it on the spot (for one-off uses and tests;
    code that evaluates a text for many records asks `compiled(text)` once)."""
    return compile_python(node)(record, timezone, now)
