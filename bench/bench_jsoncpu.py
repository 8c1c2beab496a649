"""The filtered JSON list's CPU per warm request, profiled and A/B'd in one process.

    PYTHONPATH=$PWD .venv/bin/python bench/bench_jsoncpu.py --db postgresql+psycopg2://postgres@127.0.0.1/crm_x --prepare
    PYTHONPATH=$PWD .venv/bin/python bench/bench_jsoncpu.py --db ... --profile admin --n 500
    PYTHONPATH=$PWD .venv/bin/python bench/bench_jsoncpu.py --db ... --ab 9

--prepare empties --db, builds the starter with demo data and --size opportunities spread over
every user (round robin). Then, as admin and as sales_rep (own rows), the list of bench_pages.py
(stage = proposal, close_date desc, 25 rows): --profile prints cProfile's figures over --n warm
requests with a CPU clock; --cpu prints the process CPU per warm request (median of rounds);
--ab alternates main's behaviour and this one's in this process (`ab`), with the HTML list page 1
and the bare request (bench/_bare_app.py).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from _bare_app import bare_app  # noqa: E402
from _rows import bare_sql, get_ok, html_url, login  # noqa: E402
from bench_dashboards import fill, starter_app  # noqa: E402
from bench_engine import settings  # noqa: E402
from bench_pages import FILTER, PASSWORD, json_url  # noqa: E402

from app import create_app  # noqa: E402
from app.demo.users import DEMO_PASSWORD  # noqa: E402
from app.ops.heap import freeze_built_heap  # noqa: E402
from app.security.access import RoleBook  # noqa: E402

USERS = {"admin": PASSWORD, "sales_rep": DEMO_PASSWORD}


def prepare(db: str, size: int) -> None:
    app = starter_app(db, PASSWORD)
    with app.app_context():
        state = app.extensions["crm"]
        owners = sorted(u.id for u in state.appbuilder.sm.get_all_users())
        engine = state.db.engine
    fill(engine, size, owners)


def built(db: str) -> Any:
    return create_app({**settings(db, ROOT / "metadata", Path(tempfile.mkdtemp())),
                       "CRM_CHARTS_NOW": "2026-11-23T12:00:00"})


def cpu_per_request(client: Any, url: str, rounds: int, per_round: int) -> float:
    samples = []
    for _ in range(rounds):
        start = time.process_time()
        for _ in range(per_round):
            get_ok(client, url)
        samples.append((time.process_time() - start) * 1000 / per_round)
    return statistics.median(samples)


def _unkept(book: Any, key: Any, work: Any) -> Any:
    return work()  # main's behaviour: the role book's answers worked out per request


kept_answer = RoleBook.answer


def ab(app: Any, clients: dict[str, Any], url: str, rounds: int, per_round: int = 100) -> None:
    """Process CPU per warm request, main's behaviour (`CRM_REQUEST_FRAME=fab`, the role book's
    answers not kept) and this branch's alternating in this process, the order turning each
    round; and the bare request."""
    engine = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    bare = bare_app(engine, bare_sql(app), bare_sql(app, FILTER), FILTER).test_client()
    sides = {name: [] for name in ("fab", "lean")}
    samples: dict[tuple[str, str], list[float]] = {}
    pages = {who: url for who in clients}
    pages.update({f"{who} HTML p1": html_url(0) for who in clients})
    for r in range(rounds):
        order = ("fab", "lean") if r % 2 == 0 else ("lean", "fab")
        for who, page in pages.items():
            client = clients[who.split(" ")[0]]
            for side in order:
                app.config["CRM_REQUEST_FRAME"] = side
                RoleBook.answer = kept_answer if side == "lean" else _unkept  # type: ignore[method-assign]
                get_ok(client, page)
                n = per_round if page == url else per_round // 5
                samples.setdefault((who, side), []).append(cpu_per_request(client, page, 1, n))
        samples.setdefault(("bare", "bare"), []).append(cpu_per_request(bare, "/json", 1, per_round))
    app.config["CRM_REQUEST_FRAME"] = "lean"
    RoleBook.answer = kept_answer  # type: ignore[method-assign]
    del sides
    bare_ms = statistics.median(samples[("bare", "bare")])
    print(f"A/B, {rounds} rounds of {per_round} requests, load {os.getloadavg()[0]:.1f}; bare request "
          f"{bare_ms:.2f} ms CPU")
    for who in pages:
        fab, lean = statistics.median(samples[(who, "fab")]), statistics.median(samples[(who, "lean")])
        print(f"  {who:<10} fab {fab:.2f} ms  lean {lean:.2f} ms  ({(lean - fab) / fab:+.0%}; "
              f"{fab / bare_ms:.2f}x -> {lean / bare_ms:.2f}x the bare request)")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--size", type=int, default=20_000)
    parser.add_argument("--prepare", action="store_true")
    parser.add_argument("--profile", choices=sorted(USERS))
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--cpu", action="store_true")
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--dump", help="also write the profile to this file")
    parser.add_argument("--ab", type=int, default=0, help="rounds of the in-process A/B (fab / lean frame)")
    args = parser.parse_args()
    if args.prepare:
        prepare(args.db, args.size)
        return
    app = built(args.db)
    clients = {name: login(app, name, password) for name, password in USERS.items()}
    url = json_url()
    for client in clients.values():
        for _ in range(20):
            get_ok(client, url)
    freeze_built_heap()
    if args.profile:
        client = clients[args.profile]
        profiler = cProfile.Profile(time.process_time)
        profiler.enable()
        for _ in range(args.n):
            get_ok(client, url)
        profiler.disable()
        if args.dump:
            profiler.dump_stats(args.dump)  # for pstats' callers/callees
        stats = pstats.Stats(profiler)
        print(f"{args.n} requests as {args.profile}; load {os.getloadavg()[0]:.1f}")
        stats.sort_stats(args.sort).print_stats(45)
        stats.sort_stats("cumulative").print_stats(90)
    if args.cpu:
        for name, client in clients.items():
            print(f"{name}: {cpu_per_request(client, url, 7, 100):.2f} ms CPU a request, "
                  f"load {os.getloadavg()[0]:.1f}")
    if args.ab:
        ab(app, clients, url, args.ab)
    with app.app_context():
        app.extensions["crm"].db.engine.dispose()


if __name__ == "__main__":
    main()
