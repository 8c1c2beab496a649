"""Saved list views and the column chooser (issue 17 item 3) over HTTP, on the starter CRM.

A view keeps columns and the list's query (filters, search, sort), private or shared
with roles; it is re-checked for whoever opens it (a hidden field's column and filter
drop out). The default view opens a bare list; the chooser's columns are remembered.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from app.demo.users import DEMO_PASSWORD, create_demo_users
from tests.conftest import STARTER, build_test_app, dispose_app, fresh_database, login

API = "/api/v1/listviews/opportunity/"


@pytest.fixture(scope="module")
def world(tmp_path_factory: Any) -> Any:
    base = tmp_path_factory.mktemp("views")
    with fresh_database(base) as url:
        app = build_test_app(url, STARTER, base / "no-plugins")
        with app.app_context():
            state = app.extensions["crm"]
            create_demo_users(state.appbuilder, state.models)
            session = state.db.session
            users = {u.username: u.id for u in session.query(state.appbuilder.sm.user_model)}
            account = state.models.model("account")(name="视图客户", owner_id=users["admin"])
            session.add(account)
            session.flush()
            opp = state.models.model("opportunity")
            for name, owner, amount in (("甲视图", "sales_rep", 500), ("乙视图", "sales_rep", 90000),
                                        ("丙视图", "sales_rep2", 700)):
                session.add(opp(name=name, account_id=account.id, deal_type="new_business", stage="prospecting",
                                amount=amount, owner_id=users[owner]))
            session.commit()
            session.remove()
        yield {"app": app, "users": users}
        dispose_app(app)


def client_for(world: Any, name: str, lang: str = "en") -> Any:
    client = login(world["app"].test_client(), name, "admin-pass-1" if name == "admin" else DEMO_PASSWORD)
    client.post(f"/lang/{lang}")
    return client


def headers(html: str) -> list[str]:
    """The list table's column headings, in order (after the checkbox and button columns)."""
    head = html.split("<thead>", 1)[1].split("</thead>", 1)[0]
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<th[^>]*>(.*?)</th>", head, re.S)
            if re.sub(r"<[^>]+>", "", cell).strip()]


def test_private_view_keeps_columns_and_query_and_is_the_owners_only(world: Any) -> None:
    rep = client_for(world, "sales_rep")
    made = rep.post(API, json={"name": "我的大单", "columns": ["name", "amount", "stage"],
                               "query": "q=视图&_oc_OpportunityView=amount&_od_OpportunityView=desc"})
    assert made.status_code == 201, made.get_data(as_text=True)
    view_id = made.get_json()["id"]
    listed = rep.get(API).get_json()
    assert [(v["name"], v["columns"]) for v in listed["result"]] == [("我的大单", ["name", "amount", "stage"])]
    page = rep.get(f"/crm/opportunity/list/?{listed['result'][0]['query']}&view={view_id}").get_data(as_text=True)
    assert headers(page)[:3] == ["Opportunity name", "Amount", "Stage"]
    assert page.index("乙视图") < page.index("甲视图") and "丙视图" not in page  # sorted by amount, own only
    other = client_for(world, "sales_rep2")
    assert other.get(API).get_json()["result"] == []
    assert other.put(f"{API}{view_id}", json={"name": "x", "columns": ["name"]}).status_code == 404
    assert other.delete(f"{API}{view_id}").status_code == 404
    assert "我的大单" not in other.get("/crm/opportunity/list/").get_data(as_text=True)


def test_shared_view_is_rechecked_for_a_viewer_who_cannot_read_a_field(world: Any) -> None:
    manager = client_for(world, "sales_manager")
    made = manager.post(API, json={"name": "共享金额", "columns": ["name", "amount", "stage"],
                                   "query": "_flt_2_amount=100&q=视图", "shared_roles": ["Support Agent"]})
    assert made.status_code == 201, made.get_data(as_text=True)
    support = client_for(world, "support_agent")
    view = next(v for v in support.get(API).get_json()["result"] if v["name"] == "共享金额")
    assert view["columns"] == ["name", "stage"] and not view["mine"] and not view["can_change"]
    listing = support.get("/crm/opportunity/list/?q=视图").get_data(as_text=True)
    href = re.search(rf'href="([^"]+)" class="crm-view-link" data-view="{view["id"]}"', listing).group(1)
    assert "amount" not in href  # the filter on a hidden field is dropped too
    page = support.get(href.replace("&amp;", "&")).get_data(as_text=True)
    assert headers(page) == ["Opportunity name", "Stage"]
    assert support.put(f"{API}{view['id']}", json={"name": "改", "columns": ["name"]}).status_code == 403
    rep_views = client_for(world, "sales_rep").get(API).get_json()["result"]
    assert "共享金额" not in {v["name"] for v in rep_views}  # not shared with reps


def test_default_view_opens_a_bare_list_and_the_column_chooser_is_remembered(world: Any) -> None:
    rep = client_for(world, "sales_rep2", "zh")
    view_id = rep.post(API, json={"name": "默认视图", "columns": ["stage", "name"], "query": "q=丙",
                                  "default": True}).get_json()["id"]
    opened = rep.get("/crm/opportunity/list/")
    assert opened.status_code == 302 and opened.headers["Location"].endswith(f"?q=%E4%B8%99&view={view_id}")
    assert headers(rep.get(opened.headers["Location"]).get_data(as_text=True)) == ["阶段", "商机名称"]
    assert rep.put(f"{API}prefs", json={"default_view": None, "columns": ["close_date", "name"]}).status_code == 200
    assert headers(rep.get("/crm/opportunity/list/").get_data(as_text=True)) == ["预计成交日期", "商机名称"]
    assert rep.put(f"{API}prefs", json={"columns": None}).status_code == 200
    standard = headers(rep.get("/crm/opportunity/list/").get_data(as_text=True))
    assert standard[0] == "商机名称" and len(standard) > 2


