"""/api/v1/listviews/<entity>/: saved list views, the default view and the chosen columns.

Every signed-in user may keep views of the lists they may read (404 otherwise); a
view is changed or deleted by its owner (or Admin) only; what a view names is
re-checked for whoever reads it (app/web/list_views.py).
"""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from flask_appbuilder.api import expose, safe
from flask_appbuilder.security.decorators import permission_name, protect

from app.security.access import current_access

from .crmapi import CrmApi
from .dashboards import list_view
from .labels import current_lang
from .list_views import (
    ViewError,
    checked_columns,
    checked_view,
    delete_view,
    find_view,
    may_change,
    read_pref,
    readable_columns,
    save_view,
    say,
    visible_views,
    write_pref,
)

LIST_VIEWS = "list_views"  # the FAB view name of the permissions (every role has them: security/sync.py)


def _state() -> Any:
    return current_app.extensions["crm"]


class ListViewsApi(CrmApi):
    resource_name = "listviews"
    class_permission_name = LIST_VIEWS
    base_permissions = ["can_read", "can_write"]
    method_permission_name = {"list_views": "read", "create_view": "write", "change_view": "write",
                              "remove_view": "write", "prefs": "write"}
    allow_browser_login = True

    def _entity(self, name: str) -> Any:
        """The entity if the user may read it, else None (a 404, as for records)."""
        entity = _state().spec.entity_map.get(name)
        if entity is None or current_access().scope(entity.name, "read") == "no":
            return None
        return entity

    def _body(self) -> dict[str, Any] | None:
        body = request.get_json(silent=True)
        return body if isinstance(body, dict) else None

    @expose("/<entity>/", methods=["GET"])
    @protect()
    @safe
    @permission_name("list_views")
    def list_views(self, entity: str) -> Any:
        """The views of a list the user may open, their default view and current columns.
        ---
        get:
          parameters:
          - {in: path, name: entity, required: true, schema: {type: string}}
          responses:
            200: {description: "{result: [{id, name, columns, query, shared_roles, mine, can_change}],
                  default_view, columns, available}"}
            404: {description: No such entity, or the user may not read it}
        """
        spec = self._entity(entity)
        if spec is None:
            return self.response_404()
        access, state = current_access(), _state()
        readable = readable_columns(spec, access)
        views = visible_views(state.db.session, state.models.core["crm_list_view"], spec.name, access)
        default, columns = read_pref(state.db.session, state.models.core["crm_list_pref"], access.user_id, spec.name)
        return self.response(200, result=[v.to_json(access, readable) for v in views],
                             default_view=default if any(v.id == default for v in views) else None,
                             columns=[c for c in columns if c in readable], available=readable)

    @expose("/<entity>/", methods=["POST"])
    @protect()
    @safe
    @permission_name("create_view")
    def create_view(self, entity: str) -> Any:
        """Save a view: {name, columns, query, shared_roles, default}.
        ---
        post:
          parameters:
          - {in: path, name: entity, required: true, schema: {type: string}}
          responses:
            201: {description: "{id}"}
            404: {description: No such entity, or the user may not read it}
            422: {description: Errors by field}
        """
        return self._save(entity, None)

    @expose("/<entity>/<int:view_id>", methods=["PUT"])
    @protect()
    @safe
    @permission_name("change_view")
    def change_view(self, entity: str, view_id: int) -> Any:
        """Change a view (its owner or Admin).
        ---
        put:
          parameters:
          - {in: path, name: entity, required: true, schema: {type: string}}
          - {in: path, name: view_id, required: true, schema: {type: integer}}
          responses:
            200: {description: "{id}"}
            403: {description: Not the owner}
            404: {description: No such view for this user}
            422: {description: Errors by field}
        """
        return self._save(entity, view_id)

    def _save(self, entity: str, view_id: int | None) -> Any:
        spec, body, access, state = self._entity(entity), self._body(), current_access(), _state()
        if spec is None:
            return self.response_404()
        if body is None:
            return self.response_400(message={"_schema": ["The request body must be a JSON object."]})
        session, table = state.db.session, state.models.core["crm_list_view"]
        view = None
        if view_id is not None:
            view = find_view(session, table, spec.name, view_id, access)
            if view is None:
                return self.response_404()
            if not may_change(view, access):
                return self.response(403, message="Only the view's owner may change it.")
        try:
            screen = list_view(spec.name)
            search = screen.datamodel.get_filters(screen.search_columns).get_search_filters() if screen else None
            name, columns, query, roles = checked_view(body, spec, state.spec, access, current_lang(), search)
        except ViewError as exc:
            return self.response_422(message=exc.errors)
        saved = save_view(session, table, spec.name, name, columns, query, roles,
                          access.user_id if view is None else view.owner_id, view)
        if body.get("default") is True:
            write_pref(session, state.models.core["crm_list_pref"], access.user_id, spec.name, default_view_id=saved)
        return self.response(201 if view is None else 200, id=saved)

    @expose("/<entity>/<int:view_id>", methods=["DELETE"])
    @protect()
    @safe
    @permission_name("remove_view")
    def remove_view(self, entity: str, view_id: int) -> Any:
        """Delete a view (its owner or Admin).
        ---
        delete:
          parameters:
          - {in: path, name: entity, required: true, schema: {type: string}}
          - {in: path, name: view_id, required: true, schema: {type: integer}}
          responses:
            200: {description: Deleted}
            403: {description: Not the owner}
            404: {description: No such view for this user}
        """
        spec, access, state = self._entity(entity), current_access(), _state()
        view = find_view(state.db.session, state.models.core["crm_list_view"], spec.name, view_id, access) \
            if spec is not None else None
        if view is None:
            return self.response_404()
        if not may_change(view, access):
            return self.response(403, message="Only the view's owner may delete it.")
        delete_view(state.db.session, state.models.core["crm_list_view"], view)
        return self.response(200, message="OK")

    @expose("/<entity>/prefs", methods=["PUT"])
    @protect()
    @safe
    @permission_name("prefs")
    def prefs(self, entity: str) -> Any:
        """The user's default view ({default_view: id or null}) and/or columns ({columns: [...] or null}).
        ---
        put:
          parameters:
          - {in: path, name: entity, required: true, schema: {type: string}}
          responses:
            200: {description: "{default_view, columns}"}
            404: {description: No such entity, or the user may not read it}
            422: {description: Errors by field}
        """
        spec, body, access, state = self._entity(entity), self._body(), current_access(), _state()
        if spec is None:
            return self.response_404()
        if body is None or access.user_id is None:
            return self.response_400(message={"_schema": ["The request body must be a JSON object."]})
        lang, changes, errors = current_lang(), {}, {}  # type: ignore[var-annotated]
        if "default_view" in body:
            chosen = body["default_view"]
            if chosen is not None and find_view(state.db.session, state.models.core["crm_list_view"], spec.name,
                                                chosen, access) is None:
                errors["default_view"] = [say("view", lang)]
            changes["default_view_id"] = chosen
        if "columns" in body:
            changes["columns"] = None if body["columns"] is None else checked_columns(
                body["columns"], spec, access, lang, errors)
        if errors:
            return self.response_422(message=errors)
        if changes:
            write_pref(state.db.session, state.models.core["crm_list_pref"], access.user_id, spec.name, **changes)
        default, columns = read_pref(state.db.session, state.models.core["crm_list_pref"], access.user_id, spec.name)
        return self.response(200, default_view=default, columns=columns)
