"""Global search (issue 13 item 8): every entity the user may read, grouped by entity.

A small tree written here: customers with a field reps may not see, deals linking
to customers, notes nobody but managers read. Runs on SQLite and PostgreSQL.
Denial first: a rep's search never returns others' rows, never matches on a
hidden field, and never reveals a linked record through its title.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from app.security.access import access_for
from app.web.search import normalise_query, search
from tests.conftest import count_queries, login, write_tree

ENTITIES = {
    "customer": """
        label: {en: Customer, zh: 客户}
        plural: {en: Customers, zh: 客户}
        title: name
        fields:
          name: {type: string, required: true}
          phone: phone
          mobile: {type: phone, normalise: [phone]}
          secret_note: string
          tier: {type: choice, choices: [gold, silver]}
        list:
          columns: [name, phone]
          search: [name, phone, mobile, secret_note]
    """,
    "deal": """
        label: {en: Deal, zh: 商机}
        plural: {en: Deals, zh: 商机}
        title: name
        fields:
          name: {type: string, required: true}
          customer: {type: link, to: customer}
        list:
          columns: [name, customer]
          search: [name, customer.name]
    """,
    "memo": """
        label: {en: Memo, zh: 备忘}
        plural: {en: Memos, zh: 备忘}
        fields:
          name: {type: string, required: true}
        list:
          columns: [name]
    """,
}
ROLES = """
Rep:
  entities:
    customer: {read: own, create: yes, update: own}
    deal: {read: own, create: yes, update: own}
  fields:
    customer.secret_note: hidden
Manager:
  entities:
    customer: {read: all}
    deal: {read: all}
    memo: {read: all}
