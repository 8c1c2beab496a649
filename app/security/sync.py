"""Permission and role sync in one bulk step (`flask crm sync`), never at worker boot.

FAB's per-view sync commits once per permission (122 s for 200 entities,
FAB_NOTES); this reads what exists once and writes the difference in one
commit. It adds the permissions the registered views declare and removes
those nothing declares any more (FAB leaves them behind while a role holds
them); gives Admin everything; and makes each role of roles.yaml a FAB role
holding exactly what its rules grant. Roles no longer in roles.yaml go.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_appbuilder import AppBuilder
from flask_appbuilder.security.sqla.models import (
    Permission,
    PermissionView,
    Role,
    ViewMenu,
    assoc_permissionview_role,
)

from app.metadata.spec import CrmSpec

from .access import ADMIN_ROLE, RoleBook
from .settings import settings_permissions

# FAB permissions a FAB role gets for each action a role grants on an entity. The reassign
# routes sit behind can_write; the edit routes behind it still ask the `update` scope.
ACTION_PERMISSIONS = {"read": "can_read", "create": "can_create", "update": "can_write",
                      "delete": "can_delete", "export": "can_export", "import": "can_import",
                      "reassign": "can_write", "mass_update": "can_write", "mass_delete": "can_delete"}
# What every signed-in role needs besides its entities: its own profile and password.
SELF_SERVICE = {("can_read", "user_directory"), ("can_read", "global_search"), ("can_userinfo", "UserDBModelView"),
                ("resetmypassword", "UserDBModelView"), ("can_this_form_get", "ResetMyPasswordView"),
                ("can_this_form_post", "ResetMyPasswordView"), ("can_this_form_get", "UserInfoEditView"),
                ("can_this_form_post", "UserInfoEditView"), ("userinfoedit", "UserDBModelView"),
                # the jobs page and API: each user sees and retries their own jobs (app/web/jobs.py)
                ("can_read", "jobs"), ("can_write", "jobs"), ("menu_access", "jobs"),
                # notifications and My tasks: each user their own (app/web/notifications.py, my_tasks.py)
                ("can_read", "notifications"), ("can_write", "notifications"),
                ("can_read", "my_tasks"), ("menu_access", "my_tasks"),
                # My settings: each user's own time zone (app/web/my_settings.py)
                ("can_read", "my_settings"), ("can_write", "my_settings"),
                # saved list views and chosen columns: each user their own (app/web/list_views_api.py)
                ("can_read", "list_views"), ("can_write", "list_views")}


@dataclass
class SyncReport:
    added: int
    removed: int
    total: int
    roles: dict[str, int] = field(default_factory=dict)
    removed_roles: list[str] = field(default_factory=list)


def declared_permissions(appbuilder: AppBuilder) -> set[tuple[str, str]]:
    """(permission, view) pairs every registered view and menu entry needs."""
    pairs: set[tuple[str, str]] = set()
    for view in appbuilder.baseviews:
        for perm in view.base_permissions or []:
            pairs.add((perm, view.class_permission_name))
    for category in appbuilder.menu.get_list():
        pairs.add(("menu_access", category.name))
        for item in category.childs:
            if item.name != "-":
                pairs.add(("menu_access", item.name))
    return pairs


ANALYTICS_CATEGORY = "analytics"
DASHBOARDS_VIEW = "dashboards"
REPORTS_VIEW = "reports"


def dashboard_menu_name(dashboard: str) -> str:
    return f"dashboard_{dashboard}"


def pipeline_menu_name(entity: str, pipeline: str) -> str:
    return f"pipeline_{entity}_{pipeline}"


def analytics_permissions(spec: CrmSpec, book: RoleBook, role: str) -> set[tuple[str, str]]:
    """Dashboards of dashboards.yaml naming the role (or no role), pipeline analytics and reports
    of entities it reads. Charts still count only the rows the role may read."""
    pairs: set[tuple[str, str]] = set()
    for dashboard in spec.dashboards:
        if not dashboard.roles or role in dashboard.roles:
            pairs |= {("menu_access", dashboard_menu_name(dashboard.name)), ("can_read", DASHBOARDS_VIEW)}
    readable = [e for e in spec.entities if book.scope([role], e.name, "read").value != "no"]
    for entity in readable:
        for pipeline in entity.pipelines:
            pairs |= {("menu_access", pipeline_menu_name(entity.name, pipeline.name)),
                      ("can_read", DASHBOARDS_VIEW)}
    if readable:
        pairs |= {("can_read", REPORTS_VIEW), ("can_write", REPORTS_VIEW), ("menu_access", REPORTS_VIEW)}
    if pairs:
        pairs.add(("menu_access", ANALYTICS_CATEGORY))
    return pairs


def role_permissions(spec: CrmSpec, book: RoleBook, role: str) -> set[tuple[str, str]]:
    """The FAB (permission, view) pairs one role of roles.yaml needs."""
    pairs = set(SELF_SERVICE)
    for entity in spec.entities:
        for action, perm in ACTION_PERMISSIONS.items():
            if book.scope([role], entity.name, action).value != "no":
                pairs.add((perm, entity.name))
        if book.scope([role], entity.name, "read").value != "no":
            pairs.add(("menu_access", entity.name))
            group = next((g.name for g in spec.menu if entity.name in g.entities), None)
            if group:
                pairs.add(("menu_access", group))
    return pairs | analytics_permissions(spec, book, role) | settings_permissions(spec, role)


def sync_permissions(appbuilder: AppBuilder, spec: CrmSpec | None = None, prune: bool = True) -> SyncReport:
    from flask import current_app

    spec = spec or current_app.extensions["crm"].spec
    session = appbuilder.session
    wanted = declared_permissions(appbuilder)
    perms = {p.name: p for p in session.query(Permission)}
    views = {v.name: v for v in session.query(ViewMenu)}
    existing = {(pv.permission.name, pv.view_menu.name): pv
                for pv in session.query(PermissionView).join(Permission).join(ViewMenu)}
    added = 0
    for perm_name, view_name in sorted(wanted - set(existing)):
        perm = perms.get(perm_name) or perms.setdefault(perm_name, Permission(name=perm_name))
        view = views.get(view_name) or views.setdefault(view_name, ViewMenu(name=view_name))
        pv = PermissionView(permission=perm, view_menu=view)
        session.add(pv)
        existing[(perm_name, view_name)] = pv
        added += 1
    removed = 0
    if prune:
        for key, pv in list(existing.items()):
            if key not in wanted:
                session.execute(assoc_permissionview_role.delete().where(
                    assoc_permissionview_role.c.permission_view_id == pv.id))
                session.delete(pv)
                del existing[key]
                removed += 1
    report = SyncReport(added=added, removed=removed, total=len(existing))
    _sync_roles(appbuilder, spec, existing, report)
    session.flush()
    if prune:
        _drop_unused(session, existing)
    session.commit()
    return report


def _sync_roles(appbuilder: AppBuilder, spec: CrmSpec, existing: dict[tuple[str, str], PermissionView],
                report: SyncReport) -> None:
    session = appbuilder.session
    roles = {r.name: r for r in session.query(Role)}
    admin = roles.get(ADMIN_ROLE) or Role(name=ADMIN_ROLE)
    session.add(admin)
    admin.permissions = list(existing.values())
    book = RoleBook(spec)
    for role_spec in spec.roles:
        role = roles.get(role_spec.name) or Role(name=role_spec.name)
        session.add(role)
        grants = role_permissions(spec, book, role_spec.name)
        role.permissions = [existing[key] for key in sorted(grants) if key in existing]
        report.roles[role_spec.name] = len(role.permissions)
    keep = {ADMIN_ROLE, appbuilder.sm.auth_role_public, *(r.name for r in spec.roles)}
    for name, role in roles.items():
        if name not in keep:
            role.permissions = []
            role.user = []
            session.delete(role)
            report.removed_roles.append(name)


def _drop_unused(session: object, existing: dict[tuple[str, str], PermissionView]) -> None:
    used_perms = {pv.permission_id for pv in existing.values()}
    used_views = {pv.view_menu_id for pv in existing.values()}
    for perm in session.query(Permission):  # type: ignore[attr-defined]
        if perm.id not in used_perms:
            session.delete(perm)  # type: ignore[attr-defined]
    for view in session.query(ViewMenu):  # type: ignore[attr-defined]
        if view.id not in used_views:
            session.delete(view)  # type: ignore[attr-defined]
