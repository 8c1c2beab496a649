"""Bulk update, saved views and the column chooser in a real browser (issue 17 item 3), en and zh:
tick rows, choose a field and value, see each refused row; save a view and reopen it; pick and
order columns and find them remembered."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from app.demo.users import DEMO_PASSWORD, create_demo_users
from tests.browser.conftest import PageGuard, guarded_page, wait_for_list_actions
from tests.browser.test_screens import click_and_wait, go, switch_language

LIST = "/crm/opportunity/list/?q=" + "浏览器批量"
TEXT = {
    "en": {"summary": "1 changed, 1 not changed.", "actions": "Actions", "stage": "Proposal",
           "name": "Opportunity name", "stage_head": "Stage", "close": "Amount"},
    "zh": {"summary": "已处理 1 条，1 条未处理。", "actions": "操作", "stage": "方案提供",
           "name": "商机名称", "stage_head": "阶段", "close": "金额"},
}


@pytest.fixture
def deals(live_app: Any) -> dict[str, int]:
    with live_app.app_context():
        state = live_app.extensions["crm"]
        session = state.db.session
        create_demo_users(state.appbuilder, state.models)
        users = {u.username: u.id for u in session.query(state.appbuilder.sm.user_model)}
        account = state.models.model("account")(name="浏览器批量客户", owner_id=users["sales_rep"])
        session.add(account)
        session.flush()
        model = state.models.model("opportunity")
        rows = {key: model(name=name, account_id=account.id, deal_type="new_business", stage="prospecting",
                           amount=amount, owner_id=users["sales_rep"])
                for key, name, amount in (("ok", "浏览器批量有金额", 800), ("gate", "浏览器批量无金额", None))}
        session.add_all(rows.values())
        session.commit()
        ids = {key: row.id for key, row in rows.items()}
        session.remove()
    return ids


@pytest.fixture
def manager_page(browser: Any, live_server: str, page_guard: PageGuard, deals: dict[str, int]) -> Iterator[Any]:
    with guarded_page(browser, live_server, page_guard, "sales_manager", DEMO_PASSWORD) as pg:
        yield pg


def in_language(page: Any, lang: str) -> None:
    if lang == "zh":
        go(page, "/crm/opportunity/list/")
        switch_language(page, "中文")


def header_texts(page: Any) -> list[str]:
    return [t.strip() for t in page.locator("table.table thead th").all_inner_texts() if t.strip()]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_bulk_update_from_the_list_reports_the_refused_row(manager_page: Any, deals: dict[str, int],
                                                           lang: str) -> None:
    page, text = manager_page, TEXT[lang]
    in_language(page, lang)
    go(page, LIST)
    wait_for_list_actions(page)
    for key in ("ok", "gate"):
        page.locator(f"input.action_check[value='{deals[key]}']").check()
    page.select_option("#crm-bulk-field", "stage")
    page.locator("#crm-bulk-value").select_option(label=text["stage"])  # a choice: a list of its labels
    page.locator("button.dropdown-toggle", has_text=text["actions"]).click()
    click_and_wait(page, page.locator("a.bulk_update_menu_item"))
    expect(page.locator("#crm-bulk-summary")).to_have_text(text["summary"])
    refused = page.locator(f"#crm-bulk-failures tr[data-id='{deals['gate']}']")
    expect(refused).to_contain_text("浏览器批量无金额")
    expect(refused.locator(".crm-bulk-reason")).to_contain_text("金额" if lang == "zh" else "Amount")
    stage = page.request.get(f"/api/v1/opportunity/{deals['ok']}").json()["result"]["stage"]
    assert stage == "proposal"
    click_and_wait(page, page.locator("#crm-bulk-back"))
    assert "/crm/opportunity/list/" in page.url


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_save_a_view_reopen_it_and_choose_columns(manager_page: Any, deals: dict[str, int], lang: str) -> None:
    page, text = manager_page, TEXT[lang]
    in_language(page, lang)
    go(page, LIST)
    # the column chooser: untick all but the name and the stage, stage first
    page.locator("#crm-columns-open").click()
    for box in page.locator("#crm-columns-list input.crm-column-check").all():
        if box.get_attribute("value") not in ("name", "stage"):
            box.uncheck()
        else:
            box.check()
    stage_row = page.locator("#crm-columns-list li[data-column='stage']")
    while page.locator("#crm-columns-list li").first.get_attribute("data-column") != "stage":
        stage_row.locator("button").first.click()
    click_and_wait(page, page.locator("#crm-columns-apply"))
    assert header_texts(page) == [text["stage_head"], text["name"]]
    go(page, LIST)  # remembered
    assert header_texts(page) == [text["stage_head"], text["name"]]
    # save the list as a view, go elsewhere, reopen it from the Views menu
    page.locator("#crm-views-menu").click()
    page.locator("#crm-view-save-open").click()
    page.fill("#crm-view-name", f"浏览器视图{lang}")
    click_and_wait(page, page.locator("#crm-view-save-go"))
    expect(page.locator("#crm-view-active")).to_have_text(f"浏览器视图{lang}")
    page.locator("#crm-columns-open").click()
    click_and_wait(page, page.locator("#crm-columns-reset"))
    assert text["close"] in header_texts(page)
    page.locator("#crm-views-menu").click()
    click_and_wait(page, page.locator("a.crm-view-link", has_text=f"浏览器视图{lang}"))
    assert header_texts(page) == [text["stage_head"], text["name"]]
    assert "q=" in page.url  # the view's search came back with it
    expect(page.locator("table.table tbody").last).to_contain_text("浏览器批量有金额")
