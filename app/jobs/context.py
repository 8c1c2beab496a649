"""What a running job sees: its payload and user, and where to report progress."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from flask import Flask

from .store import JobStore


class JobCancelled(Exception):
    """Raised by a handler (or `JobContext.check_cancel`) to stop at a cancel request."""


@dataclass
class JobContext:
    job_id: int
    payload: dict[str, Any]
    user_id: int | None
    app: Flask
    store: JobStore
    attempt: int = 1
    _asked_at: float = field(default=0.0, repr=False)
    _cancelled: bool = field(default=False, repr=False)

    def progress(self, done: int, total: int | None = None, **counts: Any) -> None:
        """Persist how far the job got (the jobs page and GET /api/v1/jobs/<id> show it)."""
        self.store.progress(self.job_id, done, total, counts)

    def progress_statement(self, done: int, total: int | None = None, **counts: Any) -> Any:
        """`progress` as a statement to run in the job's own transaction (see JobStore); its
        result, whether a cancel was asked, goes to `heard`."""
        return self.store.progress_statement(self.job_id, done, total, counts)

    def heard(self, cancel_requested: bool) -> bool:
        """A cancel request read along with a progress update (`cancelled` then asks no query for
        0.2 s); whether the job is to stop."""
        self._asked_at = time.monotonic()
        self._cancelled = self._cancelled or cancel_requested
        return self._cancelled

    def cancelled(self) -> bool:
        """Has the user asked to cancel? (read from the database at most every 0.2 s)"""
        now = time.monotonic()
        if not self._cancelled and now - self._asked_at >= 0.2:
            self._asked_at = now
            self._cancelled = self.store.cancel_requested(self.job_id)
        return self._cancelled

    def check_cancel(self) -> None:
        if self.cancelled():
            raise JobCancelled()
