"""The report builder over real HTTP on a real database: rows, grouped numbers, saving and
sharing, CSV and XLSX exports, and every refusal (unknown, hidden, out of scope, no export).

One app per module with real CSRF; fixed rows with Chinese text. Expected rows and numbers
are computed here in plain Python from the rows inserted, never read back from the app.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import zipfile
from collections import defaultdict
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode
from xml.etree import ElementTree

import pytest
import sqlalchemy as sa

from app.demo.users import DEMO_PASSWORD, create_demo_users
from app.security.sync import sync_permissions
from app.web.reports import register_reports
from tests.conftest import ADMIN_PASSWORD, STARTER, build_test_app, dispose_app, fresh_database, own_address

ACCOUNTS = {"华为技术有限公司": Decimal("987654321.00"), "阿里巴巴": Decimal("123456789.00"),
            "腾讯科技": Decimal("555444333.00")}
# name, account, amount, stage, close_date, owner
DEALS = [
    ("华东区年度框架协议", "华为技术有限公司", "880000.00", "won", dt.date(2026, 1, 15), "sales_rep"),
    ("云服务扩容", "华为技术有限公司", "120000.50", "proposal", dt.date(2026, 1, 28), "sales_rep"),
    ("Data platform pilot", "阿里巴巴", "45000.00", "prospecting", dt.date(2026, 2, 3), "sales_rep"),
    ("智慧门店", "阿里巴巴", "300000.00", "won", dt.date(2026, 2, 20), "sales_rep2"),
    ("Renewal 2026", "腾讯科技", "99000.99", "lost", dt.date(2026, 3, 1), "sales_rep2"),
    ("客服系统升级", "腾讯科技", None, "prospecting", None, "sales_rep2"),
    ("Global rollout", "华为技术有限公司", "1500000.00", "negotiation", dt.date(2026, 3, 31), "admin"),
    ("培训服务", "阿里巴巴", "8000.00", "won", dt.date(2025, 12, 31), "admin"),
    ("Security audit", "腾讯科技", "56000.00", "needs_analysis", dt.date(2026, 1, 1), "admin"),
    ("经理直签项目", "华为技术有限公司", "210000.00", "won", dt.date(2026, 2, 14), "sales_manager"),
]
TICKETS = [("打印机无法连接", "华为技术有限公司", "high"), ("Invoice question", "腾讯科技", "low")]


class World:
    def __init__(self, app: Any, users: dict[str, int], deals: list[dict[str, Any]]):
        self.app, self.users, self.deals = app, users, deals

    def client(self, username: str = "admin") -> Any:
        client = own_address(self.app.test_client())  # logins are rate limited per address
        page = client.get("/login/").get_data(as_text=True)
        password = ADMIN_PASSWORD if username == "admin" else DEMO_PASSWORD
        response = client.post("/login/", data={"username": username, "password": password,
                                                 "csrf_token": token_in(page)})
        assert response.status_code == 302, response.get_data(as_text=True)[:300]
        client.csrf = token_in(client.get("/crm/reports/").get_data(as_text=True))
        return client


def token_in(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'name="crm-csrf-token" content="([^"]+)"', html) or re.search(r'value="([^"]+)"[^>]*name="csrf_token"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


@pytest.fixture(scope="module")
def world(tmp_path_factory: Any) -> Any:
    base = tmp_path_factory.mktemp("reports")
    with fresh_database(base) as url:
        app = build_test_app(url, STARTER, base / "no-plugins", WTF_CSRF_ENABLED=True)
        with app.app_context():
            state = app.extensions["crm"]
            if "ReportsView" not in {type(v).__name__ for v in state.appbuilder.baseviews}:
                register_reports(state.appbuilder, state.models)  # until register.py wires it
                sync_permissions(state.appbuilder)
            create_demo_users(state.appbuilder, state.models)
            session = state.db.session
            users = {u.username: u.id for u in session.query(state.appbuilder.sm.user_model)}
            accounts = {}
            for name, revenue in ACCOUNTS.items():
                accounts[name] = state.models.model("account")(name=name, annual_revenue=revenue,
                                                               owner_id=users["admin"])
                session.add(accounts[name])
            session.flush()
            model = state.models.model("opportunity")
            deals = []
            for name, account, amount, stage, close, owner in DEALS:
                record = model(name=name, account_id=accounts[account].id, deal_type="new_business", stage=stage,
                               amount=Decimal(amount) if amount else None, close_date=close,
                               owner_id=users[owner])
                session.add(record)
                session.flush()
                deals.append({"id": record.id, "name": name, "account": account,
                              "amount": Decimal(amount) if amount else None, "stage": stage, "close_date": close,
                              "owner": owner})
            for subject, account, priority in TICKETS:
                session.add(state.models.model("ticket")(subject=subject, account_id=accounts[account].id,
                                                         priority=priority, status="new",
                                                         owner_id=users["support_agent"]))
            session.commit()
            session.remove()
        yield World(app, users, deals)
        dispose_app(app)


def own(world: World, username: str) -> list[dict[str, Any]]:
    """The deals a user may read: Sales Rep own, Sales Manager the team, others all."""
    if username in ("sales_rep", "sales_rep2"):
        return [d for d in world.deals if d["owner"] == username]
    if username == "sales_manager":
        return [d for d in world.deals if d["owner"] in ("sales_rep", "sales_rep2", "sales_manager")]
    return list(world.deals)


def run(client: Any, definition: dict[str, Any], limit: int = 1000) -> Any:
    return client.post(f"/api/v1/reports/data?limit={limit}", json=definition, headers={"X-CSRFToken": client.csrf})


def money(value: Any) -> str:
    return f"{Decimal(value):.2f}"


# -- rows --------------------------------------------------------------------------------

@pytest.mark.parametrize("username", ["admin", "sales_rep", "sales_manager", "executive"])
def test_rows_are_the_viewers_rows_in_id_order(world: World, username: str) -> None:
    client = world.client(username)
    response = run(client, {"entity": "opportunity", "columns": ["name", "account", "amount", "stage"],
                            "filters": [{"field": "stage", "op": "in", "value": ["won", "prospecting"]}]})
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    expected = [[d["name"], d["account"], money(d["amount"]) if d["amount"] is not None else None, d["stage"]]
                for d in sorted(own(world, username), key=lambda d: d["id"]) if d["stage"] in ("won", "prospecting")]
    assert body["rows"] == expected
    assert body["paths"] == ["name", "account", "amount", "stage"]


def test_filters_ranges_empty_and_link_fields(world: World) -> None:
    client = world.client()
    definition = {"entity": "opportunity", "columns": ["name", "account.name"], "filters": [
        {"field": "amount", "op": "between", "value": ["50000", "900000"]},
        {"field": "close_date", "op": "lt", "value": "2026-03-01"},
        {"field": "account.name", "op": "ne", "value": "阿里巴巴"}]}
    rows = run(client, definition).get_json()["rows"]
    expected = [[d["name"], d["account"]] for d in world.deals
                if d["amount"] is not None and Decimal(50000) <= d["amount"] <= Decimal(900000)
                and d["close_date"] is not None and d["close_date"] < dt.date(2026, 3, 1) and d["account"] != "阿里巴巴"]
    assert rows == expected and expected
    blank = run(client, {"entity": "opportunity", "columns": ["name"],
                         "filters": [{"field": "close_date", "op": "empty", "value": True}]}).get_json()["rows"]
    assert blank == [[d["name"]] for d in world.deals if d["close_date"] is None]


@pytest.mark.parametrize("username", ["admin", "sales_rep"])
def test_only_linked_fields_as_columns_group_and_totals(world: World, username: str) -> None:
    # Every selected column a linked record's field: the SELECT started FROM the joined alias and
    # SQLAlchemy could not join it ("Don't know how to join"): a 500 on the page, the API and export.
    client = world.client(username)
    deals = sorted(own(world, username), key=lambda d: d["id"])
    revenue = {name: money(value) for name, value in ACCOUNTS.items()}
    response = run(client, {"entity": "opportunity", "columns": ["account.annual_revenue"]})
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.get_json()["rows"] == [[revenue[d["account"]]] for d in deals]
    grouped = run(client, {"entity": "opportunity", "columns": ["name"], "group": "account.name", "measure": "count"})
    assert grouped.status_code == 200, grouped.get_data(as_text=True)[:300]
    counts = {row[0]: row[1] for row in grouped.get_json()["rows"]}
    assert counts == {a: sum(d["account"] == a for d in deals) for a in {d["account"] for d in deals}}
    page = client.get("/crm/reports/?entity=opportunity&columns=account.annual_revenue")
    assert page.status_code == 200
    export = client.get("/crm/reports/export.csv?entity=opportunity&columns=account.name")
    assert export.status_code == 200 and len(export.get_data(as_text=True).splitlines()) == len(deals) + 1


def test_relative_date_range(world: World) -> None:
    today = dt.datetime.now(dt.UTC).date()
    rows = run(world.client(), {"entity": "opportunity", "columns": ["name"],
                                "filters": [{"field": "close_date", "op": "relative", "value": "last_year"}]})
    expected = [[d["name"]] for d in world.deals if d["close_date"] and d["close_date"].year == today.year - 1]
    assert rows.get_json()["rows"] == expected


def test_page_shows_the_table_and_the_count(world: World) -> None:
    client = world.client("sales_rep")
    query = urlencode([("entity", "opportunity"), ("columns", "name,account,amount"),
                       ("ff", "stage"), ("fo", "ne"), ("fv", "lost")])
    response = client.get(f"/crm/reports/?{query}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    mine = [d for d in own(world, "sales_rep") if d["stage"] != "lost"]
    for d in mine:
        assert d["name"] in html
    for d in world.deals:
        if d["owner"] != "sales_rep":
            assert d["name"] not in html  # another owner's deal: never on the rep's page
    assert f"of {len(mine)} rows" in html
    assert 'id="report-export-csv"' in html  # the rep may export own opportunities


# -- grouped -----------------------------------------------------------------------------

def _sum_by(deals: list[dict[str, Any]], key: Any) -> dict[Any, Decimal]:
    totals: dict[Any, Decimal] = defaultdict(Decimal)
    for d in deals:
        if d["amount"] is not None:
            totals[key(d)] += d["amount"]
    return totals


@pytest.mark.parametrize("username", ["admin", "sales_rep2", "sales_manager"])
def test_grouped_sum_by_stage(world: World, username: str) -> None:
    body = run(world.client(username), {"entity": "opportunity", "group": "stage", "measure": "sum(amount)",
                                        "kind": "bar"}).get_json()
    assert body["grouped"] is True
    stages = {"prospecting": "Prospecting", "needs_analysis": "Needs analysis", "proposal": "Proposal",
              "negotiation": "Negotiation", "won": "Won", "lost": "Lost"}
    deals = own(world, username)
    totals = _sum_by(deals, lambda d: d["stage"])
    present = [s for s in stages if any(d["stage"] == s for d in deals)]
    expected = {stages[s]: totals.get(s) for s in present}
    got = {label: (Decimal(value) if value is not None else None) for label, value in body["rows"]}
    assert got == expected
    assert [label for label, _ in body["rows"]] == [stages[s] for s in present]  # pipeline order


def test_grouped_count_by_month_and_avg(world: World) -> None:
    client = world.client()
    rows = run(client, {"entity": "opportunity", "group": "close_date:month", "measure": "count"}).get_json()["rows"]
    counts: dict[str, int] = defaultdict(int)
    for d in world.deals:
        counts[d["close_date"].strftime("%Y-%m") if d["close_date"] else "(empty)"] += 1
    assert dict(rows) == counts
    assert [label for label, _ in rows] == sorted(k for k in counts if k != "(empty)") + ["(empty)"]
    averages = run(client, {"entity": "opportunity", "group": "account", "measure": "avg(amount)"}).get_json()["rows"]
    by_account: dict[str, list[Decimal]] = defaultdict(list)
    for d in world.deals:
        if d["amount"] is not None:
            by_account[d["account"]].append(d["amount"])
    expected = {k: sum(v) / len(v) for k, v in by_account.items()}
    assert {k for k, _ in averages} == set(expected)
    for label, value in averages:  # SQLite averages in floating point: a cent of tolerance
        assert abs(Decimal(str(value)) - expected[label]) < Decimal("0.01"), label


@pytest.mark.parametrize("username", ["admin", "sales_rep2"])
def test_grouped_median_and_count_distinct(world: World, username: str) -> None:
    """Issue 13: the report builder takes the charts' new measures, in the user's scope."""
    import statistics

    client = world.client(username)
    deals = own(world, username)
    response = run(client, {"entity": "opportunity", "group": "stage", "measure": "median(amount)"})
    assert response.status_code == 200, response.get_data(as_text=True)
    medians = response.get_json()
    by_stage: dict[str, list[Decimal]] = defaultdict(list)
    for d in deals:
        if d["amount"] is not None:
            by_stage[d["stage"]].append(d["amount"])
    labels = {"prospecting": "Prospecting", "needs_analysis": "Needs analysis", "proposal": "Proposal",
              "negotiation": "Negotiation", "won": "Won", "lost": "Lost"}
    got = dict(medians["rows"])
    for stage, amounts in by_stage.items():
        assert abs(Decimal(str(got[labels[stage]])) - statistics.median(amounts)) < Decimal("0.01"), stage
    response = run(client, {"entity": "opportunity", "group": "stage", "measure": "count_distinct(account)"})
    assert response.status_code == 200, response.get_data(as_text=True)
    distinct = response.get_json()["rows"]
    accounts: dict[str, set] = defaultdict(set)
    for d in deals:
        accounts[labels[d["stage"]]].add(d["account"])
    assert dict(distinct) == {k: len(v) for k, v in accounts.items()}


def test_grouped_page_draws_a_chart_from_local_plotly(world: World) -> None:
    query = urlencode([("entity", "opportunity"), ("group", "stage"), ("measure", "count"), ("kind", "pie")])
    html = world.client().get(f"/crm/reports/?{query}").get_data(as_text=True)
    data = json.loads(re.search(r'id="report-chart-data">(.*?)</script>', html, re.S).group(1))
    (trace,) = data["data"]
    assert trace["type"] == "pie"
    labels = {"won": "Won", "lost": "Lost", "proposal": "Proposal", "prospecting": "Prospecting",
              "negotiation": "Negotiation", "needs_analysis": "Needs analysis"}
    counts: dict[str, int] = defaultdict(int)
    for d in world.deals:
        counts[labels[d["stage"]]] += 1
    assert dict(zip(trace["labels"], trace["values"], strict=True)) == counts
    assert trace["marker"]["colors"][trace["labels"].index("Won")] == "#2e7d32"  # the stage's colour
    plotly = world.app.extensions.get("crm_plotly_url")
    if plotly:
        assert f'src="{plotly}"' in html
    assert "cdn" not in html.lower()


# -- bad input ---------------------------------------------------------------------------

BAD = [
    ({"entity": "deal", "columns": ["name"]}, 400, "entity 'deal'"),
    ({"entity": "opportunity", "columns": ["nmae"]}, 400, "'nmae'"),
    ({"entity": "opportunity", "columns": ["account.revenue"]}, 400, "no field 'revenue'"),
    ({"entity": "opportunity", "columns": ["products"]}, 400, "'products'"),
    ({"entity": "opportunity", "columns": ["name"], "filters": [{"field": "amount", "op": "like", "value": "1"}]},
     422, "unknown operator 'like'"),
    ({"entity": "opportunity", "columns": ["name"], "filters": [{"field": "amount", "op": "gt", "value": "多少"}]},
     422, "filter 'amount'"),
    ({"entity": "opportunity", "columns": ["name"], "filters": [{"field": "close_date", "op": "eq",
                                                               "value": "2026-02-30"}]}, 422, "filter 'close_date'"),
    ({"entity": "opportunity", "columns": ["name"], "filters": [{"field": "stage", "op": "eq", "value": "gone"}]},
     422, "'gone' is not one of its choices"),
    ({"entity": "opportunity", "columns": ["name"], "filters": [{"field": "close_date", "op": "relative",
                                                               "value": "last_fortnight"}]}, 422, "last_fortnight"),
    ({"entity": "opportunity", "columns": ["name"], "filters": [{"field": "amount", "op": "between", "value": ["1"]}]},
     422, "between"),
    ({"entity": "opportunity", "group": "amount", "measure": "count"}, 400, "group 'amount'"),
    ({"entity": "opportunity", "group": "close_date", "measure": "count"}, 400, "close_date:month"),
    ({"entity": "opportunity", "group": "stage", "measure": "sum(name)"}, 400, "measure 'sum(name)'"),
    ({"entity": "opportunity", "group": "stage", "measure": "mode(amount)"}, 400, "measure 'mode(amount)'"),
    ({"entity": "opportunity", "group": "stage", "measure": "median(name)"}, 400, "measure 'median(name)'"),
    ({"entity": "opportunity", "group": "stage", "measure": "count_distinct(description)"}, 400,
     "measure 'count_distinct(description)'"),
    ({"entity": "opportunity", "group": "stage", "kind": "donut"}, 400, "kind 'donut'"),
    ({"entity": "opportunity", "columns": []}, 400, "columns"),
    ({"entity": "opportunity", "columns": ["name"], "sort": "name"}, 400, "sort"),
]


@pytest.mark.parametrize(("definition", "status", "named"), BAD, ids=[b[2] for b in BAD])
def test_bad_definitions_are_4xx_naming_the_fault(world: World, definition: dict, status: int, named: str) -> None:
    response = run(world.client(), definition)
    assert response.status_code == status, response.get_data(as_text=True)
    assert named in response.get_json()["message"]


def test_bad_query_string_on_the_page_and_export_is_422(world: World) -> None:
    client = world.client()
    for path in ("/crm/reports/", "/crm/reports/export.csv", "/crm/reports/export.xlsx"):
        response = client.get(f"{path}?entity=opportunity&columns=name&ff=amount&fo=gte&fv=abc")
        assert response.status_code == 422
        text = response.get_data(as_text=True)
        if path == "/crm/reports/":  # said next to the filter row
            assert re.search(r'crm-report-control-error" role="alert">[^<]*abc', text), text[-3000:]
        else:
            assert "filter 'amount'" in text


@pytest.mark.parametrize("where", ["columns", "filters", "group", "measure"])
def test_hidden_field_is_refused_naming_it(world: World, where: str) -> None:
    """Support Agents may not see opportunity.amount or probability: no way to ask for them."""
    definition: dict[str, Any] = {"entity": "opportunity", "columns": ["name"]}
    if where == "columns":
        definition["columns"] = ["name", "amount"]
    elif where == "filters":
        definition["filters"] = [{"field": "amount", "op": "gt", "value": "1"}]
    elif where == "group":
        definition |= {"group": "probability", "measure": "count"}
    else:
        definition |= {"group": "stage", "measure": "sum(amount)"}
    response = run(world.client("support_agent"), definition)
    assert response.status_code == 400, response.get_data(as_text=True)
    message = response.get_json()["message"]
    assert "may not see" in message and ("amount" in message or "probability" in message)


def test_unreadable_entity_is_403(world: World) -> None:
    client = world.client("marketing")
    assert run(client, {"entity": "opportunity", "columns": ["name"]}).status_code == 403
    assert client.get("/crm/reports/export.csv?entity=opportunity&columns=name").status_code == 403
    html = client.get("/crm/reports/?entity=lead").get_data(as_text=True)
    assert 'value="opportunity"' not in html  # not offered either


def test_anonymous_is_sent_to_login(world: World) -> None:
    client = world.app.test_client()
    assert client.get("/crm/reports/").status_code in (302, 401)
    assert "/login" in client.get("/crm/reports/export.csv?entity=opportunity&columns=name").headers["Location"]
    assert client.get("/api/v1/reports/").status_code == 401


# -- saving, sharing, opening as someone else ------------------------------------------------

def save(client: Any, name: str, definition: dict, roles: list[str] = (), report_id: int | None = None,
         csrf: bool = True) -> Any:
    data: dict[str, Any] = {"name": name, "definition": json.dumps(definition), "shared_roles": list(roles)}
    if csrf:
        data["csrf_token"] = client.csrf
    if report_id is not None:
        data["report_id"] = str(report_id)
    return client.post("/crm/reports/save", data=data)


def saved_id(response: Any) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])


def test_save_share_and_open_as_another_role_drops_hidden_columns(world: World) -> None:
    admin = world.client()
    definition = {"entity": "opportunity", "columns": ["name", "amount", "stage"],
                  "filters": [{"field": "stage", "op": "eq", "value": "won"}]}
    report_id = saved_id(save(admin, "成交商机（含金额）", definition, ["Support Agent"]))
    agent = world.client("support_agent")
    listed = agent.get("/api/v1/reports/").get_json()["result"]
    assert report_id in [r["id"] for r in listed]
    html = agent.get(f"/crm/reports/{report_id}").get_data(as_text=True)
    won = [d for d in world.deals if d["stage"] == "won"]
    assert all(d["name"] in html for d in won)
    assert "Left out: you may not see Amount" in html
    agent.post("/lang/zh", headers={"X-CSRFToken": agent.csrf})
    zh = agent.get(f"/crm/reports/{report_id}").get_data(as_text=True)
    assert "已隐藏：您无权查看 金额" in zh and "left out" not in zh  # the note was English on every page
    agent.post("/lang/en", headers={"X-CSRFToken": agent.csrf})
    for d in won:
        assert f"{d['amount']:.2f}" not in html and f"{d['amount']:,.2f}" not in html
    data = agent.get(f"/api/v1/reports/{report_id}/data").get_json()
    assert data["paths"] == ["name", "stage"] and "amount" not in json.dumps(data["definition"])
    assert data["rows"] == [[d["name"], "won"] for d in won]
    # not shared with Sales Rep: not listed, not opened
    rep = world.client("sales_rep")
    assert report_id not in [r["id"] for r in rep.get("/api/v1/reports/").get_json()["result"]]
    assert rep.get(f"/crm/reports/{report_id}").status_code == 404
    assert rep.get(f"/api/v1/reports/{report_id}/data").status_code == 404


def test_shared_report_shows_each_viewer_only_their_rows(world: World) -> None:
    rep = world.client("sales_rep")
    report_id = saved_id(save(rep, "我的商机", {"entity": "opportunity", "columns": ["name"]}, ["Sales Rep"]))
    rep2 = world.client("sales_rep2")
    rows = rep2.get(f"/api/v1/reports/{report_id}/data").get_json()["rows"]
    assert rows == [[d["name"]] for d in own(world, "sales_rep2")]
    csv_text = rep2.get(f"/crm/reports/{report_id}/export.csv").get_data().decode("utf-8-sig")
    assert [r[0] for r in list(csv.reader(io.StringIO(csv_text)))[1:]] == [d["name"] for d in own(world, "sales_rep2")]


def test_private_report_is_the_owners_and_admins(world: World) -> None:
    rep = world.client("sales_rep")
    report_id = saved_id(save(rep, "Private pipeline", {"entity": "opportunity", "columns": ["name"]}))
    assert world.client("sales_rep2").get(f"/crm/reports/{report_id}").status_code == 404
    assert world.client("sales_manager").get(f"/api/v1/reports/{report_id}/data").status_code == 404
    assert world.client().get(f"/crm/reports/{report_id}").status_code == 200
    assert rep.get(f"/crm/reports/{report_id}").status_code == 200


def test_only_the_owner_or_admin_changes_or_deletes(world: World) -> None:
    rep = world.client("sales_rep")
    definition = {"entity": "opportunity", "columns": ["name"]}
    report_id = saved_id(save(rep, "Team view", definition, ["Sales Rep"]))
    rep2 = world.client("sales_rep2")  # sees it (shared with their role) but does not own it
    assert rep2.get(f"/crm/reports/{report_id}").status_code == 200
    assert save(rep2, "Hijacked", definition, [], report_id).status_code == 403
    assert rep2.post(f"/crm/reports/{report_id}/delete", data={"csrf_token": rep2.csrf}).status_code == 403
    listed = {r["id"]: r for r in rep.get("/api/v1/reports/").get_json()["result"]}
    assert listed[report_id]["name"] == "Team view" and listed[report_id]["can_change"] is True
    assert saved_id(save(rep, "Team view 团队", definition, ["Sales Rep", "Sales Manager"], report_id)) == report_id
    listed = {r["id"]: r for r in rep.get("/api/v1/reports/").get_json()["result"]}
    assert listed[report_id]["name"] == "Team view 团队"
    assert listed[report_id]["shared_roles"] == ["Sales Manager", "Sales Rep"]
    assert rep.post(f"/crm/reports/{report_id}/delete", data={"csrf_token": rep.csrf}).status_code == 302
    assert rep.get(f"/crm/reports/{report_id}").status_code == 404
    other = saved_id(save(rep, "Admin may delete", definition))
    admin = world.client()
    assert admin.post(f"/crm/reports/{other}/delete", data={"csrf_token": admin.csrf}).status_code == 302
    assert rep.get(f"/crm/reports/{other}").status_code == 404


def test_saving_checks_name_roles_and_fields(world: World) -> None:
    agent = world.client("support_agent")
    response = save(agent, "Amounts", {"entity": "opportunity", "columns": ["name", "amount"]})
    assert response.status_code == 400 and "amount" in response.get_data(as_text=True)
    response = save(agent, "Roles", {"entity": "ticket", "columns": ["subject"]}, ["Sales Wizard"])
    assert response.status_code == 400 and "Sales Wizard" in response.get_data(as_text=True)
    response = save(agent, "  ", {"entity": "ticket", "columns": ["subject"]})
    assert response.status_code == 400 and "name" in response.get_data(as_text=True)
    response = agent.post("/crm/reports/save", data={"name": "x", "definition": "{not json",
                                                     "csrf_token": agent.csrf})
    assert response.status_code == 400 and "definition" in response.get_data(as_text=True)


def test_save_and_delete_need_the_csrf_token(world: World) -> None:
    admin = world.client()
    with world.app.app_context():
        table = world.app.extensions["crm"].models.core["crm_saved_report"]
        session = world.app.extensions["crm"].db.session
        before = session.scalar(sa.select(sa.func.count()).select_from(table))
        session.remove()
    response = save(admin, "No token", {"entity": "opportunity", "columns": ["name"]}, csrf=False)
    assert response.status_code == 400
    report_id = saved_id(save(admin, "With token", {"entity": "opportunity", "columns": ["name"]}))
    assert admin.post(f"/crm/reports/{report_id}/delete").status_code == 400
    with world.app.app_context():
        session = world.app.extensions["crm"].db.session
        names = list(session.scalars(sa.select(table.c.name)))
        assert session.scalar(sa.select(sa.func.count()).select_from(table)) == before + 1
        assert "No token" not in names and "With token" in names
        session.remove()
    assert admin.post("/api/v1/reports/data", json={"entity": "opportunity", "columns": ["name"]}).status_code == 400


# -- exports -----------------------------------------------------------------------------

def read_csv(response: Any) -> list[list[str]]:
    raw = response.get_data()
    assert raw.startswith("\ufeff".encode())  # Excel reads UTF-8 with a BOM
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


def read_xlsx(response: Any) -> list[list[str]]:
    """The first sheet's cells as text (shared or inline strings, numbers as written)."""
    ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
    book = zipfile.ZipFile(io.BytesIO(response.get_data()))
    shared = []
    if "xl/sharedStrings.xml" in book.namelist():
        root = ElementTree.fromstring(book.read("xl/sharedStrings.xml"))
        shared = ["".join(t.text or "" for t in si.iter(f"{{{ns['m']}}}t")) for si in root.findall("m:si", ns)]
    sheet = ElementTree.fromstring(book.read("xl/worksheets/sheet1.xml"))
    rows = []
    for row in sheet.iter(f"{{{ns['m']}}}row"):
        cells: dict[int, str] = {}
        for c in row.findall("m:c", ns):
            column = sum((ord(ch) - 64) * 26 ** i for i, ch in enumerate(reversed(re.sub(r"\d", "", c.get("r")))))
            kind, value = c.get("t"), c.find("m:v", ns)
            if kind == "s":
                cells[column] = shared[int(value.text)]
            elif kind == "inlineStr":
                cells[column] = "".join(t.text or "" for t in c.iter(f"{{{ns['m']}}}t"))
            else:
                cells[column] = value.text if value is not None else ""
        rows.append([cells.get(i, "") for i in range(1, max(cells, default=0) + 1)])
    return rows


