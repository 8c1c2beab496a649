"""Which function runs jobs of which kind, and whether a lost run of it may simply run again."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

HANDLERS: dict[str, Callable[..., Any]] = {}
RESUMABLE: set[str] = set()


def job_handler(kind: str, *, resumable: bool = False) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register `fn(ctx: JobContext) -> dict | None` as the runner of jobs of `kind`.
    The returned dict is stored as the job's result (JSON). `resumable`: a second run after a
    run cut short (worker killed) finishes the work without doing any of it twice, so the
    jobs sweep queues it again; otherwise the sweep marks such a run failed, saying why."""

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        HANDLERS[kind] = fn
        if resumable:
            RESUMABLE.add(kind)
        else:
            RESUMABLE.discard(kind)
        return fn

    return register
