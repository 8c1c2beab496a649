"""Rules (issue 12 item 3): required_if, visible_if, read_only_if, validate rules and the
record lock, enforced on the API, the form, the board move and conversion, in zh and en."""

from __future__ import annotations

from tests.conftest import login, write_tree

CRM = """\
name: 规则测试
languages: [en, zh]
timezone: Asia/Shanghai
"""

TICKET = """\
label: {en: Ticket, zh: 工单}
fields:
  subject: {type: string, required: true}
  priority: {type: choice, choices: [normal, urgent]}
  escalation_reason:
    type: text
    visible_if: "priority = 'urgent'"
    required_if: "priority = 'urgent'"
    label: {en: Escalation reason, zh: 升级原因}
  internal_note:
    type: string
    required_if: "priority = 'urgent'"
  resolution:
    type: text
    required_if: status in [resolved, closed]
    label: {en: Resolution, zh: 解决方案}
  due: {type: date, read_only_if: "status = 'resolved'"}
  promised: date
pipelines:
  - name: support
    field: status
    stages:
      - {name: new}
      - {name: resolved}
      - {name: closed, requires: [internal_note]}
validate:
  - rule: is_empty(promised) or is_empty(due) or promised <= due
    message: {en: The promised date cannot be after the due date., zh: 承诺日期不能晚于截止日期。}
    fields: [promised]
locked_if: "status = 'closed'"
unlock_roles: [Manager]
"""

LEAD = """\
label: {en: Lead, zh: 线索}
fields:
  name: {type: string, required: true}
  email: email
  mobile: phone
  converted_contact: {type: link, to: contact, read_only: true, on_delete: set_null}
pipelines:
  - name: qualification
    field: status
    stages: [{name: new}, {name: qualified}, {name: converted, outcome: won}]
convert:
  from: [qualified]
  to: converted
  targets:
    - entity: contact
      fields: {name: name, email: email, mobile: mobile}
      link: converted_contact
"""

CONTACT = """\
label: {en: Contact, zh: 联系人}
fields:
  name: {type: string, required: true}
  email: email
  mobile: phone
validate:
  - rule: not is_empty(email) or not is_empty(mobile)
    message: {en: Give an e-mail or a mobile number., zh: 请填写邮箱或手机。}
    fields: [email, mobile]
"""

ROLES = """\
Manager:
  entities:
    ticket: {read: all, create: yes, update: all, delete: all}
Agent:
  entities:
    ticket: {read: all, create: yes, update: all}
  fields:
    ticket.internal_note: hidden
"""


def tree(path):
    root = write_tree(path, {"ticket": TICKET, "lead": LEAD, "contact": CONTACT}, CRM)
    (root / "roles.yaml").write_text(ROLES, encoding="utf-8")
    return root


def setup(make_app, tmp_path):
    app = make_app(tree(tmp_path / "meta"))
    with app.app_context():
        sm = app.extensions["crm"].appbuilder.sm
        for name in ("Manager", "Agent"):
            sm.add_user(name.lower(), name, "测试", f"{name.lower()}@x.cn", [sm.find_role(name)],
                        password="user-pass-1")
    return app, login(app.test_client())


def user(app, name):
    return login(app.test_client(), name, "user-pass-1")


def ticket(api, **values):
    return api.post("/api/v1/ticket/", json={"subject": "打印机卡纸", **values})


def test_required_if_and_visible_if_on_the_api(make_app, tmp_path):
    _, api = setup(make_app, tmp_path)
    assert ticket(api, priority="normal").status_code == 201
    urgent = ticket(api, priority="urgent")
    assert urgent.status_code == 422
    assert urgent.json["message"] == {"escalation_reason": ["This field is required."],
                                      "internal_note": ["This field is required."]}
    ok = ticket(api, priority="urgent", escalation_reason="客户停产", internal_note="VIP")
    assert ok.status_code == 201, ok.json
    hidden = ticket(api, priority="normal", escalation_reason="无关")
    assert hidden.status_code == 422
    assert hidden.json["message"] == {"escalation_reason": ["This field does not apply here."]}
    api.post("/lang/zh")
    assert ticket(api, priority="urgent", internal_note="x").json["message"] == {
        "escalation_reason": ["此项为必填项。"]}


