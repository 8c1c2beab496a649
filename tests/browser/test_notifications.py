"""The bell, the notifications page and My tasks in a real browser, as the demo Sales Rep:
a won deal notifies its owner (the starter's won_deal_notify), the bell counts it, the page
opens the record and marks it read; My tasks and the home widget show the rep's own open
tasks only, and another user sees none of them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from app.automations.process import drain
from app.demo.users import DEMO_PASSWORD, create_demo_users
from app.models.events import utcnow
from tests.browser.conftest import PageGuard, guarded_page
from tests.receivers import smtp_sink


@pytest.fixture
def world(live_app: Any) -> dict[str, int]:
    """Two deals of the demo Sales Rep won (two notifications), an overdue task of the rep, one of rep 2."""
    with live_app.app_context():
        state = live_app.extensions["crm"]
        session = state.db.session
        create_demo_users(state.appbuilder, state.models)
        users = {u.username: u.id for u in session.query(state.appbuilder.sm.user_model)}
        account = state.models.model("account")(name="通知测试客户", owner_id=users["sales_rep"])
        session.add(account)
        session.flush()
        deal = state.models.model("opportunity")
        deals = [deal(name=name, account_id=account.id, deal_type="new_business", stage="prospecting",
                      owner_id=users["sales_rep"]) for name in ("铃铛一号", "铃铛二号")]
        session.add_all(deals)
        entity = state.spec.entity("activity")
        task = state.models.model("activity")
        due, who = entity.field("due").column_name, entity.field("assignee").column_name
        mine = task(subject="逾期的回访", kind="task", owner_id=users["sales_rep"], done=False,
                    **{due: utcnow() - dt.timedelta(days=2), who: users["sales_rep"]})
        theirs = task(subject="别人的回访", kind="task", owner_id=users["sales_rep2"], done=False,
                      **{due: utcnow() - dt.timedelta(days=2), who: users["sales_rep2"]})
        session.add_all([mine, theirs])
        session.commit()
        for row in deals:
            row.stage = "won"
        session.commit()
        ids = {"deal": deals[0].id, "task": mine.id, "theirs": theirs.id}
        session.remove()
    # The starter also e-mails the won deals' owner (won_deal_onboarding): with no SMTP server the
    # drain waited out its retries (30 s, 60 s, 120 s) before every test here. A local one takes them.
    with smtp_sink() as (port, messages):
        live_app.config.update(CRM_SMTP_HOST="127.0.0.1", CRM_SMTP_PORT=port)
        drain(live_app)
    assert sorted(m["Subject"] for _, _, m in messages) == \
        ["Won: 铃铛一号 - start onboarding", "Won: 铃铛二号 - start onboarding"]
    return ids


@pytest.fixture
def rep_page(browser: Any, live_server: str, page_guard: PageGuard, world: dict[str, int]) -> Iterator[Any]:
    with guarded_page(browser, live_server, page_guard, "sales_rep", DEMO_PASSWORD) as pg:
        yield pg


def test_the_bell_counts_and_the_page_opens_the_record_and_marks_it_read(rep_page: Any,
                                                                         world: dict[str, int]) -> None:
    page = rep_page
    page.goto("/", wait_until="domcontentloaded")
    expect(page.locator("#crm-bell-count")).to_have_text("2")
    page.locator("#crm-bell").click()
    page.wait_for_url("**/crm/notifications/")
    rows = page.locator("tr.crm-notification")
    expect(rows).to_have_count(2)
    first = page.locator("tr.crm-notification", has_text="铃铛一号")
    expect(first).to_contain_text("Deal 铃铛一号 was won")
    expect(first).to_have_attribute("data-read", "no")
    first.locator("button.notification-open").click()
    page.wait_for_url(f"**/crm/opportunity/show/{world['deal']}")
    expect(page.locator("#crm-bell-count")).to_have_text("1")
    page.goto("/crm/notifications/", wait_until="domcontentloaded")
    expect(page.locator("tr.crm-notification", has_text="铃铛一号")).to_have_attribute("data-read", "yes")
    page.locator("#notifications-read-all").click()
    page.wait_for_url("**/crm/notifications/")
    expect(page.locator("tr.crm-notification[data-read=no]")).to_have_count(0)
    expect(page.locator("#crm-bell-count")).to_have_count(0)


def test_my_tasks_from_the_home_widget_shows_only_my_open_tasks(rep_page: Any, world: dict[str, int]) -> None:
    page = rep_page
    page.goto("/", wait_until="domcontentloaded")
    overdue = page.locator("#crm-task-widget a[data-group=overdue]")
    expect(overdue.locator(".badge")).to_have_text("1")
    overdue.click()
    page.wait_for_url("**/crm/my_tasks/**")
    group = page.locator(".task-group[data-group=overdue]")
    expect(group.locator("tr.crm-task")).to_have_count(1)
    expect(group).to_contain_text("逾期的回访")
    expect(page.locator("#crm-my-tasks")).not_to_contain_text("别人的回访")
    group.get_by_text("逾期的回访").click()
    page.wait_for_url(f"**/crm/activity/show/{world['task']}")


def test_another_user_sees_neither_the_notifications_nor_the_tasks(browser: Any, live_server: str,
                                                                   page_guard: PageGuard,
                                                                   world: dict[str, int]) -> None:
    with guarded_page(browser, live_server, page_guard, "sales_rep2", DEMO_PASSWORD) as page:
        page.goto("/crm/notifications/", wait_until="domcontentloaded")
        expect(page.locator("#notifications-empty")).to_be_visible()
        expect(page.locator("#crm-bell-count")).to_have_count(0)
        page.goto("/crm/my_tasks/", wait_until="domcontentloaded")
        expect(page.locator("#crm-my-tasks")).to_contain_text("别人的回访")
        expect(page.locator("#crm-my-tasks")).not_to_contain_text("逾期的回访")
