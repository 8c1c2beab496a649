"""Link and user columns sort by their target's title (app/web/linksort.py), on the list screen
and the API list, both read paths (plain rows and the ORM), both directions, id as the tie
breaker. A target the user may not read sorts as NULL (first ascending, last descending), its
hidden title never ordering the rows; statements per request are those of any other sort.

Starter metadata, but a Sales Rep reads only their own accounts (so their deals link accounts they
may not read). Real database (SQLite or CRM_TEST_DATABASE_URL).
"""

from __future__ import annotations

import shutil
from typing import Any

import pytest

from app.demo.users import DEMO_PASSWORD, create_demo_users
from tests.conftest import STARTER, count_queries, login, user_id

REP_ACCOUNTS = "    account: {read: all, create: yes, update: own, export: own}"
# (deal, account, account owned by the rep?): the rep's hidden titles run against the ids' order
DEALS = [("deal-1", "Zeta 公司", False), ("deal-2", "acme", True), ("deal-3", "Alpha", False),
         ("deal-4", "北京科技", True), ("deal-5", "Beta", True), ("deal-6", "上海贸易", False),
         ("deal-7", "Beta", True), ("deal-8", "Mid", False)]
VIEW = "OpportunityView"


def app_where_reps_read_accounts(make_app: Any, tmp_path: Any, rule: str) -> Any:
    """The starter app with the demo users, a Sales Rep's account rule replaced by `rule`."""
    meta = shutil.copytree(STARTER, tmp_path / "meta")
    roles = (meta / "roles.yaml").read_text(encoding="utf-8")
    assert REP_ACCOUNTS in roles
    (meta / "roles.yaml").write_text(roles.replace(REP_ACCOUNTS, rule), encoding="utf-8")
    app = make_app(meta)
    with app.app_context():
        state = app.extensions["crm"]
        create_demo_users(state.appbuilder, state.models)
        state.db.session.commit()
    return app


@pytest.fixture
def world(make_app: Any, tmp_path: Any) -> Any:
    app = app_where_reps_read_accounts(make_app, tmp_path, REP_ACCOUNTS.replace("read: all", "read: own"))
    admin = login(app.test_client())
    users = {u["text"]: u["id"] for u in admin.get("/api/v1/user/picker?q=").json["results"]}
    rep = user_id(app, "sales_rep")
    others = sorted(i for i in users.values() if i != rep)
    deals, accounts = {}, {}
    for n, (deal, account, own) in enumerate(DEALS):
        if account not in accounts:  # deal-5 and deal-7 share Beta: the id breaks the tie
            made = admin.post("/api/v1/account/", json={"name": account, "owner": rep if own else others[0]})
            assert made.status_code == 201, made.json
            accounts[account] = made.json["id"]
        body = {"name": deal, "account": accounts[account], "owner": rep if n % 2 else others[n % len(others)]}
        made = admin.post("/api/v1/opportunity/", json=body)
        assert made.status_code == 201, made.json
        deals[deal] = made.json["id"]
    return app, admin, rep, deals


def api_order(client: Any, column: str, direction: str, read: str) -> list[dict[str, Any]]:
    client.application.config["CRM_API_LIST_READ"] = read
    try:
        answer = client.get(f"/api/v1/opportunity/?q=(order_column:{column},order_direction:{direction},"
                            f"page_size:100,columns:!(name,{column}))")
    finally:
        client.application.config["CRM_API_LIST_READ"] = "core"
    assert answer.status_code == 200, answer.json
    return [{"id": i, **row} for i, row in zip(answer.json["ids"], answer.json["result"], strict=True)]


def html_order(client: Any, column: str, direction: str, read: str, names: list[str]) -> list[str]:
    client.application.config["CRM_LIST_READ"] = read
    try:
        answer = client.get(f"/crm/opportunity/list/?_oc_{VIEW}={column}&_od_{VIEW}={direction}&psize_{VIEW}=100")
    finally:
        client.application.config["CRM_LIST_READ"] = "core"
    assert answer.status_code == 200
    html = answer.data.decode()
    assert f"_oc_{VIEW}={column}" in html  # the header offers the sort
    return sorted((n for n in names if f">{n}<" in html), key=lambda n: html.index(f">{n}<"))


def expected(rows: list[dict[str, Any]], column: str, direction: str) -> list[Any]:
    """Titles ascending (NULL: restricted or empty first), id the tie breaker; all reversed descending."""
    def key(row: dict[str, Any]) -> tuple[Any, ...]:
        link = row[column]
        title = None if link is None or link["title"] == "(restricted)" else link["title"]
        return (title is not None, title or "", row["id"])
    return [r["id"] for r in sorted(rows, key=key, reverse=direction == "desc")]


@pytest.mark.parametrize("column", ["account", "owner"])
def test_a_link_or_user_column_sorts_by_its_title_both_ways_on_both_paths(world: Any, column: str) -> None:
    app, admin, _, deals = world
    for direction in ("asc", "desc"):
        rows = api_order(admin, column, direction, "core")
        assert len(rows) == len(DEALS)
        assert [r["id"] for r in rows] == expected(rows, column, direction), rows
        assert api_order(admin, column, direction, "orm") == rows
        if column == "account":
            titles = [r["account"]["title"] for r in rows]
            want = sorted([a for _, a, _ in DEALS], reverse=direction == "desc")
            assert titles == want  # Chinese titles among them, in the database's order (code points)
        by_id = {v: k for k, v in deals.items()}
        names = [by_id[r["id"]] for r in rows]
        for read in ("core", "orm"):
            assert html_order(admin, column, direction, read, list(deals)) == names


