"""Field errors a user reads name the field by its label in the user's language, with that
language's colon: a form's error on a field the form does not show (flashed), and the one-line
text of a ValidationFailed (a bulk row's or a revert's reason)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.records.commands import ValidationFailed
from tests.conftest import login, write_tree

DEAL = """
label: {en: Deal, zh: 交易}
title: name
fields:
  name: {type: string, required: true, label: {en: Name, zh: 名称}}
  amount: {type: money, read_only: true, label: {en: Amount, zh: 金额}}  # not on the form
pipelines:
  - name: sales
    field: stage
    stages: [{name: new, label: {en: New, zh: 新建}}, {name: won, label: {en: Won, zh: 成交}, requires: [amount]}]
form:
  - section: {en: Deal, zh: 交易}
    fields: [name, stage]
"""


@pytest.fixture
def deal_app(make_app: Any, tmp_path: Path) -> Any:
    return make_app(write_tree(tmp_path / "meta", {"deal": DEAL}))


@pytest.mark.parametrize(("lang", "shown", "internal"), [
    ("zh", "金额：", "amount:"),
    ("en", "Amount: ", "amount:"),
])
def test_an_error_on_a_field_the_form_does_not_show_names_its_label(deal_app: Any, lang: str, shown: str,
                                                                     internal: str) -> None:
    """The stage 成交 requires 金额, a read-only field the form leaves out: the flash names it by its label."""
    client = login(deal_app.test_client())
    client.post(f"/lang/{lang}")
    page = client.post("/crm/deal/add", data={"name": "大单 𩸽", "stage": "won"}, follow_redirects=True)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert shown in html, html[:2000]
    assert internal not in html


def test_validation_failed_reads_in_the_users_language(deal_app: Any) -> None:
    with deal_app.app_context():
        entity = deal_app.extensions["crm"].spec.entity("deal")
    exc = ValidationFailed({"amount": ["必填"], "_schema": ["整条记录有误"], "account.name": ["重复"]})
    assert exc.text(entity, "zh") == "金额：必填; 整条记录有误; account.name：重复"
    assert exc.text(entity, "en") == "Amount: 必填; 整条记录有误; account.name: 重复"
    assert str(exc).startswith("amount: 必填")  # logs keep the field's name
