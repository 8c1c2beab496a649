"""Who is acting: the logged-in user in a request, or the user a CLI step names.

Audit columns, owner defaults and access rules read this, so they are filled
the same way from screens, the API (session cookie or JWT), imports and
commands run from a terminal.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from flask import g, has_request_context

_cli_actor: ContextVar[int | None] = ContextVar("crm_cli_actor", default=None)


def request_user() -> Any:
    """The authenticated user of this request (cookie or JWT), or None."""
    if not has_request_context():
        return None
    user = getattr(g, "user", None)
    if user is not None and getattr(user, "is_authenticated", False):
        return user
    from flask_login import current_user
    if getattr(current_user, "is_authenticated", False):
        return current_user
    try:
        from flask_jwt_extended import current_user as jwt_user
        from flask_jwt_extended import verify_jwt_in_request
        verify_jwt_in_request(optional=True)
        return jwt_user or None
    except Exception:  # no token, a bad one, or no JWT manager: anonymous
        return None


def acting_user_id() -> int | None:
    explicit = _cli_actor.get()
    if explicit is not None:
        return explicit
    user = request_user()
    return int(user.id) if user is not None else None


@contextmanager
def acting_as(user_id: int | None) -> Iterator[None]:
    token = _cli_actor.set(user_id)
    try:
        yield
    finally:
        _cli_actor.reset(token)
