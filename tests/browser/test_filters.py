"""The list's filter bar in a real browser (issue 17, part 1): a choice offers only operators
that work, a date filter has a native date input (FAB's called a missing datetimepicker and
threw), between takes two dates and survives a reload, relative ranges are a select. Counts
are checked against the API with the same filter; JS errors fail the test (conftest guard)."""

from __future__ import annotations

import re
from typing import Any

import prison
from playwright.sync_api import expect

from tests.browser.test_screens import click_and_wait, go, record_count


def api_count(page: Any, entity: str, col: str, opr: str, value: Any) -> int:
    q = prison.dumps({"filters": [{"col": col, "opr": opr, "value": value}], "page_size": 1})
    response = page.request.get(f"/api/v1/{entity}/?q={q}")
    assert response.status == 200, response.text()[:300]
    return response.json()["count"]


def add_filter(page: Any, label: str) -> Any:
    # crm-filters.js shapes a new row's operators from a ready handler's observer: wait for it
    page.locator("#filter_form table.filters tbody[data-crm-ready]").wait_for(state="attached")
    toggle = page.locator("#filter_form button.dropdown-toggle")
    if not toggle.is_visible():  # the search panel is closed while no filter applies
        page.locator("#accordion1 a.accordion-toggle").click()
    toggle.click()
    page.locator("#filter_form a.filter", has_text=label).click()
    return page.locator("#filter_form table.filters tbody tr").last


def choose_operator(page: Any, row: Any, label: str) -> None:
    """The operator select is a select2: open it and click the operator by its label."""
    row.locator(".select2-selection").click()
    page.locator(".select2-container--open .select2-results__option", has_text=re.compile(f"^{label}$")).click()


def operators(page: Any, row: Any) -> list[str]:
    return [t.strip() for t in row.locator("select.filter-op option").all_inner_texts()]


def search(page: Any) -> None:
    click_and_wait(page, page.locator("#filter_form button[type=submit]"))


def test_choice_filter_offers_working_operators_and_filters(page: Any) -> None:
    go(page, "/crm/opportunity/list/")
    row = add_filter(page, "Stage")
    assert operators(page, row) == ["Is", "Is not", "Is any of", "Is none of"]
    row.locator("select.filter_val").select_option(label="Won")
    search(page)
    assert record_count(page) == api_count(page, "opportunity", "stage", "eq", "won")
    expect(page.locator("#filter_form table.filters tbody tr")).to_have_count(1)  # the chip says what applies

    choose_operator(page, page.locator("#filter_form table.filters tbody tr").first, "Is any of")
    values = page.locator("#filter_form select.filter_val")
    expect(values).to_have_attribute("multiple", "")
    values.select_option(label=["Won", "Lost"])
    search(page)
    assert record_count(page) == api_count(page, "opportunity", "stage", "in", ["won", "lost"])
    # after the reload one row holds both values again
    expect(page.locator("#filter_form table.filters tbody tr")).to_have_count(1)
    selected = page.locator("#filter_form select.filter_val option:checked")
    expect(selected).to_have_count(2)


def test_date_filter_between_and_relative_ranges(page: Any) -> None:
    go(page, "/crm/opportunity/list/")
    row = add_filter(page, "Expected close date")
    assert operators(page, row) == ["On", "Not on", "After", "Before", "Between", "Within"]
    expect(row.locator("input.filter_val[type=date]")).to_have_count(1)
    choose_operator(page, row, "Between")
    dates = row.locator("input.filter_val[type=date]")
    expect(dates).to_have_count(2)
    dates.nth(0).fill("2026-01-01")
    dates.nth(1).fill("2027-06-30")
    search(page)
    wanted = api_count(page, "opportunity", "close_date", "between", ["2026-01-01", "2027-06-30"])
    assert record_count(page) == wanted
    row = page.locator("#filter_form table.filters tbody tr")
    expect(row).to_have_count(1)
    expect(row.locator("input.filter_val[type=date]").nth(0)).to_have_value("2026-01-01")
    expect(row.locator("input.filter_val[type=date]").nth(1)).to_have_value("2027-06-30")

    choose_operator(page, row, "Within")
    ranges = row.locator("select.crm-range")
    expect(ranges).to_have_count(1)
    ranges.select_option(label="Last 30 days")
    search(page)
    assert record_count(page) == api_count(page, "opportunity", "close_date", "range", "last_30_days")
    expect(page.locator("#filter_form select.crm-range")).to_have_value("last_30_days")
