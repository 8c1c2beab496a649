"""POST /api/v1/<entity>/bulk: update a field, reassign or delete many records (BulkRecords).

FAB's `can_read` opens the route; the command decides with the role's
`mass_update` / `reassign` / `mass_delete` scopes (403 when the verb is `no`),
the field rules (400 for a field the role may not write) and, row by row, the
same checks as a single write (each refusal reported with the row's title).
"""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from flask_appbuilder.api import expose, safe
from flask_appbuilder.exceptions import FABException
from flask_appbuilder.security.decorators import permission_name, protect

from app.i18n import _t
from app.records.bulk import BULK_ACTIONS
from app.records.commands import FieldsRefused, Forbidden, ValidationFailed

from .bulk_job import bulk_command, job_threshold, kept, max_rows, start_bulk
from .filtering import FilterError

BULK_METHOD_PERMISSIONS = {"bulk": "read"}
TEXT = {
    "body": _t("The request body must be a JSON object."),
    "action": _t("action is one of: update, reassign, delete."),
    "ids": _t("Give ids (a list of numbers) or all: true with filters."),
    "too_many": _t("{count} records match; at most {limit} at once: narrow the filter."),
    "values": _t("values maps field names to new values."),
}


def say(key: str, lang: str | None, **params: Any) -> str:
    """The catalog's text in `lang` (English when None), placeholders filled."""
    return TEXT[key].get(lang or "en").format(**params)


class TooMany(ValueError):
    """"All matching" found more than CRM_BULK_MAX_ROWS records."""

    def __init__(self, count: int, limit: int):
        super().__init__(f"{count} > {limit}")
        self.count, self.limit = count, limit


def matching_ids(view: Any, joined: Any) -> list[int]:
    """Ids of the records `joined` (the list's filters and the read scope) admits, up to the bound."""
    limit = max_rows()
    query = view.datamodel.apply_all(view.datamodel.session.query(view.datamodel.obj), joined, "", "")
    ids = [row[0] for row in query.with_entities(view.datamodel.obj.id).order_by(None).limit(limit + 1)]
    if len(ids) > limit:
        raise TooMany(query.order_by(None).count(), limit)
    return ids


class BulkEndpoint:
    """Mixed into every entity API (app/web/api.py)."""

    @expose("/bulk", methods=["POST"])
    @protect()
    @safe
    @permission_name("bulk")
    def bulk(self) -> Any:
        """Update a field, reassign or delete many records; each row on its own.
        ---
        post:
          requestBody:
            content:
              application/json:
                schema:
                  type: object
                  properties:
                    action: {type: string, enum: [update, reassign, delete]}
                    ids: {type: array, items: {type: integer}, description: "the records"}
                    all: {type: boolean, description: "every record matching `filters` instead of ids"}
                    filters: {type: array, items: {type: object}, description: "as the list's q filters"}
                    values: {type: object, description: "update: field -> new value"}
                    owner: {type: integer, description: "reassign: the new owner's user id"}
          responses:
            200: {description: "{action, done, ids, failed: [{id, title, reason}]}"}
            202: {description: "Above CRM_BULK_JOB_ROWS records: {job_id, job}; the outcome is the job's result"}
            400: {description: "Bad body, a field the role may not write, or too many records"}
            403: {description: "The role's mass_update / reassign / mass_delete scope is no"}
            422: {description: "The value (or owner) is invalid for every row"}
        """
        lang = self._ctx().lang  # type: ignore[attr-defined]
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return self.response_400(message={"_schema": [say("body", lang)]})  # type: ignore[attr-defined]
        action = body.get("action")
        if action not in BULK_ACTIONS:
            return self.response_400(message={"action": [say("action", lang)]})  # type: ignore[attr-defined]
        values = body.get("values") if action == "update" else None
        if action == "update" and not isinstance(values, dict):
            return self.response_400(message={"values": [say("values", lang)]})  # type: ignore[attr-defined]
        try:
            ids = self._bulk_ids(body)
        except (FABException, FilterError) as exc:
            said = exc.text(lang) if hasattr(exc, "text") else str(exc)  # FilterError, InvalidFilter
            return self.response_400(message={"filters": [said]})  # type: ignore[attr-defined]
        except TooMany as exc:
            return self.response_400(message={"all": [say("too_many", lang, count=exc.count,  # type: ignore[attr-defined]
                                                          limit=exc.limit)]})
        if ids is None:
            return self.response_400(message={"ids": [say("ids", lang)]})  # type: ignore[attr-defined]
        command = bulk_command(self._ctx(), self.entity, action, ids, values, body.get("owner"))  # type: ignore[attr-defined]
        try:
            command.validate()
            if job_threshold() and len(ids) > job_threshold():
                job_id = start_bulk(self.entity, action, ids, values, body.get("owner"))  # type: ignore[attr-defined]
                return self.response(202, job_id=job_id,  # type: ignore[attr-defined]
                                     job=f"{current_app.config['CRM_API_PREFIX']}/jobs/{job_id}")
            outcome = command.run()
        except FieldsRefused as exc:
            return self.response_400(message=exc.errors)  # type: ignore[attr-defined]
        except ValidationFailed as exc:
            return self.response_422(message=exc.errors)  # type: ignore[attr-defined]
        except Forbidden as exc:
            return self.response(403, message=str(exc))  # type: ignore[attr-defined]
        return self.response(200, **kept(outcome))  # type: ignore[attr-defined]

    def _bulk_ids(self, body: dict[str, Any]) -> list[int] | None:
        """The posted ids, or (all: true) the ids matching the posted filters in the read scope."""
        if body.get("all") is True:
            filters = body.get("filters") or []
            if not isinstance(filters, list) or not all(isinstance(f, dict) for f in filters):
                return None
            joined = self._handle_filters_args({"filters": [  # type: ignore[attr-defined]
                {"col": f.get("col"), "opr": f.get("opr"), "value": f.get("value")} for f in filters]})
            return matching_ids(self, joined)
        ids = body.get("ids")
        if not isinstance(ids, list) or not ids or not all(
                isinstance(i, int) and not isinstance(i, bool) for i in ids):
            return None
        return ids
