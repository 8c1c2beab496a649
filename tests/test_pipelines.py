"""Stage gates, one command for form, API and move; stage history with a controlled clock."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from app.records.commands import MoveStage, RecordContext
from tests.conftest import login


@pytest.fixture
def api(app):
    return login(app.test_client())


def _account(api):
    return api.post("/api/v1/account/", json={"name": "阶段测试客户"}).json["id"]


def _opportunity(api, **extra):
    body = {"name": "管道测试商机", "account": _account(api), **extra}
    response = api.post("/api/v1/opportunity/", json=body)
    assert response.status_code == 201, response.json
    return response.json["id"], response.json["result"]


def test_new_record_starts_in_the_first_stage_with_its_probability(api):
    pk, row = _opportunity(api)
    assert row["stage"] == "prospecting" and row["probability"] == "10.00"
    history = api.get(f"/api/v1/opportunity/{pk}/history").json["result"]
    assert [(h["from"], h["to"]) for h in history] == [(None, "prospecting")]


def test_gate_names_the_missing_fields_on_every_path(api, app):
    pk, _ = _opportunity(api)
    moved = api.post(f"/api/v1/opportunity/{pk}/move", json={"stage": "proposal"})
    assert moved.status_code == 422
    assert "To enter Proposal, fill in: Amount." in moved.json["message"]["stage"]
    put = api.put(f"/api/v1/opportunity/{pk}", json={"stage": "proposal"})
    assert put.status_code == 422 and put.json["message"]["stage"] == moved.json["message"]["stage"]
    form = api.post(f"/crm/opportunity/edit/{pk}", data={"name": "管道测试商机", "account": "1",
                                                          "deal_type": "new_business", "stage": "proposal"})
    assert "To enter Proposal, fill in: Amount." in form.data.decode()
    ok = api.put(f"/api/v1/opportunity/{pk}", json={"stage": "proposal", "amount": "50000"})
    assert ok.status_code == 200 and ok.json["result"]["probability"] == "50.00"
    history = api.get(f"/api/v1/opportunity/{pk}/history").json["result"]
    assert [h["to"] for h in history] == ["prospecting", "proposal"]


def test_transitions_and_unknown_stages(api):
    pk, _ = _opportunity(api, amount="1000", close_date="2026-12-01")
    assert api.post(f"/api/v1/opportunity/{pk}/move", json={"stage": "won"}).status_code == 200
    back = api.post(f"/api/v1/opportunity/{pk}/move", json={"stage": "negotiation"})
    assert back.status_code == 422 and "Cannot move from Won to Negotiation" in back.json["message"]["stage"][0]
    unknown = api.post(f"/api/v1/opportunity/{pk}/move", json={"stage": "heaven"})
    assert unknown.status_code == 422 and "'heaven' is not one of" in unknown.json["message"]["stage"][0]
    assert api.post(f"/api/v1/opportunity/{pk}/move", json={}).status_code == 400


def test_stale_move_is_409(api):
    pk, row = _opportunity(api, amount="1000")
    seen = row["changed_on"]
    api.put(f"/api/v1/opportunity/{pk}", json={"next_step": "someone else edits"})
    with_stale = api.post(f"/api/v1/opportunity/{pk}/move", json={"stage": "needs_analysis",
                                                                   "changed_on": "2000-01-01T00:00:00"})
    assert with_stale.status_code == 409
    fresh = api.get(f"/api/v1/opportunity/{pk}").json["result"]["changed_on"]
    assert api.post(f"/api/v1/opportunity/{pk}/move", json={"stage": "needs_analysis",
                                                             "changed_on": fresh}).status_code == 200
    assert seen is not None


def test_role_gate_refuses_a_rep_moving_to_won(make_app):
    from app.demo.users import DEMO_PASSWORD, create_demo_users
    app = make_app()
    with app.app_context():
        create_demo_users(app.extensions["crm"].appbuilder, app.extensions["crm"].models)
    rep = login(app.test_client(), "sales_rep", DEMO_PASSWORD)
    pk, _ = _opportunity(rep, amount="1000", close_date="2026-12-01")
    refused = rep.post(f"/api/v1/opportunity/{pk}/move", json={"stage": "won"})
    assert refused.status_code == 422 and "may not move records into Won" in refused.json["message"]["stage"][0]
    manager = login(app.test_client(), "sales_manager", DEMO_PASSWORD)
    assert manager.post(f"/api/v1/opportunity/{pk}/move", json={"stage": "won"}).status_code == 200


def test_time_in_stage_with_a_controlled_clock(app):
    t0 = dt.datetime(2026, 1, 1, 9, 0, 0)
    with app.app_context(), app.test_request_context():
        state = app.extensions["crm"]
        session = state.db.session
        ctx = RecordContext(session, state.models, "en")
        account = state.models.model("account")(name="时钟客户")
        session.add(account)
        session.commit()
        from app.records.commands import CreateRecord
        create = CreateRecord(ctx, "opportunity", {"name": "时钟商机", "account": account.id, "amount": 10})
        create.now = t0
        record = create.run()
        for hours, stage in ((5, "needs_analysis"), (29, "proposal"), (30, "needs_analysis")):
            MoveStage(ctx, "opportunity", record, stage, now=t0 + dt.timedelta(hours=hours)).run()
        history = state.models.core["crm_stage_history"]
        rows = session.execute(sa.select(history.c.from_stage, history.c.to_stage, history.c.seconds_in_from)
                               .where(history.c.record_id == record.id).order_by(history.c.id)).all()
    assert rows == [(None, "prospecting", None), ("prospecting", "needs_analysis", 5 * 3600),
                    ("needs_analysis", "proposal", 24 * 3600), ("proposal", "needs_analysis", 3600)]


def _lead(api, **extra):
    body = {"name": "王小明", "company": "杭州云帆科技有限公司", "mobile": "13912345678",
            "email": "xm.wang@yunfan.cn", "source": "web", **extra}
    response = api.post("/api/v1/lead/", json=body)
    assert response.status_code == 201, response.json
    return response.json["id"]


def test_lead_conversion_makes_account_contact_opportunity_and_links_back(api):
    pk = _lead(api)
    early = api.post(f"/api/v1/lead/{pk}/convert")
    assert early.status_code == 422 and "Only records in qualified" in str(early.json["message"])
    assert api.post(f"/api/v1/lead/{pk}/move", json={"stage": "qualified"}).status_code == 200
    made = api.post(f"/api/v1/lead/{pk}/convert")
    assert made.status_code == 200, made.json
    result = made.json["result"]
    assert set(result) == {"account", "contact", "opportunity"}
    lead = api.get(f"/api/v1/lead/{pk}").json["result"]
    assert lead["status"] == "converted"
    assert lead["converted_account"]["id"] == result["account"]["id"]
    assert lead["converted_opportunity"]["id"] == result["opportunity"]["id"]
    contact = api.get(f"/api/v1/contact/{result['contact']['id']}").json["result"]
    assert contact["account"]["id"] == result["account"]["id"]
    assert contact["mobile"] == "139 1234 5678"  # the starter normalises phones to national form
    opportunity = api.get(f"/api/v1/opportunity/{result['opportunity']['id']}").json["result"]
    assert opportunity["stage"] == "prospecting" and opportunity["contact"]["id"] == result["contact"]["id"]
    again = api.post(f"/api/v1/lead/{pk}/convert")
    assert again.status_code == 422  # converted is not a stage that converts


def test_conversion_reuses_an_account_with_the_same_name(api):
    existing = api.post("/api/v1/account/", json={"name": "杭州云帆科技有限公司"}).json["id"]
    pk = _lead(api)
    api.post(f"/api/v1/lead/{pk}/move", json={"stage": "qualified"})
    result = api.post(f"/api/v1/lead/{pk}/convert").json["result"]
    assert result["account"]["id"] == existing
    assert api.get("/api/v1/account/?q=(page_size:100)").json["count"] == 1


REFUSE_OPPORTUNITY = """
from app.plugins.hookspecs import hookimpl

