"""A statement timeout for the web processes' reads on PostgreSQL (issue 18, bad input).

A filter that forces a full scan (a `contains` matching nothing on a million rows) must not be
a multi-second request a user can repeat at will. PostgreSQL cancels any statement of a web
process after CRM_WEB_STATEMENT_TIMEOUT_MS, set once per connection in its start-up packet
(`options=-c statement_timeout=N`): no statement per request.

Work that is long by nature runs without it: `flask crm ...` commands (rq workers, the tick,
apply, import/export commands) build their app unbounded; in a web process, what runs inside
`unbounded()` (jobs run in-process without REDIS_URL, schema work at start-up, a settings save
or rollback) lifts the timeout on the connections it checks out (`SET statement_timeout = 0`,
`RESET` when they go back to the pool: two statements per checkout, never per request).

A cancelled statement answers 503 naming the filters of the request, its transaction rolled
back: JSON on the API (app/web/crmapi.py, the base class of our APIs), a flash message on a
filtered list (which is shown again without its filters), the error page elsewhere. Never a
500. SQLite has no such setting: unaffected.
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import urlencode

import prison
import sqlalchemy as sa
from flask import Flask, current_app, flash, redirect, request
from werkzeug.exceptions import ServiceUnavailable

from app.i18n import _t, translate
from app.models.statement_timeout import SETTING, install_engine_timeout, is_timeout

from .errors import error_answer, wants_json
from .labels import current_lang

SCREEN_FILTER = re.compile(r"^_flt_\d+_(.+)$")
TOO_BROAD = _t("The filter {filters} reads too many records for one page (over {seconds} s); narrow it.")
TOO_LONG = _t("This page took longer than the {seconds} s allowed to read its records; narrow what it shows.")
log = logging.getLogger(__name__)


def install_read_timeout(app: Flask, engine: sa.Engine) -> None:
    """Lift the timeout inside `unbounded()`, and answer a cancelled read clearly."""
    if not app.config.get(SETTING):
        return
    install_engine_timeout(engine)
    app.register_error_handler(sa.exc.OperationalError, _screen_answer)


def request_filters() -> list[str]:
    """The filters of this request as `field 'value'`: a list screen's `_flt_*` arguments or
    the API's `q=(filters:...)`."""
    named = [f"{m.group(1)} '{value}'" for key, value in request.args.items(multi=True)
             if (m := SCREEN_FILTER.match(key))]
    try:
        rison = prison.loads(request.args.get("q") or "()")
    except Exception:  # noqa: BLE001 - FAB refuses a bad q with a 400 before any read
        rison = {}
    for item in (rison.get("filters") or []) if isinstance(rison, dict) else []:
        if isinstance(item, dict):
            named.append(f"{item.get('col')} {item.get('opr')} '{item.get('value')}'")
    return named


def timeout_message(lang: str | None) -> str:
    seconds = f"{current_app.config[SETTING] / 1000:g}"
    filters = request_filters()
    if filters:
        return translate(TOO_BROAD.msgid, lang, filters=", ".join(filters), seconds=seconds)
    return translate(TOO_LONG.msgid, lang, seconds=seconds)


def rollback_cancelled_read() -> None:
    current_app.extensions["crm"].db.session.rollback()  # the cancelled transaction is aborted


def _screen_answer(exc: sa.exc.OperationalError) -> Any:
    if not is_timeout(exc):
        raise exc  # another database error: Flask's 500, as before
    rollback_cancelled_read()
    log.warning("statement timeout on %s %s: %s", request.method, request.path, request_filters())
    lang = current_lang()
    if request.method == "GET" and not wants_json() and any(SCREEN_FILTER.match(k) for k in request.args):
        flash(timeout_message(lang), "warning")  # the list again, without the filters that were too broad
        kept = [(k, v) for k, v in request.args.items(multi=True) if not SCREEN_FILTER.match(k)]
        return redirect(request.path + (f"?{urlencode(kept)}" if kept else ""))
    return error_answer(ServiceUnavailable(timeout_message(lang)))
