"""Demo users, one per role of roles.yaml (two for roles that work on their own
records), and a team per managing role (one granting `team` scope) holding the
users of the roles it extends, so a person can log in as each and see the
difference."""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from flask import current_app
from werkzeug.security import generate_password_hash

from app.models import ModelSet
from app.records.scopes_text import scope_kinds
from app.security.access import RoleBook

DEMO_PASSWORD = "demo1234"


def username_for(role: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", role.lower()).strip("_") or "user"


def _uses_scope(book: RoleBook, role: str, scope: str) -> bool:
    return any(scope in scope_kinds(s) for s, _ in book.grants.get(role, {}).values())


def create_demo_users(appbuilder: Any, models: ModelSet, password: str = DEMO_PASSWORD) -> list[tuple[str, str]]:
    """Create missing demo users and the demo team; return (username, role) pairs."""
    sm, spec = appbuilder.sm, models.spec
    book = RoleBook(spec)
    created: list[tuple[str, str]] = []
    users: dict[str, list[int]] = {}
    for role_spec in spec.roles:
        role = sm.find_role(role_spec.name)
        if role is None:
            continue  # roles are made by `crm sync`
        base = username_for(role_spec.name)
        names = [base, f"{base}2"] if _uses_scope(book, role_spec.name, "own") else [base]
        for index, name in enumerate(names):
            user = sm.find_user(username=name)
            if user is None:
                label = role_spec.label.get("zh") if index == 0 else role_spec.label.get("en")
                user = sm.add_user(name, label, str(index + 1), f"{name}@demo.metacrm.cn", role,
                                   hashed_password=_demo_hash(password))
            created.append((name, role_spec.name))
            users.setdefault(role_spec.name, []).append(user.id)
    for role_spec in spec.roles:
        if _uses_scope(book, role_spec.name, "team") and users.get(role_spec.name):
            members = [uid for parent in role_spec.extends for uid in users.get(parent, [])]
            _demo_team(appbuilder.session, models, f"{role_spec.label.get('zh')} {role_spec.name} team",
                       users[role_spec.name][0], members)
    return created

def _demo_hash(password: str) -> str:
    """Demo users share a well-known password on purpose (the README gives it), below the policy
    that every other path enforces (app/security/passwords.py): so it is hashed here, knowingly."""
    return generate_password_hash(password, method=current_app.config.get("FAB_PASSWORD_HASH_METHOD", "scrypt"),
                                  salt_length=current_app.config.get("FAB_PASSWORD_HASH_SALT_LENGTH", 16))


def _demo_team(session: Any, models: ModelSet, name: str, manager: int, members: list[int]) -> None:
    team, member = models.core["crm_team"], models.core["crm_team_member"]
    team_id = session.scalar(sa.select(team.c.id).where(team.c.name == name))
    if team_id is None:
        team_id = session.execute(sa.insert(team).values(name=name, manager_id=manager)).inserted_primary_key[0]
    existing = set(session.scalars(sa.select(member.c.user_id).where(member.c.team_id == team_id)))
    for user_id in [manager, *members]:
        if user_id not in existing:
            session.execute(sa.insert(member).values(team_id=team_id, user_id=user_id))
    session.commit()
