"""Live field conditions on the form in a real browser (issue 12's visible_if / required_if,
static/crm/conditions.js): a field appears, starred, when another gets the value that makes it
apply, and goes away again; the server refuses the save the form warned about. No fixed sleeps:
every check waits for the page to reach the state."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.conftest import write_tree

COMPLAINT = textwrap.dedent("""
    label: {en: Complaint, zh: 投诉}
    fields:
      subject: {type: string, required: true, label: {en: Subject, zh: 主题}}
      priority:
        type: choice
        label: {en: Priority, zh: 优先级}
        default: normal
        choices:
          - {value: normal, label: {en: Normal, zh: 普通}}
          - {value: 紧急, label: {en: Urgent, zh: 紧急}}
      escalation_reason:
        type: text
        label: {en: Escalation reason, zh: 升级原因}
        visible_if: "priority = '紧急'"
        required_if: "priority = '紧急'"
""")


@pytest.fixture
def live_app(make_app: Any, tmp_path: Path) -> Any:
    """The browser fixtures' app, built from a small tree with conditional fields."""
    return make_app(write_tree(tmp_path / "metadata", {"complaint": COMPLAINT}), WTF_CSRF_ENABLED=True)


def reason_row(page: Any) -> Any:
    return page.locator("#model_form tr").filter(has=page.locator("[name='escalation_reason']"))


def test_a_field_appears_and_is_required_when_another_gets_its_value(page: Any) -> None:
    response = page.goto("/crm/complaint/add", wait_until="domcontentloaded")
    assert response is not None and response.ok
    expect(reason_row(page)).to_be_hidden()  # priority starts at its default, normal
    page.fill("[name='subject']", "客户投诉：发票开错")
    page.select_option("select[name='priority']", "紧急")
    expect(reason_row(page)).to_be_visible()
    expect(page.locator("textarea[name='escalation_reason']")).to_have_attribute("required", "")
    page.select_option("select[name='priority']", "normal")
    expect(reason_row(page)).to_be_hidden()
    page.select_option("select[name='priority']", "紧急")
    expect(reason_row(page)).to_be_visible()
    # the browser's own check would stop an empty required field: the server must refuse it too
    page.locator("textarea[name='escalation_reason']").evaluate("el => el.required = false")
    with page.expect_navigation(wait_until="domcontentloaded"):
        page.locator("#model_form button[type=submit]").click()
    expect(reason_row(page)).to_be_visible()
    expect(reason_row(page)).to_contain_text("This field is required.")
    page.fill("textarea[name='escalation_reason']", "第三次开错发票")
    with page.expect_navigation(wait_until="domcontentloaded"):
        page.locator("#model_form button[type=submit]").click()
    stored = page.request.get("/api/v1/complaint/?q=(columns:!(subject,priority,escalation_reason))").json()
    assert [(r["subject"], r["priority"], r["escalation_reason"]) for r in stored["result"]] == [
        ("客户投诉：发票开错", "紧急", "第三次开错发票")]