def test_a_field_the_role_cannot_see_counts_as_filled(make_app, tmp_path):
    app, _ = setup(make_app, tmp_path)
    agent = user(app, "agent")
    made = ticket(agent, priority="urgent", escalation_reason="客户停产")
    assert made.status_code == 201, made.json  # internal_note is required, but hidden from agents


def test_validate_rule_marks_its_fields_in_the_users_language(make_app, tmp_path):
    _, api = setup(make_app, tmp_path)
    bad = ticket(api, due="2026-05-01", promised="2026-06-01")
    assert bad.status_code == 422
    assert bad.json["message"] == {"promised": ["The promised date cannot be after the due date."]}
    pk = ticket(api, due="2026-05-01", promised="2026-04-01").json["id"]
    api.post("/lang/zh")
    moved = api.put(f"/api/v1/ticket/{pk}", json={"due": "2026-03-01"})  # the rule reads the stored promise
    assert moved.status_code == 422
    assert moved.json["message"] == {"promised": ["承诺日期不能晚于截止日期。"]}


def test_board_move_obeys_required_if_read_only_if_and_the_lock(make_app, tmp_path):
    app, api = setup(make_app, tmp_path)
    pk = ticket(api, due="2026-05-01").json["id"]
    refused = api.post(f"/api/v1/ticket/{pk}/move", json={"stage": "resolved"})
    assert refused.status_code == 422
    assert refused.json["message"] == {"resolution": ["This field is required."]}
    assert api.put(f"/api/v1/ticket/{pk}", json={"resolution": "更换硒鼓"}).status_code == 200
    assert api.post(f"/api/v1/ticket/{pk}/move", json={"stage": "resolved"}).status_code == 200
    frozen = api.put(f"/api/v1/ticket/{pk}", json={"due": "2026-06-01"})
    assert frozen.status_code == 422 and frozen.json["message"] == {"due": ["This field cannot be changed."]}
    agent, manager = user(app, "agent"), user(app, "manager")
    # the gate requires internal_note, which agents cannot see: it counts as filled for them
    assert agent.post(f"/api/v1/ticket/{pk}/move", json={"stage": "closed"}).status_code == 200
    locked = agent.put(f"/api/v1/ticket/{pk}", json={"subject": "改标题"})
    assert locked.status_code == 403
    assert "locked" in locked.json["message"] and "Manager" in locked.json["message"]
    assert agent.post(f"/api/v1/ticket/{pk}/move", json={"stage": "new"}).status_code == 403
    assert manager.put(f"/api/v1/ticket/{pk}", json={"subject": "经理可改"}).status_code == 200
    assert api.put(f"/api/v1/ticket/{pk}", json={"subject": "管理员可改"}).status_code == 200


def test_form_path_enforces_rules(make_app, tmp_path):
    _, web = setup(make_app, tmp_path)
    refused = web.post("/crm/ticket/add", data={"subject": "屏幕闪烁", "priority": "urgent"})
    assert refused.status_code == 200
    assert "This field is required." in refused.data.decode()
    saved = web.post("/crm/ticket/add", data={"subject": "屏幕闪烁", "priority": "urgent",
                                              "escalation_reason": "影响生产", "internal_note": "重要"})
    assert saved.status_code == 302


def test_conversion_runs_the_targets_rules(make_app, tmp_path):
    _, api = setup(make_app, tmp_path)
    lead = api.post("/api/v1/lead/", json={"name": "韩梅梅", "status": "qualified"}).json["id"]
    refused = api.post(f"/api/v1/lead/{lead}/convert")
    assert refused.status_code == 422
    message = ["Give an e-mail or a mobile number."]
    assert refused.json["message"] == {"contact.email": message, "contact.mobile": message}
    assert api.put(f"/api/v1/lead/{lead}", json={"mobile": "13800138000"}).status_code == 200
    assert api.post(f"/api/v1/lead/{lead}/convert").status_code == 200


