"""Each starter dashboard, drawn by plotly.js in Chromium, with no request leaving the machine.

The page guard fails a test on any off-box request (a CDN), a 5xx or a
JavaScript error. A dashboard shows its layout before any chart has answered,
then each chart draws from its JSON endpoint; a chart that fails or is left out
says so in its own box. Clicking a bar opens the list of the records behind it.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from app.demo.users import DEMO_PASSWORD, create_demo_users
from tests.browser.conftest import guarded_page

CHART_JSON = re.compile(r"/crm/dashboards/.*\.json$")
TEXT = {"en": {"loading": "Loading", "failed": "could not be loaded", "title": "Open pipeline by stage"},
        "zh": {"loading": "加载中", "failed": "图表加载失败", "title": "各阶段在途金额"}}


def _wait_drawn(page: Any) -> int:
    """Wait until no chart box is still loading; the number of plots drawn."""
    page.wait_for_function("() => document.querySelectorAll('.crm-chart').length > 0 && "
                           "!document.querySelector('.crm-chart[data-state=loading]')")
    count = page.locator(".crm-plot").count()
    assert page.locator(".crm-plot[data-drawn='1']").count() == count
    return count


def _switch_language(page: Any, lang: str) -> None:
    if lang == "en":
        return
    with page.expect_navigation(wait_until="domcontentloaded"):
        page.evaluate("l => document.querySelector(`form[action='/lang/${l}']`).submit()", lang)


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


@pytest.fixture
def demo_users(live_app: Any) -> None:
    """The starter's demo users (one per role) next to the demo data."""
    with live_app.app_context():
        crm = live_app.extensions["crm"]
        assert create_demo_users(crm.appbuilder, crm.models)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_home_shows_its_layout_before_the_charts_then_draws_them(browser: Any, live_server: str, live_app: Any,
                                                                page_guard: Any, lang: str) -> None:
    charts = live_app.extensions["crm"].spec.dashboard_map["sales"].charts
    held: list[Any] = []
    released = {"now": False}

    def hold(route: Any) -> None:  # the charts answer only when the test says so
        if released["now"]:
            route.continue_()
        else:
            held.append(route)

    with guarded_page(browser, live_server, page_guard) as page:
        _switch_language(page, lang)
        page.route(CHART_JSON, hold)
        page.goto("/", wait_until="load")
        boxes = page.locator(".crm-chart")
        assert boxes.count() == len(charts)
        assert page.locator(".crm-chart[data-state=loading]").count() == len(charts)
        assert page.locator(".crm-chart-loading").first.is_visible()
        assert TEXT[lang]["loading"] in page.locator(".crm-chart-loading").first.inner_text()
        assert TEXT[lang]["title"] in page.locator("#chart-pipeline_by_stage .panel-heading").inner_text()
        assert page.locator(".crm-plot").count() == 0
        released["now"] = True
        for route in held:
            route.continue_()
        drawn = _wait_drawn(page)
        assert drawn >= 3 and page.locator(".crm-plot .main-svg").count() >= drawn
        assert page.locator(".crm-chart[data-state=failed]").count() == 0
        kpi = page.locator("#chart-won_this_quarter .crm-kpi-value")
        assert kpi.count() == 1
        card = page.evaluate("src => fetch(src).then(r => r.json())",
                             page.locator("#chart-won_this_quarter").get_attribute("data-src"))["kpi"]
        assert kpi.inner_text() == card["value"]  # in the language's units (¥350万), the exact figure on hover
        assert kpi.get_attribute("title") == (card["exact"] if card["exact"] != card["value"] else None)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_failed_and_a_left_out_chart_say_so_in_their_own_box(browser: Any, live_server: str, page_guard: Any,
                                                              demo_users: None, lang: str) -> None:
    """Support Agent may not see amounts: those charts say so; a chart whose request fails
    says that; every other chart still draws."""
    with guarded_page(browser, live_server, page_guard, "support_agent", DEMO_PASSWORD) as page:
        _switch_language(page, lang)
        page.route(re.compile(r"/new_business/by_stage\.json$"), lambda route: route.abort("failed"))
        page.goto("/crm/dashboards/pipeline/opportunity/new_business/", wait_until="load")
        drawn = _wait_drawn(page)
        failed = page.locator("#chart-by_stage[data-state=failed] .crm-chart-failed")
        assert failed.count() == 1 and TEXT[lang]["failed"] in failed.inner_text()
        left_out = page.locator("#chart-amount_by_stage[data-state=omitted] .crm-chart-omitted")
        assert left_out.count() == 1 and left_out.inner_text().strip()
        assert page.locator("#chart-amount_by_stage .crm-plot").count() == 0
        assert drawn >= 2  # funnel, stage time: the others draw
