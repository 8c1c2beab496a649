"""Each starter dashboard, drawn by plotly.js in Chromium, with no request leaving the machine.

The page guard fails a test on any off-box request (a CDN), a 5xx or a
JavaScript error. Clicking a bar opens the list of the records behind it.
"""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import guarded_page


def _wait_drawn(page: Any) -> int:
    plots = page.locator(".crm-plot")
    count = plots.count()
    if count:
        page.wait_for_function(
            "n => document.querySelectorAll('.crm-plot[data-drawn=\"1\"]').length === n", arg=count)
    return count


def test_every_starter_dashboard_draws_offline(browser: Any, live_server: str, live_app: Any,
                                               page_guard: Any) -> None:
    spec = live_app.extensions["crm"].spec
    with guarded_page(browser, live_server, page_guard) as page:
        for dashboard in spec.dashboards:
            page.goto(f"/crm/dashboards/{dashboard.name}/", wait_until="load")
            drawn = _wait_drawn(page)
            figures = sum(1 for c in dashboard.charts if c.kind not in ("kpi", "table", "pivot"))
            empty = page.locator(".crm-chart-empty").count()
            assert drawn + empty >= figures, f"{dashboard.name}: {drawn} plots drawn, {empty} empty"
            assert drawn > 0, f"{dashboard.name}: nothing drawn"
            # plotly rendered real SVG into every plot container
            assert page.locator(".crm-plot .main-svg").count() >= drawn
            assert page.locator(".crm-chart").count() == len(dashboard.charts)


def test_home_is_the_first_dashboard_and_a_bar_opens_its_records(browser: Any, live_server: str,
                                                                 page_guard: Any) -> None:
    with guarded_page(browser, live_server, page_guard) as page:
        page.goto("/", wait_until="load")
        assert page.locator("#crm-dashboard[data-dashboard=sales]").count() == 1
        _wait_drawn(page)
        bar = page.locator("#plot-pipeline_by_stage .bars path").first
        with page.expect_navigation(wait_until="domcontentloaded"):
            bar.click(force=True)
        assert "/crm/opportunity/list/" in page.url
        assert "_flt_" in page.url


def test_pipeline_analytics_page_draws(browser: Any, live_server: str, page_guard: Any) -> None:
    with guarded_page(browser, live_server, page_guard) as page:
        page.goto("/crm/dashboards/pipeline/opportunity/new_business/", wait_until="load")
        assert _wait_drawn(page) >= 3
