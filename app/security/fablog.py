"""Two FAB warnings that are not warnings for MetaCRM, dropped at their loggers (nothing else is).

- "No user yet created, use flask fab command": FAB says it while building an app on a database
  without users, i.e. on the first `crm init`, which creates the admin itself a moment later
  (and says so): the advice to run `flask fab` is wrong here.
- "Invalid redirect detected": FAB says it after every login without a `next` target, because it
  checks the empty string like a URL. A `next` that really points elsewhere is still logged.
"""

from __future__ import annotations

import logging

from flask import has_request_context, request

NO_USER = "No user yet created"
INVALID_REDIRECT = "Invalid redirect detected"


class _QuietFab(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = str(record.msg)
        if message.startswith(NO_USER):
            return False
        if message.startswith(INVALID_REDIRECT):
            return has_request_context() and bool(request.args.get("next", "").strip())
        return True


_FILTER = _QuietFab()
LOGGERS = ("flask_appbuilder.security.manager", "flask_appbuilder.security.sqla.manager",
           "flask_appbuilder.utils.base")


def quiet_fab_warnings() -> None:
    """Install the filter once per process (idempotent: apps are built again on new versions)."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
