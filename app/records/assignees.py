"""Who may be put in a user field: an active user holding one of the field's `roles`.

Forms, the API, imports and reassignment all ask here, so a user field limited to
`roles: [Sales Rep]` never receives anyone else, whatever the channel.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from app.metadata.spec import FieldSpec

from .messages import msg

_USER_ROLE = sa.table("ab_user_role", sa.column("user_id"), sa.column("role_id"))
_ROLE = sa.table("ab_role", sa.column("id"), sa.column("name"))


def role_members(field_roles: tuple[str, ...]) -> Any:
    """SELECT of the ids of users holding one of `field_roles` (for pickers and checks)."""
    return (sa.select(_USER_ROLE.c.user_id).join(_ROLE, _ROLE.c.id == _USER_ROLE.c.role_id)
            .where(_ROLE.c.name.in_(field_roles)))


def assignable_users(session: Any, user_model: Any, f: FieldSpec) -> Any:
    """SELECT of the users the field may be set to: active, with one of its roles (if any);
    unordered: the caller orders (the picker by the shown name in the reader's collation)."""
    stmt = sa.select(user_model).where(sa.or_(user_model.active.is_(None), user_model.active.is_(True)))
    if f.roles:
        stmt = stmt.where(user_model.id.in_(role_members(f.roles)))
    return stmt


def user_named(user: Any) -> str:
    """A user as people know them in a message: `王芳 (wangfang)`; the login alone without a name."""
    full = f"{user.first_name or ''} {user.last_name or ''}".strip()
    return f"{full} ({user.username})" if full and full != user.username else user.username


def assignee_errors(session: Any, user_model: Any, f: FieldSpec, user_id: Any, lang: str | None) -> list[str]:
    """Why `user_id` cannot be put in field `f` (an empty list: it can)."""
    user = session.get(user_model, user_id)
    if user is None:
        return [msg("user", lang, id=user_id)]
    if user.active is False:
        return [msg("user_inactive", lang, name=user_named(user))]
    if f.roles and session.scalar(role_members(f.roles).where(_USER_ROLE.c.user_id == user_id).limit(1)) is None:
        return [msg("user_role", lang, name=user_named(user), roles=", ".join(f.roles))]
    return []
