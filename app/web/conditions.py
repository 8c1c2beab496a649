"""POST /crm/<entity>/conditions: which fields the form hides, requires and locks now.

The form's static script (static/crm/conditions.js, no inline code: a CSP is
coming) posts the values as typed; the answer comes from the same conditions
the record commands enforce (app/records/conditions.py), so the screen and the
server never disagree. Values that do not parse are left out, not refused. The script is
loaded only on the add and edit forms of a view that has this endpoint (`crm_conditions_url`):
FAB's user and role forms and the teams form have none, and a post there was a 404.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, abort, current_app, jsonify, request, url_for
from flask_appbuilder import expose, has_access

from app.records.conditions import field_states
from app.records.parse import FieldValueError, parse_value

from .labels import current_lang


class ConditionsViewMixin:
    """Mixed into RecordModelView; read permission (it reveals no record data)."""

    @expose("/conditions", methods=["POST"])
    @has_access
    def conditions(self) -> Any:
        entity = self.entity  # type: ignore[attr-defined]
        record = None
        if request.args.get("pk"):
            record = self.datamodel.get(request.args["pk"], self._base_filters)  # type: ignore[attr-defined]
            if record is None:
                abort(404)
        values: dict[str, Any] = {}
        for name in request.form:
            f = entity.field_map.get(name)
            if f is None or not f.editable:
                continue
            raw = request.form.getlist(name) if f.type in ("links", "multichoice") else request.form[name]
            try:
                values[name] = parse_value(f, raw, current_lang())
            except FieldValueError:
                continue
        ctx = self._ctx()  # type: ignore[attr-defined]
        return jsonify(field_states(ctx, entity, record, values, self.crm_models.spec.timezone))  # type: ignore[attr-defined]


def conditions_url() -> str | None:
    """The conditions endpoint of this request's add or edit form, or None (no script then)."""
    view, _, action = (request.endpoint or "").rpartition(".")
    if action not in ("add", "edit") or f"{view}.conditions" not in current_app.view_functions:
        return None
    pk = (request.view_args or {}).get("pk")
    return url_for(f"{view}.conditions", **({} if pk is None else {"pk": pk}))


def install_conditions_url(app: Flask) -> None:
    app.add_template_global(conditions_url, "crm_conditions_url")
