"""The generated REST API: one FAB ModelRestApi subclass per entity.

Reads use FAB's query machinery with our schemas; writes go through the
record commands; filters are strict (an unknown operator is a 400, not the
whole table) and built fresh per request.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import current_app, request
from flask_appbuilder.api import BaseApi, ModelRestApi, expose, merge_response_func, rison, safe
from flask_appbuilder.api.schemas import get_info_schema, get_item_schema, get_list_schema
from flask_appbuilder.const import (
    API_ADD_COLUMNS_RIS_KEY,
    API_ADD_TITLE_RIS_KEY,
    API_DESCRIPTION_COLUMNS_RIS_KEY,
    API_EDIT_COLUMNS_RIS_KEY,
    API_EDIT_TITLE_RIS_KEY,
    API_FILTERS_RIS_KEY,
    API_LABEL_COLUMNS_RIS_KEY,
    API_LIST_COLUMNS_RIS_KEY,
    API_LIST_TITLE_RIS_KEY,
    API_ORDER_COLUMNS_RIS_KEY,
    API_PERMISSIONS_RIS_KEY,
    API_RESULT_RES_KEY,
    API_SHOW_COLUMNS_RIS_KEY,
    API_SHOW_TITLE_RIS_KEY,
)
from flask_appbuilder.exceptions import FABException
from flask_appbuilder.security.decorators import permission_name, protect

from app.i18n.collation import collated
from app.metadata.spec import EntitySpec, FieldSpec, Text
from app.models import ModelSet
from app.records.assignees import assignable_users
from app.records.commands import (
    Conflict,
    CreateRecord,
    DeleteRecord,
    FieldsRefused,
    Forbidden,
    RecordContext,
    StaleVersion,
    UpdateRecord,
    ValidationFailed,
)
from app.records.payload import values_from_payload
from app.security.access import Access, current_access

from .board import BoardApiMixin
from .bulk_api import BULK_METHOD_PERMISSIONS, BulkEndpoint
from .context import request_record_context
from .crmapi import CrmApi, CrmModelApi
from .datamodel import CrmInterface, eager_for
from .dumping import compiled
from .export import csv_response, export_columns
from .export_job import export_format, start_export, too_big
from .export_xlsx import xlsx_response
from .fieldrules import refused_columns, strip_hidden
from .filtering import FilterError, add_checked_filter, search_filter_for
from .jsonbody import BadJson, json_body
from .labels import current_lang, lazy
from .linksort import reader_collation, user_title
from .list_views_view import sortable
from .listkeep import KeptReads, read_key
from .listread import read_kept_page, read_page
from .modelviews import ENTITY_PERMISSIONS
from .paging import MAX_PAGE, PageError, checked_page, is_record_id
from .pipeline_api import PIPELINE_METHOD_PERMISSIONS, PipelineEndpoints
from .pool_api import POOL_METHOD_PERMISSIONS, PoolEndpoints
from .reassign_api import REASSIGN_METHOD_PERMISSIONS, ReassignEndpoint
from .related_api import RELATED_METHOD_PERMISSIONS, RelatedEndpoints
from .risonargs import checked_rison
from .rowscope import row_scope
from .schemas import input_schema, output_schema
from .versioning import BadVersion, client_version, stale_body, with_etag

API_METHOD_PERMISSIONS = {
    "get_list": "read", "get": "read", "info": "read", "picker": "read", "export": "export",
    "post": "create", "put": "write", "delete": "delete", **PIPELINE_METHOD_PERMISSIONS,
    **RELATED_METHOD_PERMISSIONS,
    **REASSIGN_METHOD_PERMISSIONS,
    **POOL_METHOD_PERMISSIONS,
    **BULK_METHOD_PERMISSIONS,
}
PICKER_PAGE_SIZE = 20
SELECTED_SCHEMAS = 64
FRAMES_KEPT = 64


class InvalidFilter(FABException):
    """A filter the API refuses: str() the English (the list API's wording); `text(lang)` the
    message in the user's language (the bulk endpoint answers in it)."""

    def __init__(self, message: str, cause: FilterError | None = None):
        super().__init__(message)
        self.cause = cause

    def text(self, lang: str) -> str:
        return self.cause.text(lang) if self.cause is not None else str(self)


class RecordApi(BoardApiMixin, PipelineEndpoints, RelatedEndpoints, ReassignEndpoint, PoolEndpoints, BulkEndpoint,
                CrmModelApi):
    """Behaviour every generated API shares; attributes come from the spec."""

    entity: EntitySpec
    crm_models: ModelSet
    base_permissions = ENTITY_PERMISSIONS
    method_permission_name = API_METHOD_PERMISSIONS
    allow_browser_login = True
    include_route_methods = {"get_list", "get", "info", "post", "put", "delete", "picker", "export",
                             "move", "history", "convert", "board", "related", "reassign", "pool", "claim", "bulk"}

    def _ctx(self) -> RecordContext:
        return request_record_context(self.datamodel.session)

    def _label_columns_json(self, cols: list[str] | None = None) -> dict[str, Any]:
        return {k: str(v) for k, v in self.label_columns.items() if k in (cols or [])}

    def _description_columns_json(self, cols: list[str] | None = None) -> dict[str, Any]:
        return {k: str(v) for k, v in self.description_columns.items() if k in (cols or [])}

    def _get_field_info(self, field: Any, filter_rel_field: dict[str, Any], page: int | None = None,
                        page_size: int | None = None) -> dict[str, Any]:
        # FAB passes the label and help through gettext; gettext("") is the catalog's header
        # ("Project-Id-Version: ..."), which _info then gave as the help of every field without
        # one. Ours are already translated (lazy per language): shown as they are.
        info = super()._get_field_info(field, filter_rel_field, page=page, page_size=page_size)
        info["label"] = str(self.label_columns.get(field.name, ""))
        info["description"] = str(self.description_columns.get(field.name, ""))
        return info

    def _access(self) -> Access:
        return current_access()

    # FAB's get_list and get, re-declared only to validate `q` with a compiled validator.
    @expose("/", methods=["GET"])
    @protect()
    @safe
    @permission_name("get")
    @checked_rison(get_list_schema)
    @merge_response_func(ModelRestApi.merge_order_columns, API_ORDER_COLUMNS_RIS_KEY)
    @merge_response_func(ModelRestApi.merge_list_label_columns, API_LABEL_COLUMNS_RIS_KEY)
    @merge_response_func(ModelRestApi.merge_description_columns, API_DESCRIPTION_COLUMNS_RIS_KEY)
    @merge_response_func(ModelRestApi.merge_list_columns, API_LIST_COLUMNS_RIS_KEY)
    @merge_response_func(ModelRestApi.merge_list_title, API_LIST_TITLE_RIS_KEY)
    def get_list(self, **kwargs: Any) -> Any:
        return self.get_list_headless(**kwargs)

    get_list.__doc__ = ModelRestApi.get_list.__doc__

    @expose("/<int:pk>", methods=["GET"])
    @protect()
    @safe
    @permission_name("get")
    @checked_rison(get_item_schema)
    @merge_response_func(ModelRestApi.merge_show_label_columns, API_LABEL_COLUMNS_RIS_KEY)
    @merge_response_func(ModelRestApi.merge_show_columns, API_SHOW_COLUMNS_RIS_KEY)
    @merge_response_func(ModelRestApi.merge_description_columns, API_DESCRIPTION_COLUMNS_RIS_KEY)
    @merge_response_func(ModelRestApi.merge_show_title, API_SHOW_TITLE_RIS_KEY)
    def get(self, pk: Any, **kwargs: Any) -> Any:
        return self.get_headless(pk, **kwargs)

    get.__doc__ = ModelRestApi.get.__doc__

    # FAB's info, re-declared for the same reason: its own `rison` decorator let a `q` that
    # prison cannot parse ('-1.7976931348623157e+308') escape as a 500.
    @expose("/_info", methods=["GET"])
    @protect()
    @safe
    @checked_rison(get_info_schema)
    @permission_name("info")
    @merge_response_func(BaseApi.merge_current_user_permissions, API_PERMISSIONS_RIS_KEY)
    @merge_response_func(ModelRestApi.merge_add_field_info, API_ADD_COLUMNS_RIS_KEY)
    @merge_response_func(ModelRestApi.merge_edit_field_info, API_EDIT_COLUMNS_RIS_KEY)
    @merge_response_func(ModelRestApi.merge_search_filters, API_FILTERS_RIS_KEY)
    @merge_response_func(ModelRestApi.merge_add_title, API_ADD_TITLE_RIS_KEY)
    @merge_response_func(ModelRestApi.merge_edit_title, API_EDIT_TITLE_RIS_KEY)
    def info(self, **kwargs: Any) -> Any:
        return self.info_headless(**kwargs)

    info.__doc__ = ModelRestApi.info.__doc__

    def _refuse_hidden(self, columns: list[str]) -> None:
        hidden = refused_columns(self.crm_models.spec, self.entity, columns, self._access())
        if hidden:
            raise InvalidFilter(f"Unknown column(s): {', '.join(hidden)}")

    def _handle_filters_args(self, rison_args: dict[str, Any]) -> Any:
        filters = self.datamodel.get_filters(self.search_columns, self.search_filters)
        for item in rison_args.get("filters", []):
            self._refuse_hidden([str(item.get("col", ""))])
            try:
                add_checked_filter(filters, self.entity, item["col"], item["opr"], item["value"])
            except FilterError as exc:
                raise InvalidFilter(str(exc), exc) from None
        return filters.get_joined_filters(self._base_filters)

    def _handle_order_args(self, rison_args: dict[str, Any]) -> tuple[str, str]:
        self._refuse_hidden([str(rison_args.get("order_column", ""))])
        return super()._handle_order_args(rison_args)

    def _handle_page_args(self, rison_args: dict[str, Any]) -> tuple[int, int]:
        """FAB's defaults and size cap, then bounds: a huge page must not reach OFFSET."""
        page, page_size = super()._handle_page_args(rison_args)
        limit = self.max_page_size or current_app.config.get("FAB_API_MAX_PAGE_SIZE") or 100
        return checked_page(page, page_size, max(limit, self.page_size))

    def _dump(self, schema: Any, items: Any, many: bool = False) -> Any:
        """The schema's JSON (compiled: app/web/dumping.py) less the fields the user may not see."""
        dump, access = compiled(schema), self._access()
        if many:
            return [strip_hidden(self.entity, dump(item), access) for item in items]
        return strip_hidden(self.entity, dump(items), access)

    def get_list_headless(self, **kwargs: Any) -> Any:
        args = kwargs.get("rison", {})
        body = self.list_body(args)
        if not isinstance(body, dict):
            return body
        self.set_response_key_mappings(body, self.get_list, args)
        self._strip_labels(body)
        return self.response(200, **body)

    def list_body(self, args: dict[str, Any], q: str | None = None) -> Any:
        """The list's own keys (result, ids, count, count_exact) for parsed `q` arguments, or the
        400 response; FAB's label, column and title keys are the caller's (`list_frame`). With
        `q`'s text, a read kept for the same text and reader runs again (app/web/listkeep.py)."""
        key = read_key(q, self._access()) if q is not None else None
        reads = self.__dict__.get("_kept_reads") or self.__dict__.setdefault("_kept_reads", KeptReads())
        kept = reads.get(key)
        if kept is not None:
            count, ids, result = read_kept_page(self.datamodel.session, kept)
            return {API_RESULT_RES_KEY: result, "ids": ids, "count": int(count),
                    "count_exact": getattr(count, "exact", True)}
        try:
            joined = self._handle_filters_args(args)
            order_column, order_direction = self._handle_order_args(args)
            self._refuse_hidden(list(args.get("columns", [])))
            page, page_size = self._handle_page_args(args)
        except (FABException, PageError) as exc:
            return self.response_400(message=str(exc))
        wanted = [c for c in args.get("columns", []) if c in self.show_columns]
        schema = self.list_model_schema if not wanted else self._selected_schema(wanted)
        read = None
        if current_app.config.get("CRM_API_LIST_READ", "core") == "core":  # rows as tuples (listread.py)
            read = read_page(self.datamodel, self.entity, schema, joined, order_column, order_direction,
                             page, page_size, self._access(), keep=reads.keeper(key))
        if read is not None:
            count, ids, result = read
        else:  # the ORM path: records, then the compiled dump
            datamodel = self.datamodel if not wanted else CrmInterface(
                self.datamodel.obj, eager_for(self.entity, wanted), session=self.datamodel.session)
            count, items = datamodel.query(joined, order_column, order_direction, page=page, page_size=page_size)
            result, ids = self._dump(schema, items, many=True), [i.id for i in items]
        return {API_RESULT_RES_KEY: result, "ids": ids, "count": int(count),
                "count_exact": getattr(count, "exact", True)}

    def list_frame(self, args: dict[str, Any]) -> dict[str, Any]:
        """FAB's keys of a list answer (labels, descriptions, list and order columns, title) as
        `set_response_key_mappings` and `_strip_labels` make them: they depend only on `keys`,
        the language and the hidden fields (FAB passes the mergers no request arguments), so
        they are made once per those and kept (at most FRAMES_KEPT per API)."""
        keys = args.get("keys")
        key = (tuple(keys) if keys else None, current_lang(), self._access()._hidden(self.entity))
        frames = self.__dict__.setdefault("_list_frames", {})
        frame = frames.get(key)
        if frame is None:
            frame = {}
            self.set_response_key_mappings(frame, self.get_list, args)
            self._strip_labels(frame)
            if len(frames) >= FRAMES_KEPT:
                frames.clear()  # (one atomic step: another request thread may be reading it)
            frames[key] = frame
        return frame

    def _selected_schema(self, wanted: list[str]) -> Any:
        """The schema of the `columns` a request names, made once per column set (at most
        SELECTED_SCHEMAS kept per API: a schema is a class, and its compiled forms hang on it)."""
        key = tuple(c for c in wanted if c != "id")
        cache = self.__dict__.setdefault("_selected_schemas", {})
        if key not in cache:
            if len(cache) >= SELECTED_SCHEMAS:
                cache.clear()  # (one atomic step: another request thread may be reading it)
            cache[key] = output_schema(self.entity, list(key), "Selected")
        return cache[key]

    def _strip_labels(self, response: dict[str, Any]) -> None:
        """FAB's label/description/column maps would name hidden fields: cut them too."""
        hidden = self._access().hidden_fields(self.entity)
        for key in ("label_columns", "description_columns"):
            if isinstance(response.get(key), dict):
                response[key] = {k: v for k, v in response[key].items() if k not in hidden}
        for key in ("list_columns", "show_columns", "order_columns"):
            if isinstance(response.get(key), list):
                response[key] = [c for c in response[key] if c not in hidden]

    def _find(self, pk: Any) -> Any:
        """The record `pk` names in the read scope, or None (FAB's PUT/DELETE routes take any text)."""
        if not is_record_id(pk):
            return None
        return self.datamodel.get(int(pk), self._base_filters)

    def get_headless(self, pk: Any, **kwargs: Any) -> Any:
        item = self._find(pk)
        if not item:
            return self.response_404()
        response: dict[str, Any] = {"id": item.id, API_RESULT_RES_KEY: self._dump(self.show_model_schema, item)}
        self.set_response_key_mappings(response, self.get, kwargs.get("rison", {}))
        self._strip_labels(response)
        return with_etag(self.response(200, **response), item)

    def info_headless(self, **kwargs: Any) -> Any:
        response = super().info_headless(**kwargs)
        body = response.get_json()
        access = self._access()
        hidden = access.hidden_fields(self.entity)
        for key in ("add_columns", "edit_columns"):
            body[key] = [c for c in body.get(key, []) if access.writable(self.entity, c["name"])]
        body["filters"] = {k: v for k, v in body.get("filters", {}).items() if k not in hidden}
        body["permissions"] = [p for p in body.get("permissions", [])
                               if self._allowed_permission(p)]
        return self.response(200, **body)

    def _allowed_permission(self, permission: str) -> bool:
        action = {"can_read": "read", "can_create": "create", "can_write": "update",
                  "can_delete": "delete", "can_export": "export", "can_import": "import"}.get(permission)
        return action is None or self._access().scope(self.entity.name, action) != "no"

    def _run(self, command: Any, answer: Any) -> Any:
        """Run a command; its typed errors become 400/422 (by field), 403 and 409."""
        try:
            result = command.run()
        except FieldsRefused as exc:
            return self.response_400(message=exc.errors)
        except ValidationFailed as exc:
            return self.response_422(message=exc.errors)
        except Forbidden as exc:
            return self.response(403, message=str(exc))
        except StaleVersion as exc:
            current = self._dump(self.show_model_schema, exc.record)
            return with_etag(self.response(409, **stale_body(exc, current)), exc.record)
        except Conflict as exc:
            return self.response(409, message=str(exc))
        return answer(result)

    def _write(self, command: Any, status: int) -> Any:
        def answer(item: Any) -> Any:
            extra = {"id": item.id} if status == 201 else {}
            return with_etag(self.response(status, **extra, **{
                API_RESULT_RES_KEY: self._dump(self.show_model_schema, item)}), item)
        return self._run(command, answer)

    def post_headless(self) -> Any:
        try:
            body = json_body()
        except BadJson as exc:
            return self.response_400(message=str(exc))
        values, errors = values_from_payload(self.entity, body, current_lang(), create=True)
        if "_schema" in errors:
            return self.response_422(message=errors)
        return self._write(CreateRecord(self._ctx(), self.entity.name, values, errors), 201)

    def put_headless(self, pk: Any) -> Any:
        item = self._find(pk)
        if not item:
            return self.response_404()
        try:
            body = json_body()
        except BadJson as exc:
            return self.response_400(message=str(exc))
        try:
            version = client_version(body)
        except BadVersion as exc:
            return self.response_400(message=exc.errors)
        values, errors = values_from_payload(self.entity, body, current_lang())
        if "_schema" in errors:
            return self.response_422(message=errors)
        return self._write(UpdateRecord(self._ctx(), self.entity.name, item, values, errors, version=version), 200)

    def delete_headless(self, pk: Any) -> Any:
        item = self._find(pk)
        if not item:
            return self.response_404()
        try:
            version = client_version(request.get_json(silent=True))
        except BadVersion as exc:
            return self.response_400(message=exc.errors)
        return self._run(DeleteRecord(self._ctx(), self.entity.name, item, version=version),
                         lambda _: self.response(200, message="OK"))

    @expose("/export", methods=["GET"])
    @protect()
    @safe
    @permission_name("export")
    @checked_rison(get_list_schema)
    def export(self, **kwargs: Any) -> Any:
        """The list as CSV (streamed) or XLSX.
        ---
        get:
          description: >-
            Every record in the user's export scope matching the filters (same `q` as the
            list), as CSV (or XLSX with `format=xlsx`) with the fields the user may see, or
            those `columns` in `q` names, in that order (an unknown or hidden one is a 400).
          parameters:
          - in: query
            name: q
            content:
              application/json:
                schema:
                  $ref: '#/components/schemas/get_list_schema'
          - in: query
            name: format
            schema: {type: string, enum: [csv, xlsx]}
          responses:
            200:
              description: CSV or XLSX file
            202:
              description: "More rows than CRM_EXPORT_JOB_ROWS: {job_id}; the file downloads from the job"
            400:
              $ref: '#/components/responses/400'
        """
        args = kwargs.get("rison", {})
        names = [str(name) for name in args.get("columns") or []]
        try:
            fields = {f.name for f in self.entity.fields}
            unknown = [name for name in names if name != "id" and name not in fields]
            if unknown:
                raise InvalidFilter(f"Unknown column(s): {', '.join(unknown)}")
            self._refuse_hidden(names)  # a hidden field is refused in the same words as an unknown one
            filters = self.datamodel.get_filters(self.search_columns, self.search_filters)
            for item in args.get("filters", []):
                self._refuse_hidden([str(item.get("col", ""))])
                add_checked_filter(filters, self.entity, item["col"], item["opr"], item["value"])
            order_column, order_direction = self._handle_order_args(args)
        except (FABException, FilterError) as exc:
            return self.response_400(message=str(exc))
        joined = filters.get_joined_filters(self.datamodel.get_filters().add_filter_list(row_scope("export")))
        query = self.datamodel.apply_all(self.datamodel.session.query(self.datamodel.obj), joined,
                                         order_column, order_direction)
        if too_big(query):  # above CRM_EXPORT_JOB_ROWS: a job writes the file (202, poll the job)
            job_id = start_export(self.entity, filters, (order_column, order_direction), export_format(), names)
            return self.response(202, job_id=job_id, job=f"{current_app.config['CRM_API_PREFIX']}/jobs/{job_id}")
        columns = export_columns(self.entity, self._access().hidden_fields(self.entity), names)
        if export_format() == "xlsx":
            return xlsx_response(self.entity, query, columns, f"{self.entity.name}.xlsx")
        return csv_response(self.entity, query, columns, f"{self.entity.name}.csv")

    @expose("/picker", methods=["GET"])
    @protect()
    @safe
    @permission_name("picker")
    def picker(self) -> Any:
        """Search-as-you-type for link pickers.
        ---
        get:
          description: Records whose title or search fields contain `q`, 20 a page.
          parameters:
          - {in: query, name: q, schema: {type: string}}
          - {in: query, name: page, schema: {type: integer}}
          responses:
            200:
              description: Matching records as {id, text}
        """
        text = request.args.get("q", "").strip()
        raw_page = request.args.get("page", "0").strip()
        if not (raw_page.isascii() and raw_page.isdigit() and int(raw_page) <= MAX_PAGE):
            return self.response_400(message=f"page must be a whole number from 0 to {MAX_PAGE}")
        page = int(raw_page)
        filters = self.datamodel.get_filters([])
        if text:
            filters.add_filter(self.entity.title_field, self.quick_search, text)
        joined = filters.get_joined_filters(self._base_filters)
        order = (self.entity.title_field, "asc") if self.entity.title_field != "id" else ("id", "asc")
        count, items = self.datamodel.query(joined, *order, page=page, page_size=PICKER_PAGE_SIZE)
        results = [{"id": item.id, "text": str(item)} for item in items]
        return self.response(200, results=results, more=(page + 1) * PICKER_PAGE_SIZE < count)


def build_api(entity: EntitySpec, models: ModelSet) -> type[RecordApi]:
    list_names = [c for c in entity.list.columns if "." not in c]
    list_names += [c.split(".")[0] for c in entity.list.columns if "." in c and c.split(".")[0] not in list_names]
    show_names = [f.name for f in entity.fields]
    order_columns = [f.name for f in entity.fields if sortable(f)]
    attrs: dict[str, Any] = {
        "entity": entity,
        "crm_models": models,
        "datamodel": CrmInterface(models.model(entity.name), eager_for(entity, list_names)),
        "resource_name": entity.name,
        "class_permission_name": entity.name,
        "openapi_spec_tag": entity.label.get(),
        "list_columns": ["id", *list_names],
        "show_columns": ["id", *show_names],
        "add_columns": [f.name for f in entity.declared_fields if f.editable],
        "edit_columns": [f.name for f in entity.declared_fields if f.editable],
        "label_columns": {f.name: lazy(f.label) for f in entity.fields},
        "description_columns": {f.name: lazy(f.help) for f in entity.fields if f.help},
        "search_columns": [f.name for f in entity.fields if f.type != "links"],
        "order_columns": ["id", *order_columns],
        "list_model_schema": output_schema(entity, list_names, "List"),
        "show_model_schema": output_schema(entity, show_names, "Show"),
        "add_model_schema": input_schema(entity, "Post", create=True),
        "edit_model_schema": input_schema(entity, "Put", create=False),
        "search_filters": {entity.title_field: [search_filter_for(entity, models)]}
        if entity.title_field != "id" else {},
        "quick_search": search_filter_for(entity, models),
        "page_size": entity.list.page_size,
        "base_filters": row_scope("read"),
    }
    if entity.list.order:
        attrs["base_order"] = entity.list.order
    return type(f"{entity.class_name}Api", (RecordApi,), attrs)


class UserDirectoryApi(CrmApi):
    """User picker: names only, for user fields (owner, assignee...)."""

    resource_name = "user"
    class_permission_name = "user_directory"
    base_permissions = ["can_read"]
    method_permission_name = {"picker": "read"}
    allow_browser_login = True
    crm_models: ModelSet

    @expose("/picker", methods=["GET"])
    @protect()
    @safe
    @permission_name("picker")
    def picker(self) -> Any:
        """Active users whose name or username contains `q`, by the name shown (first and last
        name, else the username) in the reader's collation: pinyin order for zh.
        ---
        get:
          parameters:
          - {in: query, name: q, schema: {type: string}}
          - {in: query, name: field, schema: {type: string}, description: "entity.field: only users it may take"}
          responses:
            200:
              description: Matching users as {id, text}
        """
        user: Any = self.crm_models.user_model
        text = request.args.get("q", "").strip()
        spec = self.crm_models.spec  # `?field=opportunity.sales_engineer`: only users that field may take
        entity_name, _, field_name = request.args.get("field", "owner").partition(".")
        entity = spec.entity_map.get(entity_name)
        f = entity.field_map.get(field_name) if entity is not None else None
        f = f if f is not None and f.type == "user" else FieldSpec("any", "user", Text(()))
        query: Any = assignable_users(self.appbuilder.session, user, f).limit(PICKER_PAGE_SIZE)
        query = query.order_by(collated(user_title(user), reader_collation()), user.id)  # as shown, pinyin for zh
        if text:
            like = f"%{text}%"
            query = query.where(sa.or_(user.username.ilike(like), user.first_name.ilike(like),
                                       user.last_name.ilike(like)))
        session = self.appbuilder.session
        results = [{"id": u.id, "text": str(u)} for u in session.scalars(query)]
        return self.response(200, results=results, more=False)


__all__ = ["RecordApi", "build_api", "UserDirectoryApi", "get_item_schema", "get_list_schema", "rison"]
