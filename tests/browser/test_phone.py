"""A 390 px phone screen (issue 17, part 5): no page is wider than the screen; wide tables
scroll sideways inside their own box instead of pushing the page out."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.test_screens import go

WIDTH = 390


def overflow(page: Any) -> int:
    """How far the page is wider than the screen (0: it fits)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def wide_tables_scroll_inside(page: Any) -> list[str]:
    """Tables wider than the screen whose box does not scroll sideways."""
    return page.evaluate("""() => Array.from(document.querySelectorAll('table')).filter(t =>
        t.offsetParent !== null && t.scrollWidth > window.innerWidth).filter(t => {
          for (let el = t.parentElement; el && el !== document.body; el = el.parentElement) {
            const x = getComputedStyle(el).overflowX;
            if ((x === 'auto' || x === 'scroll') && el.clientWidth <= window.innerWidth) return false;
          }
          return true;
        }).map(t => t.id || t.className)""")


@pytest.mark.parametrize("path", ["/crm/opportunity/list/", "/crm/ticket/list/", "/crm/dashboards/",
                                  "/crm/opportunity/show/1", "/crm/lead/list/"])
def test_pages_fit_a_phone_and_tables_scroll(page: Any, path: str) -> None:
    page.set_viewport_size({"width": WIDTH, "height": 844})
    go(page, path)
    page.wait_for_load_state("load")
    assert wide_tables_scroll_inside(page) == []
    assert overflow(page) <= 0, f"{path} is {overflow(page)} px wider than a {WIDTH} px screen"
