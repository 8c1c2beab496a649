"""Row rules as a FAB base filter, evaluated per request.

FAB applies `base_filters` to list, show, edit, delete, related lists and
API get/put/delete by id (out-of-scope records answer 404). The filter
object is shared by the view singleton, so it holds no state: each call asks
the current user's Access for the clause of its action.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_appbuilder.models.filters import BaseFilter

from app.security.access import current_access
from app.security.scoped import Records


class RowScopeFilter(BaseFilter):
    name = "Row scope"
    arg_name = "row_scope"

    def apply(self, query: Any, value: Any) -> Any:
        model = self.datamodel.obj
        models = current_app.extensions["crm"].models
        return Records(current_access(), models, model.__entity__.name).where(query, value or "read")


def row_scope(action: str = "read") -> list[list[Any]]:
    """base_filters entry limiting rows to the user's scope for `action`."""
    return [["id", RowScopeFilter, action]]
