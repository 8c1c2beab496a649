"""Version history (/crm/settings/history/): who changed the metadata, when, why, the diff,
and roll back to an earlier version (a plan first, with the same data checks as `crm rollback`)."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, request
from flask_appbuilder import expose

from app.metaversions import store
from app.metaversions.files import unified_diff
from app.security.settings import HISTORY_VIEW
from app.web.labels import current_lang

from . import gate
from .pagebase import SettingsPage
from .text import UI


class HistoryView(SettingsPage):
    route_base = "/crm/settings/history"
    default_view = "index"
    class_permission_name = HISTORY_VIEW
    base_permissions = ["can_read"]

    @expose("/")
    def index(self) -> Any:
        gate.require()
        versions = store.history(current_app.extensions["crm"].db.engine, limit=200)
        return self.page("history", versions=versions, current=versions[0].id if versions else None)

    @expose("/<int:version_id>")
    def show(self, version_id: int) -> Any:
        gate.require()
        engine = current_app.extensions["crm"].db.engine
        version = store.get(engine, version_id)
        if version is None:
            abort(404)
        parent = store.get(engine, version.parent_id) if version.parent_id else None
        diff = unified_diff(parent.files if parent else {}, version.files, f"version-{version.parent_id}",
                            f"version-{version.id}")
        return self.page("version", version=version, diff=diff)

    @expose("/<int:version_id>/rollback", methods=["POST"])
    def rollback(self, version_id: int) -> Any:
        gate.require(write=True)
        engine = current_app.extensions["crm"].db.engine
        target, current = store.get(engine, version_id), store.current(engine)
        if target is None or current is None:
            abort(404)
        apply = request.form.get("apply") == "1"
        if apply and request.form.get("base_id") != str(current.id):
            diff = unified_diff(store.get(engine, int(request.form.get("base_id") or 0)).files
                                if (request.form.get("base_id") or "").isdecimal() and
                                store.get(engine, int(request.form["base_id"])) else {}, current.files)
            return self.page("conflict", diff=diff, back="/crm/settings/history/", base_id=current.id), 409
        from app.metaversions.rollback import rollback_to  # Alembic: loaded by the first rollback only

        result = rollback_to(current_app._get_current_object(), version_id, author=gate.author(),
                             allow_destructive=request.form.get("confirm") == "on", dry_run=not apply)
        if apply and result.version_id is not None:
            flash(f"{UI['rolled_back'].get(current_lang())} {result.version_id}", "success")
            return redirect("/crm/settings/history/")
        if result.problems:
            return self.page("problems", problems={"": result.problems}, back="/crm/settings/history/"), 422
        return self.page("plan", result=result, diff=unified_diff(current.files, target.files, "in-force",
                                                                  f"version-{version_id}"),
                         hidden={"base_id": str(current.id)}, back="/crm/settings/history/",
                         action=f"/crm/settings/history/{version_id}/rollback", message="",
                         base_id=current.id, rollback=version_id)
