"""Flask-AppBuilder's own texts that our catalog translates.

FAB's zh catalog covers about 140 of its strings; the rest show in English (modal buttons,
group and user screens). Our catalog is loaded after FAB's (BABEL_TRANSLATION_DIRECTORIES),
so a msgid listed here wins over FAB's translation too ("Logout": 注销 -> 退出登录).
Nothing reads this tuple: it is where `pybabel extract` finds these msgids.
"""

from __future__ import annotations

from app.i18n import _t

FAB_TEXTS = (
    _t("Add"), _t("Cancel"), _t("OK"), _t("Close"), _t("Yes"), _t("No"), _t("Name"), _t("Label"),
    _t("Description"), _t("Users"), _t("Roles"), _t("Groups"), _t("Logout"), _t("Show record"),
    _t("Edit record"), _t("Delete record"), _t("Add a new record"), _t("User confirmation needed"),
    _t("List Groups"), _t("Show Group"), _t("Add Group"), _t("Edit Group"),
    _t("The user group on the application, this will associate with a list of roles associated with the group"),
    _t("It's not a good policy to remove a user, just make it inactive"),
    _t("The user's password for authentication"),
    _t("Please rewrite the user's password to confirm"),
    _t("Write the user first name or names"), _t("Write the user last name"),
    _t("User(s) exists in the group, cannot delete"), _t("Are you sure you want to delete this item?"), _t("Is Active?"), _t("Failed login count"),
)
