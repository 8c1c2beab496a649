"""GET/POST /api/v1/settings/files: the metadata files of the version in force, and saving a
whole set of files (plan with dry_run, or apply as a new version) for scripts and tools.

Same door as the pages: Admin and `settings: edit` may save; `settings: read` reads and
is answered 403 on a save; other users 403. Answers: 200 (plan or saved), 409 (conflict,
with the difference), 422 (checker problems, located; or destructive steps refused), 400 for
an upload that is not a whole set (no crm.yaml: one sentence naming the files it lacks, not
the checker's error for each consequence of a missing crm.yaml).
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_appbuilder.api import expose

from app.i18n import _t
from app.metaversions import store
from app.web.crmapi import CrmApi
from app.web.jsonbody import BadJson, json_body
from app.web.labels import current_lang

from . import gate

ROOT_FILE = "crm.yaml"  # the set's root: an upload without it is a part of a set, never a whole one
NOT_A_WHOLE_SET = _t("The upload must contain the whole metadata set (every file, as GET "
                     "/api/v1/settings/files gives them), not only the changed files: missing {missing}.")


def missing_from_set(files: dict[str, str], current: store.MetadataVersion | None) -> list[str]:
    """The files an upload without crm.yaml lacks: crm.yaml and the other files in force ([] for a whole set).
    A set with crm.yaml may leave files out: that removes them (an entity, a dashboard file)."""
    if ROOT_FILE in files:
        return []
    return [ROOT_FILE, *sorted(set(current.files if current else ()) - set(files) - {ROOT_FILE})]


class SettingsApi(CrmApi):
    resource_name = "settings"
    allow_browser_login = True
    openapi_spec_tag = "Settings"

    @expose("/files", methods=["GET"])
    def get_files(self) -> Any:
        """The files of the version in force, with its id (the base of the next save).
        ---
        get:
          responses:
            200: {description: "{version_id, files: {path: YAML text}, mode: edit | read}"}
            401: {description: Not signed in}
            403: {description: The user's roles have no settings permission}
            503: {description: No metadata version recorded yet}
        """
        mode = gate.require()
        version = store.current(current_app.extensions["crm"].db.engine)
        if version is None:
            return self.response(503, message="no metadata version recorded yet")
        return self.response(200, version_id=version.id, files=version.files, mode=mode)

    @expose("/files", methods=["POST"])
    def post_files(self) -> Any:
        """{files, base_id, message, dry_run, allow_destructive}: the plan, or the saved version.
        ---
        post:
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  type: object
                  required: [files]
                  properties:
                    files: {type: object, additionalProperties: {type: string}}
                    base_id: {type: integer, nullable: true}
                    message: {type: string}
                    dry_run: {type: boolean}
                    allow_destructive: {type: boolean}
          responses:
            200: {description: "The plan (dry_run) or the new version: {version_id, changes, ...}"}
            400: {description: "Not JSON, files / base_id of the wrong shape, or not the whole set (names the missing files)"}
            401: {description: Not signed in}
            403: {description: "Read-only (settings: read) or no settings permission"}
            409: {description: "The base is not the version in force: {conflict: {path: diff}}"}
            422: {description: "Checker problems (located) or data loss refused: {problems, refused}"}
        """
        gate.require(write=True)
        try:
            body = json_body()
        except BadJson as exc:
            return self.response_400(message=str(exc))
        if not isinstance(body, dict):
            return self.response_400(message={"": ["a JSON object: {files, base_id, message, dry_run}"]})
        files = body.get("files")
        if not isinstance(files, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                  for k, v in files.items()):
            return self.response_400(message={"files": ["a map of file path to YAML text"]})
        base_id = body.get("base_id")
        if base_id is not None and not isinstance(base_id, int):
            return self.response_400(message={"base_id": ["the id of the version the files were edited from"]})
        current = store.current(current_app.extensions["crm"].db.engine)
        missing = missing_from_set(files, current)
        if missing and base_id == (current.id if current else None):  # a stale base: the 409 says more
            return self.response_400(message=NOT_A_WHOLE_SET.get(current_lang()).format(missing=", ".join(missing)))
        from app.metaversions.apply import apply_files  # Alembic: loaded by the first save only

        result = apply_files(current_app._get_current_object(), files, base_id=base_id, author=gate.author(),
                             message=str(body.get("message") or "api"), source="web",
                             allow_destructive=body.get("allow_destructive") is True,
                             dry_run=body.get("dry_run") is True)
        status = 409 if result.conflict else 422 if (result.problems or result.refused) else 200
        return self.response(status, **result.as_json())
