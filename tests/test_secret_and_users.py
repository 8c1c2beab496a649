"""Issue 11, items 1 and 10: no serving with a public secret key, no known passwords by default.

The placeholder SECRET_KEY let anyone sign a session cookie or a JWT for user 1;
`crm init` created admin/admin; `crm demo --if-empty` created demo users with a
known password even on a database holding real records.
"""

from __future__ import annotations

import re
import stat
import time
import uuid
from pathlib import Path
from typing import Any

import jwt
import pytest
import sqlalchemy as sa
from flask import Flask
from flask.sessions import SecureCookieSessionInterface

from app import InsecureSecretKey, create_app
from app.cli import crm
from app.security.secret import DEFAULT_SECRET_KEY
from app.settings import ROOT, load_settings
from tests.conftest import login, own_address

STRONG = "k" * 16 + "强密钥-strong-key-0123"  # over 32 bytes in UTF-8


def _settings(database_url: str, tmp_path: Path, **overrides: Any) -> dict[str, Any]:
    settings = {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "CRM_PLUGINS_DIR": str(tmp_path / "no-plugins"),
        "CRM_MIGRATIONS_DIR": str(tmp_path / "migrations"),
        "CRM_SECRET_KEY_FILE": str(tmp_path / "instance" / "secret_key"),
        "WTF_CSRF_ENABLED": False,
        "TESTING": False,
        "SECRET_KEY": None,
    }
    settings.update(overrides)
    return settings


@pytest.mark.parametrize("key", [None, DEFAULT_SECRET_KEY, "short-键-31-bytes-xxxxxxxxxxx"])
def test_the_app_refuses_a_placeholder_or_short_key_outside_debug(database_url, tmp_path, key):
    with pytest.raises(InsecureSecretKey) as refused:
        create_app(_settings(database_url, tmp_path, SECRET_KEY=key))
    message = str(refused.value)
    assert "SECRET_KEY" in message and "crm secret-key" in message and "CRM_SECRET_KEY_FILE" in message


def test_debug_and_testing_may_use_the_placeholder(make_app):
    assert make_app(SECRET_KEY=None).secret_key == DEFAULT_SECRET_KEY  # TESTING=True in tests


def test_the_suite_reads_nothing_from_the_checkouts_instance_folder():
    """`make run` then `make test` (the README's order) failed the test above: the test app, given no
    SECRET_KEY, read the secret `make run` had written to instance/secret_key."""
    settings = load_settings()
    instance = (ROOT / "instance").resolve()
    for key in ("CRM_SECRET_KEY_FILE", "CRM_METADATA_CACHE_DIR", "CRM_FILES_DIR", "CRM_MIGRATIONS_DIR"):
        assert not Path(settings[key]).resolve().is_relative_to(instance), (key, settings[key])


def test_secret_key_command_writes_a_private_key_once_and_the_app_uses_it(make_app, tmp_path, monkeypatch):
    path = tmp_path / "instance" / "secret_key"
    monkeypatch.setenv("CRM_SECRET_KEY_FILE", str(path))
    runner = make_app().test_cli_runner()
    first = runner.invoke(crm, ["secret-key"])
    assert first.exit_code == 0 and "written" in first.output, first.output
    key = path.read_text().strip()
    assert len(key.encode()) >= 32 and stat.S_IMODE(path.stat().st_mode) == 0o600
    again = runner.invoke(crm, ["secret-key"])
    assert again.exit_code == 0 and path.read_text().strip() == key  # never rotated behind one's back
    app = make_app(TESTING=False, SECRET_KEY=None, CRM_SECRET_KEY_FILE=str(path))
    assert app.secret_key == key
    explicit = make_app(TESTING=False, SECRET_KEY=STRONG, CRM_SECRET_KEY_FILE=str(path))
    assert explicit.secret_key == STRONG  # an explicit SECRET_KEY wins over the file


def _session_cookie(key: str, user_id: int) -> str:
    signer = Flask("forger")
    signer.secret_key = key
    return SecureCookieSessionInterface().get_signing_serializer(signer).dumps(
        {"_user_id": str(user_id), "_fresh": True, "_id": uuid.uuid4().hex})


def _jwt(key: str, user_id: int) -> str:
    now = int(time.time())
    return jwt.encode({"sub": str(user_id), "type": "access", "fresh": True, "jti": uuid.uuid4().hex,
                       "iat": now, "nbf": now, "exp": now + 600}, key, algorithm="HS256")


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")  # the forger's key is short
def test_a_session_cookie_or_jwt_signed_with_the_placeholder_key_gets_nothing(make_app, tmp_path, monkeypatch):
    path = tmp_path / "key"
    monkeypatch.setenv("CRM_SECRET_KEY_FILE", str(path))
    make_app().test_cli_runner().invoke(crm, ["secret-key"])
    app = make_app(TESTING=False, SECRET_KEY=None, CRM_SECRET_KEY_FILE=str(path))
    with app.app_context():
        admin_id = app.extensions["crm"].appbuilder.sm.find_user(username="admin").id
    for key, admitted in ((DEFAULT_SECRET_KEY, False), (app.secret_key, True)):  # the real key: the forgery works
        client = own_address(app.test_client())
        client.set_cookie("session", _session_cookie(key, admin_id))
        screen = client.get("/users/list/")
        assert (screen.status_code == 200) is admitted, (key, screen.status_code)
        api = own_address(app.test_client()).get("/api/v1/account/",
                                                  headers={"Authorization": f"Bearer {_jwt(key, admin_id)}"})
        assert (api.status_code == 200) is admitted, (key, api.status_code, api.data[:200])


# --- the first admin and the demo users ---------------------------------------------------

def _bare_app(database_url: str, tmp_path: Path) -> Any:
    return create_app(_settings(database_url, tmp_path, TESTING=True, SECRET_KEY=STRONG))


