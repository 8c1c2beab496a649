"""A stale form save in a real browser: the form comes back saying what changed, nothing is lost."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.browser.test_screens import api_record, data_rows, field_cell, flash, go, row_id, save_form


def test_stale_form_save_shows_what_changed_and_overwrites_nothing(page: Any) -> None:
    go(page, "/crm/contact/list/")
    contact_id = row_id(data_rows(page).first)
    go(page, f"/crm/contact/edit/{contact_id}")
    version = page.locator("#model_form input[name='version']")
    expect(version).to_have_count(1)
    opened = int(version.get_attribute("value"))

    # Someone else saves the contact while the form is open (the API, same login, with the token).
    token = page.locator("#model_form input[name='csrf_token']").get_attribute("value")
    other = page.request.put(f"/api/v1/contact/{contact_id}", data={"title": "采购总监（他人修改）"},
                             headers={"X-CSRFToken": token, "If-Match": f'"{opened}"'})
    assert other.ok, other.text()[:300]

    page.fill("#name", "我的修改")
    save_form(page)

    assert page.url.endswith(f"/crm/contact/edit/{contact_id}")  # the form again, not saved
    expect(flash(page, "warning")).to_contain_text(re.compile(r"changed by someone else.*Changed: Job title", re.S))
    expect(field_cell(page, "title")).to_contain_text("采购总监（他人修改）")
    expect(page.locator("#name")).to_have_value("我的修改")  # what was typed stays
    expect(flash(page, "success")).to_have_count(0)
    stored = api_record(page, "contact", contact_id)
    assert stored["title"] == "采购总监（他人修改）" and stored["name"] != "我的修改"
    expect(version).to_have_value(str(opened + 1))

    # Saving again, knowingly, goes through.
    save_form(page)
    expect(flash(page, "success")).to_contain_text("Saved.")
    assert api_record(page, "contact", contact_id)["name"] == "我的修改"
