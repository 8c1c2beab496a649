"""Which function runs jobs of which kind."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

HANDLERS: dict[str, Callable[..., Any]] = {}


def job_handler(kind: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register `fn(ctx: JobContext) -> dict | None` as the runner of jobs of `kind`.
    The returned dict is stored as the job's result (JSON)."""

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        HANDLERS[kind] = fn
        return fn

    return register
