"""Import API, per entity: upload → mapping → preview → run (a job) → rows → revert.

    POST /api/v1/imports/<entity>/upload       multipart `file`: columns, suggested mapping, fields
    POST /api/v1/imports/<entity>/preview      {upload, mapping, mode, keys, link_keys}: first rows, errors
    POST /api/v1/imports/<entity>/run          same body: 202 {job_id}; poll GET /api/v1/jobs/<id>
    GET  /api/v1/imports/<job_id>/rows         per row: outcome, record, column at fault, reason
    POST /api/v1/imports/<job_id>/revert       202 {job_id} of the revert job

Bad files and refused mappings are 4xx naming the fault, before any job starts.
The `import` scope of the user's roles decides (403 without it); every row then goes
through the record commands as the user.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app, request
from flask_appbuilder.api import expose, safe
from flask_appbuilder.security.decorators import permission_name, protect

from app.imports.files import BadFile
from app.imports.mapping import (
    MODES,
    ImportPlan,
    MappingRefused,
    auto_mapping,
    check_plan,
    importable,
    required_fields,
)
from app.imports.messages import text
from app.imports.revert import REVERT_KIND, revert_refusal
from app.imports.run import IMPORT_KIND, Importer, import_tables
from app.imports.template import template_csv, template_fields, template_xlsx
from app.imports.uploads import Upload, find_upload, save_mapping, save_upload, saved_mapping
from app.jobs import enqueue
from app.models.actor import acting_user_id
from app.security.access import current_access

from .context import request_record_context
from .crmapi import CrmApi
from .jobs import visible_job
from .jsonbody import BadJson, json_body
from .labels import current_lang, in_each_language, label_value
from .report_export import XLSX_MIME, _attachment, _sheet_name

MAX_BYTES = 50 * 1024 * 1024
PREVIEW_ROWS = 20
ROWS_PAGE = 200


class ImportRefused(Exception):
    """An answer other than 2xx, with its status and message (text, or errors by column)."""

    def __init__(self, status: int, message: Any):
        super().__init__(str(message))
        self.status, self.message = status, message


def _state() -> Any:
    return current_app.extensions["crm"]


def _root() -> Path:
    return Path(current_app.config["CRM_FILES_DIR"])


def importing_entity(name: str) -> Any:
    """The entity, when the user may import into it (404 unknown, 403 without the import scope)."""
    entity = _state().spec.entity_map.get(name)
    lang = current_lang()
    if entity is None:
        raise ImportRefused(404, f"no entity {name!r}")
    if current_access().scope(entity.name, "import") == "no":
        raise ImportRefused(403, text("no_import", lang, entity=entity.label.get(lang)))
    return entity


def field_list(entity: Any) -> list[dict[str, Any]]:
    access, lang = current_access(), current_lang()
    required = {f.name for f in required_fields(entity)}
    return [{"name": f.name, "label": f.label.get(lang), "type": f.type, "required": f.name in required,
             "unique": f.unique, "writable": f.name == "owner" or access.writable(entity, f.name)}
            for f in importable(entity) if access.field_mode(entity, f.name) != "hidden"]


def plan_from_body(entity: Any, body: Any) -> tuple[ImportPlan, Upload]:
    lang = current_lang()
    if not isinstance(body, dict):
        raise ImportRefused(400, text("not_json", lang))
    upload = find_upload(_root(), str(body.get("upload") or ""), acting_user_id())
    if upload is None or upload.entity != entity.name:
        raise ImportRefused(404, text("no_upload", lang, token=str(body.get("upload") or "")[:64]))
    columns = upload_columns(upload)
    mapping = body.get("mapping")
    if mapping is None:
        mapping = auto_mapping(entity, columns, _saved(entity.name))
    keys, link_keys = body.get("keys") or [], body.get("link_keys") or {}
    if (not isinstance(mapping, dict) or not all(isinstance(k, str) and isinstance(v, (str, type(None)))
                                                 for k, v in mapping.items())
            or not isinstance(keys, list) or not all(isinstance(k, str) for k in keys)
            or not isinstance(link_keys, dict) or not all(isinstance(v, str) for v in link_keys.values())):
        raise ImportRefused(400, {"mapping": ["mapping: {column: field}, keys: [field], link_keys: {field: field}"]})
    mode = body.get("mode") or "create"
    plan = ImportPlan(entity.name, mode if mode in MODES else str(mode), tuple(columns),
                      {k: v for k, v in mapping.items() if v}, tuple(keys), dict(link_keys))
    try:
        check_plan(plan, entity, _state().spec, current_access(), lang)
    except MappingRefused as exc:
        raise ImportRefused(400, exc.errors) from None
    return plan, upload


def upload_columns(upload: Upload) -> list[str]:
    from app.imports.files import headers

    return headers(upload.source(_root()), current_lang())


def _saved(entity: str) -> dict[str, str]:
    return saved_mapping(_state().db.session, _state().models.core["crm_import_mapping"], entity, acting_user_id())


class ImportsApi(CrmApi):
    resource_name = "imports"
    class_permission_name = "jobs"  # every signed-in user; the entity's import scope decides below
    base_permissions = ["can_read", "can_write"]
    method_permission_name = {"upload": "write", "preview": "write", "run": "write", "rows": "read",
                              "revert": "write", "template": "read"}
    allow_browser_login = True
    openapi_spec_tag = "Imports"

    def _answer(self, fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except ImportRefused as exc:
            return self.response(exc.status, message=exc.message)
        except BadFile as exc:
            return self.response(exc.status, message=str(exc))
        except BadJson as exc:
            return self.response_400(message=str(exc))

    @expose("/<entity>/upload", methods=["POST"])
    @protect()
    @safe
    @permission_name("upload")
    def upload(self, entity: str) -> Any:
        """Upload a CSV or XLSX file (multipart field `file`).
        ---
        post:
          parameters:
          - {in: path, name: entity, required: true, schema: {type: string}}
          requestBody:
            content:
              multipart/form-data:
                schema: {type: object, properties: {file: {type: string, format: binary}}}
          responses:
            200:
              description: "{upload, file_name, columns, mapping, fields}"
            400:
              description: Not CSV/XLSX, empty, no header, no rows
            403:
              description: No import scope on the entity
            413:
              description: Larger than CRM_IMPORT_MAX_BYTES
        """
        def run() -> Any:
            spec = importing_entity(entity)
            lang = current_lang()
            stored = request.files.get("file")
            if stored is None or not stored.filename:
                raise ImportRefused(400, text("no_file", lang))
            max_bytes = int(current_app.config.get("CRM_IMPORT_MAX_BYTES") or MAX_BYTES)
            if request.content_length and request.content_length > max_bytes + 65536:
                raise BadFile(text("too_big", lang, mb=max_bytes // (1 << 20) or 1), status=413)
            upload, _ = save_upload(_root(), stored.stream, stored.filename, spec.name, acting_user_id(),
                                    max_bytes, lang)
            columns = upload_columns(upload)
            return self.response(200, upload=upload.token, file_name=upload.file_name, columns=columns,
                                 mapping=auto_mapping(spec, columns, _saved(spec.name)), fields=field_list(spec))
        return self._answer(run)

    @expose("/<entity>/template", methods=["GET"])
    @protect()
    @safe
    @permission_name("template")
    def template(self, entity: str) -> Any:
        """An empty file headed by the columns this user may import (labels in the user's language).
        ---
        get:
          parameters:
          - {in: path, name: entity, required: true, schema: {type: string}}
          - {in: query, name: format, schema: {type: string, enum: [csv, xlsx], default: csv}}
          responses:
            200:
              description: CSV (UTF-8 with BOM) or XLSX, one header row
            400:
              description: A format other than csv or xlsx
            403:
              description: No import scope on the entity
        """
        def run() -> Any:
            spec = importing_entity(entity)
            lang = current_lang()
            kind = request.args.get("format", "csv")
            if kind not in ("csv", "xlsx"):
                raise ImportRefused(400, {"format": [text("bad_format", lang)]})
            fields = template_fields(spec, _state().spec, current_access())
            name = text("template_name", lang, entities=spec.plural.get(lang))
            body = template_csv(fields, lang) if kind == "csv" else template_xlsx(spec, fields, lang, _sheet_name(name))
            mime = "text/csv; charset=utf-8" if kind == "csv" else XLSX_MIME
            return current_app.response_class(body, content_type=mime,
                                              headers={"Content-Disposition": _attachment(f"{name}.{kind}")})
        return self._answer(run)

    @expose("/<entity>/preview", methods=["POST"])
    @protect()
    @safe
    @permission_name("preview")
    def preview(self, entity: str) -> Any:
        """The first rows as the import would take them (nothing written), errors by column.
        ---
        post:
          parameters:
          - {in: path, name: entity, required: true, schema: {type: string}}
          responses:
            200:
              description: "{columns, mapping, rows: [{row, cells, outcome, errors: {column: [message]}}]}"
            400:
              description: The mapping refused, by column
            403:
              description: No import scope on the entity
        """
        def run() -> Any:
            spec = importing_entity(entity)
            plan, upload = plan_from_body(spec, json_body())
            session = _state().db.session
            save_mapping(session, _state().models.core["crm_import_mapping"], spec.name, acting_user_id(),
                         {c: plan.mapping.get(c, "") for c in plan.columns})
            importer = Importer(request_record_context(session), plan, import_tables(current_app), 0, current_lang())
            limit = int(current_app.config.get("CRM_IMPORT_PREVIEW_ROWS") or PREVIEW_ROWS)
            rows = importer.preview(upload.source(_root()), limit)
            return self.response(200, columns=list(plan.columns), mapping=plan.mapping, rows=rows)
        return self._answer(run)

    @expose("/<entity>/run", methods=["POST"])
    @protect()
    @safe
    @permission_name("run")
    def run(self, entity: str) -> Any:
        """Start the import as a background job.
        ---
        post:
          parameters:
          - {in: path, name: entity, required: true, schema: {type: string}}
          responses:
            202:
              description: "{job_id}: poll GET /api/v1/jobs/<job_id>"
            400:
              description: The mapping refused, by column
            403:
              description: No import scope on the entity
        """
        def start() -> Any:
            spec = importing_entity(entity)
            plan, upload = plan_from_body(spec, json_body())
            lang = current_lang()
            title = in_each_language(lambda lang: label_value(f"{text('import_title', lang)} {spec.plural.get(lang)}",
                                                              upload.file_name, lang))
            job_id = enqueue(IMPORT_KIND, {"plan": plan.as_json(), "file": upload.file, "kind": upload.kind,
                                           "encoding": upload.encoding, "lang": lang, "file_name": upload.file_name},
                             user_id=acting_user_id(), title=title)
            return self.response(202, job_id=job_id, job=f"{current_app.config['CRM_API_PREFIX']}/jobs/{job_id}")
        return self._answer(start)

    @expose("/<int:job_id>/rows", methods=["GET"])
    @protect()
    @safe
    @permission_name("rows")
    def rows(self, job_id: int) -> Any:
        """What the import did to each row (`?outcome=rejected`, `?page=`).
        ---
        get:
          parameters:
          - {in: path, name: job_id, required: true, schema: {type: integer}}
          - {in: query, name: outcome, schema: {type: string}}
          - {in: query, name: page, schema: {type: integer}}
          responses:
            200:
              description: "{rows: [{row, outcome, record_id, column, reason}]}"
            404:
              description: No such import, or another user's
        """
        row = visible_job(job_id)
        if row is None or row.kind != IMPORT_KIND:
            return self.response_404()
        log = import_tables(current_app)
        stmt = sa.select(log.c.row, log.c.outcome, log.c.record_id, log.c.column, log.c.reason, log.c.reverted) \
            .where(log.c.job_id == job_id).order_by(log.c.row)
        outcome = request.args.get("outcome")
        if outcome:
            stmt = stmt.where(log.c.outcome == outcome)
        page = request.args.get("page", "0")
        if not (page.isascii() and page.isdigit() and int(page) < 10**6):
            return self.response_400(message="page must be a whole number")
        stmt = stmt.limit(ROWS_PAGE).offset(int(page) * ROWS_PAGE)
        items = [dict(r._mapping) for r in _state().db.session.execute(stmt)]
        return self.response(200, rows=items)

    @expose("/<int:job_id>/revert", methods=["POST"])
    @protect()
    @safe
    @permission_name("revert")
    def revert(self, job_id: int) -> Any:
        """Undo an import: delete what it created, restore what it updated (rows changed since are refused).
        ---
        post:
          parameters:
          - {in: path, name: job_id, required: true, schema: {type: integer}}
          responses:
            202:
              description: "{job_id} of the revert job"
            404:
              description: No such import, or another user's
            409:
              description: The import is still running, or was reverted already
        """
        def start() -> Any:
            row = visible_job(job_id)
            if row is None or row.kind != IMPORT_KIND:
                raise ImportRefused(404, text("not_import", current_lang(), id=job_id))
            importing_entity(row.payload["plan"]["entity"])
            refusal = revert_refusal(_state().db.session, import_tables(current_app), row, current_lang())
            if refusal:
                raise ImportRefused(409, refusal)
            lang = current_lang()
            revert_id = enqueue(REVERT_KIND, {"import_job": job_id, "lang": lang}, user_id=acting_user_id(),
                                title=in_each_language(lambda lang: label_value(
                                    f"{text('revert_title', lang)} #{job_id}", row.title_text(lang), lang)))
            return self.response(202, job_id=revert_id,
                                 job=f"{current_app.config['CRM_API_PREFIX']}/jobs/{revert_id}")
        return self._answer(start)
