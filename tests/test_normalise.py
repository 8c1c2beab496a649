"""Normalisers and uniqueness (issue 12 items 4 and 5) on every write path, on a real database.

One small tree: contacts with a normalised mobile (E.164), landline (national
form), e-mail (unique ignoring case), country and source (value maps), a code
(NFKC, upper case, regex) and money typed the way people type it; members
unique per (campaign, contact); sponsors unique per campaign (a link); leads
that convert into contacts.
"""

from __future__ import annotations

import sqlalchemy as sa

from app.records.commands import CreateRecord, RecordContext, ValidationFailed
from app.schema.plan import make_plan
from tests.conftest import login, write_tree

CRM = """\
name: 归一化测试
languages: [en, zh]
currency: CNY
phone_region: CN
"""

CONTACT = """\
label: {en: Contact, zh: 联系人}
fields:
  name: {type: string, required: true}
  mobile: {type: phone, unique: true, normalise: [phone], label: {en: Mobile, zh: 手机}}
  landline: {type: phone, normalise: [{phone: national}]}
  email: {type: email, unique: ignore_case, normalise: [email], label: {en: Email, zh: 邮箱}}
  country: {type: string, normalise: [trim, upper, {map: {UK: GB, 英国: GB}}]}
  source:
    type: choice
    choices: [paid_search, web, other]
    normalise: [trim, {map: {百度推广: paid_search, 官网: web}}]
  code: {type: string, normalise: [nfkc, upper, {replace: ['[\\s-]+', '']}]}
  price: money
  budget: {type: money, units: {万: 10000}}
"""

CAMPAIGN = """\
label: {en: Campaign, zh: 市场活动}
fields:
  name: {type: string, required: true}
"""

MEMBER = """\
label: {en: Member, zh: 活动成员}
fields:
  note: string
  campaign: {type: link, to: campaign, label: {en: Campaign, zh: 市场活动}}
  contact: {type: link, to: contact, label: {en: Contact, zh: 联系人}}
unique: [campaign, contact]
"""

SPONSOR = """\
label: {en: Sponsor, zh: 赞助商}
fields:
  name: string
  campaign: {type: link, to: campaign, unique: true}
"""

LEAD = """\
label: {en: Lead, zh: 线索}
fields:
  name: {type: string, required: true}
  mobile: phone
  email: email
  converted_contact: {type: link, to: contact, on_delete: set_null, read_only: true}
pipelines:
  - name: qualification
    field: status
    stages:
      - {name: new}
      - {name: qualified}
      - {name: converted, outcome: won}
convert:
  from: [qualified]
  to: converted
  targets:
    - entity: contact
      match: email
      fields: {name: name, mobile: mobile, email: email}
      link: converted_contact
"""


def tree(path):
    return write_tree(path, {"contact": CONTACT, "campaign": CAMPAIGN, "member": MEMBER,
                             "sponsor": SPONSOR, "lead": LEAD}, CRM)


def app_and_api(make_app, tmp_path):
    app = make_app(tree(tmp_path / "meta"))
    return app, login(app.test_client())


def contact(api, **values):
    return api.post("/api/v1/contact/", json={"name": "李雷", **values})


def test_phone_forms_are_one_number_and_one_duplicate(make_app, tmp_path):
    _, api = app_and_api(make_app, tmp_path)
    first = contact(api, mobile="+86 138 0013 8000")
    assert first.status_code == 201, first.json
    assert first.json["result"]["mobile"] == "+8613800138000"
    for typed in ("0086 13800138000", "138-0013-8000", "１３８ ００１３ ８０００", " (+86) 138 0013 8000 "):
        again = contact(api, mobile=typed)
        assert again.status_code == 422, (typed, again.json)
        assert again.json["message"] == {"mobile": ["Another record already has this value."]}
    other = contact(api, mobile="13900139000", landline="+86 10 6552 9988")
    assert other.status_code == 201, other.json
    assert other.json["result"]["mobile"] == "+8613900139000"
    assert other.json["result"]["landline"] == "010 6552 9988"
    foreign = contact(api, mobile="+44 20 7946 0958", landline="+44 20 7946 0958")
    assert foreign.json["result"]["mobile"] == "+442079460958"
    assert foreign.json["result"]["landline"] == "+442079460958"  # national form only for home numbers


def test_bad_phone_and_email_are_422_in_the_users_language(make_app, tmp_path):
    _, api = app_and_api(make_app, tmp_path)
    bad = contact(api, mobile="12345", email="李雷@@example")
    assert bad.status_code == 422
    assert bad.json["message"] == {"mobile": ["Not a valid phone number."],
                                   "email": ["Not a valid e-mail address."]}
    api.post("/lang/zh")
    bad = contact(api, mobile="12345")
    assert bad.json["message"] == {"mobile": ["电话号码无效。"]}


