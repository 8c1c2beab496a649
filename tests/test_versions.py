"""Lost updates: every update and delete carries the version it was read at (issue 11, item 4).

Two clients read the same record; the first saves; the second, saving from its
stale copy, gets a 409 naming what changed (never a hidden field) and nothing
it sent is stored. Screens, the API, deletes, moves and conversions alike.
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from app.records.commands import RecordContext, StaleVersion, UpdateRecord
from app.schema.apply import apply_plan
from app.schema.plan import make_plan
from tests.conftest import login, write_tree

DEAL = """
label: {en: Deal, zh: 交易}
title: name
fields:
  name: {type: string, required: true, label: {en: Name, zh: 名称}}
  amount: {type: money, label: {en: Amount, zh: 金额}}
  note: {type: text, label: {en: Note, zh: 备注}}
  stage: {type: choice, choices: [new, won], default: new, label: {en: Stage, zh: 阶段}}
list: {columns: [name, amount, stage], search: [name], filters: [name, stage]}
"""

ROLES = """
Rep:
  label: {en: Rep, zh: 销售}
  entities:
    deal: {read: all, create: yes, update: all, delete: all}
  fields:
    deal.amount: hidden
"""


@pytest.fixture
def deal_app(make_app, tmp_path):
    root = write_tree(tmp_path / "meta", {"deal": DEAL})
    (root / "roles.yaml").write_text(ROLES, encoding="utf-8")
    app = make_app(root)
    with app.app_context():
        sm = app.extensions["crm"].appbuilder.sm
        sm.add_user("rep", "小", "王", "rep@example.cn", sm.find_role("Rep"), "pw-1234567")
    return app


def _two(app, username="admin", password=None):
    first = login(app.test_client()) if password is None else login(app.test_client(), username, password)
    second = login(app.test_client()) if password is None else login(app.test_client(), username, password)
    return first, second


def _deal(client, **values):
    response = client.post("/api/v1/deal/", json={"name": "华为服务器", "amount": "1000.00", **values})
    assert response.status_code == 201, response.json
    return response.json["id"]


def _stored(app, pk):
    with app.app_context():
        row = app.extensions["crm"].db.session.execute(
            sa.text("SELECT name, amount, note, version FROM deal WHERE id = :id"), {"id": pk}).one()
        app.extensions["crm"].db.session.rollback()
        return row


# -- API ---------------------------------------------------------------------------------


def test_get_returns_the_version_in_body_etag_and_openapi(deal_app):
    api = login(deal_app.test_client())
    pk = _deal(api)
    response = api.get(f"/api/v1/deal/{pk}")
    assert response.json["result"]["version"] == 1
    assert response.headers["ETag"] == '"1"'
    assert api.get("/api/v1/deal/").json["result"][0]["version"] == 1
    schemas = api.get("/api/v1/_openapi").json["components"]["schemas"]
    assert "version" in schemas["DealApi.get"]["properties"]
    assert "version" in schemas["DealApi.put"]["properties"]


def test_stale_put_is_409_with_what_changed_and_stores_nothing(deal_app):
    alice, bob = _two(deal_app)
    pk = _deal(alice)
    seen = bob.get(f"/api/v1/deal/{pk}")  # bob reads version 1
    first = alice.put(f"/api/v1/deal/{pk}", json={"name": "华为服务器（改）", "note": "张三改的"},
                      headers={"If-Match": '"1"'})
    assert first.status_code == 200, first.json
    assert first.json["result"]["version"] == 2 and first.headers["ETag"] == '"2"'
    stale = bob.put(f"/api/v1/deal/{pk}", json={"amount": "5.00", "version": seen.json["result"]["version"]})
    assert stale.status_code == 409, stale.json
    body = stale.json
    assert body["version"] == 2 and body["your_version"] == 1
    assert body["changed"] == ["name", "note"]
    assert body["current"]["name"] == "华为服务器（改）" and body["current"]["amount"] == "1000.00"
    assert "Name" in body["message"] and "Note" in body["message"]
    assert tuple(_stored(deal_app, pk)) == ("华为服务器（改）", 1000, "张三改的", 2)
    # with the version it now has, the same change goes through
    again = bob.put(f"/api/v1/deal/{pk}", json={"amount": "5.00"}, headers={"If-Match": stale.headers["ETag"]})
    assert again.status_code == 200 and again.json["result"]["version"] == 3


def test_stale_delete_is_409_and_keeps_the_record(deal_app):
    alice, bob = _two(deal_app)
    pk = _deal(alice)
    assert alice.put(f"/api/v1/deal/{pk}", json={"note": "新备注"}, headers={"If-Match": "1"}).status_code == 200
    stale = bob.delete(f"/api/v1/deal/{pk}", headers={"If-Match": '"1"'})
    assert stale.status_code == 409 and stale.json["changed"] == ["note"]
    assert _stored(deal_app, pk).name == "华为服务器"
    assert bob.delete(f"/api/v1/deal/{pk}", headers={"If-Match": '"2"'}).status_code == 200
    assert bob.get(f"/api/v1/deal/{pk}").status_code == 404


def test_a_stale_write_never_names_a_hidden_field(deal_app):
    admin = login(deal_app.test_client())
    rep = login(deal_app.test_client(), "rep", "pw-1234567")
    pk = _deal(admin)
    assert "amount" not in rep.get(f"/api/v1/deal/{pk}").json["result"]
    assert admin.put(f"/api/v1/deal/{pk}", json={"amount": "99999.00"}, headers={"If-Match": "1"}).status_code == 200
    stale = rep.put(f"/api/v1/deal/{pk}", json={"note": "销售备注"}, headers={"If-Match": "1"})
    assert stale.status_code == 409
    assert stale.json["changed"] == [] and "amount" not in stale.json["current"]
    assert "Amount" not in stale.json["message"] and "99999" not in stale.get_data(as_text=True)
    assert _stored(deal_app, pk).note is None


@pytest.mark.parametrize("bad", ['"abc"', "1.5", "-1", '"99999999999999999999"'])
def test_a_version_that_is_not_one_is_400_naming_version(deal_app, bad):
    api = login(deal_app.test_client())
    pk = _deal(api)
    response = api.put(f"/api/v1/deal/{pk}", json={"note": "x"}, headers={"If-Match": bad})
    assert response.status_code == 400 and "version" in response.json["message"], response.json
    body = api.put(f"/api/v1/deal/{pk}", json={"note": "x", "version": "三"})
    assert body.status_code == 400 and "version" in body.json["message"]
    assert _stored(deal_app, pk).note is None


def test_no_version_is_last_write_wins(deal_app):
    """Documented in the README: clients that send no version keep working (and may overwrite)."""
    alice, bob = _two(deal_app)
    pk = _deal(alice)
    assert alice.put(f"/api/v1/deal/{pk}", json={"note": "甲"}).status_code == 200
    assert bob.put(f"/api/v1/deal/{pk}", json={"note": "乙"}).status_code == 200
    assert _stored(deal_app, pk).note == "乙"


def test_the_database_refuses_a_write_that_lost_the_race(deal_app):
    """Between the command's check and its commit another writer commits: the ORM's version
    check (UPDATE ... WHERE version = read) refuses it, and the command says what changed."""
    pk = _deal(login(deal_app.test_client()))
    with deal_app.test_request_context():
        state = deal_app.extensions["crm"]
        session = state.db.session
        record = session.get(state.models.model("deal"), pk)
        assert record.version == 1
        with state.db.engine.begin() as other:  # another process saves first
            other.execute(sa.text("UPDATE deal SET note = '别人', version = 2 WHERE id = :id"), {"id": pk})
        command = UpdateRecord(RecordContext(session, state.models), "deal", record, {"name": "我的"}, version=1)
        with pytest.raises(StaleVersion) as caught:
            command.run()
        assert caught.value.version == 2 and caught.value.your_version == 1
        session.rollback()
    assert tuple(_stored(deal_app, pk))[:1] == ("华为服务器",)


# -- screens -------------------------------------------------------------------------------


def _edit_form(client, pk):
    page = client.get(f"/crm/deal/edit/{pk}").get_data(as_text=True)
    version = re.search(r'name="version"[^>]*value="(\d+)"|value="(\d+)"[^>]*name="version"', page)
    assert version, "no hidden version field on the edit form"
    return {"name": "华为服务器", "amount": "1000.00", "note": "", "stage": "new",
            "version": version.group(1) or version.group(2)}


@pytest.mark.parametrize(("lang", "words"), [("en", "changed by someone else"), ("zh", "已被他人修改")])
def test_stale_form_save_reshows_the_form_naming_what_changed(deal_app, lang, words):
    alice, bob = _two(deal_app)
    pk = _deal(alice)
    bob.post(f"/lang/{lang}")
    form = _edit_form(bob, pk)  # bob opens the form at version 1
    assert alice.put(f"/api/v1/deal/{pk}", json={"note": "张三的备注"}).status_code == 200
    response = bob.post(f"/crm/deal/edit/{pk}", data={**form, "name": "李四改名"})
    assert response.status_code == 200  # the form again, not a redirect
    page = response.get_data(as_text=True)
    assert words in page and "张三的备注" in page
    assert ("Note" if lang == "en" else "备注") in page
    assert _stored(deal_app, pk).name == "华为服务器"  # nothing of bob's was saved
    # the form now carries the current version: saving again is a knowing overwrite
    resubmit = re.search(r'name="version"[^>]*value="(\d+)"|value="(\d+)"[^>]*name="version"', page)
    assert resubmit and "2" in resubmit.groups()
    assert bob.post(f"/crm/deal/edit/{pk}", data={**form, "name": "李四改名", "version": "2"}).status_code == 302
    assert _stored(deal_app, pk).name == "李四改名"


def test_form_delete_from_a_stale_list_is_refused(deal_app):
    alice, bob = _two(deal_app)
    pk = _deal(alice)
    listing = bob.get("/crm/deal/list/").get_data(as_text=True)
    assert f"/crm/deal/delete/{pk}?version=1" in listing
    assert alice.put(f"/api/v1/deal/{pk}", json={"note": "还在谈"}).status_code == 200
    page = bob.post(f"/crm/deal/delete/{pk}?version=1", follow_redirects=True).get_data(as_text=True)
    assert "someone else" in page
    assert _stored(deal_app, pk).name == "华为服务器"
    bob.post(f"/crm/deal/delete/{pk}?version=2")
    assert bob.get(f"/api/v1/deal/{pk}").status_code == 404


# -- moves and conversions (starter metadata) ---------------------------------------------------


def test_move_and_conversion_from_a_stale_copy_are_409(make_app):
    app = make_app()
    alice, bob = _two(app)
    lead = alice.post("/api/v1/lead/", json={"name": "王五", "company": "杭州某科技", "status": "qualified"})
    assert lead.status_code == 201, lead.json
    pk = lead.json["id"]
    seen = bob.get(f"/api/v1/lead/{pk}").json["result"]["version"]
    assert alice.put(f"/api/v1/lead/{pk}", json={"company": "杭州某科技有限公司"}).status_code == 200
    converted = bob.post(f"/api/v1/lead/{pk}/convert", json={"version": seen})
    assert converted.status_code == 409 and converted.json["changed"] == ["company"]
    with app.app_context():
        session = app.extensions["crm"].db.session
        assert session.execute(sa.text("SELECT count(*) FROM account")).scalar() == 0
        session.rollback()
    account = alice.post("/api/v1/account/", json={"name": "杭州某科技有限公司"}).json["id"]
    opp = alice.post("/api/v1/opportunity/", json={"name": "云服务合同", "amount": "1.00", "account": account})
    assert opp.status_code == 201, opp.json
    opk = opp.json["id"]
    board = bob.get(f"/api/v1/opportunity/{opk}").json["result"]["version"]
    assert alice.put(f"/api/v1/opportunity/{opk}", json={"amount": "2.00"}).status_code == 200
    moved = bob.post(f"/api/v1/opportunity/{opk}/move", json={"stage": "needs_analysis", "version": board})
    assert moved.status_code == 409 and moved.json["changed"] == ["amount"]
    assert bob.get(f"/api/v1/opportunity/{opk}").json["result"]["stage"] == "prospecting"


# -- schema ------------------------------------------------------------------------------------


def test_existing_tables_gain_the_version_column_without_losing_rows(deal_app, tmp_path):
    pk = _deal(login(deal_app.test_client()))
    with deal_app.app_context():
        state = deal_app.extensions["crm"]
        engine = state.db.engine
        with engine.begin() as conn:  # a database made before versions existed
            conn.execute(sa.text("ALTER TABLE deal DROP COLUMN version"))
        with engine.connect() as conn:
            plan = make_plan(conn, state.models)
        assert [(c.kind, c.table, c.column) for c in plan.changes] == [("add_column", "deal", "version")]
        apply_plan(engine, state.models, tmp_path / "migrations")
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT name, version FROM deal WHERE id = :id"), {"id": pk}).one() == (
                "华为服务器", 1)
