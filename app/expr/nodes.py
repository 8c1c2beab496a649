"""The syntax tree of a formula: small frozen dataclasses, each with its column.

`pos` is the 1-based column of the node in the expression text, so a checker can
point at the exact place ("column 9: unknown field 'amout'").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Node:
    pos: int


@dataclass(frozen=True)
class Literal(Node):
    """A number (Decimal or int), text, true/false, or null."""

    value: Any


@dataclass(frozen=True)
class Field(Node):
    """A field reference; more than one part follows links (`account.industry`)."""

    path: tuple[str, ...]

    @property
    def dotted(self) -> str:
        return ".".join(self.path)


@dataclass(frozen=True)
class Unary(Node):
    op: str  # "-" or "not"
    operand: Node


@dataclass(frozen=True)
class Binary(Node):
    op: str  # + - * / = != < <= > >= and or
    left: Node
    right: Node


@dataclass(frozen=True)
class InList(Node):
    """`x in [a, b]` (or `not in` when negated); items are literals."""

    operand: Node
    items: tuple[Literal, ...]
    negated: bool = False


@dataclass(frozen=True)
class Call(Node):
    """A function call; `if(c, a, b)` is a call too."""

    name: str
    args: tuple[Node, ...]


def fields_of(node: Node) -> list[Field]:
    """Every field reference in a tree, in reading order (for dependency graphs)."""
    found: list[Field] = []

    def walk(n: Node) -> None:
        if isinstance(n, Field):
            found.append(n)
        elif isinstance(n, Unary):
            walk(n.operand)
        elif isinstance(n, Binary):
            walk(n.left)
            walk(n.right)
        elif isinstance(n, InList):
            walk(n.operand)
        elif isinstance(n, Call):
            for arg in n.args:
                walk(arg)

    walk(node)
    return found
