"""Logging in through the form in a real browser: the other browser tests post their login to the
app directly (tests/browser/conftest.py), so this is where the form itself is driven, right and wrong."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import TIMEOUT_MS, PageGuard, guarded_page
from tests.conftest import ADMIN_PASSWORD


def test_the_login_form_signs_in_and_lands_on_the_home_dashboard(browser: Any, live_server: str,
                                                                  page_guard: PageGuard) -> None:
    with guarded_page(browser, live_server, page_guard, form_login=True) as page:
        assert page.url.rstrip("/") == live_server  # the first dashboard is the home page
        expect(page.locator("#crm-dashboard[data-dashboard=sales]")).to_have_count(1)
        expect(page.locator(".navbar a.dropdown-toggle:has(span.fa-user)")).to_be_visible()


def test_a_wrong_password_stays_on_the_form_and_opens_nothing(browser: Any, live_server: str,
                                                              page_guard: PageGuard) -> None:
    context = browser.new_context(base_url=live_server, locale="en-US")
    context.set_default_timeout(TIMEOUT_MS)
    context.on("response", page_guard.response)
    try:
        page = context.new_page()
        page.goto("/login/", wait_until="domcontentloaded")
        page.fill("#username", "admin")
        page.fill("#password", ADMIN_PASSWORD + "-错")
        with page.expect_navigation(wait_until="domcontentloaded"):
            page.locator("form[name=login] input[type=submit]").click()
        assert "/login" in page.url
        page.goto("/crm/account/list/", wait_until="domcontentloaded")
        assert "/login" in page.url
        expect(page.locator("#username")).to_be_visible()
    finally:
        context.close()
    assert not page_guard.problems(), page_guard.problems()
