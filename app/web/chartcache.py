"""A short cache of each chart's answer (the JSON its dashboard box draws).

A dashboard page draws every chart from its JSON endpoint; at 1M records one chart is
hundreds of milliseconds of GROUP BY, and the same home page is opened all day. So the
answer is kept, keyed by:

- the chart (its definition), the language, the day (relative ranges) and the metadata
  version in force (its id and a digest of the spec the app was built from);
- the viewer's *scope*, not the user: the sorted role names (they decide every scope and
  field mode of a metadata version), plus the user id when any read scope depends on who
  reads (`own`, `team`, `via`), plus the team's members for `team`. All admins share an
  entry; a rep never reads another rep's (nor a manager's) entry.

An entry is valid while no table its statements read was written: each entry keeps the
write counter of every CRM table named in the SQL the chart ran, and any INSERT, UPDATE
or DELETE on such a table through this engine (forms, API, imports, automations, board
moves, plugins) bumps the table's counter at the statement and again at its commit. Read
then compare: a write seen while the chart ran leaves the entry stale, never wrong.
With REDIS_URL the entries and counters live in Redis (every process agrees; the key names
the database); without it, in this process (other processes' writes are seen after the
TTL). Entries expire after CRM_CHART_CACHE_SECONDS; 0 turns the cache off.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import sqlalchemy as sa
from flask import Flask

from app.models.events import TABLES_WRITTEN

log = logging.getLogger(__name__)
_WRITE = re.compile(r"^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+\"?(\w+)", re.IGNORECASE)
_READING: ContextVar[set[str] | None] = ContextVar("crm_chart_reading", default=None)
_DIRTY = TABLES_WRITTEN  # shared with writers SQLAlchemy does not see (app/models/events.py)
EXTENSION = "crm_chart_cache"


def watched_tables(models: Any) -> tuple[str, ...]:
    """Tables whose rows charts count: the entities', their many-to-many links, stage history.

    Not the user table (every login writes it) nor the bookkeeping tables (events, jobs)."""
    names = [t for t in models.metadata.tables if not t.startswith(("crm_", "ab_"))]
    return tuple(sorted({*names, "crm_stage_history"} & set(models.metadata.tables)))


def scope_key(access: Any, spec: Any) -> str:
    """Who the answer is for: a role set, and the user only when a read scope depends on them."""
    if access.is_admin:
        return "Admin"
    parts = ["roles=" + ",".join(sorted(set(access.roles)))]
    scopes = {access.scope(e.name, "read") for e in spec.entities}
    if any(s not in ("all", "no") for s in scopes):
        parts.append(f"user={access.user_id}")
    if any("team" in s for s in scopes):
        parts.append("team=" + ",".join(str(u) for u in access.team_user_ids))
    return ";".join(parts)


class ChartCache:
    def __init__(self, ttl: float, tables: Iterable[str], redis_url: str = "", namespace: str = "") -> None:
        self.ttl = ttl
        self.tables = frozenset(tables)
        names = sorted(self.tables, key=len, reverse=True)
        self._named = re.compile(r"\b(" + "|".join(map(re.escape, names)) + r")\b") if names else None
        self.namespace = namespace
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[float, dict[str, int], str]] = {}
        self._counters: dict[str, int] = {}
        # connects at first use; a Redis down then answers from the database (never an error)
        self._redis = _connect(redis_url) if redis_url and ttl > 0 else None

    @property
    def enabled(self) -> bool:
        return self.ttl > 0

    def clear(self) -> None:
        """Forget every answer (benchmarks of a cold cache; tests)."""
        with self._lock:
            self._entries.clear()
        if self._redis is not None:
            for key in self._redis.scan_iter(f"crm:chart:{self.namespace}:*"):
                self._redis.delete(key)

    # -- counters -------------------------------------------------------------------
    def _counter_key(self, table: str) -> str:
        return f"crm:chart-writes:{self.namespace}:{table}"

    def bump(self, table: str) -> None:
        with self._lock:
            self._counters[table] = self._counters.get(table, 0) + 1
        if self._redis is not None:
            try:
                self._redis.incr(self._counter_key(table))
            except Exception as exc:  # Redis down: this process is right, others expire by ttl
                log.warning("chart cache: cannot reach Redis to invalidate %s (%s)", table, exc)

    def counters(self, tables: Iterable[str]) -> dict[str, int] | None:
        """The write counters of `tables` (None: unknown, Redis unreachable)."""
        names = sorted(tables)
        if self._redis is None:
            return {t: self._counters.get(t, 0) for t in names}
        if not names:
            return {}
        try:
            values = self._redis.mget([self._counter_key(t) for t in names])
        except Exception:
            return None
        return {t: int(v or 0) for t, v in zip(names, values, strict=True)}

    # -- entries --------------------------------------------------------------------
    def _load(self, key: str) -> tuple[dict[str, int], str] | None:
        if self._redis is None:
            entry = self._entries.get(key)
            if entry is None or entry[0] < time.monotonic():
                return None
            return entry[1], entry[2]
        try:
            raw = self._redis.get(f"crm:chart:{self.namespace}:{key}")
        except Exception:
            return None
        if raw is None:
            return None
        stored = json.loads(raw)
        return stored["deps"], stored["text"]

    def _store(self, key: str, deps: dict[str, int], text: str) -> None:
        if self._redis is None:
            with self._lock:
                now = time.monotonic()
                if len(self._entries) > 5000:  # bounded: drop the expired, then everything
                    self._entries = {k: v for k, v in self._entries.items() if v[0] >= now}
                    if len(self._entries) > 5000:
                        self._entries.clear()
                self._entries[key] = (now + self.ttl, deps, text)
            return
        try:
            self._redis.set(f"crm:chart:{self.namespace}:{key}", json.dumps({"deps": deps, "text": text}),
                            ex=max(1, round(self.ttl)))
        except Exception as exc:
            log.warning("chart cache: cannot store in Redis (%s)", exc)

    def get(self, key_parts: Iterable[Any], build: Callable[[], str]) -> str:
        """The cached answer for `key_parts` while its tables are unwritten, else `build()`."""
        if not self.enabled:
            return build()
        key = hashlib.sha256(repr(tuple(key_parts)).encode()).hexdigest()
        found = self._load(key)
        if found is not None:
            deps, text = found
            if self.counters(deps) == deps:
                return text
        before = self.counters(self.tables)
        with self.reading() as read:
            text = build()
        if before is not None:
            self._store(key, {t: before[t] for t in read}, text)
        return text

    @contextmanager
    def reading(self) -> Iterator[set[str]]:
        """Collect the watched tables named by the statements run inside the block."""
        read: set[str] = set()
        token = _READING.set(read)
        try:
            yield read
        finally:
            _READING.reset(token)

    def watch(self, engine: sa.Engine) -> None:
        """Note the tables charts read; bump a table's counter on its writes and their commit."""

        @sa.event.listens_for(engine, "before_cursor_execute")
        def _seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            reading = _READING.get()
            if reading is not None and self._named is not None:
                reading.update(self._named.findall(statement))
            match = _WRITE.match(statement)
            if match and match.group(1) in self.tables:
                written = conn.info.setdefault(_DIRTY, set())
                if match.group(1) not in written:
                    written.add(match.group(1))
                    self.bump(match.group(1))

        @sa.event.listens_for(engine, "commit")
        def _committed(conn: Any) -> None:
            for table in conn.info.pop(_DIRTY, ()):
                self.bump(table)

        @sa.event.listens_for(engine, "rollback")
        def _rolled_back(conn: Any) -> None:
            conn.info.pop(_DIRTY, None)


def install_chart_cache(app: Flask, engine: sa.Engine, models: Any) -> ChartCache:
    """The app's chart cache, watching `engine`; its Redis keys name the database."""
    where = engine.url.render_as_string(hide_password=True)
    cache = ChartCache(float(app.config.get("CRM_CHART_CACHE_SECONDS") or 0), watched_tables(models),
                       app.config.get("REDIS_URL") or "", hashlib.sha256(where.encode()).hexdigest()[:12])
    if cache.enabled:
        cache.watch(engine)
    app.extensions[EXTENSION] = cache
    return cache


def spec_digest(spec: Any) -> str:
    """A digest of the metadata an app was built from (part of every key, with the version id)."""
    return hashlib.sha256(repr(spec).encode()).hexdigest()[:16]


def _connect(redis_url: str) -> Any:
    """The Redis client, imported only when REDIS_URL is set (like authcache.py): the redis
    package is ~65 modules, 8 MB a worker without Redis need not hold."""
    from redis import Redis

    return Redis.from_url(redis_url, socket_timeout=0.5, socket_connect_timeout=0.5)
