"""Which automation is writing, and how many automations deep: read by the outbox writer.

An automation writes through the record commands like a user; the events its writes
make carry its rule name (shown as the actor in history) and depth + 1, so a rule that
triggers itself stops at the depth limit (the loop guard).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class Acting:
    rule: str | None = None
    depth: int = 0


_acting: ContextVar[Acting | None] = ContextVar("crm_acting_automation", default=None)


def acting() -> Acting:
    return _acting.get() or Acting()


@contextmanager
def acting_automation(rule: str, depth: int) -> Iterator[None]:
    """Writes inside the block are the automation `rule`'s, `depth` automations down the chain."""
    token = _acting.set(Acting(rule, depth))
    try:
        yield
    finally:
        _acting.reset(token)
