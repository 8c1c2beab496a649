"""Who may do what, from memory: a user's roles, FAB grants and team members, cached.

Reading them cost 4-6 statements on every request (roles, groups, the role grants,
the Public role and its grants, the team lookup). They change rarely, so each app keeps
them per user (`AuthCache`, on `CrmState`: an app built for another metadata version has
its own cache and never reads this one) under a *generation*:

- any INSERT/UPDATE/DELETE on a table that decides access (roles, their grants, a user's
  roles or groups, teams and members) bumps the generation, at the statement and again at
  its commit (a request that read the old rows in between does not keep them);
- with `REDIS_URL` the generation is also a Redis counter every process reads once per
  request (no SQL), so a change made by one worker is seen by all at once; the caches of
  one app share a `Generations` reader, so all their counters are one MGET per request;
- without Redis other processes see a change within `CRM_ACCESS_CACHE_SECONDS` (entries
  expire); 0 turns the cache off.

The user row (FAB's user loader) is cached alike, by its own generation over `ab_user`
(app/security/userrows.py).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import g, has_request_context

log = logging.getLogger(__name__)

WATCHED_TABLES = ("ab_user_role", "ab_role", "ab_permission_view_role", "ab_permission_view",
                  "ab_user_group", "ab_group_role", "ab_group", "crm_team_member", "crm_team")
_WRITE = re.compile(r"^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+\"?(\w+)", re.IGNORECASE)
REDIS_KEY = "crm:access-generation"


@dataclass(frozen=True)
class RoleRef:
    """What FAB's permission checks read of a role: its id and name."""

    id: int
    name: str


@dataclass(frozen=True)
class UserGrants:
    """A user's (or the Public role's) access inputs, as of one generation."""

    roles: tuple[RoleRef, ...]
    team_user_ids: tuple[int, ...] = ()


def touches_access(statement: str, tables: tuple[str, ...] = WATCHED_TABLES) -> bool:
    """Does this SQL write one of `tables` (by default those that decide who may do what)?"""
    match = _WRITE.match(statement)
    return bool(match) and match.group(1).lower() in tables


class Generations:
    """The shared (Redis) generation counters of one app's caches, read together: the first
    cache that asks in a request fetches every registered key with one MGET, the others
    find theirs in the request's memo (the access and user-row caches are asked by every
    request: two GETs became one round trip)."""

    def __init__(self, redis_url: str = "") -> None:
        self.redis = _redis_client(redis_url) if redis_url else None
        self.keys: list[str] = []

    def register(self, key: str) -> None:
        if key not in self.keys:
            self.keys.append(key)

    def read(self, key: str) -> int:
        """The shared counter of `key` as of this request (-1: Redis unreachable, unknown)."""
        memo: dict[str, int] = g.setdefault("crm_shared_generations", {}) if has_request_context() else {}
        if key not in memo:
            keys = list(dict.fromkeys((key, *self.keys)))
            try:
                memo.update((k, int(v or 0)) for k, v in zip(keys, self.redis.mget(keys), strict=True))
            except Exception:
                memo.update((k, -1) for k in keys)  # entries made now must not match a later known value
        return memo[key]


class AuthCache:
    """Per-app cache of `UserGrants` and FAB grant sets, invalidated by generation.

    `tables` and `redis_key` make other generation caches of the same kind (the unread
    notification counts watch `crm_notification`); `generations` is the app's shared
    reader of their Redis counters (one of its own when not given)."""

    def __init__(self, ttl: float, redis_url: str = "", tables: tuple[str, ...] = WATCHED_TABLES,
                 redis_key: str = REDIS_KEY, generations: Generations | None = None) -> None:
        self.ttl = ttl
        self.tables, self.redis_key = tables, redis_key
        self.local = 0
        self._entries: dict[Any, tuple[tuple[int, int], float, Any]] = {}
        self._lock = threading.Lock()
        if redis_url and ttl > 0:
            self.generations: Generations | None = generations or Generations(redis_url)
            self.generations.register(redis_key)
        else:
            self.generations = None
        self._redis = self.generations.redis if self.generations is not None else None

    @property
    def enabled(self) -> bool:
        return self.ttl > 0

    def bump(self) -> None:
        """Something that decides access changed: every entry is stale, here and (Redis) elsewhere."""
        with self._lock:
            self.local += 1
            self._entries.clear()
        if self._redis is not None:
            try:
                self._redis.incr(self.redis_key)
            except Exception as exc:  # Redis down: this process is still right, others expire by ttl
                log.warning("access cache: cannot reach Redis to invalidate (%s)", exc)

    def generation(self) -> tuple[int, int]:
        """(local, shared) generation, read once per request."""
        memo: dict[str, tuple[int, int]] = g.setdefault("crm_generations", {}) if has_request_context() else {}
        if self.redis_key in memo:
            return memo[self.redis_key]
        shared = 0
        if self.generations is not None and self._redis is not None:
            shared = self.generations.read(self.redis_key)
        memo[self.redis_key] = current = (self.local, shared)
        return current

    def get(self, key: Any, build: Callable[[], Any]) -> Any:
        """The cached value of `key` for this generation, else `build()` (then cached)."""
        if not self.enabled:
            return build()
        current = self.generation()
        now = time.monotonic()
        entry = self._entries.get(key)
        if entry is not None and entry[0] == current and now - entry[1] < self.ttl:
            return entry[2]
        value = build()
        with self._lock:
            if current[0] == self.local and current[1] >= 0:  # not bumped while building
                self._entries[key] = (current, now, value)
        return value

    def watch(self, engine: sa.Engine) -> None:
        """Bump on writes to the watched tables through `engine`, and again when they commit."""
        dirty = f"crm_dirty:{self.redis_key}"

        @sa.event.listens_for(engine, "before_cursor_execute")
        def _seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            if touches_access(statement, self.tables):
                conn.info[dirty] = True
                self.bump()

        @sa.event.listens_for(engine, "commit")
        def _committed(conn: Any) -> None:
            if conn.info.pop(dirty, False):
                self.bump()

        @sa.event.listens_for(engine, "rollback")
        def _rolled_back(conn: Any) -> None:
            if conn.info.pop(dirty, False):
                self.bump()


def _redis_client(url: str) -> Any:
    try:
        from redis import Redis

        return Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
    except Exception as exc:
        log.warning("access cache: no Redis (%s); other processes see changes after the ttl", exc)
        return None


def team_members(session: Any, team: sa.Table, member: sa.Table, user_id: int) -> tuple[int, ...]:
    """Users whose records `team` scope covers for `user_id`: teammates, managed teams' members, self."""
    teams = sa.select(member.c.team_id).where(member.c.user_id == user_id).union(
        sa.select(team.c.id).where(team.c.manager_id == user_id))
    rows = session.execute(sa.select(member.c.user_id).where(member.c.team_id.in_(teams)))
    return tuple(sorted({user_id} | {row[0] for row in rows}))
