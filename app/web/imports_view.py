"""The import screen, /crm/imports/<entity>/: upload, map, preview, run, progress, result.

A thin page over the import API (app/web/imports_api.py); the steps run in
static/crm/imports.js. Reachable from an entity's list when the user's roles
grant `import` on it.
"""

from __future__ import annotations

from typing import Any

from flask import abort, current_app
from flask_appbuilder import AppBuilder, BaseView, expose, has_access

from app.i18n import _t, translate
from app.imports.mapping import required_fields
from app.security.access import current_access

from .imports_api import MAX_BYTES, ImportsApi
from .jobs import JOBS_VIEW
from .labels import current_lang, label_value

UI = {
    "title": _t("Import"),
    "file": _t("CSV or XLSX file"),
    "upload": _t("Upload"),
    "column": _t("Column in the file"),
    "field": _t("Field"),
    "ignore": _t("(ignore)"),
    "mode": _t("Mode"),
    "create": _t("Create new records"),
    "update": _t("Update by key"),
    "upsert": _t("Update or create"),
    "keys": _t("Match keys"),
    "preview": _t("Preview"),
    "run": _t("Import", "button"),
    "cancel": _t("Cancel"),
    "row": _t("Row"),
    "outcome": _t("Outcome"),
    "errors": _t("Errors so far"),
    "report": _t("Download the error report"),
    "revert": _t("Revert this import"),
    "jobs": _t("All jobs"),
    "created": _t("created"),
    "updated": _t("updated"),
    "unchanged": _t("unchanged"),
    "duplicate": _t("duplicate"),
    "rejected": _t("rejected"),
    "template": _t("Download a template"),
    "required": _t("Required columns"),
}
HELP = _t("CSV (UTF-8 or GBK) or XLSX, up to {mb} MB, with a header row; columns are matched to fields "
          "by name or label, in Chinese or English.")


class ImportView(BaseView):
    route_base = "/crm/imports"
    default_view = "page"
    class_permission_name = JOBS_VIEW
    base_permissions = ["can_read"]
    method_permission_name = {"page": "read"}

    @expose("/<entity>/")
    @has_access
    def page(self, entity: str) -> Any:
        spec = current_app.extensions["crm"].spec.entity_map.get(entity)
        if spec is None:
            abort(404)
        if current_access().scope(spec.name, "import") == "no":
            abort(403)
        lang = current_lang()
        max_bytes = int(current_app.config.get("CRM_IMPORT_MAX_BYTES") or MAX_BYTES)
        return self.render_template("crm/import.html", entity=spec.name, entity_label=spec.plural.get(lang),
                                    help=translate(HELP.msgid, lang, mb=max_bytes // (1 << 20) or 1),
                                    required=translate(", ", lang, "list").join(
                                        f.label.get(lang) for f in required_fields(spec)),
                                    title=label_value(UI["title"].get(lang), spec.plural.get(lang), lang),
                                    ui={**{k: v.get(lang) for k, v in UI.items()}, "colon": label_value("", "", lang)},
                                    api=current_app.config["CRM_API_PREFIX"])


def register_imports(appbuilder: AppBuilder) -> None:
    appbuilder.add_view_no_menu(ImportView)
    appbuilder.add_api(ImportsApi)
