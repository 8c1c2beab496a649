"""Teams screen (Security > Teams): who works together decides `team` scope."""

from __future__ import annotations

from typing import Any

from flask_appbuilder import AppBuilder, ModelView
from flask_appbuilder.models.sqla.interface import SQLAInterface

from app.i18n import _t
from app.models import ModelSet

from .labels import lazy

LABELS = {"name": _t("Team"), "manager": _t("Manager"),
          "members": _t("Members")}


def names(values: Any) -> str:
    """Members as their names, not a Python list."""
    return ", ".join(str(v) for v in values or ())


def register_teams(appbuilder: AppBuilder, models: ModelSet) -> None:
    attrs: dict[str, Any] = {
        "datamodel": SQLAInterface(models.team_model),
        "route_base": "/crm/teams",
        "class_permission_name": "team",
        "method_permission_name": {"list": "read", "show": "read", "add": "create", "edit": "write",
                                   "delete": "delete"},
        "base_permissions": ["can_read", "can_create", "can_write", "can_delete"],
        "list_columns": ["name", "manager", "members"],
        "add_columns": ["name", "manager", "members"],
        "edit_columns": ["name", "manager", "members"],
        "show_columns": ["name", "manager", "members"],
        "label_columns": {k: lazy(v) for k, v in LABELS.items()},
        "list_title": lazy(_t("Teams")),
        "add_title": lazy(_t("Add team")), "edit_title": lazy(_t("Edit team")), "show_title": lazy(_t("Team")),
        "formatters_columns": {"members": names},
    }
    view = type("TeamView", (ModelView,), attrs)
    appbuilder.add_view(view, "teams", label=lazy(_t("Teams")),
                        icon="fa-users", category="Security")
