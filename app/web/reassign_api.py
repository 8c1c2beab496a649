"""POST /api/v1/<entity>/reassign: give one or many records another owner (ReassignRecords).

FAB's `can_write` opens the route; the command decides with the role's `reassign`
scope, record by record (403), and checks the new owner (422 naming `owner`).
"""

from __future__ import annotations

from typing import Any

from flask import request
from flask_appbuilder.api import expose, safe
from flask_appbuilder.security.decorators import permission_name, protect

from app.records.commands import RecordNotFound
from app.records.reassign import ReassignRecords

REASSIGN_METHOD_PERMISSIONS = {"reassign": "write"}


class ReassignEndpoint:
    """Mixed into every entity API (app/web/api.py)."""

    @expose("/reassign", methods=["POST"])
    @protect()
    @safe
    @permission_name("reassign")
    def reassign(self) -> Any:
        """Give records another owner.
        ---
        post:
          requestBody:
            content:
              application/json:
                schema:
                  type: object
                  properties:
                    ids: {type: array, items: {type: integer}, description: "the records (one or many)"}
                    owner: {type: integer, description: "the new owner's user id"}
                    versions: {type: object, description: "id -> version as last read; another gives 409"}
          responses:
            200: {description: "Reassigned: {ids, owner}"}
            403: {description: The role may not reassign one of these records}
            404: {description: One of the records is not in the user's scope}
            409: {description: A record changed since it was read}
            422: {description: "The new owner is inactive, outside the owner field's roles or the team"}
        """
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return self.response_400(message={"_schema": ["The request body must be a JSON object."]})  # type: ignore[attr-defined]
        ids = body.get("ids")
        if not isinstance(ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
            return self.response_400(message={"ids": ["Give the ids of the records as a list of numbers."]})  # type: ignore[attr-defined]
        raw_versions = body.get("versions") or {}
        try:
            versions = {int(k): int(v) for k, v in dict(raw_versions).items()}
        except (TypeError, ValueError):
            return self.response_400(message={"versions": ["Give versions as {id: version}."]})  # type: ignore[attr-defined]
        command = ReassignRecords(self._ctx(), self.entity.name, ids, body.get("owner"), versions)  # type: ignore[attr-defined]
        try:
            return self._run(command, lambda records: self.response(  # type: ignore[attr-defined]
                200, ids=[r.id for r in records], owner=records[0].owner_id))
        except RecordNotFound:
            return self.response_404()  # type: ignore[attr-defined]
