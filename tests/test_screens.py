"""Generated screens over HTTP: forms for every field type, errors, lists, search, i18n."""

from __future__ import annotations

import pytest

from tests.alltypes import alltypes_tree
from tests.conftest import count_queries, csrf_token, login, write_tree

FORM = {
    "name": "表单小工具",
    "notes": "备注",
    "qty": "12",
    "weight": "1.25",
    "price": "1999.9",
    "discount": "12.5",
    "active": "y",
    "launched": "2025-03-01",
    "updated_at": "2025-03-01 09:30:00",
    "email": "han.meimei@example.cn",
    "phone": "13800138000",
    "site": "https://example.cn",
    "color": "green",
    "tags": ["new", "sale"],
    "sku": "XYZ-9",
}


@pytest.fixture
def gadget_app(make_app, tmp_path):
    return make_app(alltypes_tree(tmp_path / "meta"))


@pytest.fixture
def web(gadget_app):
    return login(gadget_app.test_client())


def maker_id(web, name="联想"):
    return web.post("/api/v1/maker/", json={"name": name}).json["id"]


def test_form_round_trip_of_every_field_type(web):
    maker = maker_id(web)
    admin = web.get("/api/v1/user/picker").json["results"][0]["id"]
    data = {**FORM, "maker": str(maker), "makers": [str(maker)], "buyer": str(admin)}
    response = web.post("/crm/gadget/add", data=data)
    assert response.status_code == 302, response.data.decode()[:2000]
    rows = web.get("/api/v1/gadget/?q=(columns:!(name,qty,weight,price,discount,active,launched,"
                   "updated_at,email,phone,site,color,tags,sku,maker,makers,buyer,serial,notes))").json
    assert rows["count"] == 1
    row = rows["result"][0]
    assert row["name"] == "表单小工具" and row["qty"] == 12 and row["weight"] == "1.250"
    assert row["price"] == "1999.90" and row["discount"] == "12.50" and row["active"] is True
    assert row["launched"] == "2025-03-01" and row["updated_at"].startswith("2025-03-01T09:30")
    assert row["color"] == "green" and sorted(row["tags"]) == ["new", "sale"]
    assert row["maker"]["id"] == maker and [m["id"] for m in row["makers"]] == [maker]
    assert row["buyer"]["id"] == admin and row["serial"] == "GAD-0001"
    # the edit form shows the stored values back, the picker with the linked record's title
    page = web.get(f"/crm/gadget/edit/{rows['ids'][0]}").data.decode()
    assert 'value="1999.90"' in page and "联想" in page and 'value="2025-03-01 09:30"' in page
    # unchecking a boolean and clearing a link saves them
    edit = {**FORM, "maker": "", "makers": [], "buyer": ""}
    edit.pop("active")
    assert web.post(f"/crm/gadget/edit/{rows['ids'][0]}", data=edit).status_code == 302
    row = web.get(f"/api/v1/gadget/{rows['ids'][0]}").json["result"]
    assert row["active"] is False and row["maker"] is None and row["makers"] == []


@pytest.mark.parametrize(("field", "value", "message"), [
    ("qty", "abc", "Not a whole number."),
    ("qty", "5000", "Must be at most 1000."),
    ("email", "nope", "Not a valid e-mail address."),
    ("launched", "2025-02-30", "Not a date"),
    ("maker", "424242", "No Maker with id 424242."),
    ("name", "", "This field is required."),
    ("sku", "bad", "SKU like ABC-123"),
])
def test_bad_form_value_shows_the_field_message_and_saves_nothing(web, field, value, message):
    response = web.post("/crm/gadget/add", data={**FORM, field: value})
    assert response.status_code == 200
    html = response.data.decode()
    assert message in html
    assert web.get("/api/v1/gadget/").json["count"] == 0


@pytest.mark.parametrize("field", [*FORM, "maker", "buyer"])
def test_a_typed_percent_sign_in_any_field_is_a_form_error_never_a_500(web, field):
    """FAB's form template shows each error through `_()`, and Jinja formats every gettext result
    with `%`: an error quoting what the user typed ('50%', '%s') raised TypeError, a 500."""
    value = ["50%", "%s%n"] if field == "tags" else "50%s%n%"
    response = web.post("/crm/gadget/add", data={**FORM, field: value})
    assert response.status_code in (200, 302), (field, response.status_code)
    if response.status_code == 200:  # refused: said next to the field, the typed text as typed
        html = response.data.decode()
        shown = " ".join(block.split("</div>")[0] for block in html.split('<div class="alert alert-danger">')[1:]
                         if "data-dismiss" not in block.split("</div>")[0])  # the field's, not the flash
        assert shown.strip() and "%%" not in shown, shown
        if field in ("color", "tags"):  # their messages quote the value: the '%' shown once
            assert "%s%n" in shown, shown
        assert web.get("/api/v1/gadget/").json["count"] == 0


