"""FAB's security screens with values a Chinese page can show.

FAB renders a boolean as `True`, a list of roles as `[Admin]`, and names some columns
without gettext (group screen, user statistics); these subclasses format the values and
label the columns through the catalogs (app/i18n/fab.py lists the texts we translate).
"""

from __future__ import annotations

from typing import Any

from flask_appbuilder.security.views import (
    PermissionViewModelView,
    RoleModelView,
    UserDBModelView,
    UserGroupModelView,
    UserModelView,
    UserStatsChartView,
)
from flask_babel import lazy_gettext


def yes_no(value: Any) -> str:
    return str(lazy_gettext("Yes") if value else lazy_gettext("No"))


def names(values: Any) -> str:
    """Roles, groups or permissions as a comma-separated list, not a Python list."""
    return ", ".join(str(v) for v in values or ())


def blank(value: Any) -> str:
    return "" if value is None else str(value)


# class_permission_name: FAB names permissions after the class; keep FAB's names (roles hold them).
class CrmUserDBModelView(UserDBModelView):
    class_permission_name = "UserDBModelView"
    formatters_columns = {"active": yes_no, "roles": names, "groups": names, "last_login": blank,
                          "login_count": blank, "fail_login_count": blank, "created_by": blank, "changed_by": blank, "created_on": blank, "changed_on": blank}


class CrmRoleModelView(RoleModelView):
    class_permission_name = "RoleModelView"
    label_columns = {**RoleModelView.label_columns, "groups": lazy_gettext("Groups")}
    formatters_columns = {"permissions": names, "user": names, "groups": names}


class CrmUserGroupModelView(UserGroupModelView):
    class_permission_name = "UserGroupModelView"
    label_columns = {"name": lazy_gettext("Name"), "label": lazy_gettext("Label"),
                     "description": lazy_gettext("Description"), "users": lazy_gettext("Users"),
                     "roles": lazy_gettext("Roles")}
    formatters_columns = {"users": names, "roles": names}


class CrmUserStatsChartView(UserStatsChartView):
    class_permission_name = "UserStatsChartView"
    label_columns = {**UserModelView.label_columns, **UserStatsChartView.label_columns}
    definitions = [
        {"label": lazy_gettext("Login count"), "group": "username", "series": ["login_count"]},
        {"label": lazy_gettext("Failed login count"), "group": "username", "series": ["fail_login_count"]},
    ]

    def __init__(self, **kwargs: Any) -> None:
        # FAB's chart view renames each series by prettifying it ("Login Count") in the dict it is
        # given: the class's, shared by every app of the process (the next app's search form read
        # the prettified names). Each instance gets its own dict, and the catalog's names back.
        own = {"login_count": lazy_gettext("Login count"), "fail_login_count": lazy_gettext("Failed login count")}
        self.label_columns = {**type(self).label_columns, **own}
        super().__init__(**kwargs)
        self.label_columns.update(own)


class CrmPermissionViewModelView(PermissionViewModelView):
    class_permission_name = "PermissionViewModelView"
    label_columns = {**PermissionViewModelView.label_columns, "role": lazy_gettext("Role")}
