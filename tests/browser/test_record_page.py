"""The record page in a real browser (issue 17, part 2): a new deal saved from the form lands
on its page (title, stage path, Edit, Delete); an impossible date typed in the form comes back
as a field error with the text kept (FAB's date picker emptied it before the post), in en and
zh; Delete asks, then goes to the list."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.browser.test_screens import (
    api_record,
    click_and_wait,
    field_cell,
    go,
    pick,
    save_form,
    switch_language,
)


def test_add_edit_and_delete_from_the_record_page(page: Any) -> None:
    go(page, "/crm/opportunity/add")
    page.fill("#name", "浏览器里的大单")
    accounts = page.request.get("/api/v1/account/?q=(columns:!(name),page_size:1)").json()["result"]
    pick(page, "account", accounts[0]["name"][:4], accounts[0]["name"])
    page.select_option("#stage", "prospecting")
    save_form(page)
    match = re.search(r"/crm/opportunity/show/(\d+)$", page.url)
    assert match, page.url
    pk = int(match.group(1))
    expect(page.locator("h2.crm-record-title")).to_have_text("浏览器里的大单")
    expect(page.locator(".crm-stage-path li[aria-current=step]")).to_have_attribute("data-stage", "prospecting")

    click_and_wait(page, page.locator("#crm-edit"))
    page.fill("#close_date", "2026-13-45")
    save_form(page)
    assert page.url.endswith(f"/crm/opportunity/edit/{pk}")
    expect(field_cell(page, "close_date").locator(".alert-danger")).to_contain_text("Not a date (YYYY-MM-DD).")
    expect(page.locator("#close_date")).to_have_value("2026-13-45")  # kept, not emptied
    page.fill("#close_date", "2026-12-31")
    page.fill("#name", "浏览器里的大单 二期")
    save_form(page)
    assert page.url.endswith(f"/crm/opportunity/show/{pk}")
    expect(page.locator("h2.crm-record-title")).to_have_text("浏览器里的大单 二期")
    assert api_record(page, "opportunity", pk)["close_date"] == "2026-12-31"

    page.once("dialog", lambda dialog: dialog.accept())
    click_and_wait(page, page.locator("#crm-delete"))
    assert page.url.endswith("/crm/opportunity/list/")
    assert page.request.get(f"/api/v1/opportunity/{pk}").status == 404


def test_impossible_date_in_chinese(page: Any) -> None:
    ids = page.request.get("/api/v1/opportunity/?q=(page_size:1)").json()["ids"]
    go(page, f"/crm/opportunity/edit/{ids[0]}")
    switch_language(page, "中文")
    page.fill("#close_date", "2026-13-45")
    save_form(page)
    expect(field_cell(page, "close_date").locator(".alert-danger")).to_contain_text("日期无效（格式 YYYY-MM-DD）。")
    expect(page.locator("#close_date")).to_have_value("2026-13-45")
