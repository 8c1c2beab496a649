"""`/api/<version>/_openapi` built once per metadata version, not per request.

FAB's OpenApi view rebuilds the whole document from every API's marshmallow
schemas and docstrings on each call: 5-7 s for the starter CRM. The document
depends only on the app's APIs, which depend only on the metadata: it is built
on the first request and kept, keyed by the metadata digest and API version.
An app rebuilt for new metadata is a new app with an empty cache.
"""

from __future__ import annotations

import threading
from typing import Any

from flask import current_app, request
from flask_appbuilder import AppBuilder
from flask_appbuilder.api import BaseApi, expose, protect, safe
from flask_appbuilder.api.manager import OpenApi, SwaggerView

from .api import RecordApi
from .crmapi import CrmApi
from .openapi_contract import fix_contract


class CachedOpenApi(CrmApi):
    """FAB's OpenApi endpoint (same URL, same permission), answering from a cache."""

    route_base = "/api"
    class_permission_name = "OpenApi"
    allow_browser_login = True

    def __init__(self) -> None:
        super().__init__()
        self._documents: dict[tuple[str, str], dict[str, Any]] = {}
        self._lock = threading.Lock()

    @expose("/<version>/_openapi")
    @protect()
    @safe
    def get(self, version: str) -> Any:
        """The OpenAPI document of one API version.
        ---
        get:
          parameters:
          - {in: path, name: version, schema: {type: string}}
          responses:
            200:
              description: The OpenAPI spec
              content:
                application/json:
                  schema:
                    type: object
            404:
              $ref: '#/components/responses/404'
        """
        document = self.document(version)
        if document is None:
            return self.response_404()
        servers = current_app.config.get("FAB_OPENAPI_SERVERS", [{"url": request.host_url}])
        return self.response(200, **{**document, "servers": servers})

    def document(self, version: str) -> dict[str, Any] | None:
        """The cached document for `version` (None: no API of that version)."""
        key = (current_app.extensions["crm"].spec.digest, version)
        with self._lock:
            if key not in self._documents:
                self._documents[key] = self._build(version)
            return self._documents[key] or None

    def _build(self, version: str) -> dict[str, Any]:
        apis = [v for v in self.appbuilder.baseviews if isinstance(v, BaseApi) and v.version == version]
        if not apis:
            return {}
        api_spec = OpenApi._create_api_spec(version)
        for api in apis:
            api.add_api_spec(api_spec)
        records = [(f"/api/{version}/{api.resource_name}", type(api).__name__)
                   for api in apis if isinstance(api, RecordApi)]
        return fix_contract(api_spec.to_dict(), records)


def register_openapi(appbuilder: AppBuilder) -> None:
    """Our cached OpenAPI view (FAB_ADD_OPENAPI_VIEWS is off), and FAB's Swagger UI page."""
    appbuilder.add_api(CachedOpenApi)
    if current_app.config.get("FAB_API_SWAGGER_UI", False):
        appbuilder.add_view_no_menu(SwaggerView)
