"""A 1366 px laptop screen, the most common one (and a tablet below): the top bar holds its menus, the search box and
the user menu on one row, and the list's buttons (boards, exports, import) on one row too.

On Bootstrap's 1170 px container the admin's bar wrapped to two rows and the list's buttons
to two lines (the search box kept two thirds of the row for a 520 px field)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.test_screens import go

SPREAD = """sel => {
  const boxes = Array.from(document.querySelectorAll(sel)).filter(el => el.offsetParent !== null)
    .map(el => el.getBoundingClientRect());
  const tops = boxes.map(b => b.top), heights = boxes.map(b => b.height);
  return {count: boxes.length, spread: Math.max(...tops) - Math.min(...tops), lowest: Math.min(...heights)};
}"""
BAR = ".navbar-collapse > .navbar-nav > li, .navbar-collapse > .crm-global-search"


def one_row(page: Any, selector: str, least: int) -> bool:
    """The things `selector` finds (at least `least` of them) start less than one's height apart."""
    box = page.evaluate(SPREAD, selector)
    assert box["count"] >= least, (selector, box)
    return box["spread"] < box["lowest"]


def to_chinese(page: Any) -> None:
    with page.expect_navigation(wait_until="load"):
        page.evaluate("document.querySelector('button[data-locale=zh]').closest('form').submit()")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_top_bar_and_list_buttons_keep_one_row_on_a_laptop(page: Any, lang: str) -> None:
    page.set_viewport_size({"width": 1366, "height": 768})
    go(page, "/crm/opportunity/list/")
    page.wait_for_load_state("load")
    if lang == "zh":
        to_chinese(page)
    assert one_row(page, BAR, 10), "the top bar wrapped"  # the admin's menus: the widest bar
    assert page.evaluate("document.querySelector('.navbar').offsetHeight") < 60
    assert one_row(page, ".crm-list-boards > .btn, .crm-list-boards > .btn-group", 4), "the list's buttons wrapped"


def test_a_tablet_gets_the_menus_behind_the_toggle(page: Any) -> None:
    """At 768-991 px Bootstrap drew the whole bar, three rows high (200 px) for the admin."""
    page.set_viewport_size({"width": 900, "height": 700})
    go(page, "/crm/opportunity/list/")
    page.wait_for_load_state("load")
    assert page.evaluate("document.querySelector('.navbar').offsetHeight") < 60
    assert not page.locator("#crm-global-search").is_visible()
    page.click(".navbar-toggle")
    page.locator("#crm-global-search").wait_for(state="visible")
    page.locator(".navbar-nav > li > a.dropdown-toggle", has_text="Customers").click()
    with page.expect_navigation(wait_until="load"):
        page.locator(".navbar-nav .dropdown-menu a[href='/crm/contact/list/']").click()
    assert page.url.endswith("/crm/contact/list/")
