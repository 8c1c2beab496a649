"""The Settings pages (/crm/settings/): entities, fields, choices, list, form, pipelines, roles, files.

Every page is a plain form over the files of the version in force. A save posts the form
to /crm/settings/save: first as a plan (apply_files dry_run: the file diff, what changes in
the database, destructive steps to confirm, checker problems next to their inputs), then,
confirmed with a message, applied as one new version on the base version the page showed.
"""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, request
from flask_appbuilder import AppBuilder, expose

from app.metadata.definitions import COMPUTED_KINDS, FIELD_TYPES
from app.metadata.roles import ACTIONS as ROLE_ACTIONS
from app.metaversions import store
from app.metaversions.files import unified_diff
from app.security.settings import SETTINGS_CATEGORY, SETTINGS_VIEW
from app.web.labels import current_lang, label_value, lazy

from . import gate, ops
from . import yamledit as ye
from .pagebase import SettingsPage
from .text import UI

ACTIONS = ROLE_ACTIONS  # every action of roles.yaml, the bulk verbs too (definitions.py)
PAGE_KEYS = ("op", "entity", "role", "path", "field", "pipeline", "stage")


def in_force() -> tuple[int | None, dict[str, str]]:
    version = store.current(current_app.extensions["crm"].db.engine)
    if version is None:
        abort(503, "no metadata version is recorded yet: run `flask crm apply`")
    return version.id, dict(version.files)


class SettingsView(SettingsPage):
    route_base = "/crm/settings"
    default_view = "index"
    class_permission_name = SETTINGS_VIEW
    base_permissions = ["can_read", "can_write"]

    @expose("/")
    def index(self) -> Any:
        gate.require()
        base_id, files = in_force()
        spec = current_app.extensions["crm"].spec
        return self.page("index", base_id=base_id, spec=spec, files=sorted(files))

    @expose("/entity/<name>")
    def entity(self, name: str, posted: dict[str, str] | None = None,
               problems: dict[str, list[Any]] | None = None) -> Any:
        gate.require()
        base_id, files = in_force()
        if ye.entity_file(name) not in files:
            abort(404)
        ws = ye.Workspace(files)
        doc = ws.entity(name)
        menu = ws.doc(ye.MENU_FILE).get("menu") or []
        field = (posted or {}).get("field") or request.args.get("field", "")
        return self.page("entity", base_id=base_id, name=name, doc=doc, menu=menu, types=FIELD_TYPES,
                         computed_kinds=COMPUTED_KINDS, aliases_of=ops.aliases_of,
                         group=next((g.get("group") for g in menu if name in (g.get("entities") or [])), ""),
                         field=field if field in (doc.get("fields") or {}) else "",
                         posted=posted or {}, problems=problems or {}, op=(posted or {}).get("op", ""))

    @expose("/role/<name>")
    def role(self, name: str, posted: dict[str, str] | None = None,
             problems: dict[str, list[Any]] | None = None) -> Any:
        gate.require()
        base_id, files = in_force()
        roles = ye.Workspace(files).doc(ye.ROLES_FILE)
        if name not in roles:
            abort(404)
        node = roles[name] or {}
        entities = [p.split("/")[1][:-5] for p in sorted(files) if p.startswith("entities/")]
        grants = {e: _grants(node, e) for e in entities}
        rules = "\n".join(f"{k}: {v}" for k, v in (node.get("fields") or {}).items())
        return self.page("role", base_id=base_id, name=name, node=node, entities=entities, actions=ACTIONS,
                         grants=grants, rules=rules, posted=posted or {}, problems=problems or {})

    @expose("/file")
    def file(self, posted: dict[str, str] | None = None, problems: dict[str, list[Any]] | None = None) -> Any:
        gate.require()
        base_id, files = in_force()
        path = (posted or {}).get("path") or request.args.get("path", "")
        if path not in files:
            abort(404)
        return self.page("file", base_id=base_id, path=path, text=(posted or {}).get("text", files[path]),
                         posted=posted or {}, problems=problems or {})

    @expose("/save", methods=["POST"])
    def save(self) -> Any:
        gate.require(write=True)
        form = {k: v for k, v in request.form.items() if k != "csrf_token"}
        base_id, files = in_force()
        posted_base = int(form["base_id"]) if form.get("base_id", "").isdecimal() else None
        if posted_base is not None and posted_base != base_id:
            return self._conflict(posted_base, base_id, files, form)
        try:
            new, controls = ops.run(files, form)
        except ye.EditError as exc:
            return self._back(form, {"": [_Note(str(exc))]})
        apply = form.get("apply") == "1"
        from app.metaversions.apply import apply_files  # Alembic: loaded by the first save only

        result = apply_files(current_app._get_current_object(), new, base_id=posted_base or base_id,
                             author=gate.author(), message=form.get("message", "").strip() or _summary(form),
                             source="web", allow_destructive=form.get("confirm") == "on", dry_run=not apply)
        if result.conflict:
            return self._conflict(posted_base or base_id, None, files, form, result.conflict)
        if result.problems:
            return self._back(form, ops.locate(result.problems, new, controls))
        if apply and result.version_id is not None:
            flash(f"{UI['saved'].get(current_lang())} {result.version_id}", "success")
            if result.write_back_skipped:
                flash(label_value(UI["write_back"].get(current_lang()), result.write_back_skipped), "warning")
            return redirect(_page_url(form))
        hidden = {k: v for k, v in form.items() if k not in ("apply", "confirm", "message")}
        return self.page("plan", result=result, diff=unified_diff(files, new, "before", "after"),
                         hidden=hidden, back=_page_url(form), action="/crm/settings/save",
                         message=form.get("message", ""), base_id=base_id)

    def _back(self, form: dict[str, str], problems: dict[str, list[Any]]) -> Any:
        """The page the form came from, with what was typed and the problems next to the inputs."""
        if form.get("op") == "role":
            return self.role(form.get("role", ""), posted=form, problems=problems), 422
        if form.get("op") == "file":
            return self.file(posted=form, problems=problems), 422
        if form.get("entity"):
            return self.entity(form["entity"], posted=form, problems=problems), 422
        return self.page("problems", problems=problems, back=_page_url(form)), 422

    def _conflict(self, base_id: int, current_id: int | None, files: dict[str, str], form: dict[str, str],
                  diff: dict[str, str] | None = None) -> Any:
        if diff is None:
            base = store.get(current_app.extensions["crm"].db.engine, base_id)
            diff = unified_diff(base.files if base else {}, files, f"version-{base_id}",
                                f"version-{current_id}")
        return self.page("conflict", diff=diff, back=_page_url(form), base_id=base_id), 409


