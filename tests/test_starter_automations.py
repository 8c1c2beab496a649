"""The starter CRM's automations: a won deal gets an onboarding task for its owner, a new
web lead a call task; the dry run on the starter says the same without doing it."""

from __future__ import annotations

from typing import Any

import pytest

from app.automations.process import drain
from app.cli import crm
from app.demo.users import DEMO_PASSWORD, create_demo_users
from tests.conftest import login


@pytest.fixture
def starter(make_app: Any) -> Any:
    app = make_app(CRM_OUTBOX_DISPATCH="off")
    with app.app_context():
        state = app.extensions["crm"]
        create_demo_users(state.appbuilder, state.models)
        state.db.session.remove()
    return app


def activities(client: Any) -> list[dict[str, Any]]:
    return client.get("/api/v1/activity/?q=(columns:!(subject,kind,assignee,lead,opportunity,account))").json["result"]


def test_a_new_web_lead_gets_a_call_task_for_its_owner(starter: Any) -> None:
    rep = login(starter.test_client(), "sales_rep", DEMO_PASSWORD)
    web = rep.post("/api/v1/lead/", json={"name": "周杰", "company": "网易", "source": "官网"})  # normalised to web
    assert web.status_code == 201, web.json
    rep.post("/api/v1/lead/", json={"name": "吴磊", "company": "搜狐", "source": "referral"})
    drain(starter)
    made = activities(rep)
    assert [(a["subject"], a["kind"], a["lead"]["id"], a["assignee"]["title"]) for a in made] == [
        ("Call / 回电: 周杰", "call", web.json["id"], made[0]["assignee"]["title"])]
    with starter.app_context():
        rep_id = starter.extensions["crm"].appbuilder.sm.find_user(username="sales_rep").id
    assert made[0]["assignee"]["id"] == rep_id  # the lead's owner, who can see it (activity: own)


def test_a_won_deal_gets_an_onboarding_task_for_its_owner(starter: Any) -> None:
    admin = login(starter.test_client())
    account = admin.post("/api/v1/account/", json={"name": "宁德时代"}).json["id"]
    contact = admin.post("/api/v1/contact/", json={"name": "曾先生", "account": account}).json["id"]
    pk = admin.post("/api/v1/opportunity/", json={
        "name": "储能项目", "account": account, "contact": contact, "amount": "880000",
        "close_date": "2026-01-05"}).json["id"]
    for stage in ("needs_analysis", "proposal", "negotiation"):
        assert admin.post(f"/api/v1/opportunity/{pk}/move", json={"stage": stage}).status_code == 200
    drain(starter)
    assert activities(admin) == []  # not won yet
    won = admin.post(f"/api/v1/opportunity/{pk}/move", json={"stage": "won"})
    assert won.status_code == 200, won.json
    drain(starter)
    made = activities(admin)
    assert [(a["subject"], a["kind"], a["opportunity"]["id"], a["account"]["id"]) for a in made] == [
        ("Onboarding / 交付启动: 储能项目", "task", pk, account)]
    runner = starter.test_cli_runner()
    dry = runner.invoke(crm, ["automations", "test", "won_deal_onboarding", "opportunity", str(pk)])
    assert dry.exit_code == 0 and "WOULD FIRE" in dry.output and "储能项目" in dry.output, dry.output
    other = runner.invoke(crm, ["automations", "test", "web_lead_call", "opportunity", str(pk)])
    assert "would not fire" in other.output and "watches lead" in other.output
    assert len(activities(admin)) == 1  # the dry runs did nothing


def test_only_admin_reads_the_automations_page(starter: Any) -> None:
    admin = login(starter.test_client())
    page = admin.get("/crm/automations/")
    assert page.status_code == 200 and "won_deal_onboarding" in page.data.decode()
    rep = login(starter.test_client(), "sales_rep", DEMO_PASSWORD)
    refused = rep.get("/crm/automations/")
    assert refused.status_code in (302, 403) and "won_deal_onboarding" not in refused.data.decode()
