"""The home dashboard at 1M opportunities on PostgreSQL: first paint and full load.

Issue 17 item 6: the home page (the user's first dashboard) renders its layout at once
and each chart loads from its JSON endpoint, cached per chart and role scope
(app/web/chartcache.py). For admin (every row) and a sales rep (own rows), the median of
--repeat runs of:
- first paint: the HTML page alone (what the user sees before any chart);
- full load, sequential: the page, then every chart's JSON one after another (one
  worker's work; what the page cost before the change, when it ran every chart);
- full load, parallel: the page, then the charts six at a time (as a browser asks them);
each with the chart cache cold (emptied before every run) and warm (filled by the run
before). The load average is printed at start and end: the machine is shared.

    PYTHONPATH=$PWD .venv/bin/python bench/bench_home.py --size 1000000 --repeat 3 \
        --db postgresql+psycopg2://postgres@127.0.0.1/crm_bench     # the --db database is emptied
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _dash import BROWSER_CONNECTIONS, full_load, parallel_load  # noqa: E402
from _rows import count_statements, get_ok, login  # noqa: E402
from bench_dashboards import ADMIN_PASSWORD, fill, starter_app  # noqa: E402
from bench_engine import dispose  # noqa: E402

from app.demo.users import DEMO_PASSWORD  # noqa: E402
from app.web.chartcache import EXTENSION  # noqa: E402


def median_ms(fn: Any, repeat: int, before: Any = None) -> float:
    samples = []
    for _ in range(repeat):
        if before is not None:
            before()
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return sorted(samples)[len(samples) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--db", default="postgresql+psycopg2://postgres@127.0.0.1/crm_bench")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs", flush=True)
    # 12 logins: no login rate limit in a benchmark
    app = starter_app(args.db, ADMIN_PASSWORD, CRM_CHART_CACHE_SECONDS=600, AUTH_RATE_LIMITED=False,
                      RATELIMIT_ENABLED=False)
    with app.app_context():
        state = app.extensions["crm"]
        owners = sorted(u.id for u in state.appbuilder.sm.get_all_users())
        engine = state.db.engine
    cache = app.extensions[EXTENSION]
    started = time.perf_counter()
    fill(engine, args.size, owners)
    print(f"loaded {args.size:,} opportunities in {time.perf_counter() - started:.0f} s", flush=True)

    print(f"\n| User | Charts | First paint (HTML) | Stmts | Cache | Full load, sequential | "
          f"Full load, {BROWSER_CONNECTIONS} at once |")
    print("|---|---:|---:|---:|---|---:|---:|")
    for username, password in (("admin", ADMIN_PASSWORD), ("sales_rep", DEMO_PASSWORD)):
        clients = [login(app, username, password) for _ in range(BROWSER_CONNECTIONS)]
        client = clients[0]
        get_ok(client, "/")  # warm: access cache, menu, compiled statements
        with count_statements(app) as statements:
            get_ok(client, "/")
        paint = median_ms(lambda c=client: get_ok(c, "/"), args.repeat)
        charts = full_load(client, "/")
        for label, before in (("cold", cache.clear), ("warm", None)):
            sequential = median_ms(lambda c=client: full_load(c, "/"), args.repeat, before)
            parallel = median_ms(lambda cs=clients: parallel_load(cs, "/"), args.repeat, before)
            print(f"| {username} | {charts} | {paint:.0f} ms | {len(statements)} | {label} | {sequential:.0f} ms | "
                  f"{parallel:.0f} ms |", flush=True)
    print(f"\nload average at end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; "
          f"{args.size:,} opportunities, median of {args.repeat}")
    dispose(app)


if __name__ == "__main__":
    main()