class _Note:
    """An edit error shown like a checker problem, without a place in a file."""

    def __init__(self, message: str):
        self.message, self.code, self.line, self.hint = message, "", 0, ""

    def format(self) -> str:
        return self.message


def _grants(node: Any, entity: str) -> dict[str, str]:
    raw = (node.get("entities") or {}).get(entity)
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        return {a: ops._scope_text(raw) for a in ACTIONS}
    return {a: ops._scope_text(v) for a, v in raw.items()}


def _summary(form: dict[str, str]) -> str:
    what = " ".join(form.get(k, "") for k in ("entity", "role", "path", "field", "pipeline", "stage", "name")
                    if form.get(k))
    return f"web: {form.get('op', 'edit')} {what}".strip()


def _page_url(form: dict[str, str]) -> str:
    if form.get("op") in ("role", "add_role") and form.get("role"):
        return f"/crm/settings/role/{form['role']}"
    if form.get("op") == "file":
        return f"/crm/settings/file?path={form.get('path', '')}"
    if form.get("entity"):
        suffix = f"?field={form['field']}" if form.get("op") == "field" else ""
        return f"/crm/settings/entity/{form['entity']}{suffix}"
    return "/crm/settings/"


def register_settings(appbuilder: AppBuilder) -> None:
    from .api import SettingsApi
    from .history import HistoryView

    appbuilder.add_view(SettingsView, SETTINGS_VIEW, label=lazy(UI["editor"]), icon="fa-sliders",
                        category=SETTINGS_CATEGORY, category_label=lazy(UI["settings"]), category_icon="fa-cogs")
    appbuilder.add_view(HistoryView, "metadata_history", label=lazy(UI["history"]), icon="fa-history",
                        category=SETTINGS_CATEGORY)
    appbuilder.add_api(SettingsApi)
