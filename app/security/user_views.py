"""FAB's security screens with values a Chinese page can show.

FAB renders a boolean as `True`, a list of roles as `[Admin]`, and names some columns
without gettext (group screen, user statistics); these subclasses format the values and
label the columns through the catalogs (app/i18n/fab.py lists the texts we translate).
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_appbuilder.security.views import (
    PermissionViewModelView,
    RoleModelView,
    UserDBModelView,
    UserGroupModelView,
    UserModelView,
    UserStatsChartView,
)
from flask_appbuilder.widgets import RenderTemplateWidget
from flask_babel import lazy_gettext

from app.i18n import _t

# the built-in role has no roles.yaml entry to take its label from
ADMIN_LABEL = _t("Admin", "role")


def yes_no(value: Any) -> str:
    return str(lazy_gettext("Yes") if value else lazy_gettext("No"))


def names(values: Any) -> str:
    """Roles, groups or permissions as a comma-separated list, not a Python list."""
    return ", ".join(str(v) for v in values or ())


def role_label(role: Any) -> str:
    """A role by its roles.yaml label in the page's language (销售代表, not Sales Rep); a role the
    metadata does not declare (made by hand in Security > Roles) by its name."""
    from app.web.labels import current_lang  # the web layer imports this module
    name = getattr(role, "name", role)
    label = ADMIN_LABEL if name == "Admin" else next(
        (r.label for r in current_app.extensions["crm"].spec.roles if r.name == name), None)
    return (label.get(current_lang()) if label is not None else "") or str(name)


def role_names(roles: Any) -> str:
    return ", ".join(role_label(r) for r in roles or ())


def label_role_choices(*forms: Any) -> None:
    """The roles pickers of FAB's generated forms (add, edit, search) show labels, not names."""
    for form in forms:
        field = getattr(form, "roles", None)
        if field is not None and hasattr(field, "kwargs"):  # an UnboundField of a QuerySelect(Multiple)Field
            field.kwargs["get_label"] = role_label


def blank(value: Any) -> str:
    return "" if value is None else str(value)


# class_permission_name: FAB names permissions after the class; keep FAB's names (roles hold them).
class CrmUserDBModelView(UserDBModelView):
    class_permission_name = "UserDBModelView"
    formatters_columns = {"active": yes_no, "roles": role_names, "groups": names, "last_login": blank,
                          "login_count": blank, "fail_login_count": blank, "created_by": blank, "changed_by": blank, "created_on": blank, "changed_on": blank}

    def _init_forms(self) -> None:
        super()._init_forms()
        label_role_choices(self.add_form, self.edit_form, self.search_form)


class CrmRoleModelView(RoleModelView):
    class_permission_name = "RoleModelView"
    label_columns = {**RoleModelView.label_columns, "groups": lazy_gettext("Groups")}
    formatters_columns = {"permissions": names, "user": names, "groups": names}


class CrmUserGroupModelView(UserGroupModelView):
    class_permission_name = "UserGroupModelView"
    label_columns = {"name": lazy_gettext("Name"), "label": lazy_gettext("Label"),
                     "description": lazy_gettext("Description"), "users": lazy_gettext("Users"),
                     "roles": lazy_gettext("Roles")}
    formatters_columns = {"users": names, "roles": role_names}

    def _init_forms(self) -> None:
        super()._init_forms()
        label_role_choices(self.add_form, self.edit_form, self.search_form)


class PlotlyChartWidget(RenderTemplateWidget):
    """FAB's direct chart drawn by plotly.js from this app (FAB's loads Google's from gstatic.com)."""

    template = "crm/direct_chart.html"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(plotly_src=current_app.extensions["crm_plotly_url"], **kwargs)


class CrmUserStatsChartView(UserStatsChartView):
    class_permission_name = "UserStatsChartView"
    chart_widget = PlotlyChartWidget
    chart_template = "crm/chart.html"  # FAB's, its "Group by:" in the language's colon
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
