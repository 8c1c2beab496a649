"""MetaCRM's SecurityManager: FAB's own extension point for auth and access.

Passed to AppBuilder as a class object (a mistyped dotted path in config
silently falls back to the stock manager, FAB_NOTES). FAB asks the database
once per permission check (13-17 queries a page for menu and buttons); here
a user's roles and their grants come from the app's access cache
(app/security/authcache.py): read once per user and generation, then from memory.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_appbuilder.security.api import SecurityApi
from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_appbuilder.security.sqla.models import (
    Permission,
    PermissionView,
    ViewMenu,
    assoc_permissionview_role,
)

from app.security.session_views import CrmAuthDBView, replace_locale_view

from .access import user_grants
from .authcache import RoleRef
from .jwt_answers import install_jwt_answers
from .login_api import CrmSecurityApi
from .passwords import refuse_weak_password
from .user_views import (
    CrmPermissionViewModelView,
    CrmRoleModelView,
    CrmUserDBModelView,
    CrmUserGroupModelView,
    CrmUserStatsChartView,
)
from .userrows import cached_user


class CrmSecurityManager(SecurityManager):
    """Row, field and team rules (roles.yaml) attach here."""

    authdbview = CrmAuthDBView  # logout by POST
    security_api = CrmSecurityApi  # a login body without `provider`: 400, not FAB's 500
    userdbmodelview = CrmUserDBModelView  # values and labels in the user's language
    rolemodelview = CrmRoleModelView
    groupmodelview = CrmUserGroupModelView
    userstatschartview = CrmUserStatsChartView
    permissionviewmodelview = CrmPermissionViewModelView

    def register_views(self) -> None:
        super().register_views()
        replace_locale_view(current_app, self.appbuilder)
        if self.is_auth_limited:
            # FAB limits the login form only; the API login must not be an unlimited side door.
            for view in self.appbuilder.baseviews:
                if isinstance(view, SecurityApi) and view.blueprint is not None:
                    self.limiter.limit(self.auth_rate_limit, methods=["POST"])(view.blueprint)

    def add_user(self, username: str, first_name: str, last_name: str, email: str, role: Any = None,
                 password: str = "", hashed_password: str = "", **kwargs: Any) -> Any:
        """FAB's forms check the password policy; `fab create-admin`/`create-user` did not."""
        if password and not hashed_password:
            refuse_weak_password(password)
        return super().add_user(username, first_name, last_name, email, role, password, hashed_password, **kwargs)

    def reset_password(self, userid: int, password: str) -> None:
        """Likewise for `fab reset-password` (the web's reset forms validate before this)."""
        refuse_weak_password(password)
        super().reset_password(userid, password)

    def create_jwt_manager(self, app: Any) -> Any:
        """FAB's JWT manager, answering 401 to bad tokens (see jwt_answers)."""
        return install_jwt_answers(super().create_jwt_manager(app))

    def get_user_by_id(self, pk: Any) -> Any:
        """The user row from the app's user-row cache (userrows.py): no SQL on a warm cache."""
        state = current_app.extensions.get("crm")
        if state is None:  # building the app: no cache yet
            return super().get_user_by_id(pk)
        return cached_user(state.user_cache, self.session, self.user_model, int(pk))

    def _access_cache(self) -> Any:
        return current_app.extensions["crm"].auth_cache

    def granted(self, role_ids: list[int]) -> set[tuple[str, str]]:
        """(permission, view) pairs the roles grant, from the access cache."""
        key = ("granted", tuple(sorted(role_ids)))
        return self._access_cache().get(key, lambda: self._read_granted(role_ids))  # type: ignore[no-any-return]

    def _read_granted(self, role_ids: list[int]) -> frozenset[tuple[str, str]]:
        rows = (
            self.session.query(Permission.name, ViewMenu.name)
            .join(PermissionView, PermissionView.permission_id == Permission.id)
            .join(ViewMenu, PermissionView.view_menu_id == ViewMenu.id)
            .join(assoc_permissionview_role,
                  assoc_permissionview_role.c.permission_view_id == PermissionView.id)
            .filter(assoc_permissionview_role.c.role_id.in_(role_ids))
            .all()
        )
        return frozenset((perm, view) for perm, view in rows)

    def get_user_roles(self, user: Any) -> list[Any]:
        """The user's roles (own and through groups) as id and name, from the access cache."""
        if not getattr(user, "is_authenticated", False):
            public = self.public_role_ref()
            return [public] if public is not None else []
        return list(user_grants(user).roles)

    def public_role_ref(self) -> RoleRef | None:
        def read() -> RoleRef | None:
            role = self.get_public_role()
            return RoleRef(role.id, role.name) if role is not None else None
        return self._access_cache().get(("public-role",), read)  # type: ignore[no-any-return]

    def _has_view_access(self, user: Any, permission_name: str, view_name: str) -> bool:
        roles = self.get_user_roles(user)
        if any(role.name in self.builtin_roles for role in roles):
            return super()._has_view_access(user, permission_name, view_name)
        return (permission_name, view_name) in self.granted([role.id for role in roles])

    def is_item_public(self, permission_name: str, view_name: str) -> bool:
        role = self.public_role_ref()
        return role is not None and (permission_name, view_name) in self.granted([role.id])

    def _get_user_permission_view_menus(self, user: Any, permission_name: str,
                                        view_menus_name: list[str] | None = None) -> set[str]:
        roles = self.get_user_roles(user) if user is not None else [self.public_role_ref()]
        roles = [r for r in roles if r is not None]
        if any(role.name in self.builtin_roles for role in roles):
            return super()._get_user_permission_view_menus(user, permission_name, view_menus_name)
        views = {view for perm, view in self.granted([r.id for r in roles]) if perm == permission_name}
        return views if view_menus_name is None else views & set(view_menus_name)
