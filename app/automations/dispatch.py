"""Start the outbox worker after a commit that wrote events.

CRM_OUTBOX_DISPATCH: `auto` (default) runs `drain` in a background thread of this
process (one at a time per app; a commit during a run asks for another pass);
`off` leaves events for `flask crm outbox run` (or a test driving `drain` itself).
Whatever happens here, the user's change is committed already.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from flask import current_app, has_app_context

from app.events.outbox import on_events_committed

from .process import drain, in_worker

log = logging.getLogger(__name__)
EXTENSION = "crm_outbox"


class ThreadDispatcher:
    """One drain thread per app at a time; a wake-up while it runs makes it go round again."""

    def __init__(self, app: Any):
        self.app = app
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None
        self.again = False

    def wake(self) -> None:
        with self.lock:
            if self.thread is not None and self.thread.is_alive():
                self.again = True
                return
            self.again = False
            self.thread = threading.Thread(target=self._run, name="crm-outbox", daemon=True)
            self.thread.start()

    def _run(self) -> None:
        while True:
            try:
                drain(self.app)
            except Exception:  # the events stay in the outbox: the next run delivers them
                log.exception("outbox worker stopped")
            with self.lock:
                if not self.again:
                    return
                self.again = False

    def join(self, timeout: float = 30) -> None:
        """Wait for the running pass (tests; a clean shutdown)."""
        while True:
            with self.lock:
                thread = self.thread
            if thread is None:
                return
            thread.join(timeout)
            with self.lock:
                if self.thread is thread and not thread.is_alive():
                    return


def install_dispatch(app: Any) -> None:
    app.extensions[EXTENSION] = ThreadDispatcher(app)


def _events_committed(session: Any) -> None:
    if in_worker() or not has_app_context():
        return
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if app.config.get("CRM_OUTBOX_DISPATCH", "auto") == "off" or EXTENSION not in app.extensions:
        return
    app.extensions[EXTENSION].wake()


on_events_committed(_events_committed)
