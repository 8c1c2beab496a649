"""The report builder (Analytics > Reports): pick entity, columns, filters, grouping; see, save, export.

A report is its definition (report_definition): a query string for a
shareable URL, a JSON body for the API, or a saved report. Pages show the
first rows (or the grouped table and a plotly chart); CSV and XLSX exports
stream every row the viewer's export scope allows. Hidden fields never
appear: an ad-hoc report naming one is refused (400), a saved one drops it
with a note.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import sqlalchemy as sa
from flask import Response, abort, current_app, flash, redirect, request
from flask_appbuilder import AppBuilder, BaseView, expose, has_access
from flask_appbuilder.api import expose as api_expose
from flask_appbuilder.api import safe
from flask_appbuilder.security.decorators import permission_name, protect

from app.clock import crm_today
from app.i18n import _t
from app.security.access import Access, current_access
from app.security.sync import ANALYTICS_CATEGORY, REPORTS_VIEW

from .crmapi import CrmApi
from .jsonbody import BadJson, json_body
from .labels import current_lang, lazy
from .linktitles import picker_titles
from .paging import is_record_id
from .report_definition import (
    ReportDefinition,
    ReportError,
    default_columns,
    json_value,
    parse_definition,
    raw_from_args,
)
from .report_export import csv_response, xlsx_response
from .report_page import page_context
from .report_query import Table, grouped_table, row_statement, stream_rows, totals
from .report_store import (
    SavedReport,
    checked_name_and_roles,
    delete_report,
    find_report,
    may_change,
    save_report,
    update_report,
    visible_reports,
)

PAGE_ROWS = 100
API_MAX_ROWS = 1000
TITLE = _t("Reports")
ANALYTICS_LABEL = _t("Analytics")
SAVED = _t("Report saved.")
DELETED = _t("Report deleted.")


def _state() -> Any:
    return current_app.extensions["crm"]


def _today() -> dt.date:
    return crm_today()  # the viewer's today: relative ranges start at their midnight


def _table() -> sa.Table:
    return _state().models.core["crm_saved_report"]


def report_table(definition: ReportDefinition, access: Access, action: str, limit: int | None) -> Table:
    """The report's rows (first `limit`) or grouped table for this viewer and action."""
    state, lang = _state(), current_lang()
    session = state.db.session
    if definition.grouped:
        return grouped_table(definition, state.spec, state.models, session, access, action, lang, _today())
    stmt, columns = row_statement(definition, state.spec, state.models, access, action, lang, _today(), limit)
    return Table(columns, list(stream_rows(session, stmt, columns)))


def report_totals(definition: ReportDefinition, access: Access) -> dict[str, Any]:
    """Count and sums of every row the viewer may read (the page shows the first rows only)."""
    state = _state()
    return totals(definition, state.spec, state.models, state.db.session, access, current_lang(), _today())


def _titles(f: Any, ids: list[int]) -> dict[int, str]:
    """Titles a filter row's picker shows for its ids (restricted where the viewer may not read)."""
    if not ids:
        return {}
    state = _state()
    if f.type == "link":
        return picker_titles(f.target, ids)
    user = state.models.user_model
    rows = state.db.session.execute(sa.select(user.id, user.first_name, user.last_name, user.username)
                                    .where(user.id.in_(ids)))
    return {pk: f"{first or ''} {last or ''}".strip() or name for pk, first, last, name in rows}


def _errors(exc: ReportError) -> dict[str, Any]:
    """Where a refusal is shown: next to its filter row, or the columns, else at the top."""
    if exc.index is not None:
        return {"filters": {exc.index: exc.detail}}
    if exc.control == "columns":
        return {"columns": exc.detail}
    return {}


def export_file(definition: ReportDefinition, access: Access, fmt: str, name: str) -> Response:
    """CSV or XLSX of every row the viewer may export (the grouped table when grouped)."""
    if access.scope(definition.entity, "export") == "no":
        raise ReportError(f"entity '{definition.entity}': you may not export {definition.entity} records", 403)
    state, lang = _state(), current_lang()
    session = state.db.session
    filename = f"{name}.{fmt}"
    if definition.grouped:
        table = report_table(definition, access, "export", None)
        columns, rows = table.columns, iter(table.rows)
    else:
        stmt, columns = row_statement(definition, state.spec, state.models, access, "export", lang, _today())
        rows = stream_rows(session, stmt, columns)
    if fmt == "csv":
        return csv_response(columns, rows, filename, lang, session.rollback)
    try:
        return xlsx_response(columns, rows, filename, lang, name)
    finally:
        session.rollback()


def _error(exc: ReportError) -> Response:
    return Response(str(exc), status=exc.status, mimetype="text/plain")


def _saved_or_404(report_id: int, access: Access) -> SavedReport:
    report = find_report(_state().db.session, _table(), report_id, access)
    if report is None:
        abort(404)
    return report


