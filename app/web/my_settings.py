"""My settings (/crm/me/): a user's own time zone, used for what they see and type.

Stored in `crm_user_setting` (core revision 0010) and copied into the user's session at login
and on save, so no request reads it again (app/clock.py reads the session). Other sessions of
the same user pick a change up at their next login. Each user may change only their own.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

import sqlalchemy as sa
from flask import current_app, flash, g, redirect, request, session
from flask_appbuilder import AppBuilder, BaseView, expose, has_access
from flask_login import user_logged_in

from app.clock import USER_ZONE_KEY, crm_zone, utc_now
from app.metadata.spec import Text

from .labels import current_lang

VIEW = "my_settings"
COMMON_ZONES = ("Asia/Shanghai", "Asia/Hong_Kong", "Asia/Taipei", "Asia/Singapore", "Asia/Tokyo",
                "Europe/London", "Europe/Berlin", "America/New_York", "America/Chicago",
                "America/Los_Angeles", "UTC")


def _t(en: str, zh: str) -> Text:
    return Text((("en", en), ("zh", zh)))


UI = {
    "title": _t("My settings", "个人设置"), "zone": _t("Time zone", "时区"),
    "crm_default": _t("The CRM's time zone ({zone})", "CRM 默认时区（{zone}）"),
    "help": _t("Dates and times are shown and typed in this zone; “today” and date ranges start at its midnight.",
               "日期和时间按此时区显示和输入；“今天”和时间范围从此时区的零点算起。"),
    "now": _t("Now in this zone: {now}", "此时区当前时间：{now}"), "save": _t("Save", "保存"),
    "saved": _t("Settings saved.", "设置已保存。"),
    "unknown": _t("Unknown time zone “{zone}”.", "未知时区“{zone}”。"),
    "common": _t("Common", "常用"), "all": _t("All zones", "全部时区"),
}


def _table() -> sa.Table:
    return current_app.extensions["crm"].models.core["crm_user_setting"]


def _session() -> Any:
    return current_app.extensions["crm"].db.session


def stored_zone(user_id: int) -> str | None:
    return _session().scalar(sa.select(_table().c.time_zone).where(_table().c.user_id == user_id))


def save_zone(user_id: int, zone: str | None) -> None:
    """One row per user; an empty zone means the CRM's."""
    table, db = _table(), _session()
    values = {"time_zone": zone or None, "changed_on": utc_now()}
    if db.execute(sa.update(table).where(table.c.user_id == user_id).values(**values)).rowcount == 0:
        db.execute(sa.insert(table).values(user_id=user_id, **values))
    db.commit()


def remember_zone(sender: Any, user: Any, **extra: Any) -> None:
    """At login: the user's zone into their session (one statement a login, none a request)."""
    if "crm" not in current_app.extensions:
        return
    zone = stored_zone(int(user.id))
    if zone:
        session[USER_ZONE_KEY] = zone
    else:
        session.pop(USER_ZONE_KEY, None)


class MySettingsView(BaseView):
    route_base = "/crm/me"
    default_view = "index"
    class_permission_name = VIEW
    base_permissions = ["can_read", "can_write"]
    method_permission_name = {"index": "read", "save": "write"}

    def _render(self, error: str = "", status: int = 200, chosen: str | None = None) -> Any:
        lang = current_lang()
        spec_zone = current_app.extensions["crm"].spec.timezone or "UTC"
        own = session.get(USER_ZONE_KEY, "") if chosen is None else chosen
        now = utc_now().replace(tzinfo=dt.UTC).astimezone(crm_zone())
        ui = {k: v.get(lang) for k, v in UI.items()}
        ui["crm_default"] = ui["crm_default"].format(zone=spec_zone)
        ui["now"] = ui["now"].format(now=now.strftime("%Y-%m-%d %H:%M %Z"))
        html = self.render_template("crm/my_settings.html", ui=ui, title=ui["title"], own=own, error=error,
                                    common=COMMON_ZONES, zones=sorted(available_timezones()))
        return html, status

    @expose("/", methods=["GET"])
    @has_access
    def index(self) -> Any:
        return self._render()

    @expose("/", methods=["POST"])
    @has_access
    def save(self) -> Any:
        """Save the signed-in user's own zone (never another user's: there is no user id to send)."""
        zone = request.form.get("time_zone", "").strip()
        if zone:
            try:
                ZoneInfo(zone)
            except (ValueError, KeyError, OSError):
                return self._render(UI["unknown"].get(current_lang()).format(zone=zone), 422, zone)
            if zone not in available_timezones():
                return self._render(UI["unknown"].get(current_lang()).format(zone=zone), 422, zone)
        save_zone(int(g.user.id), zone)
        if zone:
            session[USER_ZONE_KEY] = zone
        else:
            session.pop(USER_ZONE_KEY, None)
        flash(UI["saved"].get(current_lang()), "success")
        return redirect(f"{self.route_base}/")


def settings_link() -> dict[str, Any]:
    return {"crm_my_settings_label": UI["title"].get(current_lang())}


def register_my_settings(appbuilder: AppBuilder) -> None:
    appbuilder.add_view_no_menu(MySettingsView)
    current_app.context_processor(settings_link)
    user_logged_in.connect(remember_zone)  # blinker keeps one connection however many apps are built
