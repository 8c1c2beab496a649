"""One JSON line per request on the `crm.request` logger, and a request id on every response.

The id comes from the caller's X-Request-ID when it looks like one (so nginx's `$request_id`
or a client's trace id follows the request through), else a new one; it is echoed in the
response's X-Request-ID and is `g.request_id` for anything else that logs."""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from typing import Any

from flask import Flask, Response, g, request

log = logging.getLogger("crm.request")
REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def request_id() -> str:
    incoming = request.headers.get("X-Request-ID", "")
    return incoming if REQUEST_ID.match(incoming) else uuid.uuid4().hex


def current_user_id() -> Any:
    """The user Flask-Login already loaded for this request, without loading it (no extra query)."""
    user = g.get("_login_user")
    return getattr(user, "id", None) if user is not None and getattr(user, "is_authenticated", False) else None


def install_request_log(app: Flask) -> None:
    """First before_request (so refusals by later ones are timed too), and an after_request."""
    _ensure_handler()
    enabled = str(app.config.get("CRM_REQUEST_LOG", "on")).lower() not in ("0", "off", "false", "no")

    def start() -> None:
        g.request_id = request_id()
        g.request_started = time.perf_counter()

    def finish(response: Response) -> Response:
        rid = g.get("request_id") or request_id()
        response.headers["X-Request-ID"] = rid
        if enabled:
            log.info(json.dumps(request_record(rid, response), ensure_ascii=False, separators=(",", ":")))
        return response

    app.before_request_funcs.setdefault(None, []).insert(0, start)
    app.after_request(finish)


def request_record(rid: str, response: Response) -> dict[str, Any]:
    started = g.get("request_started")
    duration = round((time.perf_counter() - started) * 1000, 1) if started is not None else None
    return {"ts": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "request_id": rid,
            "user": current_user_id(), "method": request.method, "path": request.path,
            "status": response.status_code, "duration_ms": duration, "remote": request.remote_addr}


def _ensure_handler() -> None:
    """The lines go to stderr as they are (gunicorn and systemd collect it), once per process."""
    if log.handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
