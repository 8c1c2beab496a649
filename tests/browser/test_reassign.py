"""Bulk reassign from the list in a real browser (issue 13, item 1): tick rows, choose the new
owner, FAB's Actions menu; a Sales Rep is offered nothing and a forged post is refused."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from app.demo.users import DEMO_PASSWORD, create_demo_users
from tests.browser.conftest import PageGuard, guarded_page, wait_for_list_actions

LIST = "/crm/opportunity/list/?q=" + "批量转交"


@pytest.fixture
def deals(live_app: Any) -> dict[str, int]:
    """Demo users; three deals of the demo Sales Rep, two of them named for the bulk move."""
    with live_app.app_context():
        state = live_app.extensions["crm"]
        session = state.db.session
        create_demo_users(state.appbuilder, state.models)
        users = {u.username: u.id for u in session.query(state.appbuilder.sm.user_model)}
        account = state.models.model("account")(name="批量转交客户", owner_id=users["sales_rep"])
        session.add(account)
        session.flush()
        model = state.models.model("opportunity")
        rows = {key: model(name=name, account_id=account.id, deal_type="new_business", stage="prospecting",
                           owner_id=users["sales_rep"])
                for key, name in (("one", "批量转交一号"), ("two", "批量转交二号"), ("kept", "批量转交之外"))}
        session.add_all(rows.values())
        session.commit()
        ids = {key: row.id for key, row in rows.items()} | {f"user:{k}": v for k, v in users.items()}
        session.remove()
    return ids


def owner(page: Any, pk: int) -> int:
    response = page.request.get(f"/api/v1/opportunity/{pk}", params={"q": "(columns:!(owner))"})
    assert response.status == 200, response.text()
    return response.json()["result"]["owner"]["id"]


@pytest.fixture
def manager_page(browser: Any, live_server: str, page_guard: PageGuard, deals: dict[str, int]) -> Iterator[Any]:
    with guarded_page(browser, live_server, page_guard, "sales_manager", DEMO_PASSWORD) as pg:
        yield pg


@pytest.fixture
def rep_page(browser: Any, live_server: str, page_guard: PageGuard, deals: dict[str, int]) -> Iterator[Any]:
    with guarded_page(browser, live_server, page_guard, "sales_rep", DEMO_PASSWORD) as pg:
        yield pg


def test_a_manager_ticks_two_rows_and_gives_them_to_another_rep(manager_page: Any, deals: dict[str, int]) -> None:
    page = manager_page
    page.goto(LIST, wait_until="domcontentloaded")
    wait_for_list_actions(page)
    for key in ("one", "two"):
        page.locator(f"input.action_check[value='{deals[key]}']").check()
    expect(page.locator("input.action_check:checked")).to_have_count(2)
    page.locator("#crm-reassign-owner + .select2 .select2-selection").click()
    page.locator(".select2-container--open .select2-search__field").press_sequentially("sales_rep2", delay=20)
    option = page.locator(".select2-container--open .select2-results__option", has_text="Sales Rep")
    expect(option).to_have_count(1)
    option.click()
    page.locator("button.dropdown-toggle", has_text="Actions").click()
    with page.expect_navigation(wait_until="domcontentloaded"):
        page.locator("a.reassign_menu_item").click()
    expect(page.locator("div.alert-success")).to_contain_text("Owner changed.")
    assert "/crm/opportunity/list/" in page.url and "q=" in page.url  # back on the same list
    rep2 = deals["user:sales_rep2"]
    assert (owner(page, deals["one"]), owner(page, deals["two"])) == (rep2, rep2)
    assert owner(page, deals["kept"]) == deals["user:sales_rep"]
    # no owner chosen: the error is shown and nothing moves
    page.goto(LIST, wait_until="domcontentloaded")
    wait_for_list_actions(page)
    page.locator(f"input.action_check[value='{deals['kept']}']").check()
    page.locator("button.dropdown-toggle", has_text="Actions").click()
    with page.expect_navigation(wait_until="domcontentloaded"):
        page.locator("a.reassign_menu_item").click()
    expect(page.locator("div.alert-danger")).to_be_visible()
    assert owner(page, deals["kept"]) == deals["user:sales_rep"]


def test_a_rep_is_offered_no_reassign_and_a_forged_post_is_refused(rep_page: Any, deals: dict[str, int]) -> None:
    page = rep_page
    page.goto(LIST, wait_until="domcontentloaded")
    expect(page.locator(f"a[href*='/crm/opportunity/show/{deals['one']}']").first).to_be_visible()
    expect(page.locator("a.reassign_menu_item")).to_have_count(0)
    # rows are ticked for the rep's own export only: no bulk update or delete either
    expect(page.locator("a.export_ticked_menu_item")).to_have_count(1)
    expect(page.locator("a.bulk_update_menu_item, a.bulk_delete_menu_item")).to_have_count(0)
    expect(page.locator("#crm-reassign-owner")).to_have_count(0)
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    forged = page.request.post("/crm/opportunity/action_post", form={
        "csrf_token": token, "action": "reassign", "rowid": str(deals["one"]), "owner": str(deals["user:sales_rep2"])})
    assert forged.status == 403
    assert owner(page, deals["one"]) == deals["user:sales_rep"]
