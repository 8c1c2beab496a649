"""MetaCRM's expression language: formulas, rules, conditions and defaults.

One small language, four steps, each usable alone::

    tree = parse("round_half_up(amount * probability / 100, 2)")  # → nodes.Node, or ExprError
    check(tree, {"amount": "number", "probability": "number"})    # → "number", or ExprError
    compiled(text)({"amount": Decimal("1280"), "probability": 35}, timezone="Asia/Shanghai")
    compile_sql(tree, Opportunity, timezone="Asia/Shanghai")       # → SQLAlchemy expression

- `parse(text)`: hand-written Pratt parser (no eval, no dependency); CRM-E031 on bad syntax.
- `check(tree, scope)`: `scope` maps dotted paths to types (number, text, bool, date,
  datetime) or is a function `path tuple → type | None`; raises ExprError with
  CRM-E031 (unknown function), CRM-E032 (unknown field) or CRM-E033 (type mismatch).
  `ExprError.pos` is the 1-based column; callers add file and line.
- `compiled(text)`: the text parsed and compiled once (cached) into a Python function
  `(record, timezone=, now=) -> value`; `record` is a mapping or an object (paths follow
  links: `account.industry`). Decimal arithmetic; empty operand or division by zero → None;
  three-valued and/or like SQL. `compile_python(tree)` compiles a tree;
  `evaluate(tree, record, timezone=, now=)` compiles and runs it once.
- `compile_sql(tree, model, timezone=, resolve=)`: the same meaning in SQL
  (SQLite, PostgreSQL); link paths become correlated subqueries.
- `fields_of(tree)`: the field references, for dependency graphs (cycles: CRM-E034).
"""

from .check import Scope, check
from .compiled import compile_python, compiled, evaluate
from .errors import CYCLE, SYNTAX, TYPE_MISMATCH, UNKNOWN_FIELD, ExprError
from .functions import SIGNATURES, round_half_up
from .nodes import Binary, Call, Field, InList, Literal, Node, Unary, fields_of
from .parser import parse
from .sql import compile_sql, model_resolver
from .types import BOOL, DATE, DATETIME, FIELD_TYPE_MAP, NULL, NUMBER, TEXT

__all__ = [
    "parse", "check", "compiled", "compile_python", "evaluate", "compile_sql", "model_resolver", "fields_of",
    "round_half_up",
    "ExprError", "Scope", "SIGNATURES", "FIELD_TYPE_MAP",
    "SYNTAX", "UNKNOWN_FIELD", "TYPE_MISMATCH", "CYCLE",
    "NUMBER", "TEXT", "BOOL", "DATE", "DATETIME", "NULL",
    "Node", "Literal", "Field", "Unary", "Binary", "InList", "Call",
]