@pytest.mark.parametrize(("user", "body", "field"), [
    ("sales_rep", {"name": "", "columns": ["name"]}, "name"),
    ("sales_rep", {"name": "x" * 201, "columns": ["name"]}, "name"),
    ("sales_rep", {"name": "n", "columns": []}, "columns"),
    ("sales_rep", {"name": "n", "columns": ["name", "name"]}, "columns"),
    ("sales_rep", {"name": "n", "columns": ["nope"]}, "columns"),
    ("support_agent", {"name": "n", "columns": ["amount"]}, "columns"),  # hidden for support
    ("sales_rep", {"name": "n", "columns": ["name"], "shared_roles": ["Nobody"]}, "shared_roles"),
    ("sales_rep", {"name": "n", "columns": ["name"], "query": 5}, "query"),
])
def test_bad_views_are_422_by_field(world: Any, user: str, body: dict[str, Any], field: str) -> None:
    answer = client_for(world, user).post(API, json=body)
    assert answer.status_code == 422 and field in answer.get_json()["message"]


def test_lists_the_user_cannot_read_have_no_views(world: Any) -> None:
    marketing = client_for(world, "marketing")  # no opportunities at all
    assert marketing.get(API).status_code == 404
    assert marketing.post(API, json={"name": "n", "columns": ["name"]}).status_code == 404
    assert marketing.put(f"{API}prefs", json={"columns": ["name"]}).status_code == 404
    assert client_for(world, "admin").get("/api/v1/listviews/nothing/").status_code == 404
    assert client_for(world, "sales_rep").put(f"{API}prefs", json={"default_view": 999999}).status_code == 422


def test_chosen_link_columns_are_loaded_with_the_page_not_per_row(world: Any) -> None:
    from tests.conftest import count_queries

    app, admin = world["app"], client_for(world, "admin")
    assert admin.put(f"{API}prefs", json={"columns": ["name", "account", "sales_engineer", "stage"]}).status_code == 200

    def statements() -> int:
        admin.get("/crm/opportunity/list/?q=视图")  # warm: access and views come from memory
        with count_queries(app) as seen:
            page = admin.get("/crm/opportunity/list/?q=视图").get_data(as_text=True)
        assert headers(page)[:2] == ["Opportunity name", "Account"] and "视图客户" in page
        return len(seen)

    before = statements()
    with app.app_context():
        state = app.extensions["crm"]
        session, opp = state.db.session, state.models.model("opportunity")
        account = state.models.model("account")(name="视图客户二", owner_id=world["users"]["admin"])
        session.add(account)
        session.flush()
        session.add_all(opp(name=f"视图加{i}", account_id=account.id, deal_type="new_business", stage="prospecting",
                            owner_id=world["users"]["admin"], sales_engineer_id=world["users"]["pre_sales_engineer"])
                        for i in range(6))
        session.commit()
        session.remove()
    assert statements() == before


def test_a_filter_value_the_list_cannot_read_is_refused_naming_its_row(world: Any) -> None:
    # `amount gt abc` was saved (201) and the list then dropped the filter with a warning.
    from app.web.dashboards import list_view

    with world["app"].app_context():
        screen = list_view("opportunity")
        ops = [f.arg_name for f in screen.datamodel.get_filters(screen.search_columns).get_search_filters()["amount"]]
    gt = ops.index("gt")
    for lang, said in (("en", "Filter 2: "), ("zh", "第 2 个筛选：")):
        rep = client_for(world, "sales_rep", lang)
        bad = rep.post(API, json={"name": "坏筛选", "columns": ["name"],
                                  "query": f"_flt_{gt}_amount=100&_flt_{gt + 1}_amount=abc"})
        assert bad.status_code == 422, bad.get_data(as_text=True)
        (message,) = bad.get_json()["message"]["query"]
        assert message.startswith(said) and "abc" in message, message
    good = client_for(world, "sales_rep").post(API, json={"name": "好筛选", "columns": ["name"],
                                                          "query": f"_flt_{gt}_amount=100"})
    assert good.status_code == 201


def test_the_views_menu_words_follow_each_readers_language_and_columns(world: Any) -> None:
    """The chooser's labels, roles and menu words are kept per language and readable columns
    (list_views_view.py): a zh page and an en page in turn each get their own."""
    def crm_views(client: Any) -> dict[str, Any]:
        html = client.get("/crm/opportunity/list/").data.decode()
        return json.loads(re.search(r"window\.crmViews = (\{.*?\});</script>", html).group(1))  # type: ignore[union-attr]

    zh, en = client_for(world, "admin", "zh"), client_for(world, "admin")
    for _ in range(2):
        assert crm_views(zh)["ui"]["views"] == "视图" and crm_views(en)["ui"]["views"] == "Views"
    labels = {c["name"]: c["label"] for c in crm_views(zh)["available"]}
    assert labels["amount"] != {c["name"]: c["label"] for c in crm_views(en)["available"]}["amount"]
