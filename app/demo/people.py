"""Who the demo's records belong to and who moved them, as the access layer sees the users.

A demo record is owned by a user whose roles may change it (not only read it: a Support Agent
reads every deal but changes none, an Executive changes nothing), and each move of its stage
history is made by someone the gates would have let make it: the owner, else a manager whose
team covers the owner (a deal enters Won by a Sales Manager's hand), else an admin. The same
checks as a real move (app/records/stages.py), decided in Python on the row about to be
written: no statement per record.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.metadata.spec import EntitySpec, PipelineSpec
from app.models import ModelSet
from app.records.stages import stage_allowed_for, transition_allowed_for
from app.security.access import Access, RoleBook


class Row:
    """A record not yet written, for the scope checks: its columns, None for any other."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)

    def __getattr__(self, name: str) -> Any:
        return None


def _roles(session: Session) -> dict[int, list[str]]:
    user_role = sa.table("ab_user_role", sa.column("user_id"), sa.column("role_id"))
    role_table = sa.table("ab_role", sa.column("id"), sa.column("name"))
    roles: dict[int, list[str]] = {}
    for user_id, name in session.execute(sa.select(user_role.c.user_id, role_table.c.name)
                                          .join(role_table, role_table.c.id == user_role.c.role_id)):
        roles.setdefault(user_id, []).append(name)
    return roles


def _team_users(session: Session, models: ModelSet) -> dict[int, set[int]]:
    """Per user, the users whose records `team` scope covers (Access.team_user_ids, for all at once)."""
    team, member = models.core["crm_team"], models.core["crm_team_member"]
    members: dict[int, set[int]] = {}
    for team_id, user_id in session.execute(sa.select(member.c.team_id, member.c.user_id)):
        members.setdefault(team_id, set()).add(user_id)
    covered: dict[int, set[int]] = {}
    for team_id, user_id in session.execute(sa.select(member.c.team_id, member.c.user_id)):
        covered.setdefault(user_id, set()).update(members[team_id])
    for team_id, manager_id in session.execute(sa.select(team.c.id, team.c.manager_id)):
        if manager_id is not None:
            covered.setdefault(manager_id, set()).update(members.get(team_id, ()))
    return covered


class People:
    """The demo's users with their access: owners per entity, the mover of each stage move."""

    def __init__(self, session: Session, models: ModelSet, users: Iterable[int]) -> None:
        self.spec = models.spec
        self.users = list(users)
        book, roles, teams = RoleBook(models.spec), _roles(session), _team_users(session, models)
        self.access = {u: Access(book, u, roles[u], known_team_ids=tuple(sorted(teams.get(u, set()) | {u})))
                       for u in self.users if roles.get(u)}
        self.admins = [u for u, a in self.access.items() if a.is_admin]
        self._managers: dict[int | None, list[int]] = {}

    def owners(self, entity: EntitySpec) -> list[int]:
        """Users who may change the records they own; else who may read them; else everyone
        (metadata without roles)."""
        for action in ("update", "read"):
            pool = [u for u, a in self.access.items() if a.allows(entity.name, action, Row({"owner_id": u}))]
            if pool:
                return pool
        return self.users

    def mover(self, entity: EntitySpec, pipeline: PipelineSpec, row: dict[str, Any], source: str | None,
              target: str) -> int | None:
        """Who moved the record from `source` into `target`: the owner when the gates let them,
        else the first manager covering the owner who may, else an admin."""
        owner = row.get("owner_id")
        stage = pipeline.stage(target)
        record = Row(row)
        if owner not in self._managers:
            self._managers[owner] = [u for u, a in self.access.items() if u != owner and owner in a.team_user_ids]
        for user in [owner, *self._managers[owner], *self.admins]:
            access = self.access.get(user) if user is not None else None
            if access is not None and stage is not None and access.allows(entity.name, "update", record) \
                    and stage_allowed_for(access, self.spec, entity, stage) \
                    and transition_allowed_for(access, pipeline, source, target):
                return user
        return owner
