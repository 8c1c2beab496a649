"""A malformed, forged or expired bearer token is a 401, never a 422 or a 500.

Flask-JWT-Extended answers a token it cannot decode with 422 ("Signature
verification failed", "Not enough segments"); for a client that is simply
not authenticated, and FAB's API answers 401 for a missing login.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask_jwt_extended import JWTManager


def _unauthorized(message: str) -> Any:
    response = jsonify(message=f"Not authenticated: {message}")
    response.status_code = 401
    return response


def install_jwt_answers(manager: JWTManager) -> JWTManager:
    manager.invalid_token_loader(lambda reason: _unauthorized(reason))
    manager.unauthorized_loader(lambda reason: _unauthorized(reason))
    manager.expired_token_loader(lambda _header, _payload: _unauthorized("the token has expired"))
    manager.revoked_token_loader(lambda _header, _payload: _unauthorized("the token was revoked"))
    manager.needs_fresh_token_loader(lambda _header, _payload: _unauthorized("a fresh token is needed"))
    manager.user_lookup_error_loader(lambda _header, _payload: _unauthorized("no such user"))
    return manager
