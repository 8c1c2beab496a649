"""Bulk update, reassign and delete (issue 17 item 3) over HTTP, on the starter CRM.

Each row goes through the single-record command: gates, field rules and scopes hold,
a refused row is reported with its title and reason, the others are changed. The
verbs are `mass_update` / `mass_delete` (roles.yaml): a rep has neither (403, and no
bulk action on the list); a manager has them for the team's records only.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from app.demo.users import DEMO_PASSWORD, create_demo_users
from tests.conftest import STARTER, build_test_app, count_queries, dispose_app, fresh_database, login


@pytest.fixture(scope="module")
def world(tmp_path_factory: Any) -> Any:
    base = tmp_path_factory.mktemp("bulk")
    with fresh_database(base) as url:
        app = build_test_app(url, STARTER, base / "no-plugins")
        with app.app_context():
            state = app.extensions["crm"]
            create_demo_users(state.appbuilder, state.models)
            session = state.db.session
            users = {u.username: u.id for u in session.query(state.appbuilder.sm.user_model)}
            account = state.models.model("account")(name="批量客户", owner_id=users["admin"])
            session.add(account)
            session.commit()
            world = {"app": app, "users": users, "account": account.id}
            session.remove()
        yield world
        dispose_app(app)


def make_deals(world: Any, *specs: tuple[str, str, Any]) -> dict[str, int]:
    """Deals named `name`, owned by `owner`, with `amount` (None: none), in prospecting."""
    app = world["app"]
    with app.app_context():
        state = app.extensions["crm"]
        session, opp = state.db.session, state.models.model("opportunity")
        rows = {name: opp(name=name, account_id=world["account"], deal_type="new_business", stage="prospecting",
                          amount=amount, owner_id=world["users"][owner]) for name, owner, amount in specs}
        session.add_all(rows.values())
        session.commit()
        ids = {name: row.id for name, row in rows.items()}
        session.remove()
    return ids


def read(world: Any, ids: list[int], column: str) -> dict[int, Any]:
    app = world["app"]
    with app.app_context():
        state = app.extensions["crm"]
        opp = state.models.model("opportunity")
        rows = state.db.session.execute(sa.select(opp.id, getattr(opp, column)).where(opp.id.in_(ids))).all()
        state.db.session.remove()
    return dict(rows)  # type: ignore[arg-type]


def client_for(world: Any, name: str, lang: str = "en") -> Any:
    client = login(world["app"].test_client(), name, "admin-pass-1" if name == "admin" else DEMO_PASSWORD)
    client.post(f"/lang/{lang}")
    return client


def test_manager_bulk_update_runs_each_row_through_the_gates_and_never_touches_other_teams(world: Any) -> None:
    deals = make_deals(world, ("甲批量", "sales_rep", 1000), ("乙批量", "sales_rep2", 2000),
                       ("丙批量无金额", "sales_rep", None), ("丁别队", "admin", 500))
    manager = client_for(world, "sales_manager")
    answer = manager.post("/api/v1/opportunity/bulk", json={
        "action": "update", "ids": list(deals.values()), "values": {"stage": "proposal", "next_step": "发报价单"}})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    body = answer.get_json()
    assert sorted(body["ids"]) == sorted([deals["甲批量"], deals["乙批量"]]) and body["done"] == 2
    failed = {f["id"]: f for f in body["failed"]}
    assert set(failed) == {deals["丙批量无金额"], deals["丁别队"]}
    assert failed[deals["丙批量无金额"]]["title"] == "丙批量无金额"  # a gate: proposal requires the amount
    assert "Amount" in failed[deals["丙批量无金额"]]["reason"]
    assert failed[deals["丁别队"]]["title"] is None  # outside the read scope: not even its name
    stages = read(world, list(deals.values()), "stage")
    assert stages == {deals["甲批量"]: "proposal", deals["乙批量"]: "proposal",
                      deals["丙批量无金额"]: "prospecting", deals["丁别队"]: "prospecting"}
    assert read(world, [deals["甲批量"]], "next_step") == {deals["甲批量"]: "发报价单"}
    history = manager.get(f"/api/v1/opportunity/{deals['甲批量']}/history").get_json()
    assert [m["to"] for m in history["result"]][-1] == "proposal"  # the stage history, as a single move


def test_per_row_reasons_are_in_the_users_language(world: Any) -> None:
    deals = make_deals(world, ("戊无金额", "sales_rep", None))
    manager = client_for(world, "sales_manager", "zh")
    body = manager.post("/api/v1/opportunity/bulk", json={
        "action": "update", "ids": [deals["戊无金额"]], "values": {"stage": "proposal"}}).get_json()
    assert body["done"] == 0 and "金额" in body["failed"][0]["reason"]


@pytest.mark.parametrize(("user", "action", "status"), [
    ("sales_rep", "update", 403), ("sales_rep", "delete", 403), ("executive", "update", 403),
    ("support_agent", "delete", 403), ("sales_manager", "update", 200), ("sales_manager", "delete", 200),
    ("admin", "update", 200), ("admin", "delete", 200)])
def test_permission_matrix_for_the_bulk_verbs(world: Any, user: str, action: str, status: int) -> None:
    deals = make_deals(world, (f"矩阵{user}{action}", "sales_rep", 100))
    client = client_for(world, user)
    payload: dict[str, Any] = {"action": action, "ids": list(deals.values())}
    if action == "update":
        payload["values"] = {"next_step": "下一步"}
    answer = client.post("/api/v1/opportunity/bulk", json=payload)
    assert answer.status_code == status, answer.get_data(as_text=True)
    remaining = read(world, list(deals.values()), "next_step")
    if status == 403:
        assert remaining == {deals[f"矩阵{user}{action}"]: None}  # nothing happened
    elif action == "delete":
        assert remaining == {}
    else:
        assert set(remaining.values()) == {"下一步"}


def test_a_field_the_role_may_not_write_is_refused_for_all_rows(world: Any) -> None:
    manager = client_for(world, "sales_manager")
    deals = make_deals(world, ("己只读", "sales_rep", 100))
    answer = manager.post("/api/v1/opportunity/bulk", json={
        "action": "update", "ids": list(deals.values()), "values": {"weighted_amount": 5}})
    assert answer.status_code == 400 and "weighted_amount" in answer.get_json()["message"]
    app = world["app"]
    with app.app_context():  # lead.grade: read for managers (inherited from Sales Rep)
        state = app.extensions["crm"]
        lead = state.models.model("lead")(name="庚", company="线索公司", owner_id=world["users"]["sales_rep"])
        state.db.session.add(lead)
        state.db.session.commit()
        lead_id = lead.id
        state.db.session.remove()
    answer = manager.post("/api/v1/lead/bulk", json={"action": "update", "ids": [lead_id], "values": {"grade": "A"}})
    assert answer.status_code == 400 and "grade" in answer.get_json()["message"]
    bad = manager.post("/api/v1/opportunity/bulk", json={
        "action": "update", "ids": list(deals.values()), "values": {"close_date": "2026-13-45"}})
    assert bad.status_code == 422 and "close_date" in bad.get_json()["message"]


def test_bulk_reassign_and_delete_report_per_row(world: Any) -> None:
    deals = make_deals(world, ("辛转交", "sales_rep", 100), ("壬别队", "admin", 100))
    manager = client_for(world, "sales_manager")
    body = manager.post("/api/v1/opportunity/bulk", json={
        "action": "reassign", "ids": list(deals.values()), "owner": world["users"]["sales_rep2"]}).get_json()
    assert body["ids"] == [deals["辛转交"]] and [f["id"] for f in body["failed"]] == [deals["壬别队"]]
    assert read(world, list(deals.values()), "owner_id") == {deals["辛转交"]: world["users"]["sales_rep2"],
                                                             deals["壬别队"]: world["users"]["admin"]}
    body = manager.post("/api/v1/opportunity/bulk", json={"action": "delete", "ids": list(deals.values())}).get_json()
    assert body["ids"] == [deals["辛转交"]]
    assert read(world, list(deals.values()), "name") == {deals["壬别队"]: "壬别队"}


def test_all_matching_the_filter_takes_only_the_users_records(world: Any) -> None:
    deals = make_deals(world, ("癸全选一", "sales_rep", 10), ("癸全选二", "sales_rep2", 10), ("癸全选外", "admin", 10))
    manager = client_for(world, "sales_manager")
    body = manager.post("/api/v1/opportunity/bulk", json={
        "action": "update", "all": True, "filters": [{"col": "name", "opr": "ct", "value": "癸全选"}],
        "values": {"next_step": "全选"}}).get_json()
    assert sorted(body["ids"]) == sorted([deals["癸全选一"], deals["癸全选二"]]) and body["failed"] == []
    assert read(world, [deals["癸全选外"]], "next_step") == {deals["癸全选外"]: None}
    bad = manager.post("/api/v1/opportunity/bulk", json={
        "action": "update", "all": True, "filters": [{"col": "name", "opr": "nope", "value": "x"}],
        "values": {"next_step": "x"}})
    assert bad.status_code == 400


@pytest.mark.parametrize("body", [[], {"action": "explode", "ids": [1]}, {"action": "update", "ids": "1"},
                                  {"action": "update", "ids": [1], "values": []}, {"action": "delete", "ids": [True]},
                                  {"action": "delete"}])
def test_bad_bodies_are_400(world: Any, body: Any) -> None:
    assert client_for(world, "admin").post("/api/v1/opportunity/bulk", json=body).status_code == 400


def test_statements_per_row_stay_flat(world: Any) -> None:
    admin = client_for(world, "admin")
    counts = []
    for n in (5, 15):
        deals = make_deals(world, *[(f"计数{n}-{i}", "sales_rep", 10) for i in range(n)])
        with count_queries(world["app"]) as statements:
            answer = admin.post("/api/v1/opportunity/bulk", json={
                "action": "update", "ids": list(deals.values()), "values": {"next_step": "计数"}})
        assert answer.status_code == 200 and answer.get_json()["done"] == n
        counts.append(len(statements))
    per_row = (counts[1] - counts[0]) / 10
    assert per_row <= 7, counts  # re-read after the previous commit, UPDATE, change log, outbox event
