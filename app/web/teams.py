"""Teams screen (Security > Teams): who works together decides `team` scope."""

from __future__ import annotations

from typing import Any

from flask_appbuilder import AppBuilder, ModelView
from flask_appbuilder.models.sqla.interface import SQLAInterface

from app.metadata.spec import Text
from app.models import ModelSet

from .labels import lazy

LABELS = {"name": Text((("en", "Team"), ("zh", "团队"))), "manager": Text((("en", "Manager"), ("zh", "经理"))),
          "members": Text((("en", "Members"), ("zh", "成员")))}


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
        "list_title": lazy(Text((("en", "Teams"), ("zh", "团队")))),
    }
    view = type("TeamView", (ModelView,), attrs)
    appbuilder.add_view(view, "teams", label=lazy(Text((("en", "Teams"), ("zh", "团队")))),
                        icon="fa-users", category="Security")