def _file_name(definition: ReportDefinition, report: SavedReport | None) -> str:
    return report.name if report is not None else f"report-{definition.entity}"


class ReportsView(BaseView):
    route_base = "/crm/reports"
    default_view = "index"
    class_permission_name = REPORTS_VIEW
    base_permissions = ["can_read", "can_write"]
    method_permission_name = {"index": "read", "open": "read", "export": "read", "export_saved": "read",
                              "save": "write", "delete": "write"}

    def _page(self, definition: ReportDefinition | None, report: SavedReport | None = None,
              error: ReportError | None = None, entity: str = "", raw: dict[str, Any] | None = None) -> Any:
        access = current_access()
        table, total = None, None
        if definition is not None and error is None:
            table = report_table(definition, access, "read", PAGE_ROWS)
            total = report_totals(definition, access)
        errors = _errors(error) if error is not None else {}
        context = page_context(_state().spec, access, definition, report, table, total,
                               visible_reports(_state().db.session, _table(), access), current_lang(),
                               entity or (definition.entity if definition else ""), raw=raw, titles=_titles,
                               errors=errors, api_prefix=current_app.config.get("CRM_API_PREFIX", "/api/v1"))
        context["crm_plotly_url"] = current_app.extensions.get("crm_plotly_url")
        message = "" if error is None or errors else error.get(current_lang())
        html = self.render_template("crm/reports.html", error=message, **context)
        return html, 200 if error is None or (report is not None and error.status == 403) else error.status

    @expose("/")
    @has_access
    def index(self) -> Any:
        """The builder; with `entity` in the query string, the report it defines (its list's columns
        when only the entity was chosen)."""
        entity = request.args.get("entity", "").strip()
        if not entity:
            return self._page(None)
        spec, access = _state().spec, current_access()
        raw = raw_from_args(request.args)
        if set(request.args) == {"entity"} and entity in spec.entity_map and access.scope(entity, "read") != "no":
            raw["columns"] = default_columns(spec, spec.entity(entity), access)
        try:
            definition = parse_definition(raw, spec, access, lang=current_lang())
        except ReportError as exc:
            known = entity if entity in spec.entity_map else ""
            return self._page(None, error=exc, entity=known, raw=raw)
        return self._page(definition)

    @expose("/<int:report_id>")
    @has_access
    def open(self, report_id: int) -> Any:
        """A saved report, checked again for this viewer: what they may not see is left out."""
        access = current_access()
        report = _saved_or_404(report_id, access)
        try:
            definition = parse_definition(report.definition, _state().spec, access, strict=False,
                                          lang=current_lang())
        except ReportError as exc:
            return self._page(None, report, error=exc, entity=report.entity, raw=report.definition)
        return self._page(definition, report)

    @expose("/export.<fmt>")
    @has_access
    def export(self, fmt: str) -> Any:
        if fmt not in ("csv", "xlsx"):
            abort(404)
        try:
            definition = parse_definition(raw_from_args(request.args), _state().spec, current_access(),
                                          lang=current_lang())
            return export_file(definition, current_access(), fmt, _file_name(definition, None))
        except ReportError as exc:
            return _error(exc)

    @expose("/<int:report_id>/export.<fmt>")
    @has_access
    def export_saved(self, report_id: int, fmt: str) -> Any:
        if fmt not in ("csv", "xlsx"):
            abort(404)
        access = current_access()
        report = _saved_or_404(report_id, access)
        try:
            definition = parse_definition(report.definition, _state().spec, access, strict=False,
                                          lang=current_lang())
            return export_file(definition, access, fmt, _file_name(definition, report))
        except ReportError as exc:
            return _error(exc)

    @expose("/save", methods=["POST"])
    @has_access
    def save(self) -> Any:
        """Save the report on the page as new, or over `report_id` (its owner or Admin only)."""
        access, state = current_access(), _state()
        report_id = request.form.get("report_id", "").strip()
        report = _saved_or_404(int(report_id), access) if is_record_id(report_id) else None
        if report is not None and not may_change(report, access):
            return Response("only the owner of this report (or an admin) may change it", 403, mimetype="text/plain")
        try:
            raw = json.loads(request.form.get("definition") or "null")
            definition = parse_definition(raw, state.spec, access, lang=current_lang())
            name, roles = checked_name_and_roles(request.form.get("name"), request.form.getlist("shared_roles"),
                                                 state.spec)
        except ValueError as exc:  # ReportError, or a definition that is not JSON
            return _error(exc if isinstance(exc, ReportError) else ReportError(f"definition: not JSON ({exc})"))
        if report is None:
            new_id = save_report(state.db.session, _table(), name, definition, roles, access.user_id or 0)
        else:
            update_report(state.db.session, _table(), report, name, definition, roles)
            new_id = report.id
        flash(SAVED.get(current_lang()), "success")
        return redirect(f"{self.route_base}/{new_id}")

    @expose("/<int:report_id>/delete", methods=["POST"])
    @has_access
    def delete(self, report_id: int) -> Any:
        access = current_access()
        report = _saved_or_404(report_id, access)
        if not may_change(report, access):
            return Response("only the owner of this report (or an admin) may delete it", 403, mimetype="text/plain")
        delete_report(_state().db.session, _table(), report)
        flash(DELETED.get(current_lang()), "success")
        return redirect(f"{self.route_base}/")


