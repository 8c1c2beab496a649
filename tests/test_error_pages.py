"""Error answers: a page in the CRM's layout and the user's language, JSON on the API (issue 17)."""

from __future__ import annotations

from tests.conftest import login, own_address


def test_unknown_page_is_a_crm_page_in_chinese(client):
    login(client)
    client.post("/lang/zh")
    answer = client.get("/no-such-page")
    assert answer.status_code == 404
    html = answer.get_data(as_text=True)
    assert 'id="crm-error"' in html and "navbar" in html  # the layout, with navigation
    assert "未找到" in html and "返回首页" in html


def test_unknown_page_in_english_names_the_way_back(client):
    login(client)
    html = client.get("/no-such-page").get_data(as_text=True)
    assert "404 · Not found" in html and "Back to the home page" in html


def test_api_rate_limit_answers_json_with_retry_after(app):
    attacker = own_address(app.test_client())
    body = {"username": "admin", "password": "guess", "provider": "db"}
    for _ in range(10):
        attacker.post("/api/v1/security/login", json=body)
    blocked = attacker.post("/api/v1/security/login", json=body)
    assert blocked.status_code == 429
    assert blocked.is_json and "try again" in blocked.get_json()["message"]


def test_login_form_rate_limit_is_a_readable_page(app):
    attacker = own_address(app.test_client())
    for _ in range(10):
        attacker.post("/login/", data={"username": "admin", "password": "guess"})
    blocked = attacker.post("/login/", data={"username": "admin", "password": "guess"})
    assert blocked.status_code == 429
    assert "Too many attempts" in blocked.get_data(as_text=True)
    assert blocked.mimetype == "text/html"


def test_unknown_api_route_answers_json(client):
    answer = client.get("/api/v1/no_such_thing/")
    assert answer.status_code == 404 and answer.is_json and answer.get_json()["message"]
