"""Users the CRM needs to exist: the first admin."""

from __future__ import annotations

from flask_appbuilder import AppBuilder


def ensure_admin(appbuilder: AppBuilder, password: str, username: str = "admin") -> bool:
    """Create the admin user if no user has that name; True when created."""
    sm = appbuilder.sm
    if sm.find_user(username=username) is not None:
        return False
    role = sm.find_role(sm.auth_role_admin)
    user = sm.add_user(username, "Admin", "User", f"{username}@example.com", role, password)
    if not user:
        raise RuntimeError(f"could not create user {username}")
    return True
