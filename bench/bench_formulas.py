"""Formula and rollup columns in lists: the app against the bare SQL doing the same.

Loads the starter demo data (`--size` opportunities, accounts = size/10) into
PostgreSQL, then times, median of `--repeat` alternating runs, through a logged-in
Flask test client:

0. a baseline: the opportunity API list of plain columns only, so the app's fixed
   cost per request (auth, FAB, ORM, JSON) can be told from what formulas add;
1. the opportunity API list with two formula columns (weighted_amount,
   days_to_close) besides name and amount, page 1 sorted by weighted_amount
   desc (a formula sort: a full scan and sort, no index) and by close_date desc;
2. the issue's list: the opportunity API list with the two formulas and one rollup
   (`activities`, a count over activity.opportunity, added on a copy of the starter
   metadata: a rollup has no column, so the same database serves), sorted by close_date;
   and the account API list with the open_pipeline rollup (a correlated subquery of
   open opportunities per row), page 1 sorted by name;
3. a write that changes a rollup: PUT of an opportunity's amount (the rollup is
   computed on read, so the write costs nothing extra; its cost is shown), then the
   account read that sees the new total.

Each list has the bare SQL next to it: the COUNT(*) FAB also runs plus one SELECT
of the same columns and order on a plain connection; the ratio app / bare
(target <= 2) includes auth, ORM and JSON in the app figure.

    .venv/bin/python bench/bench_formulas.py --size 10000 --repeat 7
    .venv/bin/python bench/bench_formulas.py --size 1000000   # the issue's 1M rows (long load)
    .venv/bin/python bench/bench_formulas.py --size 1000000 --reuse   # timings again, no load

**The --db database is emptied (DROP SCHEMA public CASCADE) at start.**
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from _rows import alternating_ms, get_ok, login  # noqa: E402
from bench_engine import dispose, prepare_database, settings  # noqa: E402

from app import create_app  # noqa: E402
from app.demo.loader import load_demo  # noqa: E402
from app.security.sync import sync_permissions  # noqa: E402
from app.security.users import ensure_admin  # noqa: E402

DEFAULT_DB = "postgresql+psycopg2://postgres@127.0.0.1/crm_bench_formulas"
PASSWORD = "bench-admin-1"
RATIO_TARGET = 2.0

OPP_BARE = """
SELECT o.id, o.name, o.amount,
       round(CAST(o.amount AS NUMERIC) * o.probability / NULLIF(100, 0), 2) AS weighted_amount,
       (o.close_date - CURRENT_DATE) AS days_to_close
FROM opportunity o ORDER BY {order} LIMIT 25
"""
OPP_ROLLUP_BARE = """
SELECT o.id, o.name, o.amount,
       round(CAST(o.amount AS NUMERIC) * o.probability / NULLIF(100, 0), 2) AS weighted_amount,
       (o.close_date - CURRENT_DATE) AS days_to_close,
       COALESCE((SELECT count(a.id) FROM activity a WHERE a.opportunity_id = o.id), 0) AS activities
FROM opportunity o ORDER BY o.close_date DESC, o.id DESC LIMIT 25
"""
# The list: two formulas and one rollup on the opportunity list. The starter has no
# rollup on opportunity, so this case runs on a copy of the metadata that adds one (a rollup
# has no column: the same database serves both apps).
ROLLUP_FIELD = ("  activities: {type: rollup, to: activity, via: opportunity, function: count, "
                "label: {en: Activities, zh: 活动数}}\n")
ACCOUNT_BARE = """
SELECT a.id, a.name,
       COALESCE((SELECT sum(o.amount) FROM opportunity o
                 WHERE o.account_id = a.id AND o.stage NOT IN ('won', 'lost')), 0) AS open_pipeline