def test_email_is_unique_ignoring_case(make_app, tmp_path):
    _, api = app_and_api(make_app, tmp_path)
    first = contact(api, email="  Li.Lei@Example.CN ")
    assert first.status_code == 201, first.json
    assert first.json["result"]["email"] == "Li.Lei@example.cn"
    again = contact(api, name="韩梅梅", email="li.lei@EXAMPLE.cn")
    assert again.status_code == 422
    assert again.json["message"] == {"email": ["Another record already has this value."]}
    # the record itself may keep (or re-type) its own address
    same = api.put(f"/api/v1/contact/{first.json['id']}", json={"email": "LI.LEI@example.cn"})
    assert same.status_code == 200, same.json


def test_value_maps_case_and_regex(make_app, tmp_path):
    _, api = app_and_api(make_app, tmp_path)
    made = contact(api, country=" uk ", source=" 百度推广 ", code="ａｂ-12 34")
    assert made.status_code == 201, made.json
    result = made.json["result"]
    assert (result["country"], result["source"], result["code"]) == ("GB", "paid_search", "AB1234")
    zh = contact(api, country="英国", source="官网")
    assert (zh.json["result"]["country"], zh.json["result"]["source"]) == ("GB", "web")
    unknown = contact(api, source="抖音")
    assert unknown.status_code == 422 and "source" in unknown.json["message"]


def test_money_in_the_crm_currency(make_app, tmp_path):
    _, api = app_and_api(make_app, tmp_path)
    for typed, stored in (("¥1,280", "1280.00"), ("￥3,500.00", "3500.00"), ("12,345.60", "12345.60"),
                          ("RMB 99", "99.00"), ("1280元", "1280.00"), ("-¥5", "-5.00"), (800, "800.00")):
        made = contact(api, price=typed)
        assert made.status_code == 201, (typed, made.json)
        assert made.json["result"]["price"] == stored, typed
    assert contact(api, budget="12万").json["result"]["budget"] == "120000.00"
    assert contact(api, budget="1.5万").json["result"]["budget"] == "15000.00"
    assert contact(api, price="$100").json["message"] == {
        "price": ["Amounts are in CNY: '$' is another currency."]}
    assert contact(api, price="12万").json["message"] == {
        "price": ["'万' is not read here: type the whole amount (e.g. 120000)."]}
    assert contact(api, price="1,28").json["message"] == {"price": ["Not a number."]}
    api.post("/lang/zh")
    assert contact(api, price="€30").json["message"] == {"price": ["金额以 CNY 计：“€”是其他货币。"]}


def test_form_path_normalises_and_refuses_duplicates(make_app, tmp_path):
    app, web = app_and_api(make_app, tmp_path)
    saved = web.post("/crm/contact/add", data={"name": "王芳", "mobile": "１３８００１３８０００",
                                               "email": "Wang@Example.cn", "price": "¥1,280"})
    assert saved.status_code == 302, saved.data[:300]
    pk = web.get("/api/v1/contact/").json["ids"][0]
    row = web.get(f"/api/v1/contact/{pk}").json["result"]
    assert (row["mobile"], row["price"]) == ("+8613800138000", "1280.00")
    again = web.post("/crm/contact/add", data={"name": "王芳", "mobile": "+86 138 0013 8000"})
    assert again.status_code == 200
    assert "Another record already has this value." in again.data.decode()
    assert web.get("/api/v1/contact/").json["count"] == 1


def test_conversion_normalises_and_matches_the_canonical_form(make_app, tmp_path):
    _, api = app_and_api(make_app, tmp_path)
    existing = contact(api, name="韩梅梅", email="Han@Example.cn").json["id"]
    lead = api.post("/api/v1/lead/", json={"name": "韩梅梅", "email": "HAN@example.CN",
                                           "status": "qualified"}).json["id"]
    made = api.post(f"/api/v1/lead/{lead}/convert")
    assert made.status_code == 200, made.json
    assert made.json["result"]["contact"]["id"] == existing  # matched ignoring case: no duplicate
    other = api.post("/api/v1/lead/", json={"name": "李雷", "mobile": "0086 139 0013 9000",
                                            "status": "qualified"}).json["id"]
    made = api.post(f"/api/v1/lead/{other}/convert")
    assert made.status_code == 200, made.json
    new = api.get(f"/api/v1/contact/{made.json['result']['contact']['id']}").json["result"]
    assert new["mobile"] == "+8613900139000"


