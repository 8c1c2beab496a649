"""The report builder in a real browser: choose an entity, columns, a filter, run, see the
table; group it and see the chart drawn from the locally served plotly.js; save it (real CSRF).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from tests.browser.test_screens import switch_language


@pytest.fixture
def live_app(live_app: Any) -> Any:
    """The browser app, with the report builder registered if register.py does not yet do it."""
    with live_app.app_context():
        state = live_app.extensions["crm"]
        if "ReportsView" not in {type(v).__name__ for v in state.appbuilder.baseviews}:
            from app.security.sync import sync_permissions
            from app.web.reports import register_reports

            register_reports(state.appbuilder, state.models)
            sync_permissions(state.appbuilder)
        state.db.session.remove()
    return live_app


def _accounts(live_app: Any) -> tuple[list[str], Counter]:
    """Names of all accounts (id order) and the count of opportunities per stage, from the database."""
    with live_app.app_context():
        state = live_app.extensions["crm"]
        session = state.db.session
        account = state.models.model("account")
        names = list(session.scalars(sa.select(account.name).order_by(account.id)))
        opportunity = state.models.model("opportunity")
        stages = Counter(session.scalars(sa.select(opportunity.stage)))
        session.remove()
    return names, stages


def _run(page: Any) -> None:
    """Run the report and wait for the new page's load: its script (entity change, filter rows)
    runs after the table is in the page, so acting on the table's appearance alone races it."""
    with page.expect_navigation():
        page.click("#report-run")


def test_build_run_group_and_save_a_report(page: Any, live_app: Any) -> None:
    names, stages = _accounts(live_app)
    page.goto("/crm/reports/")
    page.select_option("#report-entity", "account")  # reloads with the account's fields
    page.wait_for_url("**/crm/reports/?entity=account")
    for box in page.locator("#report-columns input[type=checkbox]").all():
        box.uncheck()
    page.check("#report-columns input[value='name']")
    _run(page)
    table = page.locator("#report-table")
    expect(table).to_be_visible()
    expect(table.locator("thead th")).to_have_text(["Account name"])
    cells = table.locator("tbody td")
    expect(cells).to_have_count(min(len(names), 100))
    assert cells.all_inner_texts() == names[:100]

    page.select_option("#report-entity", "opportunity")
    page.wait_for_url("**/crm/reports/?entity=opportunity")
    page.select_option("#report-group", "stage")
    page.select_option("#report-measure", "count")
    page.select_option("#report-kind", "bar")
    _run(page)
    rows = page.locator("#report-table tbody tr")
    expect(rows).to_have_count(len(stages))
    counts = {row.locator("td").nth(0).inner_text(): int(row.locator("td").nth(1).inner_text()) for row in rows.all()}
    assert sorted(counts.values()) == sorted(stages.values())
    if live_app.extensions.get("crm_plotly_url"):
        expect(page.locator("#report-chart .main-svg").first).to_be_visible()
        expect(page.locator("#report-chart .bars .point")).to_have_count(len(stages))

    page.fill("#report-save input[name=name]", "按阶段统计商机")
    page.click("#report-save-button")
    page.wait_for_url("**/crm/reports/*")
    expect(page.locator("#report-name")).to_have_text("按阶段统计商机")
    expect(page.locator("#report-saved")).to_contain_text("按阶段统计商机")
    expect(page.locator("#report-table tbody tr")).to_have_count(len(stages))


def _deals(live_app: Any) -> list[Any]:
    """(stage, close_date, amount, account name) of every opportunity, from the database."""
    with live_app.app_context():
        state = live_app.extensions["crm"]
        session = state.db.session
        opportunity, account = state.models.model("opportunity"), state.models.model("account")
        rows = session.execute(sa.select(opportunity.stage, opportunity.close_date, opportunity.amount,
                                         account.name.label("account")).join(account, opportunity.account_id == account.id)).all()
        session.remove()
    return rows


def _filter_row(page: Any, index: int) -> Any:
    return page.locator("[data-filter-row]").nth(index)


