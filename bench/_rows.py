"""List-request helpers of bench_engine.py, and its row-rule section.

URLs, the bare SQL of a list page (optionally with a row rule), statement counting,
alternating timings; then `measure_row_rules`: the same list figures as a Sales Rep
(`own` scope) and a Sales Manager (`team` scope), each next to admin on the same URL.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from app.demo.users import DEMO_PASSWORD, create_demo_users
from app.security.access import access_for
from app.web.counting import DEFAULT_CAP

PAGE_SIZE = 25
ENTITY = "opportunity"
VIEW = "OpportunityView"
ROW_TARGET = 1.2  # row rules cost <= 20% over the same request as admin


def html_url(page: int, page_size: int = PAGE_SIZE) -> str:
    return (f"/crm/{ENTITY}/list/?_oc_{VIEW}=close_date&_od_{VIEW}=desc"
            f"&page_{VIEW}={page}&psize_{VIEW}={page_size}")


def api_url(page: int, page_size: int = PAGE_SIZE) -> str:
    q = f"(order_column:close_date,order_direction:desc,page:{page},page_size:{page_size})"
    return f"/api/v1/{ENTITY}/?q={quote(q)}"


def get_ok(client: Any, url: str) -> Any:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code, response.data[:300])
    return response


def login(app: Any, username: str, password: str) -> Any:
    client = app.test_client()
    response = client.post("/login/", data={"username": username, "password": password})
    assert response.status_code == 302, (username, response.data[:300])
    return client


def alternating_ms(fns: list[Callable[[], Any]], repeat: int, clock: Callable[[], float] = time.perf_counter,
                   per_round: int = 1) -> list[float]:
    """Median ms of each function (per call, `per_round` calls a round); runs alternate so all
    see the same machine load. `clock=time.process_time`: this process's CPU, the load-proof figure."""
    for fn in fns:  # warm-up: caches, connection pool, compiled statements
        fn()
    samples: list[list[float]] = [[] for _ in fns]
    for _ in range(repeat):
        for fn, out in zip(fns, samples, strict=True):
            start = clock()
            for _ in range(per_round):
                fn()
            out.append((clock() - start) * 1000 / per_round)
    return [statistics.median(s) for s in samples]


@contextmanager
def count_statements(app: Any) -> Iterator[list[str]]:
    with app.app_context():
        engine = app.extensions["crm"].db.engine
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


def statements_of(app: Any, client: Any, url: str) -> int:
    with count_statements(app) as statements:
        get_ok(client, url)
    return len(statements)


def bare_sql(app: Any, where: str = "") -> str:
    """The list page as hand-written SQL: list columns, links LEFT JOINed to the page.

    The page of ids is cut first (`where` is the row rule, then ORDER BY close_date DESC,
    id DESC as FAB does, LIMIT, OFFSET), then joined: the fastest form, so the ratio is not
    flattered. Joining the whole table before the ORDER BY is ~2x slower on deep pages.
    """
    with app.app_context():
        state = app.extensions["crm"]
        engine_dialect = state.db.engine.dialect
    dialect = engine_dialect if engine_dialect.name == "sqlite" else postgresql.dialect()
    entity = state.spec.entity(ENTITY)
    inner, cols, joins = ["id", "close_date"], ["o.id"], []
    for name in entity.list.columns:
        f = entity.field(name.split(".")[0])
        alias = f"j_{f.name}"
        if f.is_computed and not f.computed.stored:  # a formula: its SQL, as the app computes it
            expression = getattr(state.models.model(ENTITY), f.name).expression
            sql = expression.compile(dialect=dialect, compile_kwargs={"literal_binds": True})
            inner.append(f"{sql} AS {f.name}")
            cols.append(f"o.{f.name}")
            continue
        if f.column_name not in inner:
            inner.append(f.column_name)
        if f.type == "link":
            title = state.spec.entity(f.to).title_field
            cols += [f"{alias}.id", f"{alias}.{title}"]
            joins.append(f"LEFT JOIN {f.to} {alias} ON {alias}.id = o.{f.column_name}")
        elif f.type == "user":
            cols += [f"{alias}.id", f"{alias}.first_name", f"{alias}.last_name", f"{alias}.username"]
            joins.append(f"LEFT JOIN ab_user {alias} ON {alias}.id = o.{f.column_name}")
        else:
            cols.append(f"o.{f.column_name}")
    rule = f" WHERE {where}" if where else ""
    page = (f"SELECT {', '.join(inner)} FROM {entity.table_name}{rule} ORDER BY close_date DESC, id DESC "
            f"LIMIT {{limit}} OFFSET {{offset}}")
    return (f"SELECT {', '.join(cols)} FROM ({page}) o {' '.join(joins)} "
            f"ORDER BY o.close_date DESC, o.id DESC")


def run_bare(engine: sa.Engine, sql: str, page: int, where: str = "") -> None:
    """The count the app runs (with the row rule; capped at CRM_LIST_COUNT_CAP like the app's,
    app/web/counting.py) + the page SELECT."""
    rule = f" WHERE {where}" if where else ""
    with engine.connect() as conn:
        conn.exec_driver_sql(f"SELECT count(*) FROM (SELECT id FROM {ENTITY}{rule} LIMIT {DEFAULT_CAP + 1}) c").scalar()
        rows = conn.exec_driver_sql(sql.format(limit=PAGE_SIZE, offset=page * PAGE_SIZE)).fetchall()
        assert rows, "bare query returned no rows"


