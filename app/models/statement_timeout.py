"""A statement timeout on the web processes' database connections (PostgreSQL).

Set once per connection in its start-up packet (`options=-c statement_timeout=N`): no statement
per request. Work that is long by nature lifts it: `unbounded()` marks the connections checked
out meanwhile (`SET statement_timeout = 0`, `RESET` at check-in: two statements per checkout).
The web layer (app/web/readtimeout.py) answers a cancelled read; this module only knows the
engine, so the schema, metadata-version and job layers can use `unbounded()` without the web.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url

SETTING = "CRM_WEB_STATEMENT_TIMEOUT_MS"
QUERY_CANCELED = "57014"  # PostgreSQL's SQLSTATE for a statement cancelled (by the timeout)
DRIVERS = ("psycopg2", "psycopg")  # libpq drivers: they pass `options` in the start-up packet
LIFTED = "crm_statement_timeout_lifted"
log = logging.getLogger(__name__)
_unbounded: ContextVar[bool] = ContextVar("crm_statement_timeout_unbounded", default=False)


def bound_engine_options(settings: dict[str, Any], web: bool) -> None:
    """Put the timeout into the engine's connect args, for a web process on PostgreSQL; anything
    else (a `flask crm` command, SQLite, another driver) runs with the setting at 0."""
    ms = int(settings.get(SETTING) or 0)
    url = make_url(str(settings["SQLALCHEMY_DATABASE_URI"]))
    if not web or ms <= 0 or url.get_backend_name() != "postgresql" or url.get_driver_name() not in DRIVERS:
        settings[SETTING] = 0
        return
    settings[SETTING] = ms
    options = dict(settings.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    connect_args = dict(options.get("connect_args") or {})
    connect_args["options"] = f"{connect_args.get('options', '')} -c statement_timeout={ms}".strip()
    options["connect_args"] = connect_args
    settings["SQLALCHEMY_ENGINE_OPTIONS"] = options


@contextmanager
def unbounded() -> Iterator[None]:
    """Connections checked out meanwhile (this thread or task) run without the timeout."""
    token = _unbounded.set(True)
    try:
        yield
    finally:
        _unbounded.reset(token)




def install_engine_timeout(engine: sa.Engine) -> None:
    """Lift the timeout on the connections checked out inside `unbounded()`."""
    sa.event.listen(engine, "checkout", _lift)
    sa.event.listen(engine, "checkin", _restore)


def _lift(dbapi_connection: Any, record: Any, proxy: Any) -> None:
    if _unbounded.get() and not record.info.get(LIFTED):
        _run(dbapi_connection, "SET statement_timeout = 0")
        record.info[LIFTED] = True


def _restore(dbapi_connection: Any, record: Any) -> None:
    if record.info.pop(LIFTED, False) and dbapi_connection is not None:
        try:
            _run(dbapi_connection, "RESET statement_timeout")  # back to the start-up packet's value
        except Exception:  # noqa: BLE001 - a connection that cannot say it is dropped by the pool next time
            log.exception("statement timeout: cannot restore it on a pooled connection")
            record.invalidate()


def _run(dbapi_connection: Any, sql: str) -> None:
    """Outside any transaction of the caller's: committed at once (a rollback would undo a SET)."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(sql)
    finally:
        cursor.close()
    dbapi_connection.commit()


def is_timeout(exc: BaseException | None) -> bool:
    return isinstance(exc, sa.exc.OperationalError) and getattr(exc.orig, "pgcode", None) == QUERY_CANCELED