def test_choose_an_entity_and_filter_by_labels_in_english(page: Any, live_app: Any) -> None:
    deals = _deals(live_app)
    page.goto("/crm/reports/")
    page.select_option("#report-entity", "opportunity")
    page.wait_for_url("**/crm/reports/?entity=opportunity")
    expect(page.locator("#report-error")).to_have_count(0)  # was 400 "choose at least one column"
    expect(page.locator("#report-table tbody tr")).to_have_count(min(len(deals), 100))
    expect(page.locator("#report-totals")).to_contain_text(f"Total · {len(deals)} records")
    expect(page.locator("#report-table tbody")).to_contain_text("¥")

    row = _filter_row(page, 0)
    row.locator("[data-filter-field]").select_option("stage")
    ops = row.locator("[data-filter-op] option")
    expect(ops).to_have_text(["is", "is not", "is any of", "is none of", "is empty"])
    row.locator("[data-filter-op]").select_option(label="is any of")
    values = row.locator("[data-filter-value-box] select")
    expect(values.locator("option")).to_contain_text(["Prospecting", "Won", "Lost"])
    values.select_option(label=["Won", "Lost"])
    page.click("#report-add-filter")
    row = _filter_row(page, 1)
    row.locator("[data-filter-field]").select_option("close_date")
    row.locator("[data-filter-op]").select_option(label="between")
    dates = row.locator("[data-filter-value-box] input[type=date]")
    expect(dates).to_have_count(2)
    dates.nth(0).fill("2020-01-01")
    dates.nth(1).fill("2030-12-31")
    _run(page)
    expected = [d for d in deals if d.stage in ("won", "lost") and d.close_date is not None
                and dt.date(2020, 1, 1) <= d.close_date <= dt.date(2030, 12, 31)]
    expect(page.locator("#report-totals")).to_contain_text(f"{len(expected)} records")
    total = sum((d.amount for d in expected if d.amount is not None), Decimal(0))
    expect(page.locator("#report-totals")).to_contain_text(f"¥{total:,.2f}")
    # the filters come back as the user chose them: labels and dates, never codes
    row = _filter_row(page, 0)
    expect(row.locator("[data-filter-value-box] select option:checked")).to_have_text(["Won", "Lost"])
    expect(_filter_row(page, 1).locator("input[type=date]").nth(1)).to_have_value("2030-12-31")


def test_link_picker_and_a_bad_value_said_next_to_its_row_in_chinese(page: Any, live_app: Any) -> None:
    deals = _deals(live_app)
    switch_language(page, "中文")
    page.goto("/crm/reports/?entity=opportunity")
    row = _filter_row(page, 0)
    row.locator("[data-filter-field]").select_option("stage")
    expect(row.locator("[data-filter-op] option")).to_have_text(["等于", "不等于", "属于其中之一", "不属于其中任何一个", "为空"])
    row.locator("[data-filter-value-box] select").select_option(label="成交")
    page.click("#report-add-filter")
    row = _filter_row(page, 1)
    row.locator("[data-filter-field]").select_option("account")
    name = next(d.account for d in deals if d.stage == "won")
    row.locator(".crm-report-picker .select2-selection").click()
    page.locator(".select2-container--open .select2-search__field").press_sequentially(name, delay=20)
    option = page.locator(".select2-container--open .select2-results__option", has_text=name)
    expect(option).to_have_count(1)
    option.click()
    _run(page)
    expected = [d for d in deals if d.stage == "won" and d.account == name]
    expect(page.locator("#report-totals")).to_contain_text(f"合计 · {len(expected)} 条记录")
    expect(_filter_row(page, 1).locator(".select2-selection__rendered")).to_contain_text(name)  # a title, not an id

    page.click("#report-add-filter")
    row = _filter_row(page, 2)
    row.locator("[data-filter-field]").select_option("amount")
    row.locator("[data-filter-op]").select_option(label="大于等于")
    row.locator("[data-filter-value-box] input[type=text]").fill("很多")
    _run(page)
    bad = _filter_row(page, 2)
    expect(bad.locator(".crm-report-control-error")).to_contain_text("很多")
    expect(bad).to_have_class(re.compile("has-error"))
    expect(page.locator("#report-table")).to_have_count(0)  # never the report with the filter left out
    expect(bad.locator("[data-filter-value-box] input[type=text]")).to_have_value("很多")
