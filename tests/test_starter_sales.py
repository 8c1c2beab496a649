"""The starter CRM's sales and service rules, end to end with the demo users: lead scoring,
leads by region, the ticket SLA (warned, then escalated with an e-mail), the lead pool
after 7 days with claims, and the won-deal e-mail."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from app.automations.process import drain
from app.automations.tick import tick
from app.demo.users import DEMO_PASSWORD, create_demo_users
from tests.conftest import login
from tests.receivers import smtp_sink
from tests.test_automation_sales import moment


@pytest.fixture
def starter(make_app: Any) -> Any:
    """The starter CRM with its demo users (one per role), the outbox driven by the test."""
    app = make_app(CRM_OUTBOX_DISPATCH="off")
    with app.app_context():
        create_demo_users(app.extensions["crm"].appbuilder, app.extensions["crm"].models)
        app.extensions["crm"].db.session.remove()
    return app


def owner(app: Any, entity: str, pk: int) -> str:
    with app.app_context():
        state = app.extensions["crm"]
        record = state.db.session.get(state.models.model(entity), pk)
        name = state.db.session.get(state.models.user_model, record.owner_id).username
        state.db.session.remove()
        return name


def test_leads_are_scored_and_graded_and_go_to_their_regions_rep(starter: Any) -> None:
    marketing = login(starter.test_client(), "marketing", DEMO_PASSWORD)
    hot = marketing.post("/api/v1/lead/", json={
        "name": "刘洋", "company": "宁德时代", "source": "event", "industry": "energy", "mobile": "13912345678",
        "email": "liu@catl.cn", "region": "north"}).json["id"]
    cold = marketing.post("/api/v1/lead/", json={"name": "匿名", "source": "other", "region": "south"}).json["id"]
    unsourced = marketing.post("/api/v1/lead/", json={"name": "无来源", "region": "northwest"}).json["id"]
    web = marketing.post("/api/v1/lead/", json={"name": "官网", "source": "web", "region": "south"}).json["id"]
    drain(starter)
    assert owner(starter, "lead", unsourced) == "sales_rep"  # no source is not a web lead: by region
    assert owner(starter, "lead", web) == "sales_rep"  # web: round-robin (the first turn), not the region
    lead = marketing.get(f"/api/v1/lead/{hot}").json["result"]
    assert (lead["score"], lead["grade"]) == (75, "B")  # event 10 + energy 20 + company 15 + mobile 20 + e-mail 10
    assert (marketing.get(f"/api/v1/lead/{cold}").json["result"]["grade"]) == "D"
    assert owner(starter, "lead", hot) == "sales_rep" and owner(starter, "lead", cold) == "sales_rep2"
    rep = login(starter.test_client(), "sales_rep", DEMO_PASSWORD)
    assert rep.put(f"/api/v1/lead/{hot}", json={"status": "contacted"}).status_code == 200
    drain(starter)
    lead = rep.get(f"/api/v1/lead/{hot}").json["result"]
    assert (lead["score"], lead["grade"]) == (90, "A")
    history = rep.get(f"/api/v1/lead/{hot}/history").json["changes"]
    assert [h["new"] for h in history if h["field"] == "grade" and h["automation"] == "lead_score"] == ["B", "A"]


def test_an_urgent_ticket_is_warned_then_escalated_by_e_mail(starter: Any) -> None:
    with smtp_sink() as (port, messages):
        starter.config.update(CRM_SMTP_HOST="127.0.0.1", CRM_SMTP_PORT=port)
        agent = login(starter.test_client(), "support_agent", DEMO_PASSWORD)
        pk = agent.post("/api/v1/ticket/", json={"subject": "服务器宕机", "priority": "urgent"}).json["id"]
        drain(starter)
        ticket = agent.get(f"/api/v1/ticket/{pk}").json["result"]
        due = moment(ticket["sla_due"])
        assert dt.timedelta(hours=4) <= due - moment(ticket["created_on"])  # 4 business hours, Shanghai
        tick(starter, now=due - dt.timedelta(minutes=60))
        assert [m["Subject"] for _, _, m in messages] == [f"SLA: {ticket['number']} is due within the hour"]
        tick(starter, now=due)
        ticket = agent.get(f"/api/v1/ticket/{pk}").json["result"]
        assert ticket["escalated"] is True
        assert messages[-1][2]["Subject"] == f"SLA breached: {ticket['number']}"
        assert messages[-1][1] == ["support_agent@demo.metacrm.cn"]


def test_untouched_leads_go_to_the_pool_after_seven_days_and_other_reps_claim_them(starter: Any) -> None:
    rep = login(starter.test_client(), "sales_rep", DEMO_PASSWORD)
    ids = [rep.post("/api/v1/lead/", json={"name": f"跟进{i}", "source": "referral"}).json["id"] for i in range(6)]
    drain(starter)
    last = max(moment(rep.get(f"/api/v1/lead/{pk}").json["result"]["changed_on"]) for pk in ids)
    assert tick(starter, now=last + dt.timedelta(days=6))["fired"] == 0
    assert tick(starter, now=last + dt.timedelta(days=7, minutes=1))["fired"] == 6
    assert {owner(starter, "lead", pk) for pk in ids} == {"lead_pool"}
    rep2 = login(starter.test_client(), "sales_rep2", DEMO_PASSWORD)
    assert sorted(r["id"] for r in rep2.get("/api/v1/lead/pool").json["result"]) == sorted(ids)
    page = rep2.get("/crm/lead/pool/").data.decode()
    assert "跟进0" in page and ("今日已领取" in page or "Claimed today" in page)
    for pk in ids[:5]:
        assert rep2.post(f"/api/v1/lead/{pk}/claim").status_code == 200
    limit = rep2.post(f"/api/v1/lead/{ids[5]}/claim")
    assert limit.status_code == 422 and "5" in limit.json["message"]["claim_limit"][0]
    assert rep2.get(f"/api/v1/lead/{ids[0]}").json["result"]["in_pool"] is False
    for user in ("marketing", "support_agent", "executive"):  # not pool roles: refused
        other = login(starter.test_client(), user, DEMO_PASSWORD)
        assert other.post(f"/api/v1/lead/{ids[5]}/claim").status_code == 403, user
    assert rep.post(f"/api/v1/lead/{ids[5]}/claim").status_code == 200  # back to the first rep: allowed
    assert owner(starter, "lead", ids[5]) == "sales_rep"


def test_a_won_deal_e_mails_its_owner(starter: Any) -> None:
    with smtp_sink() as (port, messages):
        starter.config.update(CRM_SMTP_HOST="127.0.0.1", CRM_SMTP_PORT=port)
        admin = login(starter.test_client())
        account = admin.post("/api/v1/account/", json={"name": "比亚迪"}).json["id"]
        contact = admin.post("/api/v1/contact/", json={"name": "王总", "account": account}).json["id"]
        pk = admin.post("/api/v1/opportunity/", json={"name": "车队项目", "account": account, "contact": contact,
                                                      "amount": "500000", "close_date": "2026-11-30"}).json["id"]
        for stage in ("needs_analysis", "proposal", "negotiation", "won"):
            assert admin.post(f"/api/v1/opportunity/{pk}/move", json={"stage": stage}).status_code == 200
        drain(starter)
        assert [m["Subject"] for _, _, m in messages] == ["Won: 车队项目 - start onboarding"]
        assert "比亚迪" in messages[0][2].get_content()
