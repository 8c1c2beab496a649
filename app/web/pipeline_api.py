"""Pipeline endpoints on every entity API: move a record, read its stage history, board data.

Mixed into RecordApi. The move goes through the MoveStage command, like the
form and the kanban, so every path obeys the same gates and writes the same
history.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import request
from flask_appbuilder.api import expose, safe
from flask_appbuilder.security.decorators import permission_name, protect

from app.events.read import field_history
from app.records.commands import MoveStage
from app.records.conversion import ConvertRecord

from .jsonbody import BadJson, json_body
from .labels import current_lang
from .versioning import BadVersion, client_version

PIPELINE_METHOD_PERMISSIONS = {"move": "write", "history": "read", "board": "read", "convert": "write"}


class PipelineEndpoints:
    """Endpoints shared by every entity API; they answer 404 for entities without pipelines."""

    @expose("/<int:pk>/move", methods=["POST"])
    @protect()
    @safe
    @permission_name("move")
    def move(self, pk: int) -> Any:
        """Move a record to another stage, through the stage gates.
        ---
        post:
          parameters:
          - {in: path, name: pk, schema: {type: integer}}
          requestBody:
            content:
              application/json:
                schema:
                  type: object
                  properties:
                    stage: {type: string}
                    changed_on: {type: string, description: "changed_on as last read; a newer one gives 409"}
                    version: {type: integer, description: "version as last read (or If-Match); another gives 409"}
          responses:
            200: {description: Moved; the record}
            403: {description: The role may not change this record}
            404: {description: No such record in the user's scope}
            409: {description: The record changed since it was read}
            422: {description: The gate refused the move; messages per field}
        """
        item = self.datamodel.get(pk, self._base_filters)  # type: ignore[attr-defined]
        if not item or not self.entity.pipelines:  # type: ignore[attr-defined]
            return self.response_404()  # type: ignore[attr-defined]
        try:
            body = json_body()
        except BadJson as exc:
            return self.response_400(message=str(exc))  # type: ignore[attr-defined]
        if not isinstance(body, dict) or not isinstance(body.get("stage"), str):
            return self.response_400(message={"stage": ["Give the stage to move to."]})  # type: ignore[attr-defined]
        try:
            version = client_version(body)
        except BadVersion as exc:
            return self.response_400(message=exc.errors)  # type: ignore[attr-defined]
        command = MoveStage(self._ctx(), self.entity.name, item, body["stage"],  # type: ignore[attr-defined]
                            expected_changed_on=body.get("changed_on"), version=version)
        return self._write(command, 200)  # type: ignore[attr-defined]

    @expose("/<int:pk>/convert", methods=["POST"])
    @protect()
    @safe
    @permission_name("convert")
    def convert(self, pk: int) -> Any:
        """Convert a record (a qualified lead) into the records its metadata names, in one step.
        ---
        post:
          parameters:
          - {in: path, name: pk, schema: {type: integer}}
          - {in: header, name: If-Match, schema: {type: string}, description: "the record's ETag as read"}
          responses:
            200: {description: "Made (or matched) records, by entity: {id, title}"}
            409: {description: The record changed since the version given}
            403: {description: The role may not convert this record}
            404: {description: No such record in the user's scope, or the entity does not convert}
            422: {description: The record is not in a stage that converts, or a target was refused}
        """
        item = self.datamodel.get(pk, self._base_filters)  # type: ignore[attr-defined]
        if not item or self.entity.convert is None:  # type: ignore[attr-defined]
            return self.response_404()  # type: ignore[attr-defined]
        try:
            version = client_version(request.get_json(silent=True))
        except BadVersion as exc:
            return self.response_400(message=exc.errors)  # type: ignore[attr-defined]
        command = ConvertRecord(self._ctx(), self.entity.name, item, version=version)  # type: ignore[attr-defined]
        return self._run(command, lambda made: self.response(  # type: ignore[attr-defined]
            200, result={k: {"id": v.id, "title": str(v)} for k, v in made.items()}))

    @expose("/<int:pk>/history", methods=["GET"])
    @protect()
    @safe
    @permission_name("history")
    def history(self, pk: int) -> Any:
        """History of a record: stage moves (`result`: who moved it, from, to, when, time in the
        stage left) and field changes (`changes`: who or which automation, when, field, old, new;
        fields hidden from the user are left out).
        ---
        get:
          parameters:
          - {in: path, name: pk, schema: {type: integer}}
          responses:
            200: {description: "The moves (result) and the field changes (changes), oldest first"}
            404: {description: No such record in the user's scope}
        """
        item = self.datamodel.get(pk, self._base_filters)  # type: ignore[attr-defined]
        if not item:
            return self.response_404()  # type: ignore[attr-defined]
        changes = field_history(self.datamodel.session, self.crm_models, self.entity, pk,  # type: ignore[attr-defined]
                                self._access(), current_lang())  # type: ignore[attr-defined]
        return self.response(200, result=stage_history(self.crm_models, self.entity.name, pk),  # type: ignore[attr-defined]
                             changes=changes)


def stage_history(models: Any, entity: str, pk: int) -> list[dict[str, Any]]:
    from flask import current_app

    table = models.core["crm_stage_history"]
    user = models.user_model
    rows = current_app.extensions["crm"].db.session.execute(
        sa.select(table, user.username, user.first_name, user.last_name).outerjoin(user, user.id == table.c.moved_by_id)
        .where(table.c.entity == entity, table.c.record_id == pk)
        .order_by(table.c.moved_on, table.c.id)).mappings().all()
    return [{"pipeline": r["pipeline"], "from": r["from_stage"], "to": r["to_stage"],
             "moved_by": _display_name(r), "moved_by_username": r["username"], "moved_on": r["moved_on"].isoformat(),
             "seconds_in_from": r["seconds_in_from"]} for r in rows]



def _display_name(row: Any) -> str | None:
    """The mover as people know them (first and last name), the login only when there is no name."""
    full = f"{row['first_name'] or ''} {row['last_name'] or ''}".strip()
    return full or row["username"]
