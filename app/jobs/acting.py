"""A job acts as the user who asked for it: their record context, with their access."""

from __future__ import annotations

from flask import Flask

from app.records.commands import RecordContext
from app.security.access import access_for


def record_context(app: Flask, user_id: int | None, lang: str | None = None) -> RecordContext:
    """The RecordContext of `user_id` (their roles, teams, field rules); None: unrestricted."""
    state = app.extensions["crm"]
    session = state.db.session
    access = None
    if user_id is not None:
        user = state.appbuilder.sm.get_user_by_id(user_id)
        access = access_for(user, app)
    return RecordContext(session, state.models, lang, user_id=user_id, hooks=state.plugins.hook, access=access)