def _can_log_in(app: Any, username: str, password: str) -> bool:
    client = own_address(app.test_client())
    response = client.post("/login/", data={"username": username, "password": password})
    return response.status_code == 302 and "/login" not in response.location


def test_init_gives_the_admin_a_random_password_shown_once(database_url, tmp_path, monkeypatch):
    monkeypatch.delenv("CRM_ADMIN_PASSWORD", raising=False)
    app = _bare_app(database_url, tmp_path)
    runner = app.test_cli_runner()
    result = runner.invoke(crm, ["init"])
    assert result.exit_code == 0, result.output
    password = re.search(r"login 'admin', password '([^']+)'", result.output).group(1)
    assert password != "admin" and len(password) >= 12
    assert _can_log_in(app, "admin", password) and not _can_log_in(app, "admin", "admin")
    again = runner.invoke(crm, ["init"])
    assert password not in again.output and "password unchanged" in again.output


def test_init_takes_the_admin_password_from_the_environment_but_not_a_weak_one(database_url, tmp_path, monkeypatch):
    app = _bare_app(database_url, tmp_path)
    monkeypatch.setenv("CRM_ADMIN_PASSWORD", "admin")
    refused = app.test_cli_runner().invoke(crm, ["init"])
    assert refused.exit_code != 0 and "CRM_ADMIN_PASSWORD refused" in refused.output
    monkeypatch.setenv("CRM_ADMIN_PASSWORD", "长城-Great-Wall-2026")
    result = app.test_cli_runner().invoke(crm, ["init"])
    assert result.exit_code == 0 and "长城" not in result.output
    assert _can_log_in(app, "admin", "长城-Great-Wall-2026")


def test_demo_if_empty_creates_no_known_password_users_next_to_real_records(app):
    with app.app_context():
        state = app.extensions["crm"]
        account = state.models.model("account")
        state.db.session.execute(sa.insert(account).values(name="真实客户 Real customer"))
        state.db.session.commit()
    result = app.test_cli_runner().invoke(crm, ["demo", "--if-empty", "--size", "5"])
    assert result.exit_code == 0 and "demo users skipped" in result.output, result.output
    with app.app_context():
        sm = app.extensions["crm"].appbuilder.sm
        assert [u.username for u in sm.get_all_users()] == ["admin"]


def test_demo_if_empty_on_an_empty_database_brings_demo_users_with_the_demo_data(app):
    result = app.test_cli_runner().invoke(crm, ["demo", "--if-empty", "--size", "5"])
    assert result.exit_code == 0 and "demo user 'sales_rep'" in result.output, result.output
    assert _can_log_in(app, "sales_rep", "demo1234")


# --- the security screens in the user's language -------------------------------------------

@pytest.mark.parametrize(("lang", "rep", "manager"), [("zh", "销售代表", "销售经理"), ("en", "Sales Rep", "Sales Manager")])
def test_user_info_and_user_list_name_roles_by_their_label_in_the_page_language(app, lang, rep, manager):
    """/users/userinfo/ showed 'Sales Rep' on a zh page: a role is shown by its roles.yaml label,
    on the user's own page, the user list, and the roles pickers of its forms and search."""
    with app.app_context():
        sm = app.extensions["crm"].appbuilder.sm
        sm.add_user("wangwu", "王", "五", "wangwu@example.cn", [sm.find_role("Sales Rep"), sm.find_role("Sales Manager")],
                    password="Wangwu-pass-1")
    client = own_address(app.test_client())
    assert client.post("/login/", data={"username": "wangwu", "password": "Wangwu-pass-1"}).status_code == 302
    client.post(f"/lang/{lang}")
    info = client.get("/users/userinfo/")
    assert info.status_code == 200 and f"{rep}, {manager}" in info.text
    admin = login(app.test_client())
    admin.post(f"/lang/{lang}")
    listed = admin.get("/users/list/?_flt_0_username=wangwu").text
    assert f"{rep}, {manager}" in listed
    form = admin.get("/users/add").text
    assert f">{rep}<" in form.replace("\\u003e", ">").replace("\\u003c", "<")
    if lang == "zh":
        for page in (info.text, listed, form):
            assert "Sales Rep" not in page and "Sales Manager" not in page


def test_user_statistics_draw_with_the_apps_own_plotly_never_a_cdn(app):
    """/crmuserstatschartview/chart/ loaded Google's chart loader from gstatic.com (FAB's widget): offline
    or behind a firewall it never drew. It draws with plotly.js served by the app; a rep may not see it."""
    with app.app_context():
        sm = app.extensions["crm"].appbuilder.sm
        sm.add_user("zhaoliu", "赵", "六", "zhaoliu@example.cn", [sm.find_role("Sales Rep")], password="Zhaoliu-pass-1")
    admin = login(app.test_client())
    admin.post("/lang/zh")
    page = admin.get("/crmuserstatschartview/chart/")
    assert page.status_code == 200, page.text[:300]
    assert "google" not in page.text.lower() and "gstatic" not in page.text
    plotly_src = re.search(r'<script src="([^"]*plotly[^"]*)"', page.text)
    assert plotly_src and admin.get(plotly_src.group(1)).status_code == 200
    data = re.search(r'id="CrmUserStatsChartView-data">(.*?)</script>', page.text, re.S)
    assert data and '"admin"' in data.group(1) and "zhaoliu" in data.group(1)
    rep = own_address(app.test_client())
    assert rep.post("/login/", data={"username": "zhaoliu", "password": "Zhaoliu-pass-1"}).status_code == 302
    denied = rep.get("/crmuserstatschartview/chart/")
    assert denied.status_code in (302, 403) and "zhaoliu" not in denied.text