def test_delete_from_the_screen_and_restricted_delete(web):
    maker = maker_id(web)
    web.post("/crm/gadget/add", data={**FORM, "maker": str(maker)})
    assert web.get(f"/crm/maker/delete/{maker}").status_code == 302  # GET never deletes
    assert web.get(f"/api/v1/maker/{maker}").status_code == 200
    response = web.post(f"/crm/maker/delete/{maker}", follow_redirects=True)
    assert "link to it" in response.data.decode()
    assert web.get(f"/api/v1/maker/{maker}").status_code == 200
    lone = maker_id(web, "孤立")
    web.post(f"/crm/maker/delete/{lone}")
    assert web.get(f"/api/v1/maker/{lone}").status_code == 404
    assert web.get("/crm/maker/show/999999").status_code == 404
    assert web.get("/crm/maker/edit/999999").status_code == 404


def _add_gadgets(web, names):
    for name in names:
        web.post("/api/v1/gadget/", json={"name": name})


def test_quick_search_and_filters_on_the_list(web):
    _add_gadgets(web, ["上海电钻", "北京电锯", "Shanghai Hammer"])
    html = web.get("/crm/gadget/list/?q=上海").data.decode()
    assert "上海电钻" in html and "北京电锯" not in html
    html = web.get("/crm/gadget/list/?q=shanghai").data.decode()
    assert "Shanghai Hammer" in html and "上海电钻" not in html
    # a filter value of the wrong type is refused with a message, not a 500
    response = web.get("/crm/gadget/list/?_flt_0_qty=lots")
    assert response.status_code == 200 and "Filter value" in response.data.decode()


def test_list_runs_the_same_number_of_statements_whatever_the_page_size(web, gadget_app):
    maker = maker_id(web)
    for i in range(30):
        web.post("/api/v1/gadget/", json={"name": f"g{i}", "maker": maker, "makers": [maker], "tags": ["new"]})
    counts = {}
    for size in (5, 25):
        for url in (f"/crm/gadget/list/?psize_GadgetView={size}", f"/api/v1/gadget/?q=(page_size:{size})"):
            web.get(url)  # warm: access and bell caches (counted on a warm cache, tests/test_performance.py)
            with count_queries(gadget_app) as statements:
                assert web.get(url).status_code == 200
            counts[(url.split("?")[0], size)] = len(statements)
    assert counts[("/crm/gadget/list/", 5)] == counts[("/crm/gadget/list/", 25)]
    assert counts[("/api/v1/gadget/", 5)] == counts[("/api/v1/gadget/", 25)]
    assert counts[("/api/v1/gadget/", 25)] <= 12


def test_labels_follow_the_ui_language(web):
    html = web.get("/crm/gadget/list/").data.decode()
    assert "Gadget" in html
    web.post("/lang/zh")
    html = web.get("/crm/gadget/add").data.decode()
    assert "小工具" in html and "名称" in html


def test_fab_legacy_endpoints_that_bypass_commands_are_closed(web):
    maker_id(web)
    first = web.get("/api/v1/maker/").json["ids"][0]
    attempts = [("get", "/crm/maker/api/read", None), ("post", "/crm/maker/api/create", {"name": "x"}),
                ("post", "/crm/maker/action_post", {"action": "muldelete", "rowid": [str(first)]}),
                ("post", f"/crm/maker/api/delete/{first}", None)]
    for method, url, data in attempts:
        response = getattr(web, method)(url, data=data)
        assert response.status_code in (403, 404, 405), url
    assert web.get("/api/v1/maker/").json["count"] == 1


def test_csrf_is_required_on_forms(make_app, tmp_path):
    app = make_app(alltypes_tree(tmp_path / "meta"), WTF_CSRF_ENABLED=True)
    client = app.test_client()
    token = csrf_token(client.get("/login/").data.decode())
    assert client.post("/login/", data={"username": "admin", "password": "admin-pass-1",
                                        "csrf_token": token}).status_code == 302
    refused = client.post("/crm/maker/add", data={"name": "无令牌"})
    assert refused.status_code in (200, 400)
    token = csrf_token(client.get("/crm/maker/add").data.decode())
    accepted = client.post("/crm/maker/add", data={"name": "有令牌", "csrf_token": token})
    assert accepted.status_code == 302
    names = [r["name"] for r in client.get("/api/v1/maker/").json["result"]]
    assert names == ["有令牌"]