class ReportsApi(CrmApi):
    """Saved reports the viewer may see, and a report's data as JSON (saved, or a JSON body)."""

    resource_name = "reports"
    class_permission_name = REPORTS_VIEW
    base_permissions = ["can_read"]
    method_permission_name = {"list_reports": "read", "data": "read", "run": "read"}
    allow_browser_login = True

    def _data(self, definition: ReportDefinition, access: Access) -> Any:
        try:
            limit = min(int(request.args.get("limit", PAGE_ROWS)), API_MAX_ROWS)
        except ValueError:
            return self.response_400(message="limit: a whole number")
        if limit < 1:
            return self.response_400(message="limit: at least 1")
        table = report_table(definition, access, "read", limit)
        summary = report_totals(definition, access)
        return self.response(200, definition=definition.to_json(), grouped=definition.grouped,
                             columns=[c.heading for c in table.columns], paths=[c.path for c in table.columns],
                             rows=[[json_value(v) for v in row] for row in table.rows], notes=list(definition.notes),
                             totals={"count": summary["count"],
                                     "sums": {k: json_value(v) for k, v in summary["sums"].items()}})

    def _refused(self, exc: ReportError) -> Any:
        """400/403, or 422 for a filter value or operator, with where it applies."""
        errors = _errors(exc)
        if errors:
            return self.response(exc.status, message=str(exc), errors=errors)
        return self.response(exc.status, message=str(exc))

    @api_expose("/", methods=["GET"])
    @protect()
    @safe
    @permission_name("list_reports")
    def list_reports(self) -> Any:
        """Saved reports the viewer may open.
        ---
        get:
          responses:
            200:
              description: "{result: [{id, name, entity, shared_roles, owner_id, mine, can_change}]}"
        """
        access = current_access()
        reports = visible_reports(_state().db.session, _table(), access)
        return self.response(200, result=[r.to_json(access) for r in reports])

    @api_expose("/<int:report_id>/data", methods=["GET"])
    @protect()
    @safe
    @permission_name("data")
    def data(self, report_id: int) -> Any:
        """A saved report's rows (first `limit`, default 100, at most 1000) or grouped table.
        ---
        get:
          parameters:
          - {in: path, name: report_id, required: true, schema: {type: integer}}
          - {in: query, name: limit, schema: {type: integer}}
          responses:
            200:
              description: "{columns, paths, rows, grouped, notes, definition}"
            404:
              description: No such report, or not shared with the viewer
            422:
              description: "A saved filter that no longer parses: {message, errors: {filters: {row: message}}}"
        """
        access = current_access()
        report = find_report(_state().db.session, _table(), report_id, access)
        if report is None:
            return self.response_404()
        try:
            definition = parse_definition(report.definition, _state().spec, access, strict=False,
                                          lang=current_lang())
        except ReportError as exc:
            return self._refused(exc)
        return self._data(definition, access)

    @api_expose("/data", methods=["POST"])
    @protect()
    @safe
    @permission_name("run")
    def run(self) -> Any:
        """Run a definition given as a JSON body: {entity, columns, filters, group, measure, kind}.
        ---
        post:
          responses:
            200:
              description: "{columns, paths, rows, grouped, notes, definition, totals: {count, sums}}"
            400:
              description: The definition names something unknown, hidden or of the wrong type
            422:
              description: "A filter value that does not parse, or an operator its field does not offer:
                {message, errors: {filters: {row: message}}}"
        """
        access = current_access()
        try:
            definition = parse_definition(json_body(), _state().spec, access, lang=current_lang())
        except BadJson as exc:
            return self.response_400(message=str(exc))
        except ReportError as exc:
            return self._refused(exc)
        return self._data(definition, access)


def register_reports(appbuilder: AppBuilder, models: Any = None) -> None:
    """Analytics > Reports, and /api/v1/reports/."""
    appbuilder.add_view(ReportsView, REPORTS_VIEW, label=lazy(TITLE), icon="fa-table",
                        category=ANALYTICS_CATEGORY, category_label=lazy(ANALYTICS_LABEL),
                        category_icon="fa-area-chart")
    appbuilder.add_api(ReportsApi)
