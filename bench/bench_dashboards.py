"""Starter dashboards at 1M opportunities on PostgreSQL, next to the bare SQL doing the same work.

For each dashboard of metadata/dashboards.yaml, as admin (every row) and as a
sales rep (own rows only), the chart cache off (CRM_CHART_CACHE_SECONDS=0):
- app: the whole dashboard through a logged-in test client: the HTML page, then each
  chart's JSON as the page's script asks it (auth, every chart's query, shaping, plotly
  figure JSON);
- bare: the same GROUP BY statements the charts ran, captured once with their
  parameters and replayed on a plain DBAPI cursor (the database work alone);
- hand: for the sales dashboard's main plain charts, hand-written GROUP BY SQL
  (what an engineer would write), to show the generated SQL is no worse.
Target: app / bare <= 2 at 1M opportunities.

    .venv/bin/python bench/bench_dashboards.py --size 1000000      # ~10 min with the load
    .venv/bin/python bench/bench_dashboards.py --size 50000 --repeat 3

The --db database is created if missing and EMPTIED at start.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _dash import full_load  # noqa: E402
from _rows import alternating_ms, count_statements, get_ok, login  # noqa: E402
from bench_engine import dispose, prepare_database, settings  # noqa: E402

from app import create_app  # noqa: E402
from app.demo.loader import load_demo  # noqa: E402
from app.demo.users import DEMO_PASSWORD, create_demo_users  # noqa: E402
from app.security.sync import sync_permissions  # noqa: E402
from app.security.users import ensure_admin  # noqa: E402

ADMIN_PASSWORD = "bench-admin-1"
OPEN = ("prospecting", "needs_analysis", "proposal", "negotiation")
HAND_SQL = {
    "pipeline_by_stage": "SELECT stage, sum(amount) FROM opportunity WHERE {rule} stage NOT IN ('won','lost') "
                         "GROUP BY stage",
    "revenue_by_month": "SELECT date_trunc('month', close_date) AS m, sum(amount) FROM opportunity "
                        "WHERE {rule} stage = 'won' AND close_date >= :start AND close_date < :end GROUP BY m",
    "pipeline_by_owner": "SELECT owner_id, stage, count(*) FROM opportunity WHERE {rule} "
                         "stage NOT IN ('won','lost') GROUP BY owner_id, stage",
    "by_industry": "SELECT a.industry, sum(o.amount) FROM opportunity o LEFT JOIN account a "
                   "ON a.id = o.account_id WHERE {rule_o} o.stage = 'won' GROUP BY a.industry",
}


def fill(engine: sa.Engine, size: int, owners: list[int]) -> None:
    """`size` opportunities in one INSERT ... SELECT generate_series, plus one history row each
    (on SQLite a recursive counter stands for generate_series, the same values)."""
    stages = ["prospecting", "needs_analysis", "proposal", "negotiation", "won", "lost"]
    sqlite = engine.dialect.name == "sqlite"
    with engine.begin() as conn:
        accounts = conn.execute(sa.text("SELECT min(id), max(id) FROM account")).one()
        conn.execute(sa.text("DELETE FROM crm_stage_history WHERE entity = 'opportunity'"))
        conn.execute(sa.text("DELETE FROM opportunity__products"))
        for table, column in _referencing_opportunity(conn, sqlite):  # links to the demo deals: emptied
            if table != "opportunity__products":
                conn.execute(sa.text(f'UPDATE "{table}" SET "{column}" = NULL'))
        conn.execute(sa.text("DELETE FROM opportunity"))
        stage = "CASE (g * 31) % 6 " + " ".join(f"WHEN {i} THEN '{s}'" for i, s in enumerate(stages)) + " END"
        owner = f"CASE g % {len(owners)} " + " ".join(f"WHEN {i} THEN {o}" for i, o in enumerate(owners)) + " END"
        if sqlite:  # SQLAlchemy's text forms of a date and a datetime
            source = ("(WITH RECURSIVE n(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM n WHERE g < :size) "
                      "SELECT g FROM n) AS s")
            close = "date('2026-11-23', (180 - (g * 7919) % 730) || ' days')"
            created = "strftime('%Y-%m-%d %H:%M:%f000', '2026-11-23', (-(g % 720)) || ' days')"
            changed = "'2026-11-23 00:00:00.000000'"
        else:
            source = "generate_series(1, :size) AS s(g)"
            close = "DATE '2026-11-23' - ((g::bigint * 7919) % 730)::int + 180"
            created = "TIMESTAMP '2026-11-23' - ((g % 720) || ' days')::interval"
            changed = "TIMESTAMP '2026-11-23'"
        conn.execute(sa.text(f"""
            INSERT INTO opportunity (name, account_id, amount, close_date, probability, deal_type, stage,
                                     owner_id, created_by_id, changed_by_id, created_on, changed_on, source)
            SELECT '商机 Deal ' || g, :amin + (g % (:amax - :amin + 1)), (g % 997) * 1000 + 500,
                   {close}, 50, 'new_business', {stage}, {owner}, {owners[0]}, {owners[0]},
                   {created}, {changed}, 'web'
            FROM {source}"""), {"amin": accounts[0], "amax": accounts[1], "size": size})
        conn.execute(sa.text("""
            INSERT INTO crm_stage_history (entity, record_id, pipeline, from_stage, to_stage, moved_on,
                                           seconds_in_from)
            SELECT 'opportunity', id, 'new_business', 'prospecting', stage, changed_on, (id % 40) * 86400
            FROM opportunity WHERE stage <> 'prospecting'"""))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        # SQLite: no ANALYZE, as no deployment runs one (with its statistics SQLite sorts the
        # filtered list through the stage index, 20x slower, and only connections opened later see them)
        conn.exec_driver_sql("VACUUM" if sqlite else "VACUUM ANALYZE")


def _referencing_opportunity(conn: sa.Connection, sqlite: bool) -> list[tuple[str, str]]:
    """(table, column) of every foreign key to the opportunity table."""
    if not sqlite:
        return [tuple(row) for row in conn.execute(sa.text("""
            SELECT cl.relname, att.attname FROM pg_constraint c
            JOIN pg_class cl ON cl.oid = c.conrelid
            JOIN pg_attribute att ON att.attrelid = c.conrelid AND att.attnum = c.conkey[1]
            WHERE c.contype = 'f' AND c.confrelid = 'opportunity'::regclass"""))]
    found = []
    for (table,) in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'table'"):
        for row in conn.exec_driver_sql(f'PRAGMA foreign_key_list("{table}")'):
            if row[2] == "opportunity":
                found.append((table, row[3]))
    return found


def replay(engine: sa.Engine, statements: list[tuple[str, Any]]) -> None:
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        for sql, params in statements:
            cursor.execute(sql, params)
            cursor.fetchall()
        raw.rollback()
    finally:
        raw.close()


def captured(app: Any, client: Any, url: str) -> list[tuple[str, Any]]:
    """The chart statements a page runs (SELECTs on CRM tables; not the auth/session ones)."""
    with app.app_context():
        engine = app.extensions["crm"].db.engine
    found: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, params: Any, *args: Any) -> None:
        first_from = re.search(r"\bFROM\s+\"?(\w+)", statement)
        if statement.lstrip().upper().startswith(("SELECT", "WITH")) and not (
                first_from and first_from.group(1).startswith("ab_")):  # not the login/permission reads
            found.append((statement, params))

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        get_ok(client, url) if url.endswith(".json") else full_load(client, url)
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    return found


def starter_app(db: str, password: str, **overrides: Any) -> Any:
    """The starter app on an emptied `db`: admin, demo users, 2,000 demo records of each entity."""
    prepare_database(db)
    tmp = Path(tempfile.mkdtemp())
    app = create_app({**settings(db, ROOT / "metadata", tmp), "CRM_CHARTS_NOW": "2026-11-23T12:00:00",
                      **overrides})
    with app.app_context():
        state = app.extensions["crm"]
        sync_permissions(state.appbuilder)
        ensure_admin(state.appbuilder, password)
        create_demo_users(state.appbuilder, state.models)
        load_demo(state.db.session, state.models, size=2000)
        state.db.session.remove()
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--db", default="postgresql+psycopg2://postgres@127.0.0.1/crm_bench")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    app = starter_app(args.db, ADMIN_PASSWORD, CRM_CHART_CACHE_SECONDS=0)
    with app.app_context():
        state = app.extensions["crm"]
        engine = state.db.engine
        sm = state.appbuilder.sm
        owners = sorted(u.id for u in sm.get_all_users())
        rep = sm.find_user(username="sales_rep").id
        spec = state.spec
    started = time.perf_counter()
    fill(engine, args.size, owners)
    print(f"loaded {args.size:,} opportunities in {time.perf_counter() - started:.0f} s; "
          f"{len(owners)} owners (the rep owns 1/{len(owners)})")

    clients = {"admin": login(app, "admin", ADMIN_PASSWORD)}
    viewers = {"Sales Rep": "sales_rep", "Support Agent": "support_agent", "Marketing": "marketing"}
    for username in viewers.values():
        clients[username] = login(app, username, DEMO_PASSWORD)
    print(f"\n{'dashboard':<12} {'user':<14} {'charts':>6} {'stmts':>6} {'app ms':>9} {'bare ms':>9} {'ratio':>6}")
    for dashboard in spec.dashboards:
        # admin sees every row; the first scoped role the dashboard names sees its own share
        scoped = next((viewers[r] for r in dashboard.roles if r in viewers), None)
        for user in ["admin", *([scoped] if scoped else [])]:
            client = clients[user]
            url = f"/crm/dashboards/{dashboard.name}/"
            statements = captured(app, client, url)
            with count_statements(app) as everything:
                full_load(client, url)
            app_ms, bare_ms = alternating_ms([lambda c=client, u=url: full_load(c, u),
                                              lambda s=statements: replay(engine, s)], args.repeat)
            print(f"{dashboard.name:<12} {user:<14} {len(dashboard.charts):>6} {len(everything):>6} "
                  f"{app_ms:>9.1f} {bare_ms:>9.1f} {app_ms / bare_ms:>6.2f}")

    print("\nSales dashboard, chart by chart (JSON endpoint vs its statements replayed), admin:")
    print(f"{'chart':<20} {'app ms':>9} {'bare ms':>9} {'ratio':>6}")
    for chart in spec.dashboard_map["sales"].charts:
        url = f"/crm/dashboards/sales/{chart.name}.json"
        statements = captured(app, clients["admin"], url)
        app_ms, bare_ms = alternating_ms([lambda u=url: get_ok(clients["admin"], u),
                                          lambda s=statements: replay(engine, s)], args.repeat)
        print(f"{chart.name:<20} {app_ms:>9.1f} {bare_ms:>9.1f} {app_ms / bare_ms:>6.2f}")

    print("\nGenerated chart SQL vs hand-written GROUP BY (sales dashboard, database time only):")
    print(f"{'chart':<20} {'user':<10} {'generated ms':>13} {'hand ms':>9} {'ratio':>6}")
    sales = spec.dashboard_map["sales"]
    for user in ("admin", "sales_rep"):
        client = clients[user]
        for name, template in HAND_SQL.items():
            chart_url = f"/crm/dashboards/sales/{name}.json"
            generated = captured(app, client, chart_url)
            rule = "" if user == "admin" else f"owner_id = {rep} AND "
            rule_o = "" if user == "admin" else f"o.owner_id = {rep} AND "
            hand = sa.text(template.format(rule=rule, rule_o=rule_o))
            params = {"start": "2025-11-23", "end": "2026-11-24"}

            def run_hand(h: Any = hand, p: dict = params) -> None:
                with engine.connect() as conn:
                    conn.execute(h, p if ":start" in str(h) else {}).all()

            gen_ms, hand_ms = alternating_ms([lambda s=generated: replay(engine, s), run_hand], args.repeat)
            assert sales.chart(name)
            print(f"{name:<20} {user:<10} {gen_ms:>13.1f} {hand_ms:>9.1f} {gen_ms / hand_ms:>6.2f}")
    dispose(app)


if __name__ == "__main__":
    main()
