"""CSRF on every state-changing request, screens and API.

Flask-WTF's CSRFProtect covers the screens (and makes FAB refuse deletes by
GET). FAB's API blueprints are exempt, so a cookie-authenticated API write
(allow_browser_login) would skip the token: here such writes must carry the
token in an X-CSRFToken header. Token-authenticated calls (JWT) need none:
a browser never attaches a bearer token on its own.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, request
from flask_wtf.csrf import CSRFError, CSRFProtect, validate_csrf

UNSAFE = ("POST", "PUT", "PATCH", "DELETE")
OPEN_API = ("/api/v1/security/login", "/api/v1/security/refresh")


def install_csrf(app: Flask) -> None:
    CSRFProtect(app)
    prefix = app.config.get("CRM_API_PREFIX", "/api/v1")

    @app.before_request
    def _api_csrf() -> Any:
        if (request.method not in UNSAFE or not request.path.startswith(prefix + "/")
                or request.path in OPEN_API or not app.config.get("WTF_CSRF_ENABLED", True)):
            return None
        if request.headers.get("Authorization", "").startswith("Bearer "):
            return None
        try:
            validate_csrf(request.headers.get("X-CSRFToken") or request.headers.get("X-CSRF-Token"))
        except CSRFError as exc:
            return jsonify(message=f"CSRF token missing or invalid: {exc.description}"), 400
        except Exception as exc:  # wtforms ValidationError
            return jsonify(message=f"CSRF token missing or invalid: {exc}"), 400
        return None