def test_accounts_the_user_may_not_read_sort_together_and_keep_their_titles_hidden(world: Any) -> None:
    app, _, _, deals = world
    rep = login(app.test_client(), "sales_rep", DEMO_PASSWORD)
    mine = [d for i, d in enumerate(DEALS) if i % 2]  # the rep owns deal-2, -4, -6, -8
    for direction in ("asc", "desc"):
        for read in ("core", "orm"):
            rows = api_order(rep, "account", direction, read)
            assert sorted(deals[d] for d, _, _ in mine) == sorted(r["id"] for r in rows)
            hidden = [r["id"] for r in rows if r["account"]["title"] == "(restricted)"]
            shown = [r["account"]["title"] for r in rows if r["account"]["title"] != "(restricted)"]
            assert len(hidden) == 2 and shown == sorted(shown, reverse=direction == "desc")  # 上海贸易, Mid hidden
            # together, first ascending / last descending, in the ids' order (not 上海贸易 > Mid)
            ids = [r["id"] for r in rows]
            if direction == "asc":
                assert ids[:2] == sorted(hidden)
            else:
                assert ids[-2:] == sorted(hidden, reverse=True)
            assert [r["id"] for r in rows] == expected(rows, "account", direction)
            names = {v: k for k, v in deals.items()}
            assert html_order(rep, "account", direction, read, list(deals)) == [names[i] for i in ids]


def test_a_link_sort_costs_the_statements_any_sort_does(world: Any) -> None:
    app, admin, _, _ = world
    rep = login(app.test_client(), "sales_rep", DEMO_PASSWORD)
    for client in (admin, rep):
        for url in ("/api/v1/opportunity/?q=(order_column:{c},order_direction:desc)",
                    f"/crm/opportunity/list/?_oc_{VIEW}={{c}}&_od_{VIEW}=desc"):
            counts = []
            for column in ("name", "account", "owner"):
                client.get(url.format(c=column))  # warm: caches filled
                with count_queries(app) as statements:
                    assert client.get(url.format(c=column)).status_code == 200
                counts.append(len(statements))
            assert counts[1] == counts[0] and counts[2] == counts[0], (url, counts)


def test_a_kept_sort_binds_each_users_own_scope(world: Any) -> None:
    """Two reps share the plain rows' kept statements (same request shape): the second's order
    must follow their own read scope, not the first's bound user id."""
    app, admin, _, _ = world
    rep2_id = user_id(app, "sales_rep2")
    accounts = {r["account"]["title"]: r["account"]["id"] for r in api_order(admin, "account", "asc", "core")}
    made = []
    for name, account in (("rep2-a", "acme"), ("rep2-b", "Mid")):  # acme: the first rep's; Mid: neither's
        answer = admin.post("/api/v1/opportunity/", json={"name": name, "account": accounts[account], "owner": rep2_id})
        assert answer.status_code == 201, answer.json
        made.append(answer.json["id"])
    first = login(app.test_client(), "sales_rep", DEMO_PASSWORD)
    second = login(app.test_client(), "sales_rep2", DEMO_PASSWORD)
    for read in ("core", "orm"):
        assert api_order(first, "account", "asc", read)  # the shape kept with the first rep's values
        rows = api_order(second, "account", "asc", read)
        ours = [r for r in rows if r["id"] in made]  # (the fixture may have given them a deal too)
        assert [r["account"]["title"] for r in ours] == ["(restricted)", "(restricted)"]
        assert [r["id"] for r in ours] == made  # both NULL: the ids' order (acme did not sort as readable)
        assert [r["id"] for r in rows] == expected(rows, "account", "asc")


def test_a_link_to_an_entity_the_user_may_not_read_at_all_sorts_in_the_ids_order(make_app: Any,
                                                                                     tmp_path: Any) -> None:
    """No title to read (account scope `no`): the id alone orders the rows, never `ORDER BY NULL`,
    which PostgreSQL refuses (a 500 on the list and the API)."""
    app = app_where_reps_read_accounts(make_app, tmp_path, "    account: {read: no}")
    admin = login(app.test_client())
    rep_id = user_id(app, "sales_rep")
    account = admin.post("/api/v1/account/", json={"name": "北京科技"}).json["id"]
    made = [admin.post("/api/v1/opportunity/", json={"name": f"deal-{n}", "account": account,
                                                     "owner": rep_id}).json["id"] for n in range(3)]
    rep = login(app.test_client(), "sales_rep", DEMO_PASSWORD)
    for direction in ("asc", "desc"):
        for read in ("core", "orm"):
            rows = api_order(rep, "account", direction, read)
            assert [r["id"] for r in rows] == sorted(made, reverse=direction == "desc")
            assert html_order(rep, "account", direction, read, [f"deal-{n}" for n in range(3)])
