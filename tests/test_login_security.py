"""Issue 11, item 5: brute force, password policy, security headers, logout and language by POST."""

from __future__ import annotations

import re

import pytest
from flask_appbuilder.cli import fab

from tests.conftest import ADMIN_PASSWORD, csrf_token, login, own_address

STRONG_PASSWORD = "长城-Great-Wall-2026"


# --- rate limit -------------------------------------------------------------------------

def test_login_form_allows_ten_tries_a_minute_per_address(app):
    attacker = own_address(app.test_client())
    for _ in range(10):
        assert attacker.post("/login/", data={"username": "admin", "password": "guess"}).status_code == 302
    blocked = attacker.post("/login/", data={"username": "admin", "password": ADMIN_PASSWORD})
    assert blocked.status_code == 429  # even the right password, until the minute is over
    assert login(app.test_client())  # another address is not locked out


def test_api_login_is_limited_too(app):
    attacker = own_address(app.test_client())
    body = {"username": "admin", "password": "guess", "provider": "db"}
    for _ in range(10):
        assert attacker.post("/api/v1/security/login", json=body).status_code == 401
    assert attacker.post("/api/v1/security/login", json={**body, "password": ADMIN_PASSWORD}).status_code == 429


def test_api_login_without_a_provider_is_a_400_naming_it(app):
    """FAB's schema has `provider` optional and its view reads it unconditionally: that was a 500."""
    client = own_address(app.test_client())
    missing = client.post("/api/v1/security/login", json={"username": "王𩸽", "password": "guess"})
    assert missing.status_code == 400 and "provider" in missing.json["message"], missing.data
    good = client.post("/api/v1/security/login", json={"username": "admin", "password": ADMIN_PASSWORD,
                                                        "provider": "db"})
    assert good.status_code == 200 and good.json["access_token"]


def test_rate_limit_storage_follows_redis_url(make_app):
    assert make_app().config["RATELIMIT_STORAGE_URI"] == "memory://"
    redis = make_app(REDIS_URL="redis://127.0.0.1:6379/0")
    assert redis.config["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/0"


# --- password policy --------------------------------------------------------------------

def _add_user(client, app, username: str, password: str):
    with app.app_context():
        role_id = app.extensions["crm"].appbuilder.sm.find_role("Sales Rep").id
    return client.post("/users/add", data={
        "first_name": "小明", "last_name": "王", "username": username, "active": "y",
        "email": f"{username}@example.cn", "roles": [str(role_id)],
        "password": password, "conf_password": password})


def _user_exists(app, username: str) -> bool:
    with app.app_context():
        return app.extensions["crm"].appbuilder.sm.find_user(username=username) is not None


@pytest.mark.parametrize("weak", ["abc12", "password123", "aaaaaaaaaaaa", "demo1234"])
def test_a_new_user_needs_a_password_that_meets_the_policy(app, client, weak):
    refused = _add_user(client, app, "wang_weak", weak)
    assert refused.status_code == 200 and not _user_exists(app, "wang_weak")
    assert re.search(r"at least 10 characters|too easy to guess", refused.data.decode())
    accepted = _add_user(client, app, "wang_ok", STRONG_PASSWORD)
    assert accepted.status_code == 302 and _user_exists(app, "wang_ok")


def test_fab_commands_refuse_a_weak_password_with_the_reason_and_no_traceback(app):
    runner = app.test_cli_runner()
    made = runner.invoke(fab, ["create-admin", "--username", "boss", "--firstname", "老", "--lastname", "板",
                               "--email", "boss@example.cn", "--password", "123"])
    assert made.exit_code == 1 and "at least 10 characters" in made.output, made.output
    assert "Traceback" not in made.output and not _user_exists(app, "boss")
    reset = runner.invoke(fab, ["reset-password", "--username", "admin", "--password", "password123"])
    assert reset.exit_code == 1 and "too easy to guess" in reset.output and "reseted" not in reset.output
    assert login(app.test_client(), "admin", ADMIN_PASSWORD)  # unchanged
    made = runner.invoke(fab, ["create-admin", "--username", "boss", "--firstname", "老", "--lastname", "板",
                               "--email", "boss@example.cn", "--password", STRONG_PASSWORD])
    assert made.exit_code == 0 and _user_exists(app, "boss"), made.output
    assert login(app.test_client(), "boss", STRONG_PASSWORD)


def test_changing_ones_own_password_follows_the_policy(app, client):
    weak = client.post("/resetmypassword/form", data={"password": "short", "conf_password": "short"})
    assert weak.status_code == 200 and "at least 10 characters" in weak.data.decode()
    assert login(app.test_client(), "admin", ADMIN_PASSWORD)  # unchanged
    client.post("/resetmypassword/form", data={"password": STRONG_PASSWORD, "conf_password": STRONG_PASSWORD})
    assert login(app.test_client(), "admin", STRONG_PASSWORD)


# --- headers and cookies ----------------------------------------------------------------

def test_pages_carry_a_same_origin_csp_with_a_nonce_on_every_script(client):
    page = client.get("/crm/opportunity/list/")
    csp = page.headers["Content-Security-Policy"]
    nonce = re.search(r"script-src 'self' 'nonce-([^']+)'", csp).group(1)
    assert "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    scripts = re.findall(r"<script\b[^>]*>", page.data.decode())
    assert scripts and all(f'nonce="{nonce}"' in tag or 'type="application/json"' in tag for tag in scripts), scripts
    again = client.get("/crm/opportunity/list/").headers["Content-Security-Policy"]
    assert nonce not in again  # a new nonce per response
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Referrer-Policy"] == "same-origin"
    assert "Content-Security-Policy" in client.get("/api/v1/account/").headers


def _session_cookie_header(response) -> str:
    return next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))