@hookimpl
def crm_validate(entity, values, record, lang):
    if entity.name == "opportunity" and "拒绝" in (values.get("name") or ""):
        return {"name": ["refused by a plugin"]}
"""


def test_failed_conversion_leaves_nothing_behind(make_app, tmp_path):
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "refuse.py").write_text(REFUSE_OPPORTUNITY, encoding="utf-8")
    api = login(make_app(CRM_PLUGINS_DIR=str(plugins)).test_client())
    pk = _lead(api, company="拒绝往来公司")
    api.post(f"/api/v1/lead/{pk}/move", json={"stage": "qualified"})
    response = api.post(f"/api/v1/lead/{pk}/convert")
    assert response.status_code == 422 and response.json["message"] == {"opportunity.name": ["refused by a plugin"]}
    assert {e: api.get(f"/api/v1/{e}/").json["count"] for e in ("account", "contact", "opportunity")} == {
        "account": 0, "contact": 0, "opportunity": 0}
    assert api.get(f"/api/v1/lead/{pk}").json["result"]["status"] == "qualified"


def test_convert_button_on_the_lead_page(api):
    pk = _lead(api)
    api.post(f"/api/v1/lead/{pk}/move", json={"stage": "qualified"})
    page = api.get(f"/crm/lead/show/{pk}").data.decode()
    assert f'action="/crm/lead/convert/{pk}"' in page and "crm-timeline-stage" in page  # the history timeline shows the move
    response = api.post(f"/crm/lead/convert/{pk}", follow_redirects=True)
    assert "Account:" in response.data.decode()
    assert api.get(f"/api/v1/lead/{pk}").json["result"]["status"] == "converted"


def test_renewal_starts_in_its_own_first_stage_and_saves_from_the_form(api):
    pk, row = _opportunity(api, deal_type="renewal")
    assert row["stage"] == "renewal_due" and row["probability"] == "60.00"
    form = {"name": "续约商机", "account": str(row["account"]["id"]), "deal_type": "renewal",
            "stage": "renewal_due", "probability": "60.00", "next_step": "电话确认"}
    assert api.post(f"/crm/opportunity/edit/{pk}", data=form).status_code == 302
    assert api.get(f"/api/v1/opportunity/{pk}").json["result"]["next_step"] == "电话确认"
    typed = api.put(f"/api/v1/opportunity/{pk}", json={"probability": "99"})
    assert typed.status_code == 400 and "probability" in typed.json["message"]


def test_weighted_amount_is_derived_from_amount_and_stage_probability(api):
    pk, row = _opportunity(api, amount="200000")
    assert row["weighted_amount"] == "20000.00"  # prospecting: 10 %
    moved = api.post(f"/api/v1/opportunity/{pk}/move", json={"stage": "proposal"}).json["result"]
    assert moved["probability"] == "50.00" and moved["weighted_amount"] == "100000.00"
