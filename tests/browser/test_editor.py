"""The Settings editor in a real browser (issue 16): every change is typed into the Settings
pages, reviewed on the plan page and saved as a new version, then used on the running server
without a restart (the live switch of app.metaversions.live serves the new version).

No fixed sleeps: a page that must show the new version is awaited with a condition the
browser polls (`served`), as a user would reload until it shows.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from app.demo.users import DEMO_PASSWORD, create_demo_users
from app.metaversions import store
from app.metaversions.live import install
from tests.browser.conftest import PageGuard, guarded_page
from tests.conftest import STARTER

# Polls `url` from the page every 250 ms until its text has (or, with absent, lacks) `text`;
# the test waits on the flag (a Promise returned to wait_for_function would count as truthy).
SERVED = """([url, text, absent]) => {
  window.__crmServed = false;
  const poll = async () => {
    const r = await fetch(url, {credentials: 'same-origin', cache: 'no-store'});
    const has = r.ok && (await r.text()).includes(text);
    if (has !== absent) { window.__crmServed = true; } else { setTimeout(poll, 250); }
  };
  poll();
}"""


@pytest.fixture
def meta(tmp_path: Path) -> Path:
    root = tmp_path / "meta"  # saves write the files back: never into the repository's metadata/
    shutil.copytree(STARTER, root)
    return root


@pytest.fixture
def live_app(make_app: Any, meta: Path) -> Any:
    """The starter on a copy of its files, demo data and users, following new versions."""
    from app.demo.loader import load_demo

    app = make_app(meta, WTF_CSRF_ENABLED=True)
    with app.app_context():
        state = app.extensions["crm"]
        load_demo(state.db.session, state.models, size=20)
        create_demo_users(state.appbuilder, state.models)
        state.db.session.remove()
    install(app, poll_seconds=0.2)
    return app


def served(page: Any, url: str, text: str, absent: bool = False) -> None:
    """Wait until the server answers `url` with `text` (or without it): the new version is in force."""
    page.evaluate(SERVED, [url, text, absent])
    page.wait_for_function("() => window.__crmServed === true")


def go(page: Any, path: str) -> None:
    response = page.goto(path, wait_until="domcontentloaded")
    assert response is not None and response.ok, (path, response and response.status)


def review(page: Any, form: Any) -> None:
    """Ask for the plan of one Settings form."""
    with page.expect_navigation(wait_until="domcontentloaded"):
        form.locator("button.crm-plan").click()
    expect(page.locator("#settings-plan")).to_be_visible()


def save(page: Any, message: str, confirm: bool = False) -> None:
    page.fill("#plan-message", message)
    if confirm:
        page.check("#plan-confirm")
    with page.expect_navigation(wait_until="domcontentloaded"):
        page.click("#plan-save")
    expect(page.locator("div.alert-success").filter(has_text="Saved as version")
           .or_(page.locator("div.alert-success").filter(has_text="Rolled back"))).to_be_visible()


def versions(app: Any) -> list[Any]:
    with app.app_context():
        return store.history(app.extensions["crm"].db.engine)


def test_add_a_field_use_it_relabel_a_choice_and_roll_back(page: Any, live_app: Any, meta: Path) -> None:
    first = versions(live_app)[0]
    go(page, "/crm/settings/entity/product")
    form = page.locator("#add-field-form")
    form.locator("[name=name]").fill("region")
    form.locator("[name=type]").select_option("choice")
    form.locator("[name=label_en]").fill("Sales region")
    form.locator("[name=label_zh]").fill("销售大区")
    form.locator("[name=choices]").fill("east | East China | 华东 | #1e88e5\nnorth | North China | 华北")
    review(page, form)
    expect(page.locator("#plan-changes")).to_contain_text("add_column")
    expect(page.locator(".crm-diff[data-file='entities/product.yaml']")).to_contain_text("+    label: {en: Sales region, zh: 销售大区}")
    save(page, "销售大区字段")
    assert "销售大区" in (meta / "entities/product.yaml").read_text(encoding="utf-8")

    columns = page.locator("#list-form [name=columns]")
    columns.fill(columns.input_value() + ", region")
    review(page, page.locator("#list-form"))
    expect(page.locator("#plan-no-changes")).to_be_visible()  # a list change touches no table
    save(page, "show the region in the list")

    served(page, "/crm/product/add", "Sales region")
    go(page, "/crm/product/add")
    page.fill("#code", "ED-01")
    page.fill("#name", "编辑器产品")
    page.select_option("#region", label="East China")
    with page.expect_navigation(wait_until="domcontentloaded"):
        page.locator("#model_form button[type=submit]").click()
    served(page, "/crm/product/list/?q=ED-01", "East China</span>")
    go(page, "/crm/product/list/?q=ED-01")
    expect(page.locator("table").filter(has_text="编辑器产品")).to_contain_text("East China")

    # rename a choice label: the stored value stays, every screen shows the new label
    go(page, "/crm/settings/entity/product?field=region")
    field_form = page.locator("#field-form")
    expect(field_form.locator("tr[data-choice='east']")).to_be_visible()
    field_form.locator("[name=choice_0_en]").fill("East (Shanghai)")
    field_form.locator("#field-aliases").fill("大区\nSales area")  # the headings an import file may use
    review(page, field_form)
    expect(page.locator(".crm-diff")).to_contain_text("+      - {value: east, label: {en: East (Shanghai), zh: 华东}")
    expect(page.locator(".crm-diff")).to_contain_text("+    aliases: [大区, Sales area]")
    save(page, "relabel east")
    assert "    aliases: [大区, Sales area]\n" in (meta / "entities/product.yaml").read_text(encoding="utf-8")
    served(page, "/crm/product/list/?q=ED-01", "East (Shanghai)</span>")
    go(page, "/crm/product/list/?q=ED-01")
    expect(page.locator("table").filter(has_text="编辑器产品")).to_contain_text("East (Shanghai)")

    # roll back to the first version: the region column holds data, so the rollback asks to confirm
    go(page, "/crm/settings/history/")
    expect(page.locator("tr.crm-version")).to_have_count(4)
    row = page.locator(f"tr.crm-version[data-version='{first.id}']")
    with page.expect_navigation(wait_until="domcontentloaded"):
        row.locator("button.crm-rollback").click()
    expect(page.locator("#settings-plan")).to_contain_text(f"Roll back to version #{first.id}")
    expect(page.locator("#plan-refused")).to_be_visible()
    save(page, "", confirm=True)
    latest = versions(live_app)[0]
    assert latest.source == "rollback" and latest.files == first.files
    served(page, "/crm/product/add", "Sales region", absent=True)
    assert "region" not in (meta / "entities/product.yaml").read_text(encoding="utf-8")


def test_add_a_stage_and_drag_a_card_into_it(page: Any, live_app: Any) -> None:
    with live_app.app_context():
        state = live_app.extensions["crm"]
        session = state.db.session
        account = state.models.model("account")(name="阶段测试客户")
        session.add(account)
        session.flush()
        deal = state.models.model("opportunity")(name="Stage editor deal", account_id=account.id,
                                                 deal_type="new_business", stage="prospecting", amount=1000,
                                                 changed_on=dt.datetime.now(dt.UTC).replace(tzinfo=None)
                                                 + dt.timedelta(days=1))
        session.add(deal)
        session.commit()
        pk = deal.id
        session.remove()
    go(page, "/crm/settings/entity/opportunity")
    form = page.locator(".add-stage-form[data-pipeline='new_business']")
    form.locator("[name=name]").fill("contract")
    form.locator("[name=label_en]").fill("Contract")
    form.locator("[name=label_zh]").fill("合同签署")
    form.locator("[name=color]").fill("#6a1b9a")
    form.locator("[name=probability]").fill("90")
    form.locator("[name=after]").select_option("negotiation")
    review(page, form)
    expect(page.locator(".crm-diff")).to_contain_text("+      - {name: contract, label: {en: Contract, zh: 合同签署}")
    save(page, "contract stage")

    board = "/crm/opportunity/board/new_business"
    served(page, board, 'data-stage="contract"')
    go(page, board)
    contract = page.locator(".crm-column[data-stage='contract']")
    expect(contract).to_be_visible()
    card = page.locator(f".crm-card[data-id='{pk}']")
    expect(card).to_be_visible()
    with page.expect_response(lambda r: r.url.endswith(f"/api/v1/opportunity/{pk}/move")) as info:
        card.drag_to(contract.locator("[data-dropzone]"))
    assert info.value.status == 200, info.value.text()
    expect(contract.locator(f".crm-card[data-id='{pk}']")).to_be_visible()
    stored = page.request.get(f"/api/v1/opportunity/{pk}").json()["result"]
    assert stored["stage"] == "contract" and float(stored["probability"]) == 90


@pytest.fixture
def rep_page(browser: Any, live_server: str) -> Iterator[Any]:
    with guarded_page(browser, live_server, PageGuard(), "sales_rep", DEMO_PASSWORD) as pg:
        yield pg


def test_change_a_roles_scope_and_the_reps_list_changes(page: Any, rep_page: Any, live_app: Any) -> None:
    with live_app.app_context():
        state = live_app.extensions["crm"]
        admin = state.appbuilder.sm.find_user(username="admin")
        session = state.db.session
        session.add(state.models.model("lead")(name="别人的线索", owner_id=admin.id))
        session.commit()
        session.remove()
    go(rep_page, "/crm/lead/list/?q=别人的线索")
    expect(rep_page.locator("table").filter(has_text="别人的线索")).to_have_count(0)

    go(page, "/crm/settings/role/Sales Rep")
    scope = page.locator("#role-form [name=scope__lead__read]")
    expect(scope).to_have_value("own")
    scope.fill("all")
    review(page, page.locator("#role-form"))
    expect(page.locator(".crm-diff[data-file='roles.yaml']")).to_contain_text("+    lead: {read: all,")
    save(page, "reps read every lead")

    served(rep_page, "/crm/lead/list/?q=别人的线索", ">别人的线索<")
    go(rep_page, "/crm/lead/list/?q=别人的线索")
    expect(rep_page.locator("table").filter(has_text="别人的线索")).to_be_visible()
