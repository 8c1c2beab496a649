"""MetaCRM's SecurityManager: FAB's own extension point for auth and access.

Passed to AppBuilder as a class object (a mistyped dotted path in config
silently falls back to the stock manager, FAB_NOTES). FAB asks the database
once per permission check (13-17 queries a page for menu and buttons); here
a user's grants are read once per request and answered from memory.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, g, has_request_context
from flask_appbuilder.security.api import SecurityApi
from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_appbuilder.security.sqla.models import (
    Permission,
    PermissionView,
    ViewMenu,
    assoc_permissionview_role,
)

from app.security.session_views import CrmAuthDBView, replace_locale_view

from .jwt_answers import install_jwt_answers


class CrmSecurityManager(SecurityManager):
    """Row, field and team rules (roles.yaml) attach here."""

    authdbview = CrmAuthDBView  # logout by POST

    def register_views(self) -> None:
        super().register_views()
        replace_locale_view(current_app, self.appbuilder)
        if self.is_auth_limited:
            # FAB limits the login form only; the API login must not be an unlimited side door.
            for view in self.appbuilder.baseviews:
                if isinstance(view, SecurityApi) and view.blueprint is not None:
                    self.limiter.limit(self.auth_rate_limit, methods=["POST"])(view.blueprint)

    def create_jwt_manager(self, app: Any) -> Any:
        """FAB's JWT manager, answering 401 to bad tokens (see jwt_answers)."""
        return install_jwt_answers(super().create_jwt_manager(app))

    def granted(self, role_ids: list[int]) -> set[tuple[str, str]]:
        """(permission, view) pairs the roles grant; cached for the request."""
        key = ("crm_granted", tuple(sorted(role_ids)))
        cache: dict[Any, set[tuple[str, str]]] | None = None
        if has_request_context():
            cache = g.setdefault("crm_grant_cache", {})
            if key in cache:
                return cache[key]
        rows = (
            self.session.query(Permission.name, ViewMenu.name)
            .join(PermissionView, PermissionView.permission_id == Permission.id)
            .join(ViewMenu, PermissionView.view_menu_id == ViewMenu.id)
            .join(assoc_permissionview_role,
                  assoc_permissionview_role.c.permission_view_id == PermissionView.id)
            .filter(assoc_permissionview_role.c.role_id.in_(role_ids))
            .all()
        )
        result = {(perm, view) for perm, view in rows}
        if cache is not None:
            cache[key] = result
        return result

    def _has_view_access(self, user: Any, permission_name: str, view_name: str) -> bool:
        roles = self.get_user_roles(user)
        if any(role.name in self.builtin_roles for role in roles):
            return super()._has_view_access(user, permission_name, view_name)
        return (permission_name, view_name) in self.granted([role.id for role in roles])

    def is_item_public(self, permission_name: str, view_name: str) -> bool:
        if not has_request_context():
            return super().is_item_public(permission_name, view_name)
        if "crm_public_grants" not in g:
            role = self.get_public_role()
            g.crm_public_grants = self.granted([role.id]) if role is not None else set()
        return (permission_name, view_name) in g.crm_public_grants

    def _get_user_permission_view_menus(self, user: Any, permission_name: str,
                                        view_menus_name: list[str] | None = None) -> set[str]:
        roles = self.get_user_roles(user) if user is not None else [self.get_public_role()]
        roles = [r for r in roles if r is not None]
        if any(role.name in self.builtin_roles for role in roles):
            return super()._get_user_permission_view_menus(user, permission_name, view_menus_name)
        views = {view for perm, view in self.granted([r.id for r in roles]) if perm == permission_name}
        return views if view_menus_name is None else views & set(view_menus_name)
