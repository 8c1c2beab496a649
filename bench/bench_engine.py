"""MetaCRM engine benchmark: build time, demo load, list latency and SQL per request.

Run from the repository root with the project venv and a PostgreSQL server:

    .venv/bin/python bench/bench_engine.py                  # 100k opportunities, 15 repeats
    .venv/bin/python bench/bench_engine.py --size 20000 --repeat 5
    .venv/bin/python bench/bench_engine.py --db postgresql+psycopg2://postgres@127.0.0.1/crm_bench

The --db database is created if missing and EMPTIED (DROP SCHEMA public CASCADE)
at start: never point it at real data. App builds are timed on fresh SQLite
files in a temp dir, so they never touch --db. The report ends with a markdown
table that can be pasted into README.md.

Figures:
1. create_app wall and CPU time for metadata/ and a generated 50 x 30 tree: cold (creates
   the schema) and warm (schema exists, median of 3). Target: warm 50 x 30 <= 2 s.
2. load_demo time for --size opportunities plus proportionate accounts, contacts, products...
3. median latency of the opportunity list (HTML) and API list, page 1 and the last page,
   sorted by close_date desc, next to the bare SQL doing the same work (the COUNT(*) FAB also
   runs + the page SELECT with the link columns joined to the page), runs alternating so both
   see the same machine load; app/bare ratio target <= 3 (the app figure also includes
   auth, ORM and HTML/JSON rendering, the bare one does not).
4. SQL statements per request (before_cursor_execute on the app's engine), and with a
   page size of 25 vs 100, to show the count does not grow with the page (no N+1).
5. Row rules: after the load the opportunities are spread round-robin over admin and the
   demo users (one UPDATE), then the figures of 3 and 4 as `sales_rep` (own records) and
   `sales_manager` (team), page 1 and the user's last page, each next to admin on the same
   URL and to the bare SQL with the rule (WHERE owner_id = :rep / IN (:team)).
   Target: user/admin <= 1.2. Helpers and this section live in bench/_rows.py.
6. Kanban board: after the load every opportunity is put in the default pipeline
   (new_business) in a random open stage (two UPDATEs), then the board page (HTML), the
   board JSON column headers and the first card page of one column, as admin and as
   sales_rep (own), next to the bare SQL (the grouped count/sums; the first 20 cards by
   changed_on DESC with a LIMIT); app/bare target <= 3. This section is bench/_board.py.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from _board import measure_board, prepare_board, print_board_table  # noqa: E402
from _rows import (  # noqa: E402
    PAGE_SIZE,
    alternating_ms,
    api_url,
    bare_sql,
    count_statements,
    get_ok,
    html_url,
    login,
    measure_row_rules,
    print_row_table,
    run_bare,
    setup_demo_users,
)

from app import create_app  # noqa: E402
from app.demo.loader import load_demo  # noqa: E402
from app.demo.users import DEMO_PASSWORD  # noqa: E402
from app.security.sync import sync_permissions  # noqa: E402
from app.security.users import ensure_admin  # noqa: E402

DEFAULT_DB = "postgresql+psycopg2://postgres@127.0.0.1/crm_bench"
BUILD_TARGET_S = 2.0
RATIO_TARGET = 3.0
PASSWORD = "bench-admin-1"
FIELD_TYPES = ("string", "integer", "money", "date", "choice", "boolean", "text")


def settings(url: str, metadata_dir: Path, tmp: Path) -> dict[str, Any]:
    return {"SQLALCHEMY_DATABASE_URI": url, "CRM_METADATA_DIR": str(metadata_dir),
            "CRM_PLUGINS_DIR": str(tmp / "no-plugins"), "WTF_CSRF_ENABLED": False,
            "SECRET_KEY": "bench-secret", "TESTING": True, "CRM_REQUEST_LOG": "off",
            "CRM_MIGRATIONS_DIR": str(tmp / "migrations"),  # never the repository's own revisions
            "CRM_WEB_STATEMENT_TIMEOUT_MS": 0}  # the loads of 1M rows run through this app


def dispose(app: Any) -> None:
    with app.app_context():
        state = app.extensions["crm"]
        state.db.session.remove()
        state.db.engine.dispose()


def prepare_database(url: str) -> None:
    """Create the PostgreSQL database if missing, then empty its public schema (a SQLite file:
    removed, so the app makes it again)."""
    target = make_url(url)
    if target.get_backend_name() == "sqlite":
        if target.database:
            Path(target.database).unlink(missing_ok=True)
        return
    server = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        exists = conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"),
                              {"n": target.database}).scalar()
        if not exists:
            conn.exec_driver_sql(f'CREATE DATABASE "{target.database}"')
    server.dispose()
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()


def generate_metadata(root: Path, entities: int = 50, fields: int = 30) -> Path:
    """A metadata tree of `entities` x `fields`: mixed types, links to earlier entities."""
    (root / "entities").mkdir(parents=True, exist_ok=True)
    (root / "crm.yaml").write_text("name: {en: Bench CRM, zh: 基准}\nlanguages: [en, zh]\n",
                                   encoding="utf-8")
    for e in range(1, entities + 1):
        lines = [f"label: {{en: Entity {e}, zh: 实体{e}}}", "fields:"]
        for i in range(1, fields + 1):
            ftype = "string" if i == 1 else FIELD_TYPES[i % len(FIELD_TYPES)]
            if e > 1 and i in (10, 20):  # two links per entity, to earlier entities
                target = e - 1 if i == 10 else max(1, e // 2)
                lines.append(f"  f{i:02d}_link: {{type: link, to: ent{target:02d}, on_delete: set_null}}")
            elif ftype == "choice":
                lines.append(f"  f{i:02d}_choice: {{type: choice, choices: [low, mid, high], index: true}}")
            else:
                lines.append(f"  f{i:02d}_{ftype}: {{type: {ftype}, label: {{en: F{i}, zh: 字段{i}}}}}")
        (root / "entities" / f"ent{e:02d}.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


def time_builds(metadata_dir: Path, tmp: Path, runs: int = 3) -> tuple[float, float, float]:
    """(cold s, median warm wall s, median warm CPU s) of create_app on a SQLite file.

    Cold: first build, creates every table. Warm: the schema exists (a worker boot).
    """
    db = f"sqlite:///{tmp / f'build-{metadata_dir.name}.db'}"
    start = time.perf_counter()
    dispose(create_app(settings(db, metadata_dir, tmp)))
    cold = time.perf_counter() - start
    walls, cpus = [], []
    for _ in range(runs):
        start, cpu = time.perf_counter(), time.process_time()
        app = create_app(settings(db, metadata_dir, tmp))
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
        dispose(app)
    return cold, statistics.median(walls), statistics.median(cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=100_000, help="opportunities to load")
    parser.add_argument("--db", default=DEFAULT_DB, help="PostgreSQL URL (emptied at start!)")
    parser.add_argument("--repeat", type=int, default=15, help="runs per latency median")
    parser.add_argument("--show-sql", action="store_true", help="print the API page-1 statements")
    args = parser.parse_args()
    logging.getLogger("flask_appbuilder").setLevel(logging.ERROR)  # "no user yet", login redirects
    tmp = Path(tempfile.mkdtemp(prefix="crm-bench-"))
    starter = ROOT / "metadata"

    print(f"# MetaCRM engine benchmark (size={args.size:,}, repeat={args.repeat})")
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs\n")
    print("## 1. App build (create_app on SQLite; warm = schema exists, median of 3)")
    builds = {"starter metadata": time_builds(starter, tmp),
              "50 entities x 30 fields": time_builds(generate_metadata(tmp / "meta-50x30"), tmp)}
    for name, (cold, wall, cpu) in builds.items():
        print(f"  {name:<24} warm {wall:5.2f} s wall ({cpu:.2f} s CPU), cold {cold:5.2f} s")
    build_big = builds["50 entities x 30 fields"][1]
    build_ok = build_big <= BUILD_TARGET_S
    print(f"  50 x 30 warm build target <= {BUILD_TARGET_S:.0f} s: {'PASS' if build_ok else 'FAIL'}\n")

    print(f"## 2. Demo load into {make_url(args.db).render_as_string(hide_password=True)}")
    prepare_database(args.db)
    app = create_app(settings(args.db, starter, tmp))
    n = args.size
    sizes = {"opportunity": n, "account": max(1, n // 10), "contact": max(1, n // 5),
             "product": max(10, min(500, n // 200)), "campaign": max(5, n // 1000),
             "lead": max(1, n // 10), "ticket": max(1, n // 20), "activity": max(1, n // 10)}
    with app.app_context():
        state = app.extensions["crm"]
        sync_permissions(state.appbuilder)
        ensure_admin(state.appbuilder, PASSWORD)
        start = time.perf_counter()
        counts = load_demo(state.db.session, state.models, sizes=sizes)
        load_s = time.perf_counter() - start
        scoped_users, owners = setup_demo_users(app, state.db.engine)
        board_open, board_stages = prepare_board(app, state.db.engine)
        with state.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    total = sum(counts.values())
    print("  " + ", ".join(f"{k}={v:,}" for k, v in counts.items()))
    print(f"  {total:,} records in {load_s:.1f} s ({total / load_s:,.0f} records/s; VACUUM ANALYZE after)")
    print(f"  opportunities spread round-robin over {owners} owners (admin + demo users), one UPDATE")
    print(f"  board: all {board_open:,} in pipeline new_business, random open stage ({', '.join(board_stages)}),"
          f" two UPDATEs\n")

    print("## 3. Latency (median ms), sorted by close_date desc, 25 rows a page")
    client = login(app, "admin", PASSWORD)
    deep = max(0, n // PAGE_SIZE - 1)
    first = get_ok(client, api_url(0)).get_json()
    assert (first["count"] == n or not first["count_exact"]) and len(first["result"]) == PAGE_SIZE, first.get("count")
    assert len(get_ok(client, api_url(deep)).get_json()["result"]) > 0
    html = get_ok(client, html_url(deep)).get_data(as_text=True)
    assert "/crm/opportunity/show/" in html, "deep HTML page shows no rows"
    bare_engine = sa.create_engine(args.db)
    sql = bare_sql(app)
    requests = [("List HTML, page 1", html_url(0), 0), (f"List HTML, page {deep + 1:,}", html_url(deep), deep),
                ("API list, page 1", api_url(0), 0), (f"API list, page {deep + 1:,}", api_url(deep), deep)]
    rows: list[dict[str, Any]] = []
    for label, url, page in requests:
        app_ms, bare_ms = alternating_ms([lambda url=url: get_ok(client, url),
                                          lambda page=page: run_bare(bare_engine, sql, page)], args.repeat)
        with count_statements(app) as statements:
            get_ok(client, url)
        rows.append({"label": label, "app": app_ms, "bare": bare_ms, "ratio": app_ms / bare_ms,
                     "sql": len(statements)})
        print(f"  {label:<24} app {app_ms:8.1f}   bare SQL {bare_ms:7.1f}   ratio {app_ms / bare_ms:5.1f}x"
              f"   {'PASS' if app_ms / bare_ms <= RATIO_TARGET else 'FAIL'} (<= {RATIO_TARGET:.0f}x)")
    print("  (app = Flask test client incl. auth, ORM, HTML/JSON rendering; bare = the capped count + page SELECT)\n")

    print("## 4. SQL statements per request")
    for row in rows:
        print(f"  {row['label']:<24} {row['sql']}")
    growth: dict[str, dict[int, int]] = {"API list": {}, "List HTML": {}}
    for size in (25, 100):
        for kind, make in (("API list", api_url), ("List HTML", html_url)):
            with count_statements(app) as statements:
                get_ok(client, make(0, size))
            growth[kind][size] = len(statements)
    for kind, by_size in growth.items():
        verdict = "constant: no N+1" if by_size[25] == by_size[100] else "GROWS with page size: N+1?"
        print(f"  {kind} page_size 25 vs 100: {by_size[25]} vs {by_size[100]} ({verdict})")
    if args.show_sql:
        with count_statements(app) as statements:
            get_ok(client, api_url(0))
        print("\n  API page-1 statements:")
        for stmt in statements:
            print("   - " + " ".join(stmt.split())[:160])
    print("\n## 5. Row rules (median ms): as each user vs admin on the same URL, with bare SQL and SQL stmts")
    scoped_rows = measure_row_rules(app, bare_engine, client, scoped_users, args.repeat)
    print("\n## 6. Kanban board (median ms): page HTML, JSON column headers, first card page; admin and sales_rep")
    rep = next(u for u in scoped_users if u.short == "rep")
    board_rows = measure_board(app, bare_engine, client, rep, login(app, rep.username, DEMO_PASSWORD),
                               board_open, args.repeat)
    bare_engine.dispose()
    dispose(app)

    load_end = os.getloadavg()[0]
    print(f"\n## Markdown summary\n\nEngine benchmark, {n:,} opportunities ({total:,} records), "
          f"PostgreSQL, median of {args.repeat}, load average {load_end:.1f} on {os.cpu_count()} CPUs "
          f"(`bench/bench_engine.py`):\n")
    print("| Measure | App | Bare SQL | Ratio | SQL stmts | Target | Result |")
    print("|---|---:|---:|---:|---:|---|---|")
    for name, (cold, wall, cpu) in builds.items():
        target = f"<= {BUILD_TARGET_S:.0f} s" if name.startswith("50") else ""
        result = ("PASS" if wall <= BUILD_TARGET_S else "FAIL") if target else ""
        print(f"| Build, {name} (warm; cold {cold:.2f} s) | {wall:.2f} s ({cpu:.2f} s CPU) | | | | "
              f"{target} | {result} |")
    print(f"| Demo load, {total:,} records | {load_s:.1f} s | | | | | |")
    for row in rows:
        result = "PASS" if row["ratio"] <= RATIO_TARGET else "FAIL"
        print(f"| {row['label']} | {row['app']:.1f} ms | {row['bare']:.1f} ms | {row['ratio']:.1f}x | "
              f"{row['sql']} | <= {RATIO_TARGET:.0f}x bare | {result} |")
    for kind, by_size in growth.items():
        same = by_size[25] == by_size[100]
        print(f"| {kind} SQL, page_size 25 vs 100 | {by_size[25]} vs {by_size[100]} | | | | constant | "
              f"{'PASS' if same else 'FAIL'} |")
    print_row_table(scoped_rows)
    print_board_table(board_rows, app)


if __name__ == "__main__":
    main()
