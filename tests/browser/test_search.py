"""The top-bar search in Chromium: "/" focuses it, Enter opens the results grouped by
entity, a result opens its record; a Sales Rep never sees another rep's deal.

The page guard fails a test on any off-box request, a 5xx or a JavaScript error.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from tests.browser.conftest import guarded_page

PASSWORD = "pw-1234567"


def _seed(app: Any) -> dict[str, int]:
    with app.app_context():
        state = app.extensions["crm"]
        sm, session, models = state.appbuilder.sm, state.db.session, state.models
        rep = sm.add_user("rep_search", "王", "小明", "rep_search@example.cn", sm.find_role("Sales Rep"), PASSWORD)
        admin = sm.find_user(username="admin")
        account, deal = models.model("account"), models.model("opportunity")
        acme = account(name="星辰测试客户有限公司", owner_id=rep.id)
        session.add(acme)
        session.flush()
        mine = deal(name="星辰商机-我的", account_id=acme.id, stage="prospecting", owner_id=rep.id)
        theirs = deal(name="星辰商机-别人的", account_id=acme.id, stage="prospecting", owner_id=admin.id)
        session.add_all([mine, theirs])
        session.commit()
        ids = {"account": acme.id, "mine": mine.id, "theirs": theirs.id}
        session.remove()
        return ids


def test_top_bar_search_opens_results_and_a_record(browser: Any, live_server: str, live_app: Any,
                                                    page_guard: Any) -> None:
    ids = _seed(live_app)
    with guarded_page(browser, live_server, page_guard) as page:
        page.goto("/", wait_until="load")
        box = page.locator("#crm-global-search")
        assert box.is_visible()
        page.locator("body").press("/")  # the shortcut in crm.js focuses the box
        assert page.evaluate("document.activeElement && document.activeElement.id") == "crm-global-search"
        page.keyboard.type("  星辰测试客户 ")
        with page.expect_navigation(wait_until="load"):
            page.keyboard.press("Enter")
        assert "/crm/search/" in page.url and "星辰测试客户" in unquote(page.url)
        group = page.locator('.crm-search-group[data-entity="account"]')
        assert group.locator("a").first.inner_text() == "星辰测试客户有限公司"
        with page.expect_navigation(wait_until="load"):
            group.locator("a").first.click()
        assert page.url.endswith(f"/crm/account/show/{ids['account']}")
        # an empty box sends nothing (crm.js), the page stays where it is
        before = page.url
        page.fill("#crm-global-search", "   ")
        page.press("#crm-global-search", "Enter")
        page.wait_for_timeout(300)
        assert page.url == before


def test_a_rep_finds_only_own_deals(browser: Any, live_server: str, live_app: Any, page_guard: Any) -> None:
    ids = _seed(live_app)
    with guarded_page(browser, live_server, page_guard, username="rep_search", password=PASSWORD) as page:
        page.goto("/crm/search/?q=星辰商机", wait_until="load")
        deals = page.locator('.crm-search-group[data-entity="opportunity"] a[data-id]')
        assert deals.all_inner_texts() == ["星辰商机-我的"]
        assert [int(x) for x in deals.evaluate_all("els => els.map(e => e.dataset.id)")] == [ids["mine"]]
        assert "星辰商机-别人的" not in page.content()
        body = page.request.get("/api/v1/search?q=星辰商机").json()
        titles = [r["title"] for g in body["groups"] for r in g["results"]]
        assert titles == ["星辰商机-我的"]
