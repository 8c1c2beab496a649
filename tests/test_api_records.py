"""Every field type through the REST API: round trip, bad values, filters, deletes."""

from __future__ import annotations

import prison
import pytest

from tests.alltypes import alltypes_tree
from tests.conftest import login

GOOD = {
    "name": "测试小工具 Alpha",
    "notes": "第一行\nsecond line",
    "qty": 12,
    "weight": "1.250",
    "price": "1999.90",
    "discount": "12.5",
    "active": False,
    "launched": "2025-03-01",
    "updated_at": "2025-03-01T09:30:00",
    "email": "li.lei@example.cn",
    "phone": "+86 138-0013-8000",
    "site": "https://example.cn/产品",
    "color": "blue",
    "tags": ["hot", "new"],
    "sku": "ABC-123",
}


@pytest.fixture
def gadget_app(make_app, tmp_path):
    return make_app(alltypes_tree(tmp_path / "meta"))


@pytest.fixture
def api(gadget_app):
    return login(gadget_app.test_client())


def make_maker(api, name="华为"):
    response = api.post("/api/v1/maker/", json={"name": name})
    assert response.status_code == 201, response.json
    return response.json["id"]


def test_every_field_type_round_trips(api):
    maker = make_maker(api)
    other = make_maker(api, "Acme")
    admin_id = api.get("/api/v1/user/picker?q=admin").json["results"][0]["id"]
    payload = {**GOOD, "maker": maker, "makers": [maker, other], "buyer": admin_id}
    created = api.post("/api/v1/gadget/", json=payload)
    assert created.status_code == 201, created.json
    result = api.get(f"/api/v1/gadget/{created.json['id']}").json["result"]
    for key in ("name", "notes", "qty", "active", "launched", "email", "phone", "site", "color", "sku"):
        assert result[key] == GOOD[key], key
    assert result["weight"] == "1.250"
    assert result["price"] == "1999.90"
    assert result["discount"] == "12.50"
    assert result["updated_at"].startswith("2025-03-01T09:30:00")
    assert sorted(result["tags"]) == ["hot", "new"]
    assert result["maker"] == {"id": maker, "title": "华为"}
    assert sorted(m["id"] for m in result["makers"]) == sorted([maker, other])
    assert result["buyer"]["id"] == admin_id
    assert "password" not in str(result["buyer"])
    assert result["serial"] == "GAD-0001"
    assert result["owner"]["id"] == admin_id
    assert result["created_on"]


def test_update_changes_only_given_fields(api):
    gadget = api.post("/api/v1/gadget/", json=GOOD).json["id"]
    response = api.put(f"/api/v1/gadget/{gadget}", json={"qty": 7, "tags": []})
    assert response.status_code == 200, response.json
    assert response.json["result"]["qty"] == 7
    assert response.json["result"]["name"] == GOOD["name"]
    assert response.json["result"]["tags"] == []


def test_defaults_apply_when_absent(api):
    created = api.post("/api/v1/gadget/", json={"name": "默认值"}).json
    assert created["result"]["active"] is True
    second = api.post("/api/v1/gadget/", json={"name": "second"}).json
    assert second["result"]["serial"] == "GAD-0002"


BAD_VALUES = [
    ("qty", "abc", "Not a whole number."),
    ("qty", -1, "Must be at least 0."),
    ("qty", 1001, "Must be at most 1000."),
    ("qty", True, "Not a whole number."),
    ("weight", "1,5kg", "Not a number."),
    ("price", "-5", "Must be at least 0."),
    ("price", "1e30", "Must be at most"),
    ("discount", 150, "Must be at most 100."),
    ("active", "maybe", "Not true or false."),
    ("launched", "2024-13-45", "Not a date"),
    ("updated_at", "yesterday", "Not a date and time"),
    ("email", "not-an-email", "Not a valid e-mail address."),
    ("phone", "call me", "Not a valid phone number."),
    ("site", "ftp://example.cn", "Not a valid web address"),
    ("color", "purple", "'purple' is not one of: Red (red), Green (green), Blue (blue)."),
    ("tags", ["nope"], "'nope' is not one of"),
    ("tags", 5, "Not a list."),
    ("maker", 99999, "No Maker with id 99999."),
    ("makers", [99999], "No Maker with id 99999."),
    ("buyer", 99999, "No user with id 99999."),
    ("name", "", "This field is required."),
    ("name", "x" * 41, "At most 40 characters."),
    ("sku", "abc", "SKU like ABC-123"),
]

REFUSED_FIELDS = [
    ("serial", "GAD-9999", "This field cannot be changed."),
    ("created_on", "2020-01-01T00:00:00", "This field cannot be changed."),
    ("bogus", 1, "Unknown field."),
]


