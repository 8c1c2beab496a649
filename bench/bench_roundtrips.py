"""Where a list request's wall time beyond its CPU goes: round trips, run-queue wait, blocking.

    PYTHONPATH=$PWD .venv/bin/python bench/bench_roundtrips.py --size 100000 --requests 300 \
        --db postgresql+psycopg2://postgres@127.0.0.1/crm_bench      # the --db database is emptied

The data of bench_pages.py (the starter app with demo data, --size opportunities). For the
lists of bench_pages.py (HTML page 1 and page 100, the JSON list filtered on stage), the app
next to the bare request (bench/_bare_app.py), logged in as admin on a warm cache:

1. **Round trips per warm request**, counted on the wire: a second app on the same database
   whose PostgreSQL and Redis connections go through counting relays (tests/wire.py: a round
   trip is each time the client speaks after the server answered, so psycopg2's `BEGIN`, the
   pool's `ROLLBACK`, a `SET` or a Redis call count, not only statements). Twice: as
   bench_pages.py runs the app (no Redis, no statement timeout), and as `run.py` deploys it
   (`REDIS_URL`, the statement timeout, the live dispatcher's version poll).
2. **The wall time of a request split** (`--requests` alternating requests, means; the timed
   apps talk to the servers directly, no relay): the thread's CPU (`time.thread_time`), its
   wait in the run queue (runnable, no core free: `/proc/thread-self/schedstat`), and the rest,
   blocked (waiting for PostgreSQL or Redis to answer: their work, their own run-queue wait,
   the loopback). Wall minus CPU is the run-queue wait plus the blocked time.
3. **With and without the transaction around a list's reads**, in one process (the load is the
   same for both): each round, the app's request as it runs now (PostgreSQL: autocommit, no
   `BEGIN`/`ROLLBACK`: app/models/autocommit.py), then as before (the session's connection, in a
   transaction), the bare request, and the bare request in autocommit too (its engine's
   `isolation_level="AUTOCOMMIT"`: two round trips), their order turning each round.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from _bare_app import bare_app  # noqa: E402
from _rows import bare_sql, get_ok, html_url, login  # noqa: E402
from bench_dashboards import fill, starter_app  # noqa: E402
from bench_engine import dispose, settings  # noqa: E402
from bench_pages import FILTER, PASSWORD, json_url  # noqa: E402

from app import create_app  # noqa: E402
from app.metaversions.live import install  # noqa: E402
from app.ops.heap import freeze_built_heap  # noqa: E402
from app.web import listread  # noqa: E402
from tests.wire import relay_for, relayed_url  # noqa: E402

SCHEDSTAT = Path("/proc/thread-self/schedstat")  # cpu ns, run-queue wait ns, time slices (Linux)
DEPLOYED = {"CRM_WEB_STATEMENT_TIMEOUT_MS": 5000}  # with REDIS_URL and the live dispatcher, as run.py


def requests_of(client: Any, bare: Any) -> list[tuple[str, Callable[[], Any], Callable[[], Any]]]:
    return [("HTML list, page 1", lambda: get_ok(client, html_url(0)), lambda: get_ok(bare, "/list?page=0")),
            ("HTML list, page 100", lambda: get_ok(client, html_url(99)), lambda: get_ok(bare, "/list?page=99")),
            ("JSON list, filter stage = proposal", lambda: get_ok(client, json_url()),
             lambda: get_ok(bare, "/json"))]


def counted(db: str, redis_url: str, deployed: bool) -> dict[str, tuple[int, int, int]]:
    """Round trips of one warm request of each list: (app to PostgreSQL, app to Redis, bare)."""
    database = relay_for(db)
    redis = relay_for(redis_url) if deployed else None
    overrides: dict[str, Any] = {**DEPLOYED, "REDIS_URL": relayed_url(redis_url, redis)} if redis else {}
    app = create_app({**settings(relayed_url(db, database), ROOT / "metadata", Path(tempfile.mkdtemp())),
                      **overrides})
    if deployed:
        install(app, poll_seconds=3600)  # the dispatcher in front; its poll is every 2 s (amortized)
    client = login(app, "admin", PASSWORD)
    bare_engine = sa.create_engine(relayed_url(db, database))
    bare = bare_app(bare_engine, bare_sql(app), bare_sql(app, FILTER), FILTER).test_client()
    out = {}
    for label, app_request, bare_request in requests_of(client, bare):
        for _ in range(3):  # warm
            app_request(), bare_request()
        with database.counting() as on_database:
            if redis is not None:
                with redis.counting() as on_redis:
                    app_request()
            else:
                on_redis = [0, 0]
                app_request()
        with database.counting() as on_bare:
            bare_request()
        out[label] = (on_database[0], on_redis[0], on_bare[0])
    bare_engine.dispose()
    dispose(app)
    for relay in (database, redis):
        if relay is not None:
            relay.close()
    return out


def split(fn: Callable[[], Any]) -> tuple[float, float, float, float]:
    """(wall, CPU, run-queue wait, blocked) ms of one call on this thread."""
    before = SCHEDSTAT.read_text().split()
    wall, cpu = time.perf_counter(), time.thread_time()
    fn()
    wall, cpu = time.perf_counter() - wall, time.thread_time() - cpu
    waited = (int(SCHEDSTAT.read_text().split()[1]) - int(before[1])) / 1e9
    return wall * 1000, cpu * 1000, waited * 1000, (wall - cpu - waited) * 1000


def timed(app: Any, db: str, n: int) -> dict[str, list[tuple[float, ...]]]:
    """Means of (wall, CPU, run-queue wait, blocked) per request, app then bare, alternating."""
    client = login(app, "admin", PASSWORD)
    bare_engine = sa.create_engine(db)
    bare = bare_app(bare_engine, bare_sql(app), bare_sql(app, FILTER), FILTER).test_client()
    out = {}
    for label, app_request, bare_request in requests_of(client, bare):
        for _ in range(5):
            app_request(), bare_request()
        samples: list[list[tuple[float, ...]]] = [[], []]
        for i in range(n):  # the order turns each round
            for j in (i % 2, (i + 1) % 2):
                samples[j].append(split((app_request, bare_request)[j]))
        out[label] = [tuple(statistics.mean(column) for column in zip(*side, strict=True)) for side in samples]
    bare_engine.dispose()
    return out


@contextmanager
def in_transaction(session: Any) -> Iterator[Any]:
    """The list reads as before app/models/autocommit.py: on the session's connection (BEGIN ... ROLLBACK)."""
    yield session.connection()


