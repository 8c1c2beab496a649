"""The record page (issue 17, part 2): the record's title, Edit and Delete as rights allow
(hidden and refused otherwise), the stage path of the record's own pipeline, landing on the
record after a save, and an impossible date refused on the form in en and zh."""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa

from app.demo.users import DEMO_PASSWORD, create_demo_users
from tests.conftest import login


@pytest.fixture
def crm(app: Any) -> Any:
    with app.app_context():
        state = app.extensions["crm"]
        create_demo_users(state.appbuilder, state.models)
        state.db.session.remove()
    admin = login(app.test_client())
    account = admin.post("/api/v1/account/", json={"name": "华为技术"}).json["id"]
    return app, admin, account


def rep(app: Any, name: str = "sales_rep") -> Any:
    return login(app.test_client(), name, DEMO_PASSWORD)


def new_deal(client: Any, account: int, **values: Any) -> int:
    response = client.post("/api/v1/opportunity/", json={"name": "大单", "account": account, **values})
    assert response.status_code == 201, response.json
    return response.json["id"]


def test_add_and_edit_land_on_the_record(crm: Any) -> None:
    _, admin, account = crm
    added = admin.post("/crm/opportunity/add", data={"name": "云服务器", "account": str(account),
                                                     "stage": "prospecting"})
    assert added.status_code == 302
    pk = int(re.search(r"/crm/opportunity/show/(\d+)$", added.headers["Location"]).group(1))
    assert admin.get(f"/api/v1/opportunity/{pk}").json["result"]["name"] == "云服务器"
    page = admin.get(f"/crm/opportunity/edit/{pk}").data.decode()
    version = re.search(r'name="version"[^>]*value="(\d+)"', page).group(1)
    edited = admin.post(f"/crm/opportunity/edit/{pk}", data={
        "name": "云服务器 二期", "account": str(account), "stage": "prospecting", "version": version})
    assert edited.status_code == 302 and edited.headers["Location"].endswith(f"/crm/opportunity/show/{pk}")


def test_record_page_has_title_buttons_and_stage_path(crm: Any) -> None:
    _, admin, account = crm
    pk = new_deal(admin, account, stage="needs_analysis")
    html = admin.get(f"/crm/opportunity/show/{pk}").data.decode()
    assert '<h2 class="crm-record-title">大单</h2>' in html
    assert "Opportunity: 大单" in html  # the panel's header names the record, not just the entity
    assert f'href="/crm/opportunity/edit/{pk}"' in html and 'id="crm-delete"' in html
    stages = re.findall(r'data-stage="(\w+)"', html)
    assert stages == ["prospecting", "needs_analysis", "proposal", "negotiation", "won", "lost"]
    current = re.findall(r'crm-stage-current[^"]*"\s+data-stage="(\w+)"', html)
    assert current == ["needs_analysis"]
    assert "(needs: Amount)" in html  # the proposal gate, amount not filled yet
    renewal = new_deal(admin, account, deal_type="renewal", stage="quoted", amount="100")
    html = admin.get(f"/crm/opportunity/show/{renewal}").data.decode()
    assert re.findall(r'data-stage="(\w+)"', html) == ["renewal_due", "quoted", "won", "lost"]  # its own pipeline
    admin.post("/lang/zh")
    html = admin.get(f"/crm/opportunity/show/{pk}").data.decode()
    assert "编辑" in html and "删除" in html and "需求分析" in html


def test_buttons_hidden_and_refused_without_the_right(crm: Any) -> None:
    app, admin, account = crm
    pk = new_deal(admin, account)
    executive = rep(app, "executive")  # reads everything, changes nothing
    html = executive.get(f"/crm/opportunity/show/{pk}").data.decode()
    assert '<h2 class="crm-record-title">大单</h2>' in html
    assert "crm-edit" not in html and "crm-delete" not in html
    assert executive.get(f"/crm/opportunity/edit/{pk}").status_code in (302, 403)
    executive.post(f"/crm/opportunity/delete/{pk}", data={"version": "1", "crm_from": "record"})
    assert admin.get(f"/api/v1/opportunity/{pk}").status_code == 200  # still there


