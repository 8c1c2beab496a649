"""The report builder in a real browser: choose an entity, columns, a filter, run, see the
table; group it and see the chart drawn from the locally served plotly.js; save it (real CSRF).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect


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


def test_build_run_group_and_save_a_report(page: Any, live_app: Any) -> None:
    names, stages = _accounts(live_app)
    page.goto("/crm/reports/")
    page.select_option("#report-entity", "account")  # reloads with the account's fields
    page.wait_for_url("**/crm/reports/?entity=account")
    for box in page.locator("#report-columns input[type=checkbox]").all():
        box.uncheck()
    page.check("#report-columns input[value='name']")
    page.click("#report-run")
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
    page.click("#report-run")
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