def test_csv_export_content(world: World) -> None:
    query = urlencode([("entity", "opportunity"), ("columns", "name,account,amount,stage,close_date")])
    response = world.client().get(f"/crm/reports/export.csv?{query}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = read_csv(response)
    assert rows[0] == ["Opportunity name", "Account", "Amount", "Stage", "Expected close date"]
    labels = {"won": "Won", "lost": "Lost", "proposal": "Proposal", "prospecting": "Prospecting",
              "negotiation": "Negotiation", "needs_analysis": "Needs analysis"}
    assert rows[1:] == [[d["name"], d["account"], money(d["amount"]) if d["amount"] is not None else "",
                         labels[d["stage"]], d["close_date"].isoformat() if d["close_date"] else ""]
                        for d in world.deals]


def test_xlsx_export_content(world: World) -> None:
    query = urlencode([("entity", "opportunity"), ("columns", "name,account,amount,close_date")])
    response = world.client("executive").get(f"/crm/reports/export.xlsx?{query}")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    rows = read_xlsx(response)
    assert rows[0] == ["Opportunity name", "Account", "Amount", "Expected close date"]
    assert [r[:2] for r in rows[1:]] == [[d["name"], d["account"]] for d in world.deals]
    amounts = [Decimal(r[2]).quantize(Decimal("0.01")) if len(r) > 2 and r[2] else None for r in rows[1:]]
    assert amounts == [d["amount"] for d in world.deals]
    excel_epoch = dt.date(1899, 12, 30)
    dates = [excel_epoch + dt.timedelta(days=float(r[3])) if len(r) > 3 and r[3] else None for r in rows[1:]]
    assert dates == [d["close_date"] for d in world.deals]


def test_grouped_export_is_the_grouped_table(world: World) -> None:
    query = urlencode([("entity", "opportunity"), ("group", "account"), ("measure", "sum(amount)")])
    client = world.client("sales_manager")
    totals = _sum_by(own(world, "sales_manager"), lambda d: d["account"])
    rows = read_csv(client.get(f"/crm/reports/export.csv?{query}"))
    assert rows[0] == ["Account", "Sum of Amount"]
    assert {r[0]: Decimal(r[1]) for r in rows[1:]} == totals
    sheet = read_xlsx(client.get(f"/crm/reports/export.xlsx?{query}"))
    assert {r[0]: Decimal(r[1]).quantize(Decimal("0.01")) for r in sheet[1:]} == totals


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_needs_the_export_permission(world: World, fmt: str) -> None:
    """Support Agents read opportunities but may not export them."""
    client = world.client("support_agent")
    response = client.get(f"/crm/reports/export.{fmt}?entity=opportunity&columns=name")
    assert response.status_code == 403 and "export" in response.get_data(as_text=True)
    assert client.get("/crm/reports/?entity=opportunity&columns=name").status_code == 200  # reading is fine


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_sales_rep_exports_only_own_rows(world: World, fmt: str) -> None:
    response = world.client("sales_rep").get(f"/crm/reports/export.{fmt}?entity=opportunity&columns=name,owner")
    rows = read_csv(response) if fmt == "csv" else read_xlsx(response)
    assert [r[0] for r in rows[1:]] == [d["name"] for d in own(world, "sales_rep")]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_hidden_field_never_exported_from_a_shared_report(world: World, fmt: str) -> None:
    """A ticket report naming account.annual_revenue, shared with Support Agents who may not see it."""
    admin = world.client()
    definition = {"entity": "ticket", "columns": ["subject", "account", "account.annual_revenue", "priority"]}
    report_id = saved_id(save(admin, f"工单与客户营收 {fmt}", definition, ["Support Agent"]))
    agent = world.client("support_agent")
    response = agent.get(f"/crm/reports/{report_id}/export.{fmt}")
    assert response.status_code == 200
    rows = read_csv(response) if fmt == "csv" else read_xlsx(response)
    assert rows[0] == ["Subject", "Account", "Priority"]
    assert sorted(r[0] for r in rows[1:]) == sorted(t[0] for t in TICKETS)
    raw = response.get_data()
    if fmt == "xlsx":
        book = zipfile.ZipFile(io.BytesIO(raw))
        raw = b"".join(book.read(n) for n in book.namelist())
    for revenue in ACCOUNTS.values():
        assert str(revenue).encode() not in raw and str(int(revenue)).encode() not in raw
    assert b"Annual revenue" not in raw and "年营业额".encode() not in raw
    # the admin's own export of the same report has it
    full = read_csv(admin.get(f"/crm/reports/{report_id}/export.csv"))
    assert full[0] == ["Subject", "Account", "Account / Annual revenue", "Priority"]
    # an ad-hoc export naming it is refused
    query = urlencode([("entity", "ticket"), ("columns", "subject,account.annual_revenue")])
    refused = agent.get(f"/crm/reports/export.{fmt}?{query}")
    assert refused.status_code == 400 and "account.annual_revenue" in refused.get_data(as_text=True)


def test_export_streams_in_one_statement(world: World) -> None:
    """Link columns are joins, not a query per row."""
    from tests.conftest import count_queries

    client = world.client()
    query = urlencode([("entity", "opportunity"), ("columns", "name,account,owner,account.name")])
    with count_queries(world.app) as statements:
        rows = read_csv(client.get(f"/crm/reports/export.csv?{query}"))
    assert len(rows) == len(world.deals) + 1
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT") and "opportunity" in s]
    assert len(selects) == 1, selects


def test_shared_report_filtering_on_a_hidden_field_shows_nothing(world: World) -> None:
    """Rows picked by a value the viewer may not see would reveal it: no rows, a note, no file."""
    admin = world.client()
    definition = {"entity": "opportunity", "columns": ["name"],
                  "filters": [{"field": "amount", "op": "gte", "value": "800000"}]}
    report_id = saved_id(save(admin, "大单", definition, ["Support Agent"]))
    big = [d["name"] for d in world.deals if d["amount"] is not None and d["amount"] >= 800000]
    assert run(admin, definition).get_json()["rows"] == [[n] for n in big]
    agent = world.client("support_agent")
    html = agent.get(f"/crm/reports/{report_id}").get_data(as_text=True)
    assert "may not see" in html and 'id="report-table"' not in html
    assert all(name not in html for name in big)
    assert agent.get(f"/api/v1/reports/{report_id}/data").status_code == 403
    assert agent.get(f"/crm/reports/{report_id}/export.csv").status_code == 403


def test_reports_api_is_in_the_openapi_spec(world: World) -> None:
    paths = world.client().get("/api/v1/_openapi").get_json()["paths"]
    assert {"/reports/", "/reports/{report_id}/data", "/reports/data"} <= {p.removeprefix("/api/v1") for p in paths}


# -- the builder as users meet it (issue 17) ------------------------------------------------

def zh_client(world: World, username: str = "admin") -> Any:
    client = world.client(username)
    assert client.post("/lang/zh", data={"csrf_token": client.csrf}).status_code in (200, 302)
    return client


def test_choosing_an_entity_runs_its_list_columns_not_a_400(world: World) -> None:
    response = world.client().get("/crm/reports/?entity=opportunity")
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html[:500]
    assert 'id="report-error"' not in html and "choose at least one column" not in html
    assert "<th>Opportunity name</th>" in html and 'id="report-table"' in html
    for d in world.deals:
        assert d["name"] in html
    ticked = re.findall(r'name="columns" value="([^"]+)" checked', html)
    listed = world.app.extensions["crm"].spec.entity("opportunity").list.columns
    assert ticked and set(ticked) == {c for c in listed if "." not in c}


def test_unticking_every_column_says_so_next_to_the_columns(world: World) -> None:
    response = zh_client(world).get("/crm/reports/?entity=opportunity&ff=&fo=eq&fv=&group=&measure=count")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="report-columns-error"' in html and "请至少选择一列" in html
    assert 'id="report-error"' not in html


def test_operators_are_words_in_the_users_language(world: World) -> None:
    html = world.client().get("/crm/reports/?entity=opportunity").get_data(as_text=True)
    config = json.loads(re.search(r'id="report-filter-config">(.*?)</script>', html, re.S).group(1))
    assert [label for _, label in config["fields"]["stage"]["ops"]] == [
        "is", "is not", "is any of", "is none of", "is empty"]
    assert dict(config["fields"]["close_date"]["ops"])["between"] == "between"
    assert dict(config["fields"]["close_date"]["ops"])["lt"] == "before"
    assert ["won", "Won"] in config["fields"]["stage"]["choices"]
    assert config["fields"]["account"]["url"].endswith("/account/picker")
    html = zh_client(world).get("/crm/reports/?entity=opportunity").get_data(as_text=True)
    config = json.loads(re.search(r'id="report-filter-config">(.*?)</script>', html, re.S).group(1))
    assert [label for _, label in config["fields"]["stage"]["ops"]] == [
        "等于", "不等于", "属于其中之一", "不属于其中任何一个", "为空"]
    assert dict(config["fields"]["close_date"]["ops"])["between"] == "介于"
    assert ["won", "成交"] in config["fields"]["stage"]["choices"]
    assert ["this_month", "本月"] in config["ranges"]
    assert ">in<" not in html and ">between<" not in html and ">empty<" not in html


def test_choice_filters_take_labels_in_the_users_language(world: World) -> None:
    won = [[d["name"]] for d in world.deals if d["stage"] == "won"]
    english = run(world.client(), {"entity": "opportunity", "columns": ["name"],
                                   "filters": [{"field": "stage", "op": "eq", "value": "Won"}]})
    assert english.get_json()["rows"] == won
    client = zh_client(world)
    chinese = run(client, {"entity": "opportunity", "columns": ["name"],
                           "filters": [{"field": "stage", "op": "in", "value": ["成交", "输单"]}]})
    assert chinese.get_json()["rows"] == [[d["name"]] for d in world.deals if d["stage"] in ("won", "lost")]
    html = client.get("/crm/reports/?" + urlencode([("entity", "opportunity"), ("columns", "name"), ("ff", "stage"),
                                                   ("fo", "eq"), ("fv", "成交")])).get_data(as_text=True)
    assert all(name in html for (name,) in won)


def test_link_filter_by_picked_ids_shows_their_titles(world: World) -> None:
    client = world.client()
    with world.app.app_context():
        state = world.app.extensions["crm"]
        account = state.models.model("account")
        ids = dict(state.db.session.execute(sa.select(account.name, account.id)).all())
        state.db.session.remove()
    picked = [ids["华为技术有限公司"], ids["腾讯科技"]]
    body = run(client, {"entity": "opportunity", "columns": ["name"],
                        "filters": [{"field": "account", "op": "in", "value": picked}]}).get_json()
    assert body["rows"] == [[d["name"]] for d in world.deals if d["account"] in ("华为技术有限公司", "腾讯科技")]
    query = urlencode([("entity", "opportunity"), ("columns", "name"), ("ff", "account"), ("fo", "in"),
                       ("fv", ",".join(map(str, picked)))])
    html = client.get(f"/crm/reports/?{query}").get_data(as_text=True)
    titles = json.loads(html_unescape(re.search(r'data-titles="([^"]*)"', html).group(1)))
    assert titles == {str(ids["华为技术有限公司"]): "华为技术有限公司", str(ids["腾讯科技"]): "腾讯科技"}


def html_unescape(text: str) -> str:
    import html as html_module
    return html_module.unescape(text)


def test_amounts_are_money_and_totals_cover_every_row(world: World) -> None:
    client = world.client("sales_manager")
    deals = own(world, "sales_manager")
    total = sum((d["amount"] for d in deals if d["amount"] is not None), Decimal(0))
    body = run(client, {"entity": "opportunity", "columns": ["name", "amount"]}, limit=2).get_json()
    assert len(body["rows"]) == 2
    assert body["totals"] == {"count": len(deals), "sums": {"amount": f"{total:.2f}"}}
    html = client.get("/crm/reports/?entity=opportunity&columns=name,amount&ff=&fo=eq&fv=").get_data(as_text=True)
    first = next(d for d in sorted(deals, key=lambda d: d["id"]) if d["amount"] is not None)
    assert f"¥{first['amount']:,.2f}" in html
    footer = re.search(r'<tr id="report-totals">(.*?)</tr>', html, re.S).group(1)
    assert f"Total · {len(deals)} records" in footer and f"¥{total:,.2f}" in footer
    grouped = client.get("/crm/reports/?entity=opportunity&group=stage&measure=sum(amount)&kind=table")
    footer = re.search(r'<tr id="report-totals">(.*?)</tr>', grouped.get_data(as_text=True), re.S).group(1)
    assert f"¥{total:,.2f}" in footer and f"{len(deals)} records" in footer
    counted = run(client, {"entity": "opportunity", "group": "stage", "measure": "count"}).get_json()
    assert counted["totals"]["count"] == len(deals) == sum(value for _, value in counted["rows"])


@pytest.mark.parametrize(("filters", "index", "said"), [
    ([{"field": "stage", "op": "eq", "value": "won"}, {"field": "amount", "op": "gte", "value": "很多"}], 1,
     "很多"),
    ([{"field": "stage", "op": "gt", "value": "won"}], 0, "unknown operator 'gt'"),
    ([{"field": "stage", "op": "like", "value": "won"}], 0, "unknown operator 'like'"),
    ([{"field": "close_date", "op": "eq", "value": "2026-13-45"}], 0, "2026-13-45"),
    ([{"field": "close_date", "op": "between", "value": ["2026-01-01"]}], 0, "between takes two values"),
    ([{"field": "owner", "op": "eq", "value": "somebody"}], 0, "somebody"),
])
def test_a_bad_filter_is_422_naming_its_row(world: World, filters: list, index: int, said: str) -> None:
    response = run(world.client(), {"entity": "opportunity", "columns": ["name"], "filters": filters})
    assert response.status_code == 422, response.get_data(as_text=True)
    body = response.get_json()
    assert said in body["message"] and said in body["errors"]["filters"][str(index)]


def test_a_bad_filter_on_the_page_is_said_next_to_its_row_and_kept(world: World) -> None:
    query = urlencode([("entity", "opportunity"), ("columns", "name"), ("ff", "stage"), ("fo", "eq"), ("fv", "won"),
                       ("ff", "close_date"), ("fo", "lt"), ("fv", "2026-13-45")])
    response = zh_client(world).get(f"/crm/reports/?{query}")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    rows = re.findall(r'<div class="crm-report-filter[^"]*" data-filter-row>(.*?)</div>\s*(?:<p[^>]*>(.*?)</p>)?',
                      html, re.S)
    assert len(rows) == 2
    assert 'value="2026-13-45"' in html and 'value="won"' in html  # what the user typed is kept
    assert "has-error" in html.split('value="2026-13-45"')[0].rsplit("data-filter-row", 1)[0]
    error = re.search(r'class="help-block crm-report-control-error" role="alert">(.*?)</p>', html).group(1)
    assert "2026-13-45" in error and 'id="report-error"' not in html
    assert "“" in error  # the message in Chinese
    assert 'id="report-table"' not in html  # never a report with the filter left out


def test_a_datetime_filtered_by_a_day_takes_that_whole_day_in_the_viewers_zone(world: World) -> None:
    from zoneinfo import ZoneInfo
    shanghai = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()  # the starter's zone; the deals were made today
    client = world.client()
    def names(op: str, value: Any) -> int:
        response = run(client, {"entity": "opportunity", "columns": ["name"],
                                "filters": [{"field": "created_on", "op": op, "value": value}]})
        assert response.status_code == 200, response.get_json()
        return len(response.get_json()["rows"])
    assert names("eq", shanghai.isoformat()) == len(world.deals)
    assert names("lt", shanghai.isoformat()) == 0
    assert names("between", [(shanghai - dt.timedelta(days=1)).isoformat(), shanghai.isoformat()]) == len(world.deals)
    assert names("relative", "today") == len(world.deals)


def test_definition_errors_are_in_the_viewers_language_on_the_page(world: World) -> None:
    # The group, measure, column, kind and entity messages were English f-strings in a Chinese
    # session; the API keeps its English wording.
    client = world.client()
    client.post("/lang/zh", data={"csrf_token": client.csrf})
    for query, said in (("entity=opportunity&group=amount", "分组“amount”：money 字段不能用于分组"),
                        ("entity=opportunity&group=stage&measure=sum(name)", "度量“sum(name)”：name 是 string 字段"),
                        ("entity=opportunity&columns=account.revenue", "列“account.revenue”：account 没有字段“revenue”"),
                        ("entity=opportunity&group=stage&kind=donut", "图表类型“donut”未知"),
                        ("entity=nope", "实体“nope”：不存在")):
        page = client.get(f"/crm/reports/?{query}").get_data(as_text=True)
        assert said in page, (query, page[page.find("report-error") - 100:][:400])
    api = run(client, {"entity": "opportunity", "group": "amount", "measure": "count"})
    assert api.get_json()["message"] == "group 'amount': a money field cannot group a report"


def test_bulk_filter_errors_are_in_the_users_language(world: World) -> None:
    client = world.client()
    client.post("/lang/zh", data={"csrf_token": client.csrf})
    bad = client.post("/api/v1/opportunity/bulk", headers={"X-CSRFToken": client.csrf}, json={
        "action": "update", "all": True, "filters": [{"col": "nope", "opr": "eq", "value": "x"}],
        "values": {"next_step": "x"}})
    assert bad.status_code == 400 and bad.get_json()["message"]["filters"][0].startswith("“nope”不能用于筛选"), \
        bad.get_json()


def test_the_save_row_labels_take_the_languages_colon(world: World) -> None:
    html = zh_client(world).get("/crm/reports/?entity=opportunity").get_data(as_text=True)
    assert '<span class="small">共享给角色：</span>' in html and "共享给角色:" not in html  # the zh UI's colon
    html = world.client().get("/crm/reports/?entity=opportunity").get_data(as_text=True)
    assert re.search(r'<span class="small">Share with roles?: </span>', html), html[:200]