FROM account a ORDER BY a.name ASC, a.id LIMIT 25
"""


def api(entity: str, columns: list[str], order: str, direction: str) -> str:
    q = (f"(columns:!({','.join(columns)}),order_column:{order},order_direction:{direction},"
         f"page:0,page_size:25)")
    return f"/api/v1/{entity}/?q={quote(q)}"


def bare(engine: sa.Engine, table: str, sql: str) -> Any:
    def run() -> None:
        with engine.connect() as conn:
            conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar()
            conn.exec_driver_sql(sql).all()
    return run


def _metadata_with_rollup(tmp: Path) -> Path:
    """The starter metadata plus an `activities` rollup (count over activity.opportunity) on opportunity."""
    folder = tmp / "metadata-with-rollup"
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(ROOT / "metadata", folder)
    path = folder / "entities" / "opportunity.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("\nfields:\n", "\nfields:\n" + ROLLUP_FIELD, 1), encoding="utf-8")
    return folder


def _check_loaded(url: str, size: int) -> None:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        found = conn.exec_driver_sql("SELECT count(*) FROM opportunity").scalar()
    engine.dispose()
    if found != size:
        raise SystemExit(f"--reuse: the database holds {found:,} opportunities, not {size:,}; run without --reuse")
    print(f"reusing the {found:,} opportunities an earlier run loaded")


def _load(app: Any, n: int) -> None:
    sizes = {"opportunity": n, "account": max(1, n // 10), "contact": max(1, n // 10), "product": 50,
             "campaign": 10, "lead": max(1, n // 100), "ticket": 10, "activity": max(1, n // 10)}
    with app.app_context():
        state = app.extensions["crm"]
        sync_permissions(state.appbuilder)
        ensure_admin(state.appbuilder, PASSWORD)
        start = time.perf_counter()
        load_demo(state.db.session, state.models, sizes=sizes)
        print(f"demo load: {n:,} opportunities, {sizes['account']:,} accounts in "
              f"{time.perf_counter() - start:.1f} s; VACUUM ANALYZE")
        with state.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=10_000, help="opportunities to load (1000000 for the issue)")
    parser.add_argument("--db", default=DEFAULT_DB, help="PostgreSQL URL (emptied at start!)")
    parser.add_argument("--repeat", type=int, default=7, help="runs per latency median")
    parser.add_argument("--reuse", action="store_true",
                        help="time the data an earlier run with the same --db and --size loaded (no emptying, no load)")
    args = parser.parse_args()
    logging.getLogger("flask_appbuilder").setLevel(logging.ERROR)
    # one folder per database: it keeps the schema revision the load wrote, which --reuse needs
    tmp = Path(tempfile.gettempdir()) / f"crm-bench-formulas-{make_url(args.db).database}"
    print(f"# Formula and rollup columns (size={args.size:,}, repeat={args.repeat})")
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs\n")
    if args.reuse:
        _check_loaded(args.db, args.size)
    else:
        shutil.rmtree(tmp, ignore_errors=True)
        prepare_database(args.db)
    app = create_app(settings(args.db, ROOT / "metadata", tmp))
    if not args.reuse:
        _load(app, args.size)
    engine = sa.create_engine(args.db)
    client = login(app, "admin", PASSWORD)
    rollup_app = create_app(settings(args.db, _metadata_with_rollup(tmp), tmp))
    rollup_client = login(rollup_app, "admin", PASSWORD)
    cases = [
        ("baseline: opportunity, plain columns, sort close_date",
         api("opportunity", ["name", "amount", "probability", "close_date"], "close_date", "desc"),
         bare(engine, "opportunity", "SELECT o.id, o.name, o.amount, o.probability, o.close_date "
              "FROM opportunity o ORDER BY o.close_date DESC, o.id DESC LIMIT 25")),
        ("opportunity, 2 formulas, sort weighted_amount desc",
         api("opportunity", ["name", "amount", "weighted_amount", "days_to_close"], "weighted_amount", "desc"),
         bare(engine, "opportunity", OPP_BARE.format(order="weighted_amount DESC, o.id DESC"))),
        ("opportunity, 2 formulas, sort close_date desc",
         api("opportunity", ["name", "amount", "weighted_amount", "days_to_close"], "close_date", "desc"),
         bare(engine, "opportunity", OPP_BARE.format(order="o.close_date DESC, o.id DESC"))),
        ("opportunity, 2 formulas + rollup, sort close_date desc",
         api("opportunity", ["name", "amount", "weighted_amount", "days_to_close", "activities"],
             "close_date", "desc"),
         bare(engine, "opportunity", OPP_ROLLUP_BARE), rollup_client),
        ("account, rollup open_pipeline, sort name",
         api("account", ["name", "open_pipeline"], "name", "asc"),
         bare(engine, "account", ACCOUNT_BARE)),
    ]
    print(f"\n{'request':<54} {'app ms':>8} {'bare ms':>8} {'ratio':>6} {'app-bare':>9}")
    worst = 0.0
    get_ok(client, cases[0][1])  # one more warm-up: the first request pays for caches
    get_ok(rollup_client, cases[0][1])
    for name, url, bare_fn, *other in cases:
        who = other[0] if other else client
        app_ms, bare_ms = alternating_ms([lambda url=url, who=who: get_ok(who, url), bare_fn], args.repeat)
        ratio = app_ms / bare_ms
        if not name.startswith("baseline"):
            worst = max(worst, ratio)
        print(f"{name:<54} {app_ms:8.1f} {bare_ms:8.1f} {ratio:6.2f} {app_ms - bare_ms:9.1f}")
    print(f"worst ratio {worst:.2f} (target <= {RATIO_TARGET:.0f}: {'PASS' if worst <= RATIO_TARGET else 'FAIL'})")

    with engine.connect() as conn:
        deal_id, account_id = conn.exec_driver_sql(
            "SELECT id, account_id FROM opportunity WHERE stage NOT IN ('won', 'lost') LIMIT 1").one()
    amounts = iter(range(1000, 1000 + 10 * (args.repeat + 2), 10))

    def write() -> None:
        response = client.put(f"/api/v1/opportunity/{deal_id}", json={"amount": str(next(amounts))})
        assert response.status_code == 200, response.json

    def read() -> None:
        get_ok(client, f"/api/v1/account/{account_id}")

    write_ms, read_ms = alternating_ms([write, read], args.repeat)
    print(f"\nPUT opportunity amount (the rollup is computed on read: no extra write) {write_ms:8.1f} ms")
    print(f"GET its account with the new open_pipeline                              {read_ms:8.1f} ms")
    engine.dispose()
    dispose(app)
    dispose(rollup_app)


if __name__ == "__main__":
    main()