def test_unique_together_and_unique_link(make_app, tmp_path):
    _, api = app_and_api(make_app, tmp_path)
    spring = api.post("/api/v1/campaign/", json={"name": "春季展会"}).json["id"]
    autumn = api.post("/api/v1/campaign/", json={"name": "秋季展会"}).json["id"]
    li = contact(api).json["id"]
    han = contact(api, name="韩梅梅").json["id"]
    assert api.post("/api/v1/member/", json={"campaign": spring, "contact": li}).status_code == 201
    assert api.post("/api/v1/member/", json={"campaign": spring, "contact": han}).status_code == 201
    assert api.post("/api/v1/member/", json={"campaign": autumn, "contact": li}).status_code == 201
    again = api.post("/api/v1/member/", json={"campaign": spring, "contact": li, "note": "重复"})
    assert again.status_code == 422
    message = ["Another record already has this Campaign + Contact."]
    assert again.json["message"] == {"campaign": message, "contact": message}
    assert str(li) not in str(again.json) and "李雷" not in str(again.json)  # never reveals the other
    moved = api.get("/api/v1/member/").json["result"]
    han_member = next(m["id"] for m in moved if m["contact"]["id"] == han)
    into_duplicate = api.put(f"/api/v1/member/{han_member}", json={"contact": li})
    assert into_duplicate.status_code == 422
    assert api.put(f"/api/v1/member/{han_member}", json={"note": "只改备注"}).status_code == 200
    api.post("/lang/zh")
    zh = api.post("/api/v1/member/", json={"campaign": spring, "contact": li})
    assert zh.json["message"]["campaign"] == ["已有其他记录使用相同的市场活动 + 联系人。"]
    assert api.post("/api/v1/sponsor/", json={"name": "华为", "campaign": spring}).status_code == 201
    taken = api.post("/api/v1/sponsor/", json={"name": "腾讯", "campaign": spring})
    assert taken.status_code == 422 and taken.json["message"] == {"campaign": ["已有其他记录使用此值。"]}


def test_the_database_holds_the_rules_and_the_plan_is_settled(make_app, tmp_path):
    app, _ = app_and_api(make_app, tmp_path)
    with app.app_context():
        state = app.extensions["crm"]
        with state.db.engine.connect() as conn:
            assert make_plan(conn, state.models).changes == []
            inspector = sa.inspect(conn)
            sets = {tuple(c["column_names"]) for c in inspector.get_unique_constraints("member")}
            sets |= {tuple(i["column_names"]) for i in inspector.get_indexes("member") if i["unique"]}
            assert ("campaign_id", "contact_id") in sets
        with state.db.engine.connect() as conn:  # the e-mail index ignores case in the database too
            conn.execute(sa.text("INSERT INTO contact (name, email) VALUES ('甲', 'A@x.cn')"))
            try:
                conn.execute(sa.text("INSERT INTO contact (name, email) VALUES ('乙', 'a@X.CN')"))
            except sa.exc.IntegrityError:
                refused = True
            else:
                refused = False
            conn.rollback()
        assert refused


def test_a_lost_race_on_the_constraint_is_a_422_not_a_500(make_app, tmp_path):
    """Another writer stores the same e-mail between our check and our commit."""
    app, _ = app_and_api(make_app, tmp_path)
    with app.app_context():
        state = app.extensions["crm"]
        ctx = RecordContext(state.db.session, state.models, lang="zh", user_id=None)
        command = CreateRecord(ctx, "contact", {"name": "李雷", "email": "li@example.cn"})
        command.validate()  # nobody has it yet
        record = command.model()
        command._assign(record)
        ctx.session.add(record)
        with state.db.engine.begin() as other:
            other.execute(sa.text("INSERT INTO contact (name, email) VALUES ('韩梅梅', 'LI@example.cn')"))
        try:
            command._commit()
        except ValidationFailed as exc:
            errors = exc.errors
        assert errors == {"email": ["已有其他记录使用此值。"]}


def test_starter_normalises_phones_emails_and_lead_sources(make_app):
    api = login(make_app().test_client())
    lead = api.post("/api/v1/lead/", json={"name": "王小明", "mobile": "0086 139-1234-5678",
                                           "email": "XM.Wang@YunFan.CN", "source": " 百度推广 "})
    assert lead.status_code == 201, lead.json
    result = lead.json["result"]
    assert (result["mobile"], result["email"], result["source"]) == (
        "139 1234 5678", "XM.Wang@yunfan.cn", "advertising")
    account = api.post("/api/v1/account/", json={"name": "杭州云帆科技有限公司", "phone": "+86 571 8765 4321"})
    assert account.status_code == 201, account.json
    assert account.json["result"]["phone"] == "0571 8765 4321"
