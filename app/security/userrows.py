"""The signed-in user's row, from memory: FAB's user loader read it on every request.

Flask-Login asks FAB's `load_user` for the user of every request, and FAB reads the
`ab_user` row each time (one statement and an ORM load: a quarter of a warm JSON list's
statements, issue 18). The row changes rarely (a login's counters, an edit, a
deactivation), so its column values are kept per user in a generation cache
(`AuthCache` watching `ab_user`, with its own Redis key): any INSERT/UPDATE/DELETE on
`ab_user` through the app's engine clears it here and, with `REDIS_URL`, in every
process at their next request. Without Redis another process sees a change (a
deactivation too) within `CRM_ACCESS_CACHE_SECONDS`, as it sees a role change.

The cache holds plain values, never an ORM object (one request's object must not leak
into another's session): a hit builds the user anew and attaches it to the request's
session without SQL; its roles and groups load on first use, as before.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, make_transient_to_detached, scoped_session
from sqlalchemy.orm.util import identity_key

from .authcache import AuthCache, Generations

USER_TABLES = ("ab_user",)
REDIS_KEY = "crm:user-generation"


def user_row_cache(ttl: float, redis_url: str, engine: sa.Engine, generations: Generations | None = None) -> AuthCache:
    """The per-app cache of user rows, cleared by any write to `ab_user` (its Redis counter read
    with the app's others: `generations`)."""
    cache = AuthCache(ttl, redis_url, tables=USER_TABLES, redis_key=REDIS_KEY, generations=generations)
    cache.watch(engine)
    return cache


def column_values(user: Any) -> dict[str, Any]:
    """A loaded user's column attributes (what FAB's `session.get` would have loaded)."""
    return {attr.key: getattr(user, attr.key) for attr in sa.inspect(type(user)).column_attrs}


def cached_user(cache: AuthCache, session: Any, model: Any, pk: int) -> Any | None:
    """The user `pk` as a persistent object of `session`: from memory on a warm cache (no SQL),
    else read (then remembered). None when there is no such user."""
    if not cache.enabled:
        return session.get(model, pk)
    if isinstance(session, scoped_session):
        session = session()  # the request's own Session, looked up once
    key = identity_key(model, pk)
    present = session.identity_map.get(key)
    if present is not None:  # already in this request's session: that object is the user
        return present

    def read() -> dict[str, Any] | None:
        user = session.get(model, pk)
        return column_values(user) if user is not None else None

    values = cache.get(("user-row", pk), read)
    if values is None:
        return None
    present = session.identity_map.get(key)  # the miss just loaded it
    if present is not None:
        return present
    return _attach(session, model, values)


def _attach(session: Session, model: Any, values: dict[str, Any]) -> Any:
    """A new instance of `model` holding `values`, persistent in `session` as if just loaded:
    made without the constructor and the values put in its state as the ORM's loader does
    (no attribute events per column, no history), then keyed and put in the session's identity
    map as `Session.add` puts a detached object there, without `add`'s save-update cascade: the
    new instance has no related object loaded, so the cascade's walk over the user's
    relationships finds nothing (it was a third of this function's time)."""
    user = sa.inspect(model).class_manager.new_instance()
    user.__dict__.update(values)
    make_transient_to_detached(user)  # the identity key from the id; relationships load on first use
    session._update_impl(sa.inspect(user))  # `add`'s own step for a detached object, less the cascade
    return user
