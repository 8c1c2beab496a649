"""My settings in a real browser, in zh: the user menu leads there, a zone is chosen and saved,
and the page then says the time in that zone (the clock frozen at 02:30 UTC: still the 31st in
New York)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.test_screens import click_and_wait, switch_language


@pytest.fixture
def live_app(make_app: Any) -> Any:
    return make_app(WTF_CSRF_ENABLED=True, CRM_FROZEN_NOW="2026-06-01T02:30:00+00:00")


def test_choose_my_time_zone_from_the_user_menu(page: Any) -> None:
    switch_language(page, "中文")
    page.locator(".navbar a.dropdown-toggle:has(.fa-user)").click()
    click_and_wait(page, page.locator("#crm-my-settings-link"))
    expect(page.locator("h3")).to_contain_text("个人设置")
    expect(page.locator("#my-settings-now")).to_contain_text("2026-06-01 10:30")  # the CRM's zone: Shanghai
    page.select_option("#time_zone", "America/New_York")
    click_and_wait(page, page.locator("#my-settings-save"))
    expect(page.locator(".alert")).to_contain_text("设置已保存")
    expect(page.locator("#time_zone")).to_have_value("America/New_York")
    expect(page.locator("#my-settings-now")).to_contain_text("2026-05-31 22:30")