@pytest.mark.parametrize(("field", "value", "message"), REFUSED_FIELDS)
def test_fields_that_cannot_be_written_are_400_naming_them(api, field, value, message):
    response = api.post("/api/v1/gadget/", json={**GOOD, field: value})
    assert response.status_code == 400, response.json
    assert response.json["message"] == {field: [message]}
    assert api.get("/api/v1/gadget/").json["count"] == 0


def test_owner_is_set_on_create_by_admin_and_never_by_an_update(api):
    """Admin may reassign, so may name the owner on create; an update never writes it (reassign does)."""
    created = api.post("/api/v1/gadget/", json={**GOOD, "owner": 1})
    assert created.status_code == 201, created.json
    assert created.json["result"]["owner"]["id"] == 1 if isinstance(created.json["result"]["owner"], dict) \
        else created.json["result"]["owner"] == 1
    changed = api.put(f"/api/v1/gadget/{created.json['id']}", json={"owner": 1})
    assert changed.status_code == 400 and changed.json["message"] == {"owner": ["This field cannot be changed."]}
    missing = api.post("/api/v1/gadget/", json={**GOOD, "name": "另一个", "owner": 99999})
    assert missing.status_code == 422 and "owner" in missing.json["message"]


@pytest.mark.parametrize(("field", "value", "message"), BAD_VALUES)
def test_bad_values_get_422_with_the_field_message(api, field, value, message):
    payload = {**GOOD, field: value}
    response = api.post("/api/v1/gadget/", json=payload)
    assert response.status_code == 422, response.json
    assert list(response.json["message"]) == [field]
    assert message in " ".join(response.json["message"][field])
    assert api.get("/api/v1/gadget/").json["count"] == 0


def test_bad_update_is_refused_and_changes_nothing(api):
    gadget = api.post("/api/v1/gadget/", json=GOOD).json["id"]
    response = api.put(f"/api/v1/gadget/{gadget}", json={"qty": "many", "email": "x"})
    assert response.status_code == 422
    assert set(response.json["message"]) == {"qty", "email"}
    assert api.get(f"/api/v1/gadget/{gadget}").json["result"]["qty"] == 12


def test_messages_follow_the_language(api):
    api.post("/lang/zh")
    response = api.post("/api/v1/gadget/", json={**GOOD, "qty": "abc", "sku": "x"})
    assert response.json["message"]["qty"] == ["不是整数。"]
    assert response.json["message"]["sku"] == ["货号格式如 ABC-123"]


def test_non_json_body_is_a_client_error(api):
    response = api.post("/api/v1/gadget/", data="name=x", content_type="text/plain")
    assert response.status_code == 400  # malformed JSON is a bad request, not a field error
    assert "Malformed JSON" in response.json["message"]


def test_unique_value_is_refused(api):
    make_maker(api, "唯一")
    response = api.post("/api/v1/maker/", json={"name": "唯一"})
    assert response.status_code == 422
    assert response.json["message"]["name"] == ["Another record already has this value."]


def test_delete_restricted_by_a_link_is_409_and_keeps_the_record(api):
    maker = make_maker(api)
    api.post("/api/v1/gadget/", json={**GOOD, "maker": maker})
    response = api.delete(f"/api/v1/maker/{maker}")
    assert response.status_code == 409
    assert "1 Gadget record(s) link to it" in response.json["message"]
    assert api.get(f"/api/v1/maker/{maker}").status_code == 200


def test_delete_removes_and_then_404(api):
    gadget = api.post("/api/v1/gadget/", json=GOOD).json["id"]
    assert api.delete(f"/api/v1/gadget/{gadget}").status_code == 200
    assert api.get(f"/api/v1/gadget/{gadget}").status_code == 404
    assert api.put(f"/api/v1/gadget/{gadget}", json={"qty": 1}).status_code == 404
    assert api.delete(f"/api/v1/gadget/{gadget}").status_code == 404


def _list(api, **query):
    return api.get("/api/v1/gadget/?q=" + prison.dumps(query))


def seed(api):
    maker = make_maker(api, "华为技术")
    rows = [("红色一号", "red", 5, "10.00"), ("绿色二号", "green", 50, "200.00"), ("Blue Three", "blue", 500, "3000.00")]
    for name, color, qty, price in rows:
        api.post("/api/v1/gadget/", json={"name": name, "color": color, "qty": qty, "price": price,
                                          "maker": maker if color != "blue" else None})
    return maker


