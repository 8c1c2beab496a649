"""The generated REST API: one FAB ModelRestApi subclass per entity.

Reads use FAB's query machinery with our schemas; writes go through the
record commands; filters are strict (an unknown operator is a 400, not the
whole table) and built fresh per request.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import request
from flask_appbuilder.api import BaseApi, ModelRestApi, expose, rison, safe
from flask_appbuilder.api.schemas import get_item_schema, get_list_schema
from flask_appbuilder.const import API_RESULT_RES_KEY
from flask_appbuilder.exceptions import FABException
from flask_appbuilder.security.decorators import permission_name, protect

from app.metadata.spec import EntitySpec
from app.models import ModelSet
from app.records.commands import (
    Conflict,
    CreateRecord,
    DeleteRecord,
    RecordContext,
    UpdateRecord,
    ValidationFailed,
)
from app.records.payload import values_from_payload

from .context import request_record_context
from .datamodel import CrmInterface, eager_for
from .filtering import FilterError, add_checked_filter, search_filter_for
from .labels import current_lang, lazy
from .modelviews import ENTITY_PERMISSIONS
from .schemas import input_schema, output_schema

API_METHOD_PERMISSIONS = {
    "get_list": "read", "get": "read", "info": "read", "picker": "read",
    "post": "create", "put": "write", "delete": "delete",
}
PICKER_PAGE_SIZE = 20


class InvalidFilter(FABException):
    pass


class RecordApi(ModelRestApi):
    """Behaviour every generated API shares; attributes come from the spec."""

    entity: EntitySpec
    crm_models: ModelSet
    base_permissions = ENTITY_PERMISSIONS
    method_permission_name = API_METHOD_PERMISSIONS
    allow_browser_login = True
    include_route_methods = {"get_list", "get", "info", "post", "put", "delete", "picker"}

    def _ctx(self) -> RecordContext:
        return request_record_context(self.datamodel.session)

    def _label_columns_json(self, cols: list[str] | None = None) -> dict[str, Any]:
        return {k: str(v) for k, v in self.label_columns.items() if k in (cols or [])}

    def _description_columns_json(self, cols: list[str] | None = None) -> dict[str, Any]:
        return {k: str(v) for k, v in self.description_columns.items() if k in (cols or [])}

    def _handle_filters_args(self, rison_args: dict[str, Any]) -> Any:
        filters = self.datamodel.get_filters(self.search_columns, self.search_filters)
        for item in rison_args.get("filters", []):
            try:
                add_checked_filter(filters, self.entity, item["col"], item["opr"], item["value"])
            except FilterError as exc:
                raise InvalidFilter(str(exc)) from None
        return filters.get_joined_filters(self._base_filters)

    def get_list_headless(self, **kwargs: Any) -> Any:
        args = kwargs.get("rison", {})
        try:
            joined = self._handle_filters_args(args)
            order_column, order_direction = self._handle_order_args(args)
        except FABException as exc:
            return self.response_400(message=str(exc))
        page, page_size = self._handle_page_args(args)
        wanted = [c for c in args.get("columns", []) if c in self.show_columns]
        datamodel = self.datamodel if not wanted else CrmInterface(
            self.datamodel.obj, eager_for(self.entity, wanted), session=self.datamodel.session)
        count, items = datamodel.query(joined, order_column, order_direction, page=page, page_size=page_size)
        schema = self.list_model_schema if not wanted else output_schema(
            self.entity, [c for c in wanted if c != "id"], "Selected")
        response: dict[str, Any] = {API_RESULT_RES_KEY: schema.dump(items, many=True),
                                    "ids": [i.id for i in items], "count": count}
        self.set_response_key_mappings(response, self.get_list, args)
        return self.response(200, **response)

    def get_headless(self, pk: Any, **kwargs: Any) -> Any:
        item = self.datamodel.get(pk, self._base_filters)
        if not item:
            return self.response_404()
        response: dict[str, Any] = {"id": item.id, API_RESULT_RES_KEY: self.show_model_schema.dump(item)}
        self.set_response_key_mappings(response, self.get, kwargs.get("rison", {}))
        return self.response(200, **response)

    def post_headless(self) -> Any:
        values, errors = values_from_payload(self.entity, request.get_json(silent=True), current_lang())
        if "_schema" in errors:
            return self.response_422(message=errors)
        try:
            item = CreateRecord(self._ctx(), self.entity.name, values, errors).run()
        except ValidationFailed as exc:
            return self.response_422(message=exc.errors)
        except Conflict as exc:
            return self.response(409, message=str(exc))
        return self.response(201, id=item.id, **{API_RESULT_RES_KEY: self.show_model_schema.dump(item)})

    def put_headless(self, pk: Any) -> Any:
        item = self.datamodel.get(pk, self._base_filters)
        if not item:
            return self.response_404()
        values, errors = values_from_payload(self.entity, request.get_json(silent=True), current_lang())
        if "_schema" in errors:
            return self.response_422(message=errors)
        try:
            item = UpdateRecord(self._ctx(), self.entity.name, item, values, errors).run()
        except ValidationFailed as exc:
            return self.response_422(message=exc.errors)
        except Conflict as exc:
            return self.response(409, message=str(exc))
        return self.response(200, **{API_RESULT_RES_KEY: self.show_model_schema.dump(item)})

    def delete_headless(self, pk: Any) -> Any:
        item = self.datamodel.get(pk, self._base_filters)
        if not item:
            return self.response_404()
        try:
            DeleteRecord(self._ctx(), self.entity.name, item).run()
        except Conflict as exc:
            return self.response(409, message=str(exc))
        return self.response(200, message="OK")

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
        try:
            page = max(0, int(request.args.get("page", 0)))
        except ValueError:
            return self.response_400(message="page must be a whole number")
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
    order_columns = [f.name for f in entity.fields if not f.is_link and f.type not in ("links", "multichoice")]
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
    }
    if entity.list.order:
        attrs["base_order"] = entity.list.order
    return type(f"{entity.class_name}Api", (RecordApi,), attrs)


class UserDirectoryApi(BaseApi):
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
        """Active users whose name or username contains `q`.
        ---
        get:
          parameters:
          - {in: query, name: q, schema: {type: string}}
          responses:
            200:
              description: Matching users as {id, text}
        """
        user = self.crm_models.user_model
        text = request.args.get("q", "").strip()
        query = sa.select(user).order_by(user.username).limit(PICKER_PAGE_SIZE)
        if text:
            like = f"%{text}%"
            query = query.where(sa.or_(user.username.ilike(like), user.first_name.ilike(like),
                                       user.last_name.ilike(like)))
        session = self.appbuilder.session
        results = [{"id": u.id, "text": str(u)} for u in session.scalars(query)]
        return self.response(200, results=results, more=False)


__all__ = ["RecordApi", "build_api", "UserDirectoryApi", "get_item_schema", "get_list_schema", "rison"]
