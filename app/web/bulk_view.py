"""The list's bulk actions: update a field, delete, export the ticked rows (or all matching).

FAB's `@action` menu and row checkboxes post the ticked ids to our `action_post`
(reassign_view.py), which hands ids, never unscoped records, to the action. Each
action checks its own verb (`mass_update`, `mass_delete`, `export`): the menu offers
only what the role may do and a post from another role is refused (403). "All N
matching" re-reads the list's filters from the query string the form posts to.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import abort, flash, g, redirect, request
from flask_appbuilder.actions import action
from flask_babel import LazyString

from app.i18n import _t
from app.records.commands import FieldsRefused, Forbidden, ValidationFailed

from .bulk_api import TooMany, matching_ids, say
from .bulk_job import bulk_command, job_threshold, start_bulk
from .export import csv_response, export_columns
from .export_xlsx import xlsx_response
from .labels import current_lang, label_value
from .rowscope import row_scope

# Method names FAB maps onto permission words: each action checks its own scope itself.
BULK_VIEW_PERMISSIONS = {"bulk_update_ticked": "read", "bulk_delete_ticked": "read", "export_ticked": "read",
                         "action_post": "read"}
# Field types a bulk update offers on the list (a value typed in a box or chosen from a list).
BULK_TYPES = ("string", "text", "integer", "decimal", "money", "percent", "date", "datetime", "email", "phone",
              "url", "choice", "boolean")
UI: dict[str, dict[str, str]] = {
    "update": _t("Update a field"),
    "delete": _t("Delete", "bulk"),
    "export": _t("Export ticked (Excel)"),
    "confirm_delete": _t("Delete the ticked records?"),
    "field": _t("Field"),
    "value": _t("New value"),
    "all": _t("All {count} records matching the filter"),
    "queued": _t("Many records: the work runs in the background; see its progress here."),
    "done": _t("{done} changed, {failed} not changed."),
    "deleted": _t("{done} deleted, {failed} not deleted."),
    "failures": _t("Not changed"),
    "record": _t("Record"),
    "reason": _t("Reason"),
    "back": _t("Back to the list"),
    "hidden_record": _t("(a record you cannot see)"),
    "yes": _t("Yes"),
    "no": _t("No"),
}
RESULT_KEYS = ("failures", "record", "reason", "back", "hidden_record")


def ui(key: str, **params: Any) -> str:
    table = UI[key]
    return (table.get(current_lang()) or table["en"]).format(**params)


def _lazy(key: str) -> LazyString:
    return LazyString(lambda: ui(key))


class BulkViewMixin:
    """Mixed into RecordModelView, before ReassignViewMixin (whose action_post it uses)."""

    def list_actions(self) -> dict[str, Any]:
        """The list actions this role may use: each by its own verb."""
        access, name = self._access(), self.entity.name  # type: ignore[attr-defined]
        offered = {"reassign": self.may_reassign(),  # type: ignore[attr-defined]
                   "bulk_update": access.scope(name, "mass_update") != "no" and bool(self.bulk_fields()),
                   "bulk_delete": access.scope(name, "mass_delete") != "no",
                   "export_ticked": access.scope(name, "export") != "no"}
        return {k: a for k, a in self.actions.items() if offered.get(k)}  # type: ignore[attr-defined]

    def bulk_fields(self) -> list[dict[str, Any]]:
        """Fields a bulk update offers this user: editable, writable for them, typed in one box
        (worked out once per request and view: a list page asks twice)."""
        made: dict[str, list[dict[str, Any]]] = g._get_current_object().__dict__.setdefault(  # type: ignore[attr-defined]
            "crm_bulk_fields", {})
        name = type(self).__name__
        if name not in made:
            made[name] = self._bulk_fields()
        return made[name]

    def _bulk_fields(self) -> list[dict[str, Any]]:
        access, lang = self._access(), current_lang()  # type: ignore[attr-defined]
        fields = []
        for f in self.entity.declared_fields:  # type: ignore[attr-defined]
            if f.editable and f.type in BULK_TYPES and access.writable(self.entity, f.name):  # type: ignore[attr-defined]
                choices = [[c.value, c.label.get(lang)] for c in f.choices] if f.type == "choice" else []
                if f.type == "boolean":
                    choices = [["true", ui("yes")], ["false", ui("no")]]
                fields.append({"name": f.name, "label": f.label.get(lang), "type": f.type, "choices": choices})
        return fields

    def bulk_list_args(self, count: Any) -> dict[str, Any]:
        """What the list's bulk controls need (app/web/templates/crm/widgets/list.html)."""
        shown = count.text(current_lang()) if hasattr(count, "text") else str(count)
        return {"crm_bulk_fields": self.bulk_fields(), "crm_bulk_ui": {k: ui(k) for k in ("field", "value")},
                "crm_bulk_all": ui("all", count=shown)}

    def _ticked(self, ids: list[int]) -> list[int]:
        """The ticked ids, or (the "all matching" box) every id the list's filters admit."""
        if request.form.get("bulk_all") != "1":
            return ids
        filters = self._request_filters()  # type: ignore[attr-defined]
        try:
            return matching_ids(self, filters.get_joined_filters(self._base_filters))  # type: ignore[attr-defined]
        except TooMany as exc:
            flash(say("too_many", current_lang(), count=exc.count, limit=exc.limit), "danger")
            return []

    def _bulk(self, verb: str, ids: list[int]) -> Any:
        ids = self._ticked(ids)
        values = None
        if verb == "update":
            values = {request.form.get("bulk_field", ""): request.form.get("bulk_value", "")}
        command = bulk_command(self._ctx(), self.entity, verb, ids, values, None)  # type: ignore[attr-defined]
        back = self._back_to_list()
        try:
            command.validate()
            if job_threshold() and len(ids) > job_threshold():
                start_bulk(self.entity, verb, ids, values, None)  # type: ignore[attr-defined]
                flash(ui("queued"), "info")
                return redirect("/crm/jobs/")
            outcome = command.run()
        except Forbidden:
            abort(403)
        except (FieldsRefused, ValidationFailed) as exc:
            for name, messages in exc.errors.items():
                f = self.entity.field_map.get(name)  # type: ignore[attr-defined]
                flash(label_value(f.label.get(current_lang()) if f else name, " ".join(messages)), "danger")
            return redirect(back)
        summary = ui("deleted" if verb == "delete" else "done", done=len(outcome.done), failed=len(outcome.failed))
        return self.render_template(  # type: ignore[attr-defined]
            "crm/bulk_result.html", title=summary, outcome=outcome, back=back, ui={k: ui(k) for k in RESULT_KEYS},
            route=self.route_base)  # type: ignore[attr-defined]

    def _back_to_list(self) -> str:
        """The list as the user left it: the posted query string ("all matching"), else the referrer's."""
        route = f"{self.route_base}/list/"  # type: ignore[attr-defined]
        query = request.query_string.decode()
        came_from = urlsplit(request.referrer or "")
        if not query and came_from.path == route and came_from.netloc in ("", request.host):
            query = came_from.query
        return f"{route}?{query}" if query else route

    @action("bulk_update", _lazy("update"), icon="fa-pencil", multiple=True, single=False)
    def bulk_update_ticked(self, ids: list[int]) -> Any:
        return self._bulk("update", ids)

    @action("bulk_delete", _lazy("delete"), _lazy("confirm_delete"), icon="fa-trash", multiple=True, single=False)
    def bulk_delete_ticked(self, ids: list[int]) -> Any:
        return self._bulk("delete", ids)

    @action("export_ticked", _lazy("export"), icon="fa-file-excel-o", multiple=True, single=False)
    def export_ticked(self, ids: list[int]) -> Any:
        """The ticked rows through the export path (export scope, visible fields), as XLSX."""
        if self._access().scope(self.entity.name, "export") == "no":  # type: ignore[attr-defined]
            abort(403)
        if request.form.get("bulk_all") == "1":  # all matching: the list's own export, with its filters
            query = request.query_string.decode()
            return redirect(f"{self.route_base}/export?{query}{'&' if query else ''}format=xlsx")  # type: ignore[attr-defined]
        datamodel = self.datamodel  # type: ignore[attr-defined]
        scoped = datamodel.get_filters().add_filter_list(row_scope("export"))
        query = datamodel.apply_all(datamodel.session.query(datamodel.obj), scoped, "", "")
        query = query.filter(datamodel.obj.id.in_(ids)).order_by(datamodel.obj.id)
        columns = export_columns(self.entity, self._access().hidden_fields(self.entity))  # type: ignore[attr-defined]
        if request.form.get("bulk_format") == "csv":
            return csv_response(self.entity, query, columns, f"{self.entity.name}.csv")  # type: ignore[attr-defined]
        return xlsx_response(self.entity, query, columns, f"{self.entity.name}.xlsx")  # type: ignore[attr-defined]
