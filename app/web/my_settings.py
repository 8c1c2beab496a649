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
from babel.dates import get_timezone_location
from flask import current_app, flash, g, redirect, request, session
from flask_appbuilder import AppBuilder, BaseView, expose, has_access
from flask_login import user_logged_in

from app.clock import USER_ZONE_KEY, crm_zone, utc_now
from app.i18n import _t

from .labels import current_lang

VIEW = "my_settings"
COMMON_ZONES = ("Asia/Shanghai", "Asia/Hong_Kong", "Asia/Taipei", "Asia/Singapore", "Asia/Tokyo",
                "Europe/London", "Europe/Berlin", "America/New_York", "America/Chicago",
                "America/Los_Angeles", "UTC")
GEOGRAPHIC = ("Africa/", "America/", "Antarctica/", "Asia/", "Atlantic/", "Australia/", "Europe/", "Indian/",
              "Pacific/")


def zone_label(zone: str, lang: str, now: dt.datetime) -> str:
    """A zone as people read it, in their language, with its offset now: 中国（上海）时间 (UTC+08:00)."""
    offset = now.astimezone(ZoneInfo(zone)).strftime("%z")
    utc = f"UTC{offset[:3]}:{offset[3:]}" if offset not in ("+0000", "") else "UTC"
    if zone == "UTC":
        return utc
    try:
        return f"{get_timezone_location(zone, locale=lang.replace('-', '_'))} ({utc})"
    except (LookupError, ValueError):
        return f"{zone} ({utc})"


def zone_options(lang: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(common, all others) as (zone id, label); the others are the geographic zones (no aliases
    such as US/Eastern or Etc/GMT+5), by offset then name."""
    now = dt.datetime.now(dt.UTC)
    common = [(z, zone_label(z, lang, now)) for z in COMMON_ZONES]
    others = [(z, zone_label(z, lang, now)) for z in available_timezones()
              if z.startswith(GEOGRAPHIC) and z not in COMMON_ZONES]
    return common, sorted(others, key=lambda o: (now.astimezone(ZoneInfo(o[0])).utcoffset(), o[1]))


UI = {
    "title": _t("My settings"), "zone": _t("Time zone"),
    "crm_default": _t("The CRM's time zone ({zone})"),
    "help": _t("Dates and times are shown and typed in this zone; “today” and date ranges start at its midnight."),
    "now": _t("Now in this zone: {now}"), "save": _t("Save"),
    "saved": _t("Settings saved."),
    "unknown": _t("Unknown time zone “{zone}”."),
    "common": _t("Common"), "all": _t("All zones"),
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
        ui["crm_default"] = ui["crm_default"].format(zone=zone_label(spec_zone, lang, now))
        offset = now.strftime("%z")
        ui["now"] = ui["now"].format(now=f"{now:%Y-%m-%d %H:%M} (UTC{offset[:3]}:{offset[3:]})")
        html = self.render_template("crm/my_settings.html", ui=ui, title=ui["title"], own=own, error=error,
                                    zones=zone_options(lang))
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
