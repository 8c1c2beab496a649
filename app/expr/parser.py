"""A hand-written tokenizer and Pratt parser for the formula language.

Why hand-written and not a parser library: the grammar is a dozen operators and
calls; about 150 lines give exact columns for every error, no dependency to keep
in step, and nothing like `eval` anywhere. Precedence, lowest first:
`or`, `and`, `not`, comparisons and `in`, `+ -`, `* /`, unary `-`.
"""

from __future__ import annotations

import re
from decimal import Decimal

from .errors import SYNTAX, ExprError
from .nodes import Binary, Call, Field, InList, Literal, Node, Unary

TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<number>\d+(?:\.\d+)?)
  | (?P<text>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op><=|>=|!=|<>|==|[-+*/=<>(),.\[\]])
""", re.VERBOSE)
KEYWORDS = {"and", "or", "not", "in", "true", "false", "null"}
COMPARE = {"=": "=", "==": "=", "!=": "!=", "<>": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
BINDING = {"or": 1, "and": 2, "compare": 4, "+": 5, "-": 5, "*": 6, "/": 6}


class Token:
    __slots__ = ("kind", "value", "pos")

    def __init__(self, kind: str, value: str, pos: int):
        self.kind, self.value, self.pos = kind, value, pos

    def is_(self, value: str) -> bool:
        return self.kind in ("op", "name") and self.value == value


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    index = 0
    while index < len(text):
        match = TOKEN.match(text, index)
        if match is None:
            raise ExprError(SYNTAX, index + 1, f"unexpected character {text[index]!r}")
        kind = match.lastgroup or ""
        if kind != "space":
            tokens.append(Token(kind, match.group(), index + 1))
        index = match.end()
    tokens.append(Token("end", "", len(text) + 1))
    return tokens


class Parser:
    def __init__(self, text: str):
        self.tokens = tokenize(text)
        self.index = 0

    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def expect(self, value: str) -> Token:
        if not self.current.is_(value):
            raise ExprError(SYNTAX, self.current.pos, f"expected '{value}', found {self.describe()}")
        return self.advance()

    def describe(self) -> str:
        token = self.current
        return "the end" if token.kind == "end" else f"'{token.value}'"

    def parse(self) -> Node:
        if self.current.kind == "end":
            raise ExprError(SYNTAX, 1, "the expression is empty")
        node = self.expression(0)
        if self.current.kind != "end":
            raise ExprError(SYNTAX, self.current.pos, f"unexpected {self.describe()}",
                            "join conditions with and/or")
        return node

    def expression(self, min_binding: int) -> Node:
        left = self.prefix()
        while True:
            token = self.current
            op, binding = self.infix_of(token)
            if op is None or binding <= min_binding:
                return left
            if op in ("in", "not in"):
                left = self.in_list(left, negated=op == "not in")
                continue
            self.advance()
            if op == "not in":
                self.advance()
            right = self.expression(binding)
            left = Binary(token.pos, op, left, right)

    def infix_of(self, token: Token) -> tuple[str | None, int]:
        if token.kind == "op" and token.value in COMPARE:
            return COMPARE[token.value], BINDING["compare"]
        if token.kind == "op" and token.value in "+-*/":
            return token.value, BINDING[token.value]
        if token.is_("and") or token.is_("or"):
            return token.value, BINDING[token.value]
        if token.is_("in"):
            return "in", BINDING["compare"]
        if token.is_("not") and self.tokens[self.index + 1].is_("in"):
            return "not in", BINDING["compare"]
        return None, 0

    def in_list(self, operand: Node, negated: bool) -> Node:
        pos = self.advance().pos
        if negated:
            self.advance()
        self.expect("[")
        items: list[Literal] = []
        while not self.current.is_("]"):
            items.append(self.list_item())
            if not self.current.is_("]"):
                self.expect(",")
        self.advance()
        if not items:
            raise ExprError(SYNTAX, pos, "the list after 'in' is empty")
        return InList(pos, operand, tuple(items), negated)

    def list_item(self) -> Literal:
        """Items are literals; a bare word is text, so `stage in [won, lost]` reads as it says."""
        token = self.current
        if token.kind == "name" and token.value not in ("true", "false", "null"):
            self.advance()
            return Literal(token.pos, token.value)
        node = self.prefix()
        if not isinstance(node, Literal):
            raise ExprError(SYNTAX, token.pos, "items of an 'in' list must be values",
                            "write words, numbers or quoted text: [won, lost]")
        return node

    def prefix(self) -> Node:
        token = self.advance()
        if token.kind == "number":
            return Literal(token.pos, Decimal(token.value) if "." in token.value else int(token.value))
        if token.kind == "text":
            return Literal(token.pos, re.sub(r"\\(.)", r"\1", token.value[1:-1]))
        if token.is_("-"):
            operand = self.expression(6)
            if isinstance(operand, Literal) and isinstance(operand.value, (int, Decimal)):
                return Literal(token.pos, -operand.value)
            return Unary(token.pos, "-", operand)
        if token.is_("not"):
            return Unary(token.pos, "not", self.expression(3))
        if token.is_("("):
            node = self.expression(0)
            self.expect(")")
            return node
        if token.is_("true") or token.is_("false"):
            return Literal(token.pos, token.value == "true")
        if token.is_("null"):
            return Literal(token.pos, None)
        if token.kind == "name" and token.value not in KEYWORDS:
            if self.current.is_("("):
                return self.call(token)
            path = [token.value]
            while self.current.is_("."):
                self.advance()
                part = self.advance()
                if part.kind != "name":
                    raise ExprError(SYNTAX, part.pos, "expected a field name after '.'")
                path.append(part.value)
            return Field(token.pos, tuple(path))
        self.index -= 1
        raise ExprError(SYNTAX, token.pos, f"unexpected {self.describe()}")

    def call(self, name: Token) -> Node:
        self.expect("(")
        args: list[Node] = []
        while not self.current.is_(")"):
            args.append(self.expression(0))
            if not self.current.is_(")"):
                self.expect(",")
        self.advance()
        return Call(name.pos, name.value.lower(), tuple(args))


def parse(text: str) -> Node:
    """Parse expression text into a tree; raise ExprError (CRM-E031) with the column."""
    if not isinstance(text, str):
        raise ExprError(SYNTAX, 1, "an expression must be text")
    return Parser(text).parse()