def test_an_entity_added_only_in_metadata_gets_screens_and_api(make_app, tmp_path):
    tree = write_tree(tmp_path / "meta", {"warehouse": """
        label: {en: Warehouse, zh: 仓库}
        fields:
          code: {type: string, required: true, unique: true}
          capacity: {type: integer, min: 0}
        list: {columns: [code, capacity], search: [code], filters: [capacity]}
    """}, crm="""
        name: {en: Depot CRM, zh: 仓储}
        languages: [en, zh]
        menu:
          - {group: stock, label: {en: Stock, zh: 库存}, entities: [warehouse]}
    """)
    app = make_app(tree)
    client = login(app.test_client())
    created = client.post("/api/v1/warehouse/", json={"code": "WH-上海", "capacity": 500})
    assert created.status_code == 201
    assert "WH-上海" in client.get("/crm/warehouse/list/").data.decode()
    home = client.get("/").data.decode()
    assert "Stock" in home and "/crm/warehouse/list/" in home
    assert client.post("/crm/warehouse/add", data={"code": "WH-2", "capacity": "-1"}).status_code == 200


def test_title_bar_follows_the_language(client):
    assert "MetaCRM" in client.get("/").data.decode()
    client.post("/lang/zh")
    assert "元客户管理" in client.get("/").data.decode()


def test_an_entity_without_list_filters_has_a_list_screen(make_app, tmp_path):
    """FAB searches every column when a view names none: the list had no form field for them (500)."""
    app = make_app(write_tree(tmp_path / "m", {"memo": "label: {en: Memo, zh: 备忘}\nfields:\n  name: string\n"}))
    client = login(app.test_client())
    assert client.post("/api/v1/memo/", json={"name": "没有筛选的备忘"}).status_code == 201
    page = client.get("/crm/memo/list/")
    assert page.status_code == 200 and "没有筛选的备忘" in page.get_data(as_text=True)


def test_a_form_section_with_nothing_to_enter_is_not_drawn(client):
    # The starter opportunity's computed fields (weighted amount, days to close, industry) fall
    # into an automatic "More" section: shown on the record, but the forms drew it as an empty box.
    record = client.post("/api/v1/account/", json={"name": "表单分区"}).json["id"]
    deal = client.post("/api/v1/opportunity/", json={"name": "分区商机", "account": record}).json["id"]
    for path in ("/crm/opportunity/add", f"/crm/opportunity/edit/{deal}"):
        html = client.get(path).data.decode()
        assert "Progress" in html, path
        assert ">More<" not in html.replace(" ", "").replace("\n", ""), path
    assert ">More<" in client.get(f"/crm/opportunity/show/{deal}").data.decode().replace(" ", "").replace("\n", "")


def test_an_empty_value_shows_as_nothing_on_the_list_and_the_record(client):
    # A lead imported without a company showed "None" in the list's Company column and on its page.
    lead = client.post("/api/v1/lead/", json={"name": "无公司线索"}).json["id"]
    listed = client.get("/crm/lead/list/?q=无公司线索").data.decode()
    assert "无公司线索" in listed and ">None<" not in listed
    shown = client.get(f"/crm/lead/show/{lead}").data.decode()
    assert "无公司线索" in shown and "None" not in shown


def test_every_mistake_on_a_form_shows_at_once(client):
    # A value that did not parse (amount "abc") hid the command's checks: the name too long, the
    # missing account and the probability over 100 were only said after the amount was fixed.
    before = client.get("/api/v1/opportunity/").json["count"]
    html = client.post("/crm/opportunity/add", data={
        "name": "长" * 300, "amount": "abc", "close_date": "2026-13-45", "probability": "500",
        "stage": "prospecting", "deal_type": "new_business"}).data.decode()
    for said in ("Not a number", "Not a date", "At most 200 characters", "This field is required",
                 "Must be at most 100"):
        assert said in html, said
    assert client.get("/api/v1/opportunity/").json["count"] == before


def test_every_page_has_a_favicon(client):
    # Browsers asked for /favicon.ico on every page and got a 404.
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.mimetype == "image/vnd.microsoft.icon"
    assert icon.data[:4] == b"\x00\x00\x01\x00"  # an ICO file
    assert '<link rel="icon" href="/favicon.ico"' in client.get("/crm/lead/list/").get_data(as_text=True)
    assert client.get("/favicon.ico", headers={"If-None-Match": icon.headers["ETag"]}).status_code == 304
