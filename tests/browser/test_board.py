"""The kanban board in a real browser: native HTML5 drag and drop, real CSRF, server-side gates.

Drops are real drag gestures (Playwright's drag_to on draggable cards); what
was stored is checked through the API with the page's login cookie.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import expect

from app.demo.users import DEMO_PASSWORD, create_demo_users
from tests.browser.conftest import PageGuard, guarded_page

BOARD = "/crm/opportunity/board/new_business"


@pytest.fixture
def board_records(live_app: Any) -> dict[str, int]:
    """Demo users, and three prospecting deals the tests drag around."""
    with live_app.app_context():
        state = live_app.extensions["crm"]
        session = state.db.session
        create_demo_users(state.appbuilder, state.models)
        users = {u.username: u.id for u in session.query(state.appbuilder.sm.user_model)}
        account = state.models.model("account")(name="看板拖拽客户")
        session.add(account)
        session.flush()
        model = state.models.model("opportunity")
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0) + dt.timedelta(days=1)
        rows = {
            "ready": {"name": "Drag me to analysis", "amount": Decimal("52000"),
                      "close_date": dt.date(2026, 12, 1), "owner_id": users["admin"]},
            "no_close": {"name": "No close date deal", "amount": Decimal("31000"),
                         "close_date": None, "owner_id": users["admin"]},
            "rep": {"name": "Rep deal wants Won", "amount": Decimal("88000"),
                    "close_date": dt.date(2026, 11, 30), "owner_id": users["sales_rep"]},
        }
        records = {}
        for i, (key, values) in enumerate(rows.items()):
            record = model(account_id=account.id, deal_type="new_business", stage="prospecting",
                           probability=Decimal(10), changed_on=now + dt.timedelta(minutes=i), **values)
            session.add(record)
            records[key] = record
        for i in range(22):  # older fillers: the prospecting column needs a second page
            session.add(model(name=f"Filler deal {i:02d}", account_id=account.id, deal_type="new_business",
                              stage="prospecting", amount=Decimal(1000 + i), owner_id=users["admin"],
                              changed_on=dt.datetime(2020, 1, 1) + dt.timedelta(hours=i)))
        session.commit()
        ids = {key: r.id for key, r in records.items()}
        session.remove()
    return ids


def column(page: Any, stage: str) -> Any:
    return page.locator(f".crm-column[data-stage='{stage}']")


def card(page: Any, pk: int) -> Any:
    return page.locator(f".crm-card[data-id='{pk}']")


def count_badge(page: Any, stage: str) -> Any:
    return column(page, stage).locator("[data-count]")


def open_board(page: Any) -> None:
    response = page.goto(BOARD, wait_until="domcontentloaded")
    assert response is not None and response.ok
    expect(page.locator(".crm-column")).to_have_count(6)
    expect(column(page, "prospecting").locator("[data-loading]")).to_be_hidden()


def drop(page: Any, pk: int, stage: str) -> Any:
    """Drag card `pk` onto the column of `stage`; return the move response."""
    with page.expect_response(lambda r: r.url.endswith(f"/api/v1/opportunity/{pk}/move")) as info:
        card(page, pk).drag_to(column(page, stage).locator("[data-dropzone]"))
    return info.value


def stored_stage(page: Any, pk: int) -> str:
    response = page.request.get(f"/api/v1/opportunity/{pk}")
    assert response.status == 200
    return response.json()["result"]["stage"]


@pytest.fixture
def rep_page(browser: Any, live_server: str, page_guard: PageGuard, board_records: dict[str, int]) -> Iterator[Any]:
    """A page logged in as the demo Sales Rep (same guards as the admin `page`)."""
    with guarded_page(browser, live_server, page_guard, "sales_rep", DEMO_PASSWORD) as pg:
        yield pg


def test_admin_drags_a_card_forward_and_a_gated_card_snaps_back(page: Any, board_records: dict[str, int]) -> None:
    ready, no_close = board_records["ready"], board_records["no_close"]
    open_board(page)
    expect(card(page, ready)).to_be_visible()
    before = int(count_badge(page, "needs_analysis").inner_text())
    changed_before = card(page, ready).get_attribute("data-changed-on")

    response = drop(page, ready, "needs_analysis")
    assert response.status == 200, response.text()
    expect(column(page, "needs_analysis").locator(f".crm-card[data-id='{ready}']")).to_be_visible()
    expect(count_badge(page, "needs_analysis")).to_have_text(str(before + 1))
    expect(page.locator("#board-alert")).to_be_hidden()
    assert stored_stage(page, ready) == "needs_analysis"
    assert card(page, ready).get_attribute("data-changed-on") == response.json()["result"]["changed_on"]
    assert changed_before is not None

    # Won needs an expected close date: the server refuses, the card goes back, the reason shows.
    won_before = count_badge(page, "won").inner_text()
    refused = drop(page, no_close, "won")
    assert refused.status == 422
    alert = page.locator("#board-alert")
    expect(alert).to_be_visible()
    expect(alert).to_contain_text("fill in")
    expect(alert).to_contain_text("Expected close date")
    expect(column(page, "prospecting").locator(f".crm-card[data-id='{no_close}']")).to_be_visible()
    expect(column(page, "won").locator(f".crm-card[data-id='{no_close}']")).to_have_count(0)
    expect(count_badge(page, "won")).to_have_text(won_before)
    assert stored_stage(page, no_close) == "prospecting"

    # The prospecting column shows 20 cards, then the next page on "More".
    prospecting = column(page, "prospecting")
    total = int(count_badge(page, "prospecting").inner_text())
    assert total > 21
    expect(prospecting.locator(".crm-card")).to_have_count(19)  # 20 loaded, one moved out
    more = prospecting.locator("[data-more]")
    expect(more).to_be_visible()
    more.click()
    expect(prospecting.locator(".crm-card")).to_have_count(min(total, 39))
    if total <= 39:
        expect(more).to_be_hidden()
    ids = prospecting.locator(".crm-card").evaluate_all("cards => cards.map(c => c.dataset.id)")
    assert len(ids) == len(set(ids))

    # The card that moved can move again: its changed_on was updated from the answer (no 409).
    assert drop(page, ready, "proposal").status == 200
    assert stored_stage(page, ready) == "proposal"


def test_sales_rep_may_not_move_into_won(rep_page: Any, board_records: dict[str, int]) -> None:
    page, pk = rep_page, board_records["rep"]
    open_board(page)
    expect(card(page, pk)).to_be_visible()
    # The rep's board holds the rep's records only.
    assert page.locator(".crm-card").count() == 1
    moves: list[str] = []
    page.on("request", lambda r: moves.append(r.url) if r.url.endswith("/move") else None)
    # Won is no drop target for the rep: the board offers it no drop and sends nothing.
    card(page, pk).drag_to(column(page, "won").locator("[data-dropzone]"))
    expect(column(page, "prospecting").locator(f".crm-card[data-id='{pk}']")).to_be_visible()
    expect(column(page, "won").locator(".crm-card")).to_have_count(0)
    assert moves == []
    # The server decides all the same: the same move sent by hand is refused with the reason.
    refused = page.evaluate(
        """async (pk) => {
            const token = document.querySelector("meta[name=crm-csrf-token]").getAttribute("content");
            const r = await fetch(`/api/v1/opportunity/${pk}/move`, {method: "POST", credentials: "same-origin",
                headers: {"Content-Type": "application/json", "X-CSRFToken": token},
                body: JSON.stringify({stage: "won"})});
            return {status: r.status, body: await r.text()};
        }""",
        pk,
    )
    assert refused["status"] == 422, refused
    assert "Your role may not move records into Won" in refused["body"]
    assert stored_stage(page, pk) == "prospecting"
