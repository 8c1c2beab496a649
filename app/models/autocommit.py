"""Reads that need no transaction run without one on PostgreSQL: no BEGIN, no ROLLBACK.

A warm list request ran four round trips to PostgreSQL: `BEGIN` (psycopg2 sends it before
the first statement), the page, the capped count, and the `ROLLBACK` that returns the
connection to the pool. At READ COMMITTED, PostgreSQL's default and ours, each statement
reads its own snapshot whether or not a transaction surrounds it, so `BEGIN`/`ROLLBACK`
around plain SELECTs add two round trips and nothing else (under load each is a wake-up
of the serving process: bench/README.md, "Round trips of a list request"). Such reads run
on a connection of their own in autocommit, returned to the pool right after: the
session never checks one out, so its teardown sends no `ROLLBACK` either.

Only when it changes nothing else: on PostgreSQL (psycopg2 or psycopg), and when the
request's session holds no connection yet (a session that already read or wrote keeps its
transaction: the read sees its writes and takes no second connection from the pool). The statement timeout (start-up
packet) and `unbounded()` (checkout) apply to this connection as to any other. A schema
change committed between the two statements (another process's metadata apply) is met as
between two requests: the live dispatcher runs the request again on the new version.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import scoped_session

# PostgreSQL through a driver whose `autocommit` switch is client-side (psycopg2, psycopg 3)
AUTOCOMMIT_DRIVERS = frozenset({("postgresql", "psycopg2"), ("postgresql", "psycopg")})


def reads_without_transaction(engine: sa.Engine) -> bool:
    return (engine.dialect.name, engine.dialect.driver) in AUTOCOMMIT_DRIVERS


def holds_connection(session: Any) -> bool:
    """Has `session` checked out a connection in its current transaction? (True when unsure.)"""
    if isinstance(session, scoped_session):
        session = session()  # the request's own Session
    transaction = session.get_transaction()
    return transaction is not None and bool(getattr(transaction, "_connections", True))


@contextmanager
def autocommit_connection(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A pooled connection whose statements run without BEGIN/ROLLBACK (PostgreSQL; on other
    databases a plain one). For reads only: a write through it commits at once."""
    with engine.connect() as connection:
        if not reads_without_transaction(engine):
            yield connection
            return
        # the driver's own switch, as SQLAlchemy's pre-ping does (the isolation-level execution
        # option would send `SET default_transaction_isolation` when the connection goes back)
        dbapi = connection.connection.dbapi_connection
        dbapi.autocommit = True
        try:
            yield connection
        finally:
            if not dbapi.closed:  # back to the pool as it came: its next user's BEGIN is sent again
                dbapi.autocommit = False


@contextmanager
def read_connection(session: Any) -> Iterator[sa.Connection]:
    """A connection for the read-only statements of a request: an autocommit one of its own
    (PostgreSQL, a session without a connection yet), else the session's own."""
    bind = session.get_bind()
    if not reads_without_transaction(bind) or holds_connection(session):
        yield session.connection()
        return
    with autocommit_connection(bind) as connection:
        yield connection
