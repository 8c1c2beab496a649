"""Who is acting: the logged-in user in a request, or the user a CLI step names.

Audit columns and owner defaults read this, so they are filled the same way
from screens, the API, imports and commands run from a terminal.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from flask import g, has_request_context

_cli_actor: ContextVar[int | None] = ContextVar("crm_cli_actor", default=None)


def acting_user_id() -> int | None:
    explicit = _cli_actor.get()
    if explicit is not None:
        return explicit
    if has_request_context():
        user = getattr(g, "user", None)
        if user is None:
            from flask_login import current_user
            user = current_user
        if user is not None and getattr(user, "is_authenticated", False):
            return int(user.id)
    return None


@contextmanager
def acting_as(user_id: int | None) -> Iterator[None]:
    token = _cli_actor.set(user_id)
    try:
        yield
    finally:
        _cli_actor.reset(token)
