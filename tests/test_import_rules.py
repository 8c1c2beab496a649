"""Rules and conditions that read through a link (`company.tier`), in an import and on the API.

The record commands give a rule only the fields the entity's conditions and rules read
(`condition_reads`), and an import batch loads the linked records only when one of them reads
through the link: a rule that does must still see the linked record, on every path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from app.records.conditions import condition_reads
from tests.conftest import login, write_tree
from tests.test_import_api import run_import

COMPANY = """
label: {en: Company, zh: 公司}
title: name
fields:
  name: {type: string, required: true, unique: true, label: {en: Name, zh: 名称}}
  tier: {type: choice, choices: [normal, blocked], label: {en: Tier, zh: 等级}}
"""
DEAL = """
label: {en: Deal, zh: 交易}
title: name
fields:
  name: {type: string, required: true, label: {en: Name, zh: 名称}}
  company: {type: link, to: company, required: true, label: {en: Company, zh: 公司}}
  partner: {type: link, to: company, label: {en: Partner, zh: 伙伴}}
  amount: {type: money, label: {en: Amount, zh: 金额}}
  note: {type: text, required_if: "company.tier = 'normal' and amount > 100", label: {en: Note, zh: 备注}}
validate:
  - rule: "company.tier != 'blocked'"
    message: {en: Blocked company., zh: 公司已停用。}
    fields: [company]
"""


@pytest.fixture
def rules_app(make_app: Any, tmp_path: Path) -> Any:
    tree = write_tree(tmp_path / "meta", {"company": COMPANY, "deal": DEAL})
    app = make_app(tree, CRM_FILES_DIR=str(tmp_path / "files"), CRM_OUTBOX_DISPATCH="off")
    with app.app_context():
        state = app.extensions["crm"]
        company = state.models.model("company")
        state.db.session.add_all([company(name="正常公司 𩸽", tier="normal"), company(name="停用公司", tier="blocked")])
        state.db.session.commit()
        state.db.session.remove()
    return app


def test_the_fields_conditions_read_are_those_named_in_them(rules_app: Any) -> None:
    with rules_app.app_context():
        deal = rules_app.extensions["crm"].models.spec.entity("deal")
        assert condition_reads(deal) == {"company", "amount", "note"}  # not `partner`, `name`


def test_a_rule_reading_through_a_link_holds_in_an_import_and_on_the_api(rules_app: Any) -> None:
    client = login(rules_app.test_client())
    data = ("名称,公司,伙伴,金额,备注\r\n"
            "甲,正常公司 𩸽,停用公司,50,\r\n"        # created: the partner is not read by any rule
            "乙,停用公司,,50,\r\n"                  # rejected: the rule reads company.tier
            "丙,正常公司 𩸽,,500,\r\n"               # rejected: required_if reads company.tier
            "丁,正常公司 𩸽,,500,说明\r\n").encode()  # created
    job = run_import(rules_app, client, "deal", data, "交易.csv")
    assert job.result["counts"] == {"created": 2, "updated": 0, "unchanged": 0, "duplicate": 0, "rejected": 2}
    rows = client.get(f"/api/v1/imports/{job.id}/rows?outcome=rejected").get_json()
    rows = rows.get("rows") or rows.get("result")
    assert [(r["row"], r["column"]) for r in rows] == [(3, "公司"), (4, "备注")]
    assert "Blocked company." in rows[0]["reason"]
    with rules_app.app_context():
        state = rules_app.extensions["crm"]
        blocked = state.db.session.scalar(sa.select(state.models.model("company").id).where(
            state.models.model("company").name == "停用公司"))
        state.db.session.remove()
    refused = client.post("/api/v1/deal/", json={"name": "戊", "company": blocked, "amount": 5})
    assert refused.status_code == 422 and "company" in refused.get_json()["message"], refused.get_json()