def test_a_rep_sees_edit_on_own_deal_and_no_delete_when_the_role_cannot(crm: Any) -> None:
    app, _, account = crm
    sales = rep(app)
    own = new_deal(sales, account)
    html = sales.get(f"/crm/opportunity/show/{own}").data.decode()
    assert f'href="/crm/opportunity/edit/{own}"' in html
    with app.app_context():
        from app.security.access import access_for
        state = app.extensions["crm"]
        user = state.appbuilder.sm.find_user(username="sales_rep")
        may_delete = access_for(user).scope("opportunity", "delete") != "no"
    assert ('id="crm-delete"' in html) == may_delete


def test_delete_from_the_record_goes_to_the_list(crm: Any) -> None:
    _, admin, account = crm
    pk = new_deal(admin, account)
    response = admin.post(f"/crm/opportunity/delete/{pk}", data={"version": "1", "crm_from": "record"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/crm/opportunity/list/")
    assert admin.get(f"/api/v1/opportunity/{pk}").status_code == 404


@pytest.mark.parametrize(("lang", "said"), [("en", "Not a date (YYYY-MM-DD)."), ("zh", "日期无效（格式 YYYY-MM-DD）。")])
def test_an_impossible_date_is_a_field_error(crm: Any, lang: str, said: str) -> None:
    _, admin, account = crm
    admin.post(f"/lang/{lang}")
    response = admin.post("/crm/opportunity/add", data={"name": "坏日期", "account": str(account),
                                                        "stage": "prospecting", "close_date": "2026-13-45"})
    assert response.status_code == 200
    html = response.data.decode()
    assert said in html
    assert 'value="2026-13-45"' in html  # what was typed stays to be corrected


def test_convert_is_offered_only_on_leads_that_can_convert(crm: Any) -> None:
    app, admin, _ = crm
    fresh = admin.post("/api/v1/lead/", json={"name": "新线索", "company": "某公司", "mobile": "13800138000"}).json["id"]
    ready = admin.post("/api/v1/lead/", json={"name": "合格线索", "company": "某公司", "mobile": "13800138001"}).json["id"]
    assert admin.put(f"/api/v1/lead/{ready}", json={"status": "qualified"}).status_code == 200
    assert 'id="crm-convert"' not in admin.get(f"/crm/lead/show/{fresh}").data.decode()
    assert 'id="crm-convert"' in admin.get(f"/crm/lead/show/{ready}").data.decode()
    executive = rep(app, "executive")  # may read the lead, may not change it: no button
    html = executive.get(f"/crm/lead/show/{ready}").data.decode()
    assert "合格线索" in html and 'id="crm-convert"' not in html


def test_convert_is_not_offered_to_a_role_that_may_not_create_what_it_makes(crm: Any) -> None:
    """Marketing changes every lead but may not create contacts or opportunities: a conversion
    by Marketing is refused, so the button is not shown to them (it is to a Sales Rep's own)."""
    app, admin, _ = crm
    ready = admin.post("/api/v1/lead/", json={"name": "市场线索", "company": "某科技", "mobile": "13800138002"}).json["id"]
    assert admin.put(f"/api/v1/lead/{ready}", json={"status": "qualified"}).status_code == 200
    marketing = rep(app, "marketing")
    html = marketing.get(f"/crm/lead/show/{ready}").data.decode()
    assert "市场线索" in html and 'id="crm-convert"' not in html
    refused = marketing.post(f"/api/v1/lead/{ready}/convert", json={})
    assert refused.status_code in (400, 403, 422), refused.json
    assert 'id="crm-convert"' in admin.get(f"/crm/lead/show/{ready}").data.decode()


def test_convert_is_not_offered_when_a_made_record_would_miss_a_required_value(crm: Any) -> None:
    """The account is named after the lead's company: a qualified lead whose company was emptied
    since cannot convert (the conversion says so), so no button."""
    app, admin, _ = crm
    ready = admin.post("/api/v1/lead/", json={"name": "无公司线索", "company": "临时公司", "mobile": "13800138003"}).json["id"]
    assert admin.put(f"/api/v1/lead/{ready}", json={"status": "qualified"}).status_code == 200
    with app.app_context():
        state = app.extensions["crm"]
        lead = state.models.model("lead")
        state.db.session.execute(sa.update(lead).where(lead.id == ready).values(company=None))
        state.db.session.commit()
        state.db.session.remove()
    assert admin.post(f"/api/v1/lead/{ready}/convert", json={}).status_code in (400, 422)
    assert 'id="crm-convert"' not in admin.get(f"/crm/lead/show/{ready}").data.decode()