def test_live_form_conditions(make_app, tmp_path):
    _, api = setup(make_app, tmp_path)
    states = api.post("/crm/ticket/conditions", data={"priority": "urgent", "status": "new"}).json
    assert "escalation_reason" in states["required"] and "escalation_reason" not in states["hidden"]
    states = api.post("/crm/ticket/conditions", data={"priority": "normal", "status": "resolved"}).json
    assert "escalation_reason" in states["hidden"] and "resolution" in states["required"]
    pk = ticket(api, due="2026-05-01", resolution="已修复").json["id"]
    assert api.post(f"/api/v1/ticket/{pk}/move", json={"stage": "resolved"}).status_code == 200
    states = api.post(f"/crm/ticket/conditions?pk={pk}", data={"status": "resolved"}).json
    assert "due" in states["read_only"]


def test_starter_locks_closed_deals_and_checks_won_dates(make_app):
    import datetime as dt

    from app.demo.users import DEMO_PASSWORD, create_demo_users

    app = make_app()
    with app.app_context():
        state = app.extensions["crm"]
        create_demo_users(state.appbuilder, state.models)
    rep = login(app.test_client(), "sales_rep", DEMO_PASSWORD)
    manager = login(app.test_client(), "sales_manager", DEMO_PASSWORD)
    account = rep.post("/api/v1/account/", json={"name": "杭州云帆科技有限公司"}).json["id"]
    contact = rep.post("/api/v1/contact/", json={"name": "王小明", "account": account}).json["id"]
    future = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    deal = rep.post("/api/v1/opportunity/", json={"name": "云帆 ERP 项目", "account": account,
                                                  "amount": "¥128,000", "close_date": future,
                                                  "contact": contact})
    assert deal.status_code == 201, deal.json
    pk = deal.json["id"]
    for stage in ("needs_analysis", "proposal", "negotiation"):
        assert rep.post(f"/api/v1/opportunity/{pk}/move", json={"stage": stage}).status_code == 200, stage
    rep.post("/lang/zh")
    won = rep.post(f"/api/v1/opportunity/{pk}/move", json={"stage": "won"})
    assert won.status_code == 422
    assert won.json["message"] == {"close_date": ["已成交商机的成交日期不能晚于今天。"]}
    assert rep.put(f"/api/v1/opportunity/{pk}", json={"close_date": dt.date.today().isoformat()}).status_code == 200
    won = manager.post(f"/api/v1/opportunity/{pk}/move", json={"stage": "won"})  # won: managers only
    assert won.status_code == 200, won.json
    locked = rep.put(f"/api/v1/opportunity/{pk}", json={"amount": "1"})
    assert locked.status_code == 403 and "Sales Manager" in locked.json["message"]
    assert manager.put(f"/api/v1/opportunity/{pk}", json={"next_step": "交付"}).status_code == 200


def test_is_empty_answers_as_comparing_with_none_blank_and_the_empty_list():
    """is_empty answers numbers and dates by their type (a speed-up): the same answer as the
    comparisons it stands for, for every kind of value a record holds."""
    import datetime as dt
    from decimal import Decimal

    from app.records.rules import is_empty

    class Blank(str):
        pass

    values = [None, "", " ", "空", [], [""], [0], 0, 1, -1, True, False, 0.0, float("nan"), Decimal("0"),
              Decimal("NaN"), Decimal("-0.00"), dt.date(2026, 1, 1), dt.datetime(2026, 1, 1), Blank(""),
              Blank("x"), (), {}, {"id": 1}]
    for value in values:
        assert is_empty(value) is (value is None or value == "" or value == []), value
