"""Compile a tree to a SQLAlchemy expression, for lists, filters, sorts, charts, exports.

Same meaning as `evaluate.py` on SQLite and PostgreSQL: division by zero or an
empty operand gives NULL (`NULLIF` and SQL's own NULL propagation), `today()` is
the CRM time zone's date bound at execution time (not at compile time, so a
`column_property` built at start-up stays right the next day). A link path such
as `account.industry` becomes a correlated scalar subquery on the linked table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.expression import ColumnElement, FunctionElement

from .nodes import Binary, Call, Field, InList, Literal, Node, Unary

Resolver = Callable[[tuple[str, ...]], ColumnElement]


class SafeDivide(FunctionElement):
    """a / b as an exact decimal; NULL when b is 0 or either side is NULL."""

    type = sa.Numeric(asdecimal=True)
    inherit_cache = True
    name = "safe_divide"


@compiles(SafeDivide)
def _divide_default(element: SafeDivide, compiler: Any, **kw: Any) -> str:
    left, right = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"(CAST({left} AS NUMERIC) / NULLIF({right}, 0))"


@compiles(SafeDivide, "sqlite")
def _divide_sqlite(element: SafeDivide, compiler: Any, **kw: Any) -> str:
    left, right = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"(CAST({left} AS REAL) / NULLIF({right}, 0))"


class AtMidnight(FunctionElement):
    """A date as the datetime at its midnight, to compare with a datetime as Python does.
    PostgreSQL promotes a date so by itself; SQLite compares their texts, where
    '2026-03-15' differs from the stored '2026-03-15 00:00:00.000000'."""

    type = sa.DateTime()
    inherit_cache = True
    name = "at_midnight"


@compiles(AtMidnight)
def _midnight_default(element: AtMidnight, compiler: Any, **kw: Any) -> str:
    (day,) = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"CAST({day} AS TIMESTAMP)"


@compiles(AtMidnight, "sqlite")
def _midnight_sqlite(element: AtMidnight, compiler: Any, **kw: Any) -> str:
    (day,) = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"(date({day}) || ' 00:00:00.000000')"  # SQLAlchemy's text of a datetime on SQLite


class DaysBetween(FunctionElement):
    type = sa.Integer()
    inherit_cache = True
    name = "days_between"


@compiles(DaysBetween)
def _days_default(element: DaysBetween, compiler: Any, **kw: Any) -> str:
    start, end = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"(CAST({end} AS DATE) - CAST({start} AS DATE))"


@compiles(DaysBetween, "sqlite")
def _days_sqlite(element: DaysBetween, compiler: Any, **kw: Any) -> str:
    start, end = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"CAST(julianday(date({end})) - julianday(date({start})) AS INTEGER)"


class AddDays(FunctionElement):
    type = sa.Date()
    inherit_cache = True
    name = "add_days"


@compiles(AddDays)
def _add_days_default(element: AddDays, compiler: Any, **kw: Any) -> str:
    day, count = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"(CAST({day} AS DATE) + CAST({count} AS INTEGER))"


@compiles(AddDays, "sqlite")
def _add_days_sqlite(element: AddDays, compiler: Any, **kw: Any) -> str:
    day, count = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"date({day}, printf('%+d days', CAST({count} AS INTEGER)))"


class RoundHalfUp(FunctionElement):
    type = sa.Numeric(asdecimal=True)
    inherit_cache = True
    name = "round_half_up"


@compiles(RoundHalfUp)
def _round_default(element: RoundHalfUp, compiler: Any, **kw: Any) -> str:
    value, places = (compiler.process(arg, **kw) for arg in element.clauses)
    # PostgreSQL rounds numeric ties away from zero: half-up as money means it.
    return f"round(CAST({value} AS NUMERIC), CAST({places} AS INTEGER))"


@compiles(RoundHalfUp, "sqlite")
def _round_sqlite(element: RoundHalfUp, compiler: Any, **kw: Any) -> str:
    value, places = (compiler.process(arg, **kw) for arg in element.clauses)
    # SQLite keeps numerics as binary floats (2.675 is 2.67499…): nudge by a
    # relative 1e-12 away from zero so ties round up as the decimal reading says.
    return f"round(({value}) * (1 + 1e-12), CAST({places} AS INTEGER))"


def model_resolver(model: Any) -> Resolver:
    """Resolve `amount` to a column (or an earlier column_property) and
    `account.industry` to a correlated subquery through the `account` relationship."""

    def resolve(path: tuple[str, ...], current: Any = model) -> ColumnElement:
        mapper = sa.inspect(current)
        name = path[0]
        relationships = mapper.relationships
        if len(path) == 1:
            if name in mapper.columns:
                return mapper.columns[name] if current is model else getattr(current, name)
            if name in relationships:
                return next(iter(relationships[name].local_columns))
            raise KeyError(name)
        relation = relationships[name]
        target = aliased(relation.mapper.class_)
        local = next(iter(relation.local_columns))
        inner = _resolve_on(target, path[1:])
        return (sa.select(inner).where(target.id == local)  # type: ignore[attr-defined]
                .correlate_except(target).scalar_subquery())

    def _resolve_on(target: Any, rest: tuple[str, ...]) -> ColumnElement:
        if len(rest) == 1:
            mapper = sa.inspect(target).mapper
            if rest[0] in mapper.relationships:
                column = next(iter(mapper.relationships[rest[0]].local_columns))
                return getattr(target, column.key)
            return getattr(target, rest[0])
        relation = sa.inspect(target).mapper.relationships[rest[0]]
        further = aliased(relation.mapper.class_)
        local = getattr(target, next(iter(relation.local_columns)).key)
        return (sa.select(_resolve_on(further, rest[1:]))
                .where(further.id == local).correlate_except(further).scalar_subquery())

    return lambda path: resolve(path)


class SqlCompiler:
    def __init__(self, resolve: Resolver, timezone: str):
        self.resolve = resolve
        self.zone = ZoneInfo(timezone)

    def run(self, node: Node) -> ColumnElement:
        if isinstance(node, Literal):
            return _literal(node.value)
        if isinstance(node, Field):
            return self.resolve(node.path)
        if isinstance(node, Unary):
            operand = self.run(node.operand)
            return -operand if node.op == "-" else sa.not_(operand)
        if isinstance(node, Binary):
            return self.binary(node)
        if isinstance(node, InList):
            return self.in_list(node)
        if isinstance(node, Call):
            return self.call(node)
        raise TypeError(node)

    def binary(self, node: Binary) -> ColumnElement:
        left, right = self.run(node.left), self.run(node.right)
        op = node.op
        if op == "and":
            return sa.and_(left, right)
        if op == "or":
            return sa.or_(left, right)
        if op == "/":
            return SafeDivide(left, right)
        if op in COMPARISONS:
            return self.compare(node, left, right)
        operators: dict[str, Callable[[Any, Any], Any]] = {
            "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
        }
        return operators[op](left, right)

    def compare(self, node: Binary, left: ColumnElement, right: ColumnElement) -> ColumnElement:
        """A comparison with empty is empty: SQLAlchemy would make `x = NULL` an `IS NULL`.
        A date against a datetime compares the date's midnight, as in Python."""
        if _is_null(node.left) or _is_null(node.right):
            return sa.type_coerce(sa.null(), sa.Boolean)
        if isinstance(left.type, sa.Date) and isinstance(right.type, sa.DateTime):
            left = AtMidnight(left)
        elif isinstance(left.type, sa.DateTime) and isinstance(right.type, sa.Date):
            right = AtMidnight(right)
        return COMPARISONS[node.op](left, right)

    def in_list(self, node: InList) -> ColumnElement:
        """`x in [a, null]`: an empty item matches nothing (Python compares it, SQL's `IN (NULL)`
        would make the answer empty); an empty `x` gives empty."""
        operand = self.run(node.operand)
        values = [item.value for item in node.items if item.value is not None]
        if not values:
            return sa.case((operand.is_not(None), sa.literal(node.negated, sa.Boolean)))
        return operand.not_in(values) if node.negated else operand.in_(values)

    def call(self, node: Call) -> ColumnElement:
        name = node.name
        if name == "today":
            return sa.bindparam(None, callable_=lambda: dt.datetime.now(self.zone).date(), type_=sa.Date())
        if name == "now":
            return sa.bindparam(None, callable_=lambda: dt.datetime.now(dt.UTC).replace(tzinfo=None),
                                type_=sa.DateTime())
        args = [self.run(arg) for arg in node.args]
        if name == "if":
            return sa.case((args[0], args[1]), else_=args[2])
        if name == "days_between":
            return DaysBetween(*args)
        if name == "add_days":
            return AddDays(*args)
        if name == "round_half_up":
            return RoundHalfUp(*args)
        if name == "upper":
            return sa.func.upper(args[0])
        if name == "lower":
            return sa.func.lower(args[0])
        if name == "coalesce":
            return sa.func.coalesce(*args)
        if name == "is_empty":
            value = args[0]
            if isinstance(value.type, sa.String):
                return sa.or_(value.is_(None), value == "")
            return value.is_(None)
        if name == "concat":
            parts = [sa.func.coalesce(sa.cast(arg, sa.String) if not isinstance(arg.type, sa.String)
                                      else arg, "") for arg in args]
            result: ColumnElement = parts[0]
            for part in parts[1:]:
                result = result.op("||")(part)
            return sa.type_coerce(result, sa.String)
        raise KeyError(name)


COMPARISONS: dict[str, Callable[[Any, Any], Any]] = {
    "=": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
}


def _is_null(node: Node) -> bool:
    return isinstance(node, Literal) and node.value is None


def _literal(value: Any) -> ColumnElement:
    if value is None:
        return sa.null()
    if isinstance(value, bool):
        return sa.true() if value else sa.false()
    if isinstance(value, Decimal):
        return sa.literal(value, sa.Numeric(asdecimal=True))
    if isinstance(value, int):
        return sa.literal(value, sa.Integer())
    return sa.literal(value, sa.String())


def compile_sql(node: Node, model: Any = None, *, timezone: str = "UTC",
                resolve: Resolver | None = None) -> ColumnElement:
    """A SQLAlchemy expression for `node` on `model` (or through a custom `resolve`)."""
    if resolve is None:
        if model is None:
            raise ValueError("compile_sql needs a model or a resolver")
        resolve = model_resolver(model)
    return SqlCompiler(resolve, timezone).run(node)
