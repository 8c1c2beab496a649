"""The suite on several processes (pytest-xdist, `make test -n 2`): what keeps workers apart.

Each worker gets a PostgreSQL database of its own, `<CRM_TEST_DATABASE_URL's database>_gw<N>`,
created empty when the worker starts and dropped when it ends, and the Redis db
CRM_TEST_REDIS_URL's number + N (tests flush their db). Both are put back into the
environment, so everything that reads them (fixtures, worker processes, the CLI) sees the
worker's own. A test marked `serial` runs alone: it waits for the other workers' running
tests to end and holds theirs back until it is done (file locks shared by one run). Without
xdist nothing changes: the given database and Redis db, no locks.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from tests.jobs_support import DEFAULT_REDIS, REDIS_ENV

DB_ENV = "CRM_TEST_DATABASE_URL"
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
RUN = os.environ.get("PYTEST_XDIST_TESTRUNUID", "")


def worker_number() -> int | None:
    """0, 1, ... under xdist (gw0, gw1, ...); None in a plain run."""
    return int(WORKER[2:]) if WORKER.startswith("gw") and WORKER[2:].isdigit() else None


def _admin_engine(url: str) -> sa.Engine:
    return sa.create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")


def _recreate(url: str) -> None:
    drop_database(url)  # with what an earlier run left beside it
    engine = _admin_engine(url)
    with engine.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{make_url(url).database}"'))
    engine.dispose()


def drop_database(url: str) -> None:
    """Drop the worker's database and the ones tests made beside it (`<name>_restore`: ops_support.py)."""
    name = make_url(url).database
    engine = _admin_engine(url)
    with engine.connect() as conn:
        beside = conn.execute(sa.text("SELECT datname FROM pg_database WHERE starts_with(datname, :prefix)"),
                              {"prefix": f"{name}_"}).scalars().all()
        for database in [name, *beside]:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
    engine.dispose()


def redis_for_worker(url: str, number: int) -> str:
    """The Redis URL with its db number moved on by the worker's number (redis://host:port/3 → /4 for gw1)."""
    parts = urlsplit(url)
    db = int(parts.path.strip("/") or 0) + number
    if db > 15:
        raise RuntimeError(f"{REDIS_ENV}={url}: worker gw{number} would need Redis db {db}; use a lower db")
    return urlunsplit(parts._replace(path=f"/{db}"))


def isolate_worker() -> str | None:
    """Under xdist: the worker's own database and Redis db, into the environment. Returns the
    database URL to drop at the end (None when there is none)."""
    number = worker_number()
    if number is None:
        return None
    os.environ[REDIS_ENV] = redis_for_worker(os.environ.get(REDIS_ENV, DEFAULT_REDIS), number)
    url = os.environ.get(DB_ENV)
    if not url:
        return None
    parsed = make_url(url)
    own = parsed.set(database=f"{parsed.database}_{WORKER}").render_as_string(hide_password=False)
    _recreate(own)
    os.environ[DB_ENV] = own
    return own


def _lock_dir() -> Path:
    folder = Path(tempfile.gettempdir()) / f"crm-tests-{RUN}"
    folder.mkdir(exist_ok=True)
    return folder


@contextmanager
def turn(alone: bool) -> Iterator[None]:
    """Hold a test's turn: shared for most tests, exclusive for a `serial` one.

    The gate stops new tests from starting while a serial test waits for the running ones
    (shared holders of `main`) to finish, so it cannot be starved."""
    if not RUN or worker_number() is None:
        yield
        return
    folder = _lock_dir()
    with open(folder / "gate", "a") as gate, open(folder / "main", "a") as main:
        if alone:
            fcntl.flock(gate, fcntl.LOCK_EX)
            fcntl.flock(main, fcntl.LOCK_EX)
        else:
            fcntl.flock(gate, fcntl.LOCK_SH)
            fcntl.flock(gate, fcntl.LOCK_UN)
            fcntl.flock(main, fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(main, fcntl.LOCK_UN)
            fcntl.flock(gate, fcntl.LOCK_UN)
