"""Role sync is idempotent and leaves nothing stale; CSRF guards cookie API writes."""

from __future__ import annotations

import shutil

from flask_appbuilder.security.sqla.models import Permission, PermissionView, Role, ViewMenu

from app.security.sync import sync_permissions
from tests.conftest import STARTER, csrf_token


def _counts(app):
    with app.app_context():
        session = app.extensions["crm"].db.session
        return {m.__name__: session.query(m).count() for m in (Permission, ViewMenu, PermissionView, Role)}


def _role_pairs(app, name):
    with app.app_context():
        role = app.extensions["crm"].appbuilder.sm.find_role(name)
        return None if role is None else {(p.permission.name, p.view_menu.name) for p in role.permissions}


def test_sync_twice_changes_nothing(app):
    before = _counts(app)
    with app.app_context():
        report = sync_permissions(app.extensions["crm"].appbuilder)
    assert (report.added, report.removed, report.removed_roles) == (0, 0, [])
    assert _counts(app) == before


def test_removed_role_and_grant_leave_no_stale_rows(make_app, tmp_path):
    first = make_app()
    assert ("can_delete", "lead") in _role_pairs(first, "Sales Rep")
    assert _role_pairs(first, "Marketing") is not None
    tree = tmp_path / "meta"
    shutil.copytree(STARTER, tree)
    roles = (tree / "roles.yaml").read_text(encoding="utf-8")
    roles = roles[:roles.index("Marketing:")]  # Marketing is the last role: drop it
    roles = roles.replace("delete: own, export: own, import: yes}", "export: own, import: yes}")
    (tree / "roles.yaml").write_text(roles, encoding="utf-8")
    dashboards = (tree / "dashboards.yaml").read_text(encoding="utf-8")  # it names Marketing too
    (tree / "dashboards.yaml").write_text(dashboards.replace("[Executive, Marketing, Sales Manager]",
                                                             "[Executive, Sales Manager]"), encoding="utf-8")
    second = make_app(tree)
    assert _role_pairs(second, "Marketing") is None
    assert ("can_delete", "lead") not in _role_pairs(second, "Sales Rep")
    with second.app_context():
        session = second.extensions["crm"].db.session
        roles_in_db = {r.name for r in session.query(Role)}
        assert roles_in_db == {"Admin", "Public", "Executive", "Sales Rep", "Sales Manager", "Pre-sales Engineer",
                               "Support Agent"}
        used = {pv.id for r in session.query(Role) for pv in r.permissions}
        declared = {pv.id for pv in session.query(PermissionView)}
        admin = {pv.id for pv in second.extensions["crm"].appbuilder.sm.find_role("Admin").permissions}
        assert declared == admin and used <= declared


def test_cookie_api_writes_need_the_csrf_token(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    token = csrf_token(client.get("/login/").data.decode())
    client.post("/login/", data={"username": "admin", "password": "admin-pass-1", "csrf_token": token})
    refused = client.post("/api/v1/product/", json={"code": "P-1", "name": "无令牌"})
    assert refused.status_code == 400 and "CSRF" in refused.json["message"]
    token = csrf_token(client.get("/crm/product/add").data.decode())
    accepted = client.post("/api/v1/product/", json={"code": "P-2", "name": "有令牌"},
                           headers={"X-CSRFToken": token})
    assert accepted.status_code == 201
    jwt = app.test_client().post("/api/v1/security/login", json={
        "username": "admin", "password": "admin-pass-1", "provider": "db"}).json["access_token"]
    bearer = app.test_client().post("/api/v1/product/", json={"code": "P-3", "name": "令牌"},
                                    headers={"Authorization": f"Bearer {jwt}"})
    assert bearer.status_code == 201
    assert client.get("/crm/product/delete/1").status_code == 302  # GET never deletes
    assert client.get("/api/v1/product/1").status_code == 200
