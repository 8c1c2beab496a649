"""The door of the Settings pages and API: who is let in, and whether they may save."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, redirect, request

from app.models.actor import request_user
from app.security.settings import settings_mode


def user() -> Any:
    return request_user()  # cookie or JWT


def mode() -> str | None:
    """"edit", "read" or None for the signed-in user, from the metadata in force."""
    who = user()
    roles = [r.name for r in getattr(who, "roles", [])] if who is not None else []
    return settings_mode(current_app.extensions["crm"].spec, roles)


def require(write: bool = False) -> str:
    """The user's mode, or 401 (not signed in) / 403 (no settings permission, or read-only and
    asking to save). Saves are refused before any metadata is read."""
    if user() is None:
        if request.path.startswith(current_app.config.get("CRM_API_PREFIX", "/api/v1") + "/"):
            abort(401)
        abort(redirect(current_app.extensions["crm"].appbuilder.get_url_for_login))
    found = mode()
    if found is None or (write and found != "edit"):
        abort(403)
    return found


def author() -> str:
    return str(getattr(user(), "username", "") or "web")
