"""Ownership and access reach (issue 13, items 1, 2 and 7) on the starter CRM, over HTTP.

`own(sales_engineer)` lets a pre-sales engineer read exactly the deals naming
them, and `via(opportunity)` the activities of those deals, on every channel
(API, screen, picker, export, board, charts, report builder, explainer).
`reassign` is its own permission: a rep may not, a manager may within the
team; the new owner must be an active user of the owner field's roles. A
default on a field the role may only read or not see never blocks a create.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
import sqlalchemy as sa

from app.charts.run import chart_context, run_chart
from app.demo.users import DEMO_PASSWORD, create_demo_users
from app.metadata.spec import ChartSpec, Text
from app.security.access import access_for
from app.security.explain import explain
from app.security.sync import sync_permissions
from app.web.reports import register_reports
from tests.conftest import STARTER, build_test_app, dispose_app, fresh_database, login


@pytest.fixture(scope="module")
def world(tmp_path_factory: Any) -> Any:
    base = tmp_path_factory.mktemp("ownership")
    with fresh_database(base) as url:
        app = build_test_app(url, STARTER, base / "no-plugins")
        with app.app_context():
            state = app.extensions["crm"]
            if "ReportsView" not in {type(v).__name__ for v in state.appbuilder.baseviews}:
                register_reports(state.appbuilder, state.models)
                sync_permissions(state.appbuilder)
            create_demo_users(state.appbuilder, state.models)
            session, models = state.db.session, state.models
            users = {u.username: u.id for u in session.query(state.appbuilder.sm.user_model)}
            account = models.model("account")(name="华为技术", owner_id=users["admin"])
            session.add(account)
            session.flush()
            opp, act = models.model("opportunity"), models.model("activity")
            deals = {}
            for key, owner, engineer in (("A", "sales_rep", "pre_sales_engineer"),
                                         ("B", "sales_rep2", "pre_sales_engineer2"),
                                         ("C", "sales_rep", None)):
                row = opp(name=f"商机{key}", account_id=account.id, deal_type="new_business", stage="prospecting",
                          amount=1000, owner_id=users[owner],
                          sales_engineer_id=users[engineer] if engineer else None)
                session.add(row)
                session.flush()
                deals[key] = row.id
            acts = {}
            for key, deal, owner in (("on_A", "A", "sales_rep"), ("on_B", "B", "sales_rep2"),
                                     ("mine", None, "pre_sales_engineer")):
                row = act(subject=f"拜访{key}", opportunity_id=deals[deal] if deal else None, owner_id=users[owner])
                session.add(row)
                session.flush()
                acts[key] = row.id
            session.commit()
            session.remove()
        yield {"app": app, "users": users, "deals": deals, "acts": acts}
        dispose_app(app)


def client_for(world: Any, name: str) -> Any:
    """A signed-in client with its own address (a login rate limit counts per address)."""
    world["logins"] = world.get("logins", 0) + 1
    client = world["app"].test_client()
    client.environ_base["REMOTE_ADDR"] = f"10.13.{world['logins'] // 250}.{world['logins'] % 250 + 1}"
    return login(client, name, "admin-pass-1" if name == "admin" else DEMO_PASSWORD)


def kpi_count(world: Any, username: str, entity: str) -> Any:
    with world["app"].app_context():
        state = world["app"].extensions["crm"]
        ctx = chart_context(world["app"], state.appbuilder.sm.find_user(username=username))
        return run_chart(ChartSpec("adhoc", Text.of("Ad hoc"), "kpi", entity), ctx).kpi


def api_ids(client: Any, entity: str) -> set[int]:
    response = client.get(f"/api/v1/{entity}/?q=(page_size:100)")
    assert response.status_code == 200, response.json
    return set(response.json["ids"])


# -- own(field) and via(link) on every channel ---------------------------------------------
def test_own_field_reads_exactly_the_deals_naming_the_engineer_on_every_channel(world: Any) -> None:
    deals, client = world["deals"], client_for(world, "pre_sales_engineer")
    assert api_ids(client, "opportunity") == {deals["A"]}
    assert client.get(f"/api/v1/opportunity/{deals['A']}").status_code == 200
    assert client.get(f"/api/v1/opportunity/{deals['B']}").status_code == 404
    assert client.get(f"/crm/opportunity/show/{deals['C']}").status_code == 404
    html = client.get("/crm/opportunity/list/").get_data(as_text=True)
    assert {k for k, pk in deals.items() if f"/crm/opportunity/show/{pk}\"" in html} == {"A"}
    assert {r["id"] for r in client.get("/api/v1/opportunity/picker?q=").json["results"]} == {deals["A"]}
    rows = list(csv.reader(io.StringIO(client.get("/api/v1/opportunity/export").get_data(as_text=True)
                                       .lstrip("\ufeff"))))
    assert {int(r[0]) for r in rows[1:]} == {deals["A"]}
    cards = client.get("/api/v1/opportunity/board/new_business",
                       query_string={"stage": "prospecting"}).json["cards"]
    assert {c["id"] for c in cards} == {deals["A"]}
    assert kpi_count(world, "pre_sales_engineer", "opportunity") == 1
    report = client.post("/api/v1/reports/data", json={"entity": "opportunity", "columns": ["name"]})
    assert report.status_code == 200, report.get_data(as_text=True)
    assert json.dumps(report.json, ensure_ascii=False).count("商机") == 1
    # the other engineer and a rep see their own share, never the first engineer's only
    assert api_ids(client_for(world, "pre_sales_engineer2"), "opportunity") == {deals["B"]}
    assert api_ids(client_for(world, "sales_rep"), "opportunity") == {deals["A"], deals["C"]}


def test_via_link_reads_the_activities_of_readable_deals(world: Any) -> None:
    acts, client = world["acts"], client_for(world, "pre_sales_engineer")
    expected = {acts["on_A"], acts["mine"]}  # own or via(opportunity)
    assert api_ids(client, "activity") == expected
    assert {r["id"] for r in client.get("/api/v1/activity/picker?q=").json["results"]} == expected
    assert client.get(f"/api/v1/activity/{acts['on_B']}").status_code == 404
    html = client.get("/crm/activity/list/").get_data(as_text=True)
    assert {pk for pk in acts.values() if f"/crm/activity/show/{pk}\"" in html} == expected
    assert kpi_count(world, "pre_sales_engineer", "activity") == 2
    report = client.post("/api/v1/reports/data", json={"entity": "activity", "columns": ["subject"]})
    assert report.status_code == 200
    text = json.dumps(report.json, ensure_ascii=False)
    assert "拜访on_A" in text and "拜访mine" in text and "拜访on_B" not in text
    assert api_ids(client_for(world, "pre_sales_engineer2"), "activity") == {acts["on_B"]}


def test_the_explainer_says_why_for_own_field_and_via(world: Any) -> None:
    app, deals, acts = world["app"], world["deals"], world["acts"]
    with app.app_context():
        state = app.extensions["crm"]
        access = access_for(state.appbuilder.sm.find_user(username="pre_sales_engineer"))
        session = state.db.session
        for entity, pk, allowed in (("opportunity", deals["A"], True), ("opportunity", deals["B"], False),
                                    ("activity", acts["on_A"], True), ("activity", acts["on_B"], False)):
            record = session.get(state.models.model(entity), pk)
            read = next(a for a in explain(access, state.spec, entity, record, pk).actions if a.action == "read")
            assert read.allowed is allowed, (entity, pk)
            assert ("a clause of" if allowed else "no clause of") in read.reason, read.reason
        answer = explain(access, state.spec, "activity")
        assert next(a for a in answer.actions if a.action == "read").scope == "own or via(opportunity)"


# -- reassign ---------------------------------------------------------------------------
def owner_of(world: Any, entity: str, pk: int) -> int:
    with world["app"].app_context():
        state = world["app"].extensions["crm"]
        model = state.models.model(entity)
        value = state.db.session.scalar(sa.select(model.owner_id).where(model.id == pk))
        state.db.session.remove()
        return value


def test_a_rep_cannot_reassign(world: Any) -> None:
    deals, users = world["deals"], world["users"]
    response = client_for(world, "sales_rep").post("/api/v1/opportunity/reassign",
                                                   json={"ids": [deals["C"]], "owner": users["sales_rep2"]})
    assert response.status_code == 403
    assert owner_of(world, "opportunity", deals["C"]) == users["sales_rep"]


def test_a_manager_reassigns_within_the_team_only(world: Any) -> None:
    app, deals, users = world["app"], world["deals"], world["users"]
    manager = client_for(world, "sales_manager")
    outside = manager.post("/api/v1/opportunity/reassign", json={"ids": [deals["C"]], "owner": users["executive"]})
    assert outside.status_code == 422 and "owner" in outside.json["message"]
    bad = manager.post("/api/v1/opportunity/reassign", json={"ids": "C", "owner": users["sales_rep2"]})
    assert bad.status_code == 400 and "ids" in bad.json["message"]
    moved = manager.post("/api/v1/opportunity/reassign",
                         json={"ids": [deals["C"], deals["A"]], "owner": users["sales_rep2"]})
    assert moved.status_code == 200, moved.json
    assert owner_of(world, "opportunity", deals["C"]) == users["sales_rep2"]
    assert owner_of(world, "opportunity", deals["A"]) == users["sales_rep2"]
    with app.app_context():
        changes = app.extensions["crm"].models.core["crm_record_change"]
        session = app.extensions["crm"].db.session
        logged = session.execute(sa.select(changes.c.fields, changes.c.changed_by_id).where(
            changes.c.entity == "opportunity", changes.c.record_id == deals["C"])).all()
        session.remove()
    assert (json.dumps(["owner"]), users["sales_manager"]) in [tuple(r) for r in logged]
    back = manager.post("/api/v1/opportunity/reassign",
                        json={"ids": [deals["C"], deals["A"]], "owner": users["sales_rep"]})
    assert back.status_code == 200


def test_reassign_refuses_an_inactive_user_naming_the_field(world: Any) -> None:
    app, deals, users = world["app"], world["deals"], world["users"]
    with app.app_context():
        state = app.extensions["crm"]
        sm = state.appbuilder.sm
        sm.add_user("departed", "离职", "员工", "departed@example.com", sm.find_role("Sales Rep"), "x-pass-123")
        user = sm.find_user(username="departed")
        user.active = False
        state.db.session.commit()
        departed = user.id
    response = client_for(world, "admin").post("/api/v1/opportunity/reassign",
                                               json={"ids": [deals["C"]], "owner": departed})
    assert response.status_code == 422 and "owner" in response.json["message"]
    assert "离职 员工 (departed)" in response.json["message"]["owner"][0]  # the name people know, and the login
    assert client_for(world, "admin").post("/api/v1/opportunity/reassign",
                                           json={"ids": [999999], "owner": users["admin"]}).status_code == 404


def test_owner_on_create_is_for_roles_that_may_reassign(world: Any) -> None:
    users, accounts = world["users"], None
    manager = client_for(world, "sales_manager")
    accounts = manager.get("/api/v1/account/?q=(page_size:1)").json["ids"]
    body = {"name": "经理代建商机", "account": accounts[0], "owner": users["sales_rep2"]}
    created = manager.post("/api/v1/opportunity/", json=body)
    assert created.status_code == 201, created.json
    assert owner_of(world, "opportunity", created.json["id"]) == users["sales_rep2"]
    refused = client_for(world, "sales_rep").post("/api/v1/opportunity/", json=body)
    assert refused.status_code == 400 and "owner" in refused.json["message"]


# -- user fields limited to roles --------------------------------------------------------
def test_a_user_field_takes_only_users_of_its_roles(world: Any) -> None:
    deals, users = world["deals"], world["users"]
    admin = client_for(world, "admin")
    picked = admin.get("/api/v1/user/picker?field=opportunity.sales_engineer").json["results"]
    assert {r["id"] for r in picked} == {users["pre_sales_engineer"], users["pre_sales_engineer2"]}
    assert users["sales_rep"] in {r["id"] for r in admin.get("/api/v1/user/picker?field=opportunity.owner")
                                  .json["results"]}
    wrong = admin.put(f"/api/v1/opportunity/{deals['C']}", json={"sales_engineer": users["sales_rep"]})
    assert wrong.status_code == 422 and "sales_engineer" in wrong.json["message"]
    right = admin.put(f"/api/v1/opportunity/{deals['C']}", json={"sales_engineer": users["pre_sales_engineer2"]})
    assert right.status_code == 200, right.json
    assert admin.put(f"/api/v1/opportunity/{deals['C']}", json={"sales_engineer": None}).status_code == 200


def test_the_record_page_offers_reassign_only_where_the_scope_allows(world: Any) -> None:
    deals, users = world["deals"], world["users"]
    manager, rep = client_for(world, "sales_manager"), client_for(world, "sales_rep")
    assert 'id="crm-reassign"' in manager.get(f"/crm/opportunity/show/{deals['C']}").get_data(as_text=True)
    assert 'id="crm-reassign"' not in rep.get(f"/crm/opportunity/show/{deals['C']}").get_data(as_text=True)
    refused = rep.post("/crm/opportunity/reassign", data={"ids": str(deals["C"]), "owner": users["sales_rep2"]})
    assert refused.status_code in (302, 403)
    assert owner_of(world, "opportunity", deals["C"]) == users["sales_rep"]
    moved = manager.post("/crm/opportunity/reassign", data={"ids": f"{deals['C']},{deals['A']}",
                                                             "owner": users["sales_rep2"]})
    assert moved.status_code == 302 and moved.headers["Location"].endswith("/crm/opportunity/list/")
    assert owner_of(world, "opportunity", deals["C"]) == users["sales_rep2"]
    manager.post("/crm/opportunity/reassign", data={"ids": [deals["C"], deals["A"]], "owner": users["sales_rep"]})
    assert owner_of(world, "opportunity", deals["A"]) == users["sales_rep"]


def test_the_owner_field_takes_its_label_and_help_from_the_entity(world: Any) -> None:
    admin = client_for(world, "admin")
    account = admin.get("/api/v1/account/?q=(page_size:1)").json["ids"][0]
    assert "Account manager" in admin.get(f"/crm/account/show/{account}").get_data(as_text=True)
    assert "Account manager" in admin.get("/crm/account/list/").get_data(as_text=True)
    spec = world["app"].extensions["crm"].spec
    assert spec.entity("account").field("owner").label.get("zh") == "客户经理"
    assert spec.entity("account").field("owner").help.get("en") == "The sales person who looks after this customer"


def test_scopes_of_several_roles_combine_with_or() -> None:
    from app.security.scopes import join_scopes, scope_parts

    assert join_scopes("own", "team") == "team"
    assert join_scopes("own(sales_engineer)", "via(opportunity)", "no") == "own(sales_engineer) or via(opportunity)"
    assert join_scopes("own or via(account)", "all") == "all"
    assert join_scopes("no", "no") == "no"
    assert join_scopes("own(x)", "team(x)") == "team(x)"
    assert scope_parts(["own", "own(presales)"]) == scope_parts("own or own(presales)") == ["own", "own(presales)"]


def test_the_list_offers_bulk_reassign_only_where_the_scope_allows(world: Any) -> None:
    deals, users = world["deals"], world["users"]
    manager, rep = client_for(world, "sales_manager"), client_for(world, "sales_rep")
    page = manager.get("/crm/opportunity/list/").get_data(as_text=True)
    assert 'class="action_check"' in page and 'id="crm-reassign-owner"' in page
    assert "reassign_menu_item" in page and "/user/picker?field=opportunity.owner" in page
    zh = client_for(world, "sales_manager")
    zh.post("/lang/zh")
    assert "转交负责人" in (zh_page := zh.get("/crm/opportunity/list/").get_data(as_text=True))
    assert "将选中记录转交给" in zh_page
    listed = rep.get("/crm/opportunity/list/").get_data(as_text=True)
    assert f"/crm/opportunity/show/{deals['C']}\"" in listed  # the rep sees the row, not the action
    assert "crm-reassign-owner" not in listed  # rows are ticked for the rep's own export only
    assert "reassign_menu_item" not in listed
    forged = rep.post("/crm/opportunity/action_post", data={"action": "reassign", "rowid": [deals["C"]],
                                                            "owner": users["sales_rep2"]})
    assert forged.status_code == 403
    assert owner_of(world, "opportunity", deals["C"]) == users["sales_rep"]
    # all or none: an owner outside the manager's team is refused for both rows, the error shown
    refused = manager.post("/crm/opportunity/action_post", data={
        "action": "reassign", "rowid": [deals["C"], deals["A"]], "owner": users["executive"]},
        follow_redirects=True)
    assert refused.status_code == 200 and "高管 1 (executive)" in refused.get_data(as_text=True)
    assert owner_of(world, "opportunity", deals["C"]) == users["sales_rep"]
    assert owner_of(world, "opportunity", deals["A"]) == users["sales_rep"]
    assert manager.post("/crm/opportunity/action_post", data={"action": "delete_all", "rowid": [deals["C"]]}
                        ).status_code == 404
    assert manager.post("/crm/opportunity/action_post", data={"action": "reassign", "rowid": "C"}
                        ).status_code == 400
    moved = manager.post("/crm/opportunity/action_post", data={
        "action": "reassign", "rowid": [deals["C"], deals["A"]], "owner": users["sales_rep2"]})
    assert moved.status_code == 302
    assert owner_of(world, "opportunity", deals["C"]) == owner_of(world, "opportunity", deals["A"]) == users[
        "sales_rep2"]
    manager.post("/crm/opportunity/action_post", data={"action": "reassign", "rowid": [deals["C"], deals["A"]],
                                                        "owner": users["sales_rep"]})
    assert owner_of(world, "opportunity", deals["C"]) == owner_of(world, "opportunity", deals["A"]) == users[
        "sales_rep"]


# -- owner placed on a form ----------------------------------------------------------------
def _owner_select(html: str) -> str:
    start = html.index('name="owner"')
    return html[html.rindex("<select", 0, start):html.index("</select>", start)]


def test_owner_on_the_add_form_is_set_by_admin_and_read_only_for_a_rep(world: Any) -> None:
    users, app = world["users"], world["app"]
    admin, rep = client_for(world, "admin"), client_for(world, "sales_rep")
    select = _owner_select(admin.get("/crm/account/add").get_data(as_text=True))
    assert "disabled" not in select and "/user/picker?field=account.owner" in select
    made = admin.post("/crm/account/add", data={"name": "管理员代建客户", "owner": users["sales_rep2"]})
    assert made.status_code == 302, made.get_data(as_text=True)[:2000]
    rep_form = rep.get("/crm/account/add").get_data(as_text=True)
    select = _owner_select(rep_form)
    assert "disabled" in select and f'value="{users["sales_rep"]}" selected' in select
    refused = _owner_select(rep.post("/crm/account/add", data={"name": ""}).get_data(as_text=True))
    assert "disabled" in refused and f'value="{users["sales_rep"]}" selected' in refused  # shown again
    forged = rep.post("/crm/account/add", data={"name": "销售自建客户", "owner": users["sales_rep2"]})
    assert forged.status_code == 302
    with app.app_context():
        state = app.extensions["crm"]
        model = state.models.model("account")
        owners = dict(state.db.session.execute(sa.select(model.name, model.owner_id).where(
            model.name.in_(["管理员代建客户", "销售自建客户"]))).all())
        state.db.session.remove()
    assert owners == {"管理员代建客户": users["sales_rep2"], "销售自建客户": users["sales_rep"]}


def test_owner_on_the_edit_form_is_read_only_and_changes_only_through_reassign(world: Any) -> None:
    users, app = world["users"], world["app"]
    admin = client_for(world, "admin")
    with app.app_context():
        state = app.extensions["crm"]
        model = state.models.model("account")
        pk = state.db.session.scalar(sa.select(model.id).where(model.name == "华为技术"))
        state.db.session.remove()
    select = _owner_select(admin.get(f"/crm/account/edit/{pk}").get_data(as_text=True))
    assert "disabled" in select and f'value="{users["admin"]}" selected' in select
    saved = admin.post(f"/crm/account/edit/{pk}", data={"name": "华为技术", "owner": users["sales_rep2"]})
    assert saved.status_code == 302
    assert owner_of(world, "account", pk) == users["admin"]
    page = admin.get(f"/crm/account/show/{pk}").get_data(as_text=True)
    # The owner shows once among the record's fields (the timeline below names it as a change too).
    assert page.count(">Account manager</th>") <= 1 and 'id="crm-reassign"' in page
    # History names people, never user ids.
    changes = admin.get(f"/api/v1/account/{pk}/history").get_json()["changes"]
    owner_rows = [c for c in changes if c["field"] == "owner"]
    assert owner_rows and all(c["new_text"] != str(c["new"]) for c in owner_rows), owner_rows
    assert 'class="action_check"' not in page  # related lists offer no bulk actions (one #action_form)


def test_a_role_that_may_reassign_but_not_update_reassigns(make_app: Any, tmp_path: Any) -> None:
    """`reassign` is its own permission: a dispatcher who hands out leads needs no `update`."""
    from tests.conftest import write_tree

    root = write_tree(tmp_path / "m", {"lead": "label: {en: Lead, zh: 线索}\nfields:\n  name: {type: string}\n"})
    (root / "roles.yaml").write_text(
        "Dispatcher:\n  label: {en: Dispatcher, zh: 派单员}\n  entities:\n    lead: {read: all, reassign: all}\n"
        "Sales Rep:\n  label: {en: Sales Rep, zh: 销售代表}\n  entities:\n    lead: {read: own, create: yes, update: own}\n",
        encoding="utf-8")
    app = make_app(root)
    with app.app_context():
        state = app.extensions["crm"]
        sm = state.appbuilder.sm
        sm.add_user("dispatcher", "派单", "员", "d@example.com", sm.find_role("Dispatcher"), "pw-1234567")
        sm.add_user("rep", "销售", "甲", "r@example.com", sm.find_role("Sales Rep"), "pw-1234567")
        rep_id = sm.find_user(username="rep").id
        lead = state.models.model("lead")(name="待分配线索", owner_id=sm.find_user(username="admin").id)
        state.db.session.add(lead)
        state.db.session.commit()
        pk = lead.id
    dispatcher = login(app.test_client(), "dispatcher", "pw-1234567")
    moved = dispatcher.post("/api/v1/lead/reassign", json={"ids": [pk], "owner": rep_id})
    assert moved.status_code == 200, moved.get_data(as_text=True)
    assert 'class="action_check"' in dispatcher.get("/crm/lead/list/").get_data(as_text=True)
    assert dispatcher.put(f"/api/v1/lead/{pk}", json={"name": "改名"}).status_code == 403
    assert dispatcher.post(f"/crm/lead/edit/{pk}", data={"name": "改名"}).status_code == 403
    rep = login(app.test_client(), "rep", "pw-1234567")
    assert rep.get(f"/api/v1/lead/{pk}").json["result"]["name"] == "待分配线索"
