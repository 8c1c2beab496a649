"""The lead pool (公海) in a real browser: a rep finds the pool from the lead list, claims a
lead with its button and lands on it, now theirs; past the daily limit the refusal is shown."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from app.demo.users import DEMO_PASSWORD, create_demo_users
from tests.browser.conftest import PageGuard, guarded_page


@pytest.fixture
def pooled(live_app: Any) -> dict[str, int]:
    """Demo users; six more leads in the pool (owned by admin, flag set), as the recycling leaves them
    (the demo data has some there already: counted under "before")."""
    with live_app.app_context():
        state = live_app.extensions["crm"]
        session = state.db.session
        create_demo_users(state.appbuilder, state.models)
        users = {u.username: u.id for u in session.query(state.appbuilder.sm.user_model)}
        model = state.models.model("lead")
        before = session.query(model).filter(model.in_pool.is_(True)).count()
        rows = [model(name=f"公海线索{i}", status="new", in_pool=True, owner_id=users["admin"]) for i in range(6)]
        session.add_all(rows)
        session.commit()
        ids = {row.name: row.id for row in rows} | {f"user:{k}": v for k, v in users.items()} | {"before": before}
        session.remove()
    return ids


@pytest.fixture
def rep_page(browser: Any, live_server: str, page_guard: PageGuard, pooled: dict[str, int]) -> Iterator[Any]:
    with guarded_page(browser, live_server, page_guard, "sales_rep2", DEMO_PASSWORD) as pg:
        yield pg


def test_a_rep_claims_a_lead_from_the_pool_page(rep_page: Any, pooled: dict[str, int]) -> None:
    page = rep_page
    page.goto("/crm/lead/list/", wait_until="domcontentloaded")
    with page.expect_navigation(wait_until="domcontentloaded"):
        page.locator("#crm-pool").click()
    assert page.url.endswith("/crm/lead/pool/")
    expect(page.locator("#pool-records tr[data-id]")).to_have_count(6 + pooled["before"])
    pk = pooled["公海线索3"]
    with page.expect_navigation(wait_until="domcontentloaded"):
        page.locator(f"#pool-records tr[data-id='{pk}'] button.crm-claim").click()
    expect(page.locator("div.alert-success")).to_contain_text("Claimed")
    assert page.url.endswith(f"/crm/lead/show/{pk}")
    answer = page.request.get(f"/api/v1/lead/{pk}", params={"q": "(columns:!(owner,in_pool))"})
    assert answer.status == 200 and answer.json()["result"]["owner"]["id"] == pooled["user:sales_rep2"]
    assert answer.json()["result"]["in_pool"] is False
    page.goto("/crm/lead/pool/", wait_until="domcontentloaded")
    expect(page.locator("#pool-records tr[data-id]")).to_have_count(5 + pooled["before"])
    expect(page.locator("#pool-today")).to_contain_text("1 of 5")
    for _ in range(4):  # up to the limit of five a day
        with page.expect_navigation(wait_until="domcontentloaded"):
            page.locator("#pool-records button.crm-claim").first.click()
        expect(page.locator("div.alert-success")).to_be_visible()
        page.goto("/crm/lead/pool/", wait_until="domcontentloaded")
    with page.expect_navigation(wait_until="domcontentloaded"):
        page.locator("#pool-records button.crm-claim").first.click()
    expect(page.locator("div.alert-danger")).to_contain_text("You have claimed 5 today")
    expect(page.locator("#pool-records tr[data-id]")).to_have_count(1 + pooled["before"])
