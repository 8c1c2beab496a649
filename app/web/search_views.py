"""Global search screens: the results page (`/crm/search/?q=`) and `GET /api/v1/search?q=`.

Both answer with app/web/search.py for the signed-in user, so they show the same
records: those the user may read, matched only on fields the user may see.
Every signed-in role may search (`global_search` is self-service in
app/security/sync.py); what a search returns is bounded by the user's access.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from flask_appbuilder import AppBuilder, BaseView, expose, has_access
from flask_appbuilder.api import protect, safe

from app.i18n import _t
from app.security.access import current_access

from .crmapi import CrmApi
from .labels import current_lang
from .search import MAX_PER_ENTITY, PER_ENTITY, search

PAGE_PER_ENTITY = 20
UI = {
    "title": _t("Search"),
    "results_for": _t("Results for “{q}”"),
    "nothing": _t("Nothing found that you may read."),
    "more": _t("More in the list"),
    "placeholder": _t("Search all records"),
}
SEARCH_PERMISSION = "global_search"


def _run(per_entity: int) -> tuple[str, list[Any]]:
    state = current_app.extensions["crm"]
    return search(state.db.session, current_access(), state.models, request.args.get("q", ""),
                  per_entity, current_lang())


class SearchView(BaseView):
    route_base = "/crm/search"
    default_view = "index"
    class_permission_name = SEARCH_PERMISSION
    base_permissions = ["can_read"]
    method_permission_name = {"index": "read"}

    @expose("/")
    @has_access
    def index(self) -> Any:
        text, groups = _run(PAGE_PER_ENTITY)
        lang = current_lang()
        ui = {key: value.get(lang) for key, value in UI.items()}
        return self.render_template("crm/search.html", q=text, groups=groups, ui=ui,
                                    heading=ui["results_for"].format(q=text) if text else ui["title"],
                                    title=ui["title"])


class SearchApi(CrmApi):
    """Global search as JSON, grouped by entity."""

    resource_name = "search"
    class_permission_name = SEARCH_PERMISSION
    base_permissions = ["can_read"]
    method_permission_name = {"query": "read"}
    allow_browser_login = True
    openapi_spec_tag = "Search"

    @expose("", methods=["GET"])
    @protect()
    @safe
    def query(self) -> Any:
        """Records the user may read whose title or search fields contain `q`.
        ---
        get:
          summary: Global search, grouped by entity
          description: >-
            Searches every entity the user may read, in its title and its list.search fields,
            with the user's row scope and hidden fields applied. The text is normalised
            (NFKC, trimmed) and matched case-insensitively. At most `limit` records per entity;
            `more` says there are others (open `list_url` to see them).
          parameters:
          - {in: query, name: q, required: true, schema: {type: string, maxLength: 200}}
          - {in: query, name: limit, schema: {type: integer, minimum: 1, maximum: 50, default: 5}}
          responses:
            200:
              description: Groups of matching records, one per entity with matches
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      q: {type: string}
                      groups:
                        type: array
                        items:
                          type: object
                          properties:
                            entity: {type: string}
                            label: {type: string}
                            more: {type: boolean}
                            list_url: {type: string}
                            results:
                              type: array
                              items:
                                type: object
                                properties:
                                  id: {type: integer}
                                  title: {type: string}
                                  url: {type: string}
            400:
              $ref: '#/components/responses/400'
            401:
              $ref: '#/components/responses/401'
        """
        raw_limit = request.args.get("limit", str(PER_ENTITY)).strip()
        if not (raw_limit.isascii() and raw_limit.isdigit()) or not 1 <= int(raw_limit) <= MAX_PER_ENTITY:
            return self.response_400(message={"limit": [f"a whole number from 1 to {MAX_PER_ENTITY}"]})
        text, groups = _run(int(raw_limit))
        return self.response(200, q=text, groups=[g.as_json(text) for g in groups])


def register_search(appbuilder: AppBuilder) -> None:
    appbuilder.add_view_no_menu(SearchView)
    appbuilder.add_api(SearchApi)
    # the top bar's box (crm/navbar.html) says "Search" in the UI language
    current_app.context_processor(lambda: {"crm_search_placeholder": UI["placeholder"].get(current_lang())})
