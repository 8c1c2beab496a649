"""The record page's history timeline, in a real browser: an edit made through the form
shows as who, field, old → new, next to the stage moves."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.browser.test_screens import api_record, data_rows, go, row_id, save_form


def test_an_edit_shows_in_the_record_timeline(page: Any) -> None:
    go(page, "/crm/contact/list/")
    contact_id = row_id(data_rows(page).first)
    before = api_record(page, "contact", contact_id)
    go(page, f"/crm/contact/edit/{contact_id}")
    page.fill("#name", "历史记录测试")
    save_form(page)
    go(page, f"/crm/contact/show/{contact_id}")
    timeline = page.locator(".crm-timeline")
    expect(timeline).to_be_visible()
    edit = timeline.locator("tr.crm-timeline-updated").first
    expect(edit).to_contain_text("历史记录测试")
    expect(edit).to_contain_text(before["name"])
    expect(edit).to_contain_text("Admin")
