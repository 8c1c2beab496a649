"""Who may do what, on which records and fields: the one implementation of roles.yaml.

`RoleBook` resolves inheritance once per app; `Access` answers for one user
(per request, cached on `g`): the scope of an action on an entity, whether
a record is in scope, and the mode of each field. Rows are read through
`app.security.scoped.Records`, which turns these scopes into SQL (the rules
of each scope kind live in `app.security.scopes`); nothing else decides.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import sqlalchemy as sa
from flask import current_app, g, has_request_context
from flask.globals import _cv_app

from app.metadata.definitions import ACTION_KEYS
from app.metadata.spec import CrmSpec, EntitySpec
from app.models.actor import request_user

from .authcache import RoleRef, UserGrants, team_members
from .scoped import Records
from .scopes import join_scopes, scope_admits, scope_clause

ADMIN_ROLE = "Admin"
ACTIONS = tuple(k.name for k in ACTION_KEYS)
MODE_RANK = {"hidden": 0, "read": 1, "write": 2}


@dataclass(frozen=True)
class Decision:
    """An answer with its reason, for the explainer."""

    value: str
    role: str | None
    rule: str


class RoleBook:
    """Every role's rules with `extends` resolved (own entries override inherited ones).

    A book never changes once made (a new metadata version makes a new app and book), so the
    answers `Access` asks of it — a scope, a field's mode, an entity's hidden fields for a set
    of roles — are kept per role set (`answer`): each request's `Access` is new, and working
    out an entity's hidden fields for a non-admin walked every field's rules per request."""

    ANSWERS_KEPT = 100_000

    def __init__(self, spec: CrmSpec):
        self.spec = spec
        self.answers: dict[tuple[Any, ...], Any] = {}
        self.grants: dict[str, dict[tuple[str, str], tuple[str, str]]] = {}
        self.fields: dict[str, dict[tuple[str, str], tuple[str, str]]] = {}
        for role in spec.roles:
            self._resolve(role.name, [])

    def _resolve(self, name: str, path: list[str]) -> None:
        if name in self.grants or name in path or name not in self.spec.role_map:
            return
        role = self.spec.role_map[name]
        grants: dict[tuple[str, str], tuple[str, str]] = {}
        fields: dict[tuple[str, str], tuple[str, str]] = {}
        for parent in role.extends:  # parents combine like roles of one user: their scopes OR-ed
            self._resolve(parent, [*path, name])
            for key, (scope, source) in self.grants.get(parent, {}).items():
                if key not in grants:
                    grants[key] = (scope, source)
                else:
                    joined = join_scopes(grants[key][0], scope)
                    grants[key] = (joined, source if joined == scope else grants[key][1])
            for key, (mode, source) in self.fields.get(parent, {}).items():
                if key not in fields or MODE_RANK[mode] > MODE_RANK[fields[key][0]]:
                    fields[key] = (mode, source)
        grants.update({key: (scope, name) for key, scope in role.grants})
        fields.update({key: (mode, name) for key, mode in role.field_rules})
        self.grants[name], self.fields[name] = grants, fields

    def answer(self, key: tuple[Any, ...], work: Any) -> Any:
        """`work()`, kept under `key` (which names the role set and the question)."""
        found = self.answers.get(key, self.answers)
        if found is self.answers:
            found = work()
            if len(self.answers) >= self.ANSWERS_KEPT:
                self.answers.clear()  # (one atomic step: another request thread may be reading it)
            self.answers[key] = found
        return found

    def owns(self, entity: EntitySpec) -> bool:
        """Is `entity` this book's spec's own (answers about another spec's are not kept)?"""
        return self.spec.entity_map.get(entity.name) is entity

    def scope(self, roles: list[str], entity: str, action: str) -> Decision:
        if ADMIN_ROLE in roles:
            return Decision("all", ADMIN_ROLE, "Admin may do everything")
        value, first, reasons = "no", None, []
        for role in roles:  # the user's roles combine: a record in any role's scope is in scope
            scope, source = self.grants.get(role, {}).get((entity, action), ("no", role))
            if scope == "no":
                continue
            joined = join_scopes(value, scope)
            if joined != value:
                via = "" if source == role else f" (from '{source}')"
                reasons.append(f"roles.yaml: '{role}' {entity}.{action}: {scope}{via}")
                value, first = joined, first or role
        if not reasons:
            return Decision("no", None, f"no role grants {action} on {entity}")
        return Decision(value, first, "; ".join(reasons))

    def field_mode(self, roles: list[str], entity: EntitySpec, name: str) -> Decision:
        f = entity.field(name)
        if ADMIN_ROLE in roles:
            return Decision("write" if f.editable else "read", ADMIN_ROLE, "Admin may do everything")
        readers = [r for r in roles if self.scope([r], entity.name, "read").value != "no"]
        best = Decision("hidden", None, f"no role may read {entity.name}")
        for role in readers:
            mode, source = self.fields.get(role, {}).get((entity.name, name), ("write", role))
            rule = (f"roles.yaml: '{role}' fields {entity.name}.{name}: {mode}"
                    if (entity.name, name) in self.fields.get(role, {}) else
                    f"'{role}' reads {entity.name}; fields default to write")
            if MODE_RANK[mode] > MODE_RANK[best.value]:
                best = Decision(mode, role, rule)
        if best.value == "write" and not f.editable:
            return Decision("read", best.role, "system and read-only fields are never written")
        return best


@dataclass
class Access:
    """One user's access, answered from the role book and the user's teams."""

    book: RoleBook
    user_id: int | None
    roles: list[str]
    session: Any = None
    team_table: sa.Table | None = None
    member_table: sa.Table | None = None
    known_team_ids: tuple[int, ...] | None = None  # from the access cache (app/security/authcache.py)
    _cache: dict[Any, Any] = field(default_factory=dict)

    @property
    def is_admin(self) -> bool:
        return ADMIN_ROLE in self.roles

    def scope(self, entity: str, action: str) -> str:
        key = ("scope", entity, action)
        if key not in self._cache:
            roles = self.roles
            self._cache[key] = self.book.answer(("scope", *roles, None, entity, action),
                                                lambda: self.book.scope(roles, entity, action).value)
        return self._cache[key]

    def explain(self, entity: str, action: str) -> Decision:
        return self.book.scope(self.roles, entity, action)

    def field_mode(self, entity: EntitySpec, name: str) -> str:
        key = ("field", entity.name, name)
        if key not in self._cache:
            roles = self.roles
            work = lambda: self.book.field_mode(roles, entity, name).value  # noqa: E731
            self._cache[key] = self.book.answer(("field", *roles, None, entity.name, name), work) \
                if self.book.owns(entity) else work()
        return self._cache[key]

    def hidden_fields(self, entity: EntitySpec) -> set[str]:
        return set(self._hidden(entity))

    def _hidden(self, entity: EntitySpec) -> frozenset[str]:
        key = ("hidden", entity.name)  # asked on every write (conditions): once per entity
        found = self._cache.get(key)
        if found is None:
            work = lambda: frozenset(f.name for f in entity.fields  # noqa: E731
                                     if self.field_mode(entity, f.name) == "hidden")
            found = self._cache[key] = self.book.answer(("hidden", *self.roles, None, entity.name), work) \
                if self.book.owns(entity) else work()
        return found  # type: ignore[no-any-return]

    def writable(self, entity: EntitySpec, name: str) -> bool:
        return self.field_mode(entity, name) == "write"

    def writable_fields(self, entity: EntitySpec) -> frozenset[str]:
        """The entity's fields the user may write (`writable` of each): asked on every write."""
        key = ("writable", entity.name)
        if key not in self._cache:
            self._cache[key] = frozenset(f.name for f in entity.fields if self.writable(entity, f.name))
        return self._cache[key]  # type: ignore[no-any-return]

    def path_hidden(self, spec: CrmSpec, entity: EntitySpec, path: str) -> bool:
        """Is a column or search path (`amount`, `account.annual_revenue`) hidden?"""
        head, _, tail = path.partition(".")
        if head in self._hidden(entity):
            return True
        link = entity.field_map.get(head)
        if tail and link is not None and link.type == "link" and link.to:
            target = spec.entity(link.to)
            return tail in target.field_map and tail in self._hidden(target)
        return False

    @cached_property
    def team_user_ids(self) -> list[int]:
        """Users whose records `team` scope covers: teammates, managed teams' members, self."""
        if self.known_team_ids is not None:
            return list(self.known_team_ids)
        ids = {self.user_id} if self.user_id is not None else set()
        if self.session is None or self.member_table is None or self.team_table is None or not ids:
            return sorted(ids)
        member, team = self.member_table, self.team_table
        teams = sa.select(member.c.team_id).where(member.c.user_id == self.user_id).union(
            sa.select(team.c.id).where(team.c.manager_id == self.user_id))
        rows = self.session.execute(sa.select(member.c.user_id).where(member.c.team_id.in_(teams)))
        return sorted(ids | {row[0] for row in rows})

    def records(self, models: Any, entity: str) -> Records:
        """The scoped query layer for `entity`, as this user reads it."""
        return Records(self, models, entity)

    def scope_condition(self, entity: str, action: str, model: Any) -> Any:
        """`action`'s scope on `entity` as a SQL condition on `model` (its model or an alias of it,
        e.g. a link's join in a list read); None when the scope admits every row."""
        return scope_clause(self, self.scope(entity, action), model)

    def allows(self, entity: str, action: str, record: Any = None) -> bool:
        """May the user do `action` on `record` (None: create, import: any scope but no means yes)?"""
        scope = self.scope(entity, action)
        if scope == "no" or self.user_id is None:
            return scope == "all"
        if record is None or scope == "all":
            return True
        admitted = scope_admits(self, scope, record)
        if admitted is not None:
            return admitted
        model = type(record)  # a clause that reads through links asks the database
        clause = scope_clause(self, scope, model)
        stmt = sa.select(model.id).where(model.id == record.id)
        return self.session.scalar(stmt if clause is None else stmt.where(clause)) is not None


def allowed_ids(access: Access, entity: str, action: str, records: list[Any]) -> set[Any]:
    """Ids of the loaded `records` the user may `action`: decided in Python where the scope
    can be (own, team, all), else one SELECT for the whole page, never one per row."""
    scope = access.scope(entity, action)
    if not records or scope == "no" or access.user_id is None:
        return {r.id for r in records} if scope == "all" else set()
    if scope == "all":
        return {r.id for r in records}
    decided = {r.id: scope_admits(access, scope, r) for r in records}
    if all(v is not None for v in decided.values()):
        return {pk for pk, ok in decided.items() if ok}
    model = type(records[0])
    clause = scope_clause(access, scope, model)
    stmt = sa.select(model.id).where(model.id.in_(list(decided)))
    return set(access.session.scalars(stmt if clause is None else stmt.where(clause)))


def user_grants(user: Any, app: Any = None) -> UserGrants:
    """A signed-in user's roles (own and through groups) and team members, from the app's
    access cache: read from the database once per user and generation."""
    state = (app or current_app).extensions["crm"]

    def build() -> UserGrants:
        roles = [*user.roles, *(role for group in getattr(user, "groups", []) for role in group.roles)]
        refs = tuple(dict.fromkeys(RoleRef(role.id, role.name) for role in roles))
        core = state.models.core
        return UserGrants(refs, team_members(state.db.session, core["crm_team"], core["crm_team_member"], user.id))

    return state.auth_cache.get(("user", user.id), build)  # type: ignore[no-any-return]


def access_for(user: Any, app: Any = None) -> Access:
    """Access of a FAB user (or None: anonymous, no grants)."""
    state = (app or current_app).extensions["crm"]
    core = state.models.core
    if user is None or getattr(user, "id", None) is None:
        return Access(state.role_book, None, [], state.db.session, core["crm_team"], core["crm_team_member"])
    grants = user_grants(user, app)
    return Access(state.role_book, user.id, [r.name for r in grants.roles], state.db.session,
                  core["crm_team"], core["crm_team_member"], known_team_ids=grants.team_user_ids)


def current_access() -> Access:
    """The access of the user of this request, computed once per request (in a background job:
    the access of the user the job runs as, which the job runner puts on `g`)."""
    app_ctx = _cv_app.get(None)  # asked several times a request: read where `g` keeps it, no proxies
    if app_ctx is not None:
        found = app_ctx.g.__dict__.get("crm_access")
        if found is not None:
            return found  # type: ignore[no-any-return]
    access = access_for(request_user())
    if has_request_context():
        g.crm_access = access
    return access