def with_and_without(app: Any, db: str, n: int) -> dict[str, list[tuple[float, ...]]]:
    """Means of (wall, CPU, run-queue wait, blocked): autocommit reads, in a transaction, bare, bare
    in autocommit."""
    client = login(app, "admin", PASSWORD)
    bare_engine = sa.create_engine(db)
    bare = bare_app(bare_engine, bare_sql(app), bare_sql(app, FILTER), FILTER).test_client()
    bare_autocommit_engine = sa.create_engine(db, isolation_level="AUTOCOMMIT")  # the bare side's two as well
    bare_autocommit = bare_app(bare_autocommit_engine, bare_sql(app), bare_sql(app, FILTER), FILTER).test_client()
    autocommit = listread.read_connection

    def before(request: Callable[[], Any]) -> Callable[[], Any]:
        def run() -> Any:
            listread.read_connection = in_transaction
            try:
                return request()
            finally:
                listread.read_connection = autocommit
        return run
    out = {}
    for (label, app_request, bare_request), (_, _, bare_request_autocommit) in zip(
            requests_of(client, bare), requests_of(client, bare_autocommit), strict=True):
        sides = [app_request, before(app_request), bare_request, bare_request_autocommit]
        for _ in range(5):
            for fn in sides:
                fn()
        samples: list[list[tuple[float, ...]]] = [[] for _ in sides]
        for i in range(n):  # the order turns each round: none always follows another
            for j in range(len(sides)):
                k = (i + j) % len(sides)
                samples[k].append(split(sides[k]))
        out[label] = [tuple(statistics.mean(column) for column in zip(*side, strict=True)) for side in samples]
    bare_engine.dispose()
    bare_autocommit_engine.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--db", default="postgresql+psycopg2://postgres@127.0.0.1/crm_bench")
    parser.add_argument("--redis", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    app = starter_app(args.db, PASSWORD, CRM_CHART_CACHE_SECONDS=0)
    with app.app_context():
        state = app.extensions["crm"]
        owners = sorted(u.id for u in state.appbuilder.sm.get_all_users())
        fill(state.db.engine, args.size, owners)
    trips = {name: counted(args.db, args.redis, deployed) for name, deployed in (("bench", False),
                                                                                    ("deployed", True))}
    freeze_built_heap()
    load = os.getloadavg()[0]
    times = timed(app, args.db, args.requests)
    load = (load + os.getloadavg()[0]) / 2
    print(f"\nRound trips per warm request, {args.size:,} opportunities, PostgreSQL, admin "
          "(app: PostgreSQL + Redis; bare request: PostgreSQL):\n")
    print("| Request | App as bench_pages runs it | App as deployed (Redis, timeout, dispatcher) | Bare request |")
    print("|---|---:|---:|---:|")
    for label, (db_trips, _, bare_trips) in trips["bench"].items():
        deployed = trips["deployed"][label]
        print(f"| {label} | {db_trips} + 0 | {deployed[0]} + {deployed[1]} | {bare_trips} |")
    print(f"\nWall time split, ms per request (mean of {args.requests}, alternating; as bench_pages runs the app), "
          f"load average {load:.1f} on {os.cpu_count()} CPUs:\n")
    print("| Request | Wall app / bare | CPU app / bare | Run-queue wait app / bare | Blocked app / bare "
          "| Wall beyond CPU app / bare |")
    print("|---|---:|---:|---:|---:|---:|")
    for label, (mine, bare) in times.items():
        cells = " | ".join(f"{mine[i]:.2f} / {bare[i]:.2f}" for i in range(4))
        print(f"| {label} | {cells} | {mine[0] - mine[1]:.2f} / {bare[0] - bare[1]:.2f} |")
    load = os.getloadavg()[0]
    both = with_and_without(app, args.db, args.requests)
    load = (load + os.getloadavg()[0]) / 2
    print(f"\nThe same, the app's reads without and with BEGIN/ROLLBACK in one process (mean of {args.requests} "
          f"rounds), load average {load:.1f}:\n")
    print("| Request | | Wall | CPU | Run-queue wait | Blocked | Wall / bare request |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for label, sides in both.items():
        names = ("autocommit (now)", "in a transaction (before)", "bare request", "bare request in autocommit")
        for name, side in zip(names, sides, strict=True):
            cells = " | ".join(f"{v:.2f}" for v in side)
            print(f"| {label} | {name} | {cells} | {side[0] / sides[2][0]:.2f}x |")
    dispose(app)


if __name__ == "__main__":
    main()