@pytest.mark.parametrize(("filters", "expected"), [
    ([{"col": "color", "opr": "eq", "value": "red"}], {"红色一号"}),
    ([{"col": "qty", "opr": "gt", "value": 10}], {"绿色二号", "Blue Three"}),
    ([{"col": "price", "opr": "lt", "value": "100"}], {"红色一号"}),
    ([{"col": "name", "opr": "ct", "value": "号"}], {"红色一号", "绿色二号"}),
    ([{"col": "name", "opr": "search", "value": "华为"}], {"红色一号", "绿色二号"}),
    ([{"col": "name", "opr": "search", "value": "blue"}], {"Blue Three"}),
])
def test_api_filters(api, filters, expected):
    seed(api)
    response = _list(api, filters=filters)
    assert response.status_code == 200, response.json
    assert {r["name"] for r in response.json["result"]} == expected


def test_filter_on_a_link(api):
    maker = seed(api)
    response = _list(api, filters=[{"col": "maker", "opr": "rel_o_m", "value": maker}])
    assert response.json["count"] == 2


@pytest.mark.parametrize(("flt", "fragment"), [
    ({"col": "color", "opr": "bogus", "value": "red"}, "Filter operation 'bogus' is not allowed on column 'color'"),
    ({"col": "nope", "opr": "eq", "value": 1}, "Filter column 'nope' cannot be filtered on"),
    ({"col": "qty", "opr": "gt", "value": "lots"}, "Filter value 'lots' for 'qty'"),
    ({"col": "launched", "opr": "gt", "value": "someday"}, "for 'launched'"),
])
def test_bad_filters_are_400_not_the_whole_table(api, flt, fragment):
    seed(api)
    response = _list(api, filters=[flt])
    assert response.status_code == 400, response.json
    assert fragment in response.json["message"]


def test_order_and_paging(api):
    seed(api)
    response = _list(api, order_column="qty", order_direction="desc", page=0, page_size=2,
                     columns=["name", "qty"])
    assert [r["qty"] for r in response.json["result"]] == [500, 50]
    assert response.json["count"] == 3
    assert _list(api, order_column="password", order_direction="asc").status_code == 400


def test_list_shows_link_titles_not_user_rows(api):
    seed(api)
    row = _list(api, order_column="qty", order_direction="asc").json["result"][0]
    assert row["maker"]["title"] == "华为技术"
    assert set(row["owner"]) == {"id", "title"}


def test_picker_searches_and_pages(api):
    for i in range(25):
        make_maker(api, f"供应商 {i:02d}")
    first = api.get("/api/v1/maker/picker?q=供应商").json
    assert len(first["results"]) == 20 and first["more"] is True
    second = api.get("/api/v1/maker/picker?q=供应商&page=1").json
    assert len(second["results"]) == 5 and second["more"] is False
    assert api.get("/api/v1/maker/picker?q=nomatch").json["results"] == []
    assert api.get("/api/v1/maker/picker?page=x").status_code == 400


def test_anonymous_api_is_refused(gadget_app):
    anonymous = gadget_app.test_client()
    assert anonymous.get("/api/v1/gadget/").status_code == 401
    assert anonymous.post("/api/v1/gadget/", json=GOOD).status_code == 401


def test_openapi_spec_lists_the_entity(api):
    spec = api.get("/api/v1/_openapi").json
    assert "/api/v1/gadget/" in spec["paths"]
    assert "/api/v1/gadget/picker" in spec["paths"]
    schema = spec["components"]["schemas"]["GadgetApi.post"]
    assert "maker" in schema["properties"] and "owner" not in schema["properties"]


def test_token_authenticated_client_reads_and_writes(gadget_app):
    client = gadget_app.test_client()
    login_response = client.post("/api/v1/security/login", json={
        "username": "admin", "password": "admin-pass-1", "provider": "db"})
    assert login_response.status_code == 200
    headers = {"Authorization": f"Bearer {login_response.json['access_token']}"}
    created = client.post("/api/v1/gadget/", json={"name": "令牌"}, headers=headers)
    assert created.status_code == 201
    assert client.get(f"/api/v1/gadget/{created.json['id']}", headers=headers).json["result"]["name"] == "令牌"
    bad = client.post("/api/v1/security/login", json={"username": "admin", "password": "wrong", "provider": "db"})
    assert bad.status_code == 401


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_info_describes_a_field_without_help_as_empty_not_the_catalog_header(api, lang):
    # FAB ran gettext("") for a field without a description: gettext answers "" with the
    # catalog's header ("Project-Id-Version: ..."), which API clients showed as help text.
    api.post(f"/lang/{lang}")
    info = api.get("/api/v1/gadget/_info").json
    for key in ("add_columns", "edit_columns"):
        descriptions = {column["name"]: column["description"] for column in info[key]}
        assert descriptions["name"] == "", (key, descriptions["name"][:80])
        assert not any("Project-Id-Version" in text for text in descriptions.values()), key