# -- row rules ------------------------------------------------------------------------

@dataclass
class ScopedUser:
    label: str  # "Sales Rep (own)"
    short: str  # "rep"
    username: str
    where: str  # the row rule as bare SQL
    records: int = 0


def setup_demo_users(app: Any, engine: sa.Engine) -> tuple[list[ScopedUser], int]:
    """Demo users, opportunities spread over them + admin (one UPDATE); (users, owners)."""
    with app.app_context():
        state = app.extensions["crm"]
        sm = state.appbuilder.sm
        names = ["admin", *(name for name, _ in create_demo_users(state.appbuilder, state.models))]
        owners = sorted(sm.find_user(username=name).id for name in names)
        rep_access = access_for(sm.find_user(username="sales_rep"), app)
        assert rep_access.scope(ENTITY, "read") == "own", "sales_rep should read own opportunities"
        team_access = access_for(sm.find_user(username="sales_manager"), app)
        assert team_access.scope(ENTITY, "read") == "team", "sales_manager should read team opportunities"
        rep_id, team = rep_access.user_id, team_access.team_user_ids
        state.db.session.remove()
    with engine.begin() as conn:  # round-robin by id: each of the k owners gets 1/k
        conn.execute(sa.text(f"UPDATE {ENTITY} SET owner_id = (CAST(:ids AS integer[]))[1 + id % :k]"),
                     {"ids": owners, "k": len(owners)})
    users = [ScopedUser("Sales Rep (own)", "rep", "sales_rep", f"owner_id = {rep_id}"),
             ScopedUser(f"Sales Manager (team of {len(team)})", "mgr", "sales_manager",
                        f"owner_id IN ({', '.join(map(str, team))})")]
    return users, len(owners)


def measure_row_rules(app: Any, engine: sa.Engine, admin: Any, users: list[ScopedUser],
                      repeat: int) -> list[dict[str, Any]]:
    """Each user's list figures next to admin on the same URL, both next to their bare SQL."""
    admin_sql = bare_sql(app)
    rows: list[dict[str, Any]] = []
    for user in users:
        with engine.connect() as conn:
            user.records = conn.exec_driver_sql(f"SELECT count(*) FROM {ENTITY} WHERE {user.where}").scalar()
        client = login(app, user.username, DEMO_PASSWORD)
        deep = max(0, (user.records - 1) // PAGE_SIZE)  # the user's last page
        first = get_ok(client, api_url(0)).get_json()
        assert first["count"] == user.records or not first["count_exact"], (user.username, first.get("count"))
        assert len(get_ok(client, api_url(deep)).get_json()["result"]) > 0, "user's deep API page is empty"
        assert f"/crm/{ENTITY}/show/" in get_ok(client, html_url(deep)).get_data(as_text=True)
        sql = bare_sql(app, user.where)
        print(f"  {user.label}, user '{user.username}': {user.records:,} opportunities "
              f"(bare rule: WHERE {user.where})")
        for kind, make in (("List HTML", html_url), ("API list", api_url)):
            for page in (0, deep):
                url = make(page)
                admin_ms, admin_bare, user_ms, user_bare = alternating_ms([
                    lambda url=url: get_ok(admin, url),
                    lambda page=page: run_bare(engine, admin_sql, page),
                    lambda url=url, client=client: get_ok(client, url),
                    lambda page=page, sql=sql, where=user.where: run_bare(engine, sql, page, where)], repeat)
                row = {"label": f"{kind}, page {page + 1:,}", "user": user, "admin": admin_ms,
                       "admin_bare": admin_bare, "app": user_ms, "bare": user_bare,
                       "ratio": user_ms / admin_ms, "sql_admin": statements_of(app, admin, url),
                       "sql": statements_of(app, client, url)}
                rows.append(row)
                verdict = "PASS" if row["ratio"] <= ROW_TARGET else "FAIL"
                print(f"    {row['label']:<20} {user.short} {user_ms:7.1f} (bare {user_bare:6.1f}, "
                      f"{user_ms / user_bare:4.1f}x)  admin {admin_ms:7.1f} (bare {admin_bare:6.1f}, "
                      f"{admin_ms / admin_bare:4.1f}x)  {user.short}/admin {row['ratio']:4.2f}x {verdict}"
                      f"  SQL {row['sql']} vs {row['sql_admin']}")
    return rows


def print_row_table(rows: list[dict[str, Any]]) -> None:
    print(f"\nRow rules: each user's list next to admin on the same URL (the deep page is the user's "
          f"last page: same offset for admin); bare SQL = COUNT(*) + page SELECT with the row rule "
          f"(admin: without). Target: user/admin <= {ROW_TARGET:.1f}x.\n")
    print("| Request | User (records) | User | Admin, same URL | User/admin | Bare SQL user / admin "
          "| App/bare user / admin | SQL stmts user / admin | Target | Result |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---|---|")
    for r in rows:
        u = r["user"]
        result = "PASS" if r["ratio"] <= ROW_TARGET else "FAIL"
        print(f"| {r['label']} | {u.label} ({u.records:,}) | {r['app']:.1f} ms | {r['admin']:.1f} ms | "
              f"{r['ratio']:.2f}x | {r['bare']:.1f} / {r['admin_bare']:.1f} ms | "
              f"{r['app'] / r['bare']:.1f}x / {r['admin'] / r['admin_bare']:.1f}x | {r['sql']} / {r['sql_admin']} | "
              f"<= {ROW_TARGET:.1f}x admin | {result} |")