"""


@pytest.fixture
def world(make_app: Any, tmp_path: Path) -> Any:
    root = write_tree(tmp_path / "meta", ENTITIES)
    (root / "roles.yaml").write_text(ROLES, encoding="utf-8")
    app = make_app(root)
    with app.app_context():
        state = app.extensions["crm"]
        sm, session, models = state.appbuilder.sm, state.db.session, state.models
        users = {}
        for name, role in (("wang", "Rep"), ("li", "Rep"), ("boss", "Manager")):
            users[name] = sm.add_user(name, name, "测试", f"{name}@example.cn", sm.find_role(role), "pw-1234567").id
        customer, deal, memo = (models.model(n) for n in ("customer", "deal", "memo"))
        rows = [
            customer(name="华为技术有限公司", phone="0755-12345", mobile="+8613800138000", secret_note="机密：大客户",
                     owner_id=users["wang"]),
            customer(name="华为终端 Beijing", phone="010-999", secret_note="", owner_id=users["li"]),
            customer(name="Acme 钢铁", phone="021-555", secret_note="华为的竞争对手", owner_id=users["wang"]),
        ]
        session.add_all(rows)
        session.flush()
        session.add_all([
            deal(name="云平台扩容", customer_id=rows[0].id, owner_id=users["wang"]),
            deal(name="ERP 升级", customer_id=rows[1].id, owner_id=users["wang"]),  # wang's deal, li's customer
            deal(name="华为 数据中台", customer_id=rows[1].id, owner_id=users["li"]),
            memo(name="华为 战略备忘", owner_id=users["boss"]),
        ])
        session.commit()
        app.config["TEST_USERS"] = users
    return app


def run(app: Any, username: str, text: str, limit: int = 5) -> dict[str, list[str]]:
    with app.app_context():
        state = app.extensions["crm"]
        user = state.appbuilder.sm.find_user(username=username)
        _, groups = search(state.db.session, access_for(user, app), state.models, text, limit)
        return {g.entity: [h.title for h in g.hits] for g in groups}


def test_a_rep_finds_only_own_rows_and_never_through_a_hidden_field(world: Any) -> None:
    # wang's deal 云平台扩容 is found through its customer's name, which wang may read
    assert run(world, "wang", "华为") == {"customer": ["华为技术有限公司"], "deal": ["云平台扩容"]}
    assert run(world, "li", "华为") == {"customer": ["华为终端 Beijing"], "deal": ["华为 数据中台"]}
    assert run(world, "wang", "机密") == {}  # only in secret_note, which reps may not see
    assert run(world, "wang", "竞争对手") == {}
    assert run(world, "boss", "华为") == {"customer": ["Acme 钢铁", "华为终端 Beijing", "华为技术有限公司"],
                                         "deal": ["华为 数据中台", "ERP 升级", "云平台扩容"],
                                         "memo": ["华为 战略备忘"]}
    assert run(world, "boss", "机密") == {"customer": ["华为技术有限公司"]}


def test_a_link_title_out_of_scope_never_matches(world: Any) -> None:
    # wang's deal "ERP 升级" links to li's customer 华为终端: searching its name must not find the deal
    assert run(world, "wang", "华为终端") == {}
    assert run(world, "boss", "华为终端") == {"customer": ["华为终端 Beijing"], "deal": ["华为 数据中台", "ERP 升级"]}


def test_text_is_normalised_like_the_fields(world: Any) -> None:
    assert normalise_query("  ＡＣＭＥ\u3000 钢铁 ") == "ACME 钢铁"
    assert run(world, "wang", "  ａｃｍｅ ") == {"customer": ["Acme 钢铁"]}  # full-width, case, spaces
    assert run(world, "wang", "０７５５") == {"customer": ["华为技术有限公司"]}
    assert run(world, "wang", "   ") == {}
    # a phone with `normalise: [phone]` is stored as +8613800138000: looked for as the field stores it
    for typed in ("138 0013 8000", "１３８－００１３－８０００", "+86 138-0013-8000", "0013 8000"):
        assert run(world, "wang", typed) == {"customer": ["华为技术有限公司"]}, typed
    assert run(world, "li", "138 0013 8000") == {}  # not li's customer
    assert run(world, "wang", "100%") == {}  # LIKE wildcards are text
    assert run(world, "wang", "_") == {}


def test_limit_per_entity_and_bounded_statements(world: Any) -> None:
    with world.app_context():
        state = world.extensions["crm"]
        customer = state.models.model("customer")
        for i in range(30):
            state.db.session.add(customer(name=f"华为分公司 {i}", owner_id=world.config["TEST_USERS"]["boss"]))
        state.db.session.commit()
        boss = state.appbuilder.sm.find_user(username="boss")
        access = access_for(boss, world)
        _ = access.team_user_ids
        with count_queries(world) as statements:
            _, groups = search(state.db.session, access, state.models, "华为", 4)
    assert groups[0].entity == "customer" and groups[0].more and len(groups[0].hits) == 4
    assert len(statements) <= 3  # one per readable entity, however many rows match
    assert all("LIMIT" in s.upper() for s in statements)


def test_api_groups_by_entity_and_refuses_bad_limits(world: Any) -> None:
    client = login(world.test_client(), "wang", "pw-1234567")
    body = client.get("/api/v1/search?q=华为").get_json()
    assert body["q"] == "华为"
    assert [(g["entity"], [r["title"] for r in g["results"]]) for g in body["groups"]] == [
        ("customer", ["华为技术有限公司"]), ("deal", ["云平台扩容"])]
    hit = body["groups"][0]["results"][0]
    assert hit["url"] == f"/crm/customer/show/{hit['id']}"
    assert body["groups"][0]["label"] == "Customers" and body["groups"][0]["more"] is False
    bad = client.get("/api/v1/search?q=x&limit=500")
    assert bad.status_code == 400 and "limit" in bad.get_json()["message"]
    assert client.get("/api/v1/search?q=机密").get_json()["groups"] == []
    anonymous = world.test_client().get("/api/v1/search?q=华为")
    assert anonymous.status_code == 401


def test_results_page_and_top_bar_box(world: Any) -> None:
    client = login(world.test_client(), "li", "pw-1234567")
    html = client.get("/crm/search/?q=华为").get_data(as_text=True)
    assert 'id="crm-global-search"' in html and 'action="/crm/search/"' in html
    assert 'data-entity="customer"' in html and 'data-entity="deal"' in html and 'data-entity="memo"' not in html
    assert "华为终端 Beijing" in html and "华为技术有限公司" not in html
    assert "<script>" not in html.replace(" ", "")  # no inline script (a CSP is coming)
    home = client.get("/").get_data(as_text=True)
    assert 'id="crm-global-search"' in home


def test_openapi_documents_the_search(world: Any) -> None:
    client = login(world.test_client())
    spec = client.get("/api/v1/_openapi").get_json()
    operation = spec["paths"]["/api/v1/search"]["get"]
    assert [p["name"] for p in operation["parameters"]] == ["q", "limit"]
    assert "groups" in operation["responses"]["200"]["content"]["application/json"]["schema"]["properties"]


def test_every_role_may_search_but_only_signed_in(world: Any) -> None:
    with world.app_context():
        session = world.extensions["crm"].db.session
        rows = session.execute(sa.text(
            "select r.name from ab_role r join ab_permission_view_role pvr on pvr.role_id = r.id "
            "join ab_permission_view pv on pv.id = pvr.permission_view_id "
            "join ab_view_menu v on v.id = pv.view_menu_id join ab_permission p on p.id = pv.permission_id "
            "where v.name = 'global_search' and p.name = 'can_read'")).scalars().all()
    assert {"Rep", "Manager"} <= set(rows)
    assert world.test_client().get("/crm/search/?q=华为").status_code in (302, 401)