def test_session_cookie_is_samesite_lax_and_secure_over_https(app):
    plain = own_address(app.test_client()).post("/login/", data={"username": "admin", "password": ADMIN_PASSWORD})
    cookie = _session_cookie_header(plain)
    assert "SameSite=Lax" in cookie and "HttpOnly" in cookie and "Secure" not in cookie
    https = own_address(app.test_client()).post("/login/", base_url="https://crm.example.cn",
                                                data={"username": "admin", "password": ADMIN_PASSWORD})
    cookie = _session_cookie_header(https)
    assert "Secure" in cookie and "SameSite=Lax" in cookie
    assert https.headers["Strict-Transport-Security"].startswith("max-age=")


# --- logout and language switch by POST -------------------------------------------------

def _logged_in(client) -> bool:
    return client.get("/users/list/").status_code == 200


def test_logout_is_post_with_the_csrf_token(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = own_address(app.test_client())
    client.post("/login/", data={"username": "admin", "password": ADMIN_PASSWORD,
                                 "csrf_token": csrf_token(client.get("/login/").data.decode())})
    assert _logged_in(client)
    assert client.get("/logout/").status_code == 405 and _logged_in(client)  # an <img src> logs nobody out
    assert client.post("/logout/").status_code == 400 and _logged_in(client)  # no token: refused
    home = client.get("/crm/opportunity/list/").data.decode()
    assert re.search(r'<form method="post" action="/logout/"', home)
    assert client.post("/logout/", data={"csrf_token": csrf_token(home)}).status_code == 302
    assert not _logged_in(client)


def test_language_switch_is_post_with_the_csrf_token_and_returns_to_the_page(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = own_address(app.test_client())
    client.post("/login/", data={"username": "admin", "password": ADMIN_PASSWORD,
                                 "csrf_token": csrf_token(client.get("/login/").data.decode())})
    assert client.get("/lang/zh").status_code == 405
    assert client.post("/lang/zh").status_code == 400
    page = client.get("/crm/opportunity/list/").data.decode()
    assert "<title>Opportunities - MetaCRM</title>" in page and '<form method="post" action="/lang/zh"' in page
    switched = client.post("/lang/zh", data={"csrf_token": csrf_token(page), "next": "/crm/opportunity/list/"})
    assert switched.status_code == 302 and switched.location.endswith("/crm/opportunity/list/")
    assert "<title>商机 - 元客户管理</title>" in client.get("/crm/opportunity/list/").data.decode()
    away = client.post("/lang/en", data={"csrf_token": csrf_token(page), "next": "https://evil.example/"})
    assert "evil.example" not in away.location  # no open redirect


# --- behind a reverse proxy ---------------------------------------------------------------

def _through_proxy(app, client_address: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "127.0.0.1"  # every request arrives from the proxy
    client.environ_base["HTTP_X_FORWARDED_FOR"] = client_address
    return client


def test_behind_a_trusted_proxy_the_limit_counts_the_real_client(make_app):
    app = make_app(CRM_TRUSTED_PROXIES=1)
    attacker = _through_proxy(app, "203.0.113.7")
    for _ in range(10):
        attacker.post("/login/", data={"username": "admin", "password": "guess"})
    assert attacker.post("/login/", data={"username": "admin", "password": "guess"}).status_code == 429
    colleague = _through_proxy(app, "198.51.100.20")  # same proxy, another person: not locked out
    assert colleague.post("/login/", data={"username": "admin", "password": ADMIN_PASSWORD}).status_code == 302


def test_forwarded_headers_are_ignored_unless_a_proxy_is_trusted(make_app):
    app = make_app()  # CRM_TRUSTED_PROXIES = 0: a client could forge X-Forwarded-For
    for n in range(10):
        _through_proxy(app, f"203.0.113.{n}").post("/login/", data={"username": "admin", "password": "guess"})
    forged = _through_proxy(app, "203.0.113.99")
    assert forged.post("/login/", data={"username": "admin", "password": "guess"}).status_code == 429


def test_https_behind_the_proxy_makes_cookies_secure(make_app):
    app = make_app(CRM_TRUSTED_PROXIES=1)
    client = _through_proxy(app, "203.0.113.8")
    client.environ_base["HTTP_X_FORWARDED_PROTO"] = "https"
    answer = client.post("/login/", data={"username": "admin", "password": ADMIN_PASSWORD})
    assert "Secure" in answer.headers.get("Set-Cookie", "")
