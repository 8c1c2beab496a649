"""Reassign from the record page (one record) or a list (many ids): POST /crm/<entity>/reassign.

The screen side of ReassignRecords (app/records/reassign.py): same checks as the
API, errors flashed, then back to the record (one id) or the list.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, request
from flask_appbuilder import expose, has_access

from app.records.commands import CommandError, RecordNotFound, ValidationFailed
from app.records.reassign import ReassignRecords

from .labels import current_lang

DONE = {"en": "Owner changed.", "zh": "负责人已变更。"}


class ReassignViewMixin:
    """Mixed into RecordModelView; `reassign` needs FAB's can_write, the command the reassign scope."""

    @expose("/reassign", methods=["POST"])
    @has_access
    def reassign(self) -> Any:
        try:
            ids = [int(i) for raw in request.form.getlist("ids") for i in raw.split(",") if i.strip()]
        except ValueError:
            abort(400)
        command = ReassignRecords(self._ctx(), self.entity.name, ids, request.form.get("owner"))  # type: ignore[attr-defined]
        try:
            command.run()
        except RecordNotFound:
            abort(404)
        except ValidationFailed as exc:
            flash(" ".join(m for messages in exc.errors.values() for m in messages), "danger")
        except CommandError as exc:
            flash(str(exc), "danger")
        else:
            flash(DONE.get(current_lang(), DONE["en"]), "success")
        route = self.route_base  # type: ignore[attr-defined]
        return redirect(f"{route}/show/{ids[0]}" if len(ids) == 1 else f"{route}/list/")

    def reassign_extras(self, pk: Any) -> dict[str, Any]:
        """`crm_can_reassign` for the record page: the user's reassign scope covers this record."""
        access = self._access()  # type: ignore[attr-defined]
        if access.scope(self.entity.name, "reassign") == "no":  # type: ignore[attr-defined]
            return {}
        item = self.datamodel.get(pk, self._base_filters)  # type: ignore[attr-defined]
        if item is None or not access.allows(self.entity.name, "reassign", item):  # type: ignore[attr-defined]
            return {}
        return {"crm_can_reassign": True, "crm_owner_picker":
                f"{self.crm_api_prefix}/user/picker?field={self.entity.name}.owner"}  # type: ignore[attr-defined]
