"""FAB's token login API with one hole closed: a body without `provider` (optional in FAB's
schema, read unconditionally by its view) was a 500; it is now a 400 naming the field."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_appbuilder.api import expose, safe
from flask_appbuilder.security.api import SecurityApi


class CrmSecurityApi(SecurityApi):
    """FAB's SecurityApi (login, refresh), as FAB registers it."""

    @expose("/login", methods=["POST"])
    @safe
    def login(self) -> Any:
        payload = request.get_json(silent=True)
        if isinstance(payload, dict) and "provider" not in payload:
            return self.response_400(message={"provider": ["Missing data for required field (db)."]})
        return super().login()

    login.__doc__ = SecurityApi.login.__doc__
