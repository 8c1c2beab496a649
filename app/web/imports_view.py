"""The import screen, /crm/imports/<entity>/: upload, map, preview, run, progress, result.

A thin page over the import API (app/web/imports_api.py); the steps run in
static/crm/imports.js. Reachable from an entity's list when the user's roles
grant `import` on it.
"""

from __future__ import annotations

from typing import Any

from flask import abort, current_app
from flask_appbuilder import AppBuilder, BaseView, expose, has_access

from app.metadata.spec import Text
from app.security.access import current_access

from .imports_api import ImportsApi
from .jobs import JOBS_VIEW
from .labels import current_lang

UI = {
    "title": Text((("en", "Import"), ("zh", "导入"))),
    "file": Text((("en", "CSV or XLSX file"), ("zh", "CSV 或 XLSX 文件"))),
    "upload": Text((("en", "Upload"), ("zh", "上传"))),
    "column": Text((("en", "Column in the file"), ("zh", "文件中的列"))),
    "field": Text((("en", "Field"), ("zh", "字段"))),
    "ignore": Text((("en", "(ignore)"), ("zh", "（忽略）"))),
    "mode": Text((("en", "Mode"), ("zh", "模式"))),
    "create": Text((("en", "Create new records"), ("zh", "仅新建"))),
    "update": Text((("en", "Update by key"), ("zh", "按匹配键更新"))),
    "upsert": Text((("en", "Update or create"), ("zh", "更新或新建"))),
    "keys": Text((("en", "Match keys"), ("zh", "匹配键"))),
    "preview": Text((("en", "Preview"), ("zh", "预览"))),
    "run": Text((("en", "Import"), ("zh", "开始导入"))),
    "cancel": Text((("en", "Cancel"), ("zh", "取消"))),
    "row": Text((("en", "Row"), ("zh", "行"))),
    "outcome": Text((("en", "Outcome"), ("zh", "结果"))),
    "errors": Text((("en", "Errors so far"), ("zh", "已发现错误"))),
    "report": Text((("en", "Download the error report"), ("zh", "下载错误报告"))),
    "revert": Text((("en", "Revert this import"), ("zh", "撤销此次导入"))),
    "jobs": Text((("en", "All jobs"), ("zh", "全部任务"))),
    "created": Text((("en", "created"), ("zh", "新建"))),
    "updated": Text((("en", "updated"), ("zh", "更新"))),
    "unchanged": Text((("en", "unchanged"), ("zh", "未变"))),
    "duplicate": Text((("en", "duplicate"), ("zh", "重复"))),
    "rejected": Text((("en", "rejected"), ("zh", "拒绝"))),
}


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
        return self.render_template("crm/import.html", entity=spec.name, entity_label=spec.plural.get(lang),
                                    ui={k: v.get(lang) for k, v in UI.items()},
                                    api=current_app.config["CRM_API_PREFIX"])


def register_imports(appbuilder: AppBuilder) -> None:
    appbuilder.add_view_no_menu(ImportView)
    appbuilder.add_api(ImportsApi)
