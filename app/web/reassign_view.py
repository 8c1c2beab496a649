"""Reassign from the record page (one record) or from the list (rows ticked, FAB's action).

The screen side of ReassignRecords (app/records/reassign.py): same checks as the
API, all or none, errors flashed, then back to the record (one id) or the list.
The list offers FAB's "Actions" menu and row checkboxes only to roles whose
`reassign` scope is not `no`; FAB's own `action_post` fetches records without the
row rules (FAB_NOTES), so ours hands the ticked ids to the command, which reads
them through the scoped query layer. A role that may not reassign gets 403.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import abort, flash, redirect, request
from flask_appbuilder import expose, has_access
from flask_appbuilder.actions import action
from flask_babel import LazyString

from app.i18n import _t
from app.records.commands import CommandError, RecordNotFound, ValidationFailed
from app.records.reassign import ReassignRecords

from .labels import current_lang

DONE = _t("Owner changed.")
NONE_TICKED = _t("Tick the records to reassign.")
REASSIGN_TEXT = _t("Reassign")
# Method names FAB maps onto the entity's permission words (see VIEW_METHOD_PERMISSIONS).
REASSIGN_METHOD_PERMISSIONS = {"reassign": "write", "reassign_ticked": "write", "action_post": "write"}


def _ids(values: list[str]) -> list[int]:
    """Record ids from form values (`3`, `3,4`, or one per value); 400 on anything else."""
    try:
        return [int(i) for raw in values for i in raw.split(",") if i.strip()]
    except ValueError:
        abort(400)


class ReassignViewMixin:
    """Mixed into RecordModelView; FAB's can_write opens the routes, the command the reassign scope."""

    def may_reassign(self) -> bool:
        """The user's role may reassign some records of this entity (the action is offered)."""
        return self._access().scope(self.entity.name, "reassign") != "no"  # type: ignore[attr-defined]

    def _reassign(self, ids: list[int], owner: Any) -> bool:
        """Run ReassignRecords; flash the outcome. 403 for a role that may not reassign at all."""
        if not self.may_reassign():
            abort(403)
        if not ids:
            flash(NONE_TICKED.get(current_lang(), NONE_TICKED["en"]), "danger")
            return False
        command = ReassignRecords(self._ctx(), self.entity.name, ids, owner)  # type: ignore[attr-defined]
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
            return True
        return False

    @expose("/reassign", methods=["POST"])
    @has_access
    def reassign(self) -> Any:
        ids = _ids(request.form.getlist("ids"))
        self._reassign(ids, request.form.get("owner"))
        route = self.route_base  # type: ignore[attr-defined]
        return redirect(f"{route}/show/{ids[0]}" if len(ids) == 1 else f"{route}/list/")

    @action("reassign", LazyString(lambda: REASSIGN_TEXT.get(current_lang(), REASSIGN_TEXT["en"])),
            icon="fa-user", multiple=True, single=False)
    def reassign_ticked(self, ids: list[int]) -> Any:
        """The list's action: the ticked rows (`rowid`) to the owner chosen beside the menu."""
        self._reassign(ids, request.form.get("owner"))
        route = f"{self.route_base}/list/"  # type: ignore[attr-defined]
        came_from = urlsplit(request.referrer or "")
        if came_from.path == route and came_from.netloc in ("", request.host) and came_from.query:
            route = f"{route}?{came_from.query}"  # the same filters, search and page as before
        return redirect(route)

    @expose("/action_post", methods=["POST"])
    @has_access
    def action_post(self) -> Any:
        """FAB's list-action endpoint, with ids (not unscoped records) handed to the action."""
        chosen = self.actions.get(request.form.get("action", ""))  # type: ignore[attr-defined]
        if chosen is None:
            abort(404)
        return chosen.func(_ids(request.form.getlist("rowid")))

    def list_actions(self) -> dict[str, Any]:
        """The list actions this user is offered (FAB still checks the permission when rendering)."""
        return self.actions if self.may_reassign() else {}  # type: ignore[attr-defined]

    def reassign_extras(self, pk: Any) -> dict[str, Any]:
        """`crm_can_reassign` for the record page: the user's reassign scope covers this record."""
        access = self._access()  # type: ignore[attr-defined]
        if not self.may_reassign():
            return {}
        item = self.datamodel.get(pk, self._base_filters)  # type: ignore[attr-defined]
        if item is None or not access.allows(self.entity.name, "reassign", item):  # type: ignore[attr-defined]
            return {}
        return {"crm_can_reassign": True, "crm_owner_picker": self.owner_picker_url()}

    def owner_picker_url(self) -> str:
        return f"{self.crm_api_prefix}/user/picker?field={self.entity.name}.owner"  # type: ignore[attr-defined]
