"""Notifications: the bell in the top bar (unread count, one COUNT statement), the page
/crm/notifications/ (mine, newest first; mark read; open the record) and
GET /api/v1/notifications/. A user only ever sees and marks their own: every query
is filtered by the signed-in user's id, and another user's id answers 404.
Every signed-in role holds these permissions (app/security/sync.py SELF_SERVICE).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import abort, current_app, g, redirect, request
from flask_appbuilder import AppBuilder, BaseView, expose, has_access
from flask_appbuilder.api import expose as api_expose
from flask_appbuilder.api import safe
from flask_appbuilder.security.decorators import permission_name, protect

from app.i18n import _t
from app.models.actor import acting_user_id
from app.models.events import utcnow

from .crmapi import CrmApi
from .labels import current_lang

VIEW = "notifications"
LIMIT = 100
UI = {
    "title": _t("Notifications"), "none": _t("No notifications."),
    "read_all": _t("Mark all read"), "read": _t("Mark read"),
    "open": _t("Open"), "unread": _t("unread"),
    "reminder": _t("Reminder"), "notify": _t("Notice"),
}


def _table() -> sa.Table:
    return current_app.extensions["crm"].models.core["crm_notification"]


def _session() -> Any:
    return current_app.extensions["crm"].db.session


def unread_count(user_id: int) -> int:
    t = _table()
    return int(_session().scalar(sa.select(sa.func.count()).select_from(t)
                                 .where(t.c.user_id == user_id, t.c.read_on.is_(None))) or 0)


def mine(user_id: int, unread_only: bool = False, limit: int = LIMIT) -> list[dict[str, Any]]:
    t = _table()
    stmt = sa.select(t).where(t.c.user_id == user_id)
    if unread_only:
        stmt = stmt.where(t.c.read_on.is_(None))
    rows = _session().execute(stmt.order_by(t.c.id.desc()).limit(limit)).mappings().all()
    return [as_json(r) for r in rows]


def as_json(row: Any) -> dict[str, Any]:
    lang = current_lang()
    message = json.loads(row["message"])
    zone = ZoneInfo(current_app.extensions["crm"].spec.timezone or "UTC")
    local = row["created_on"].replace(tzinfo=dt.UTC).astimezone(zone)
    return {"id": row["id"], "kind": row["kind"], "rule": row["rule"], "entity": row["entity"],
            "record_id": row["record_id"], "message": message.get(lang) or next(iter(message.values()), ""),
            "url": f"/crm/{row['entity']}/show/{row['record_id']}" if row["entity"] and row["record_id"] else None,
            "created_on": row["created_on"].isoformat() + "Z", "created_local": f"{local:%Y-%m-%d %H:%M}",
            "read": row["read_on"] is not None}


def mark_read(user_id: int, notification_id: int | None) -> int:
    """Mark one (or, with None, all) of the user's notifications read; how many were."""
    t = _table()
    stmt = sa.update(t).where(t.c.user_id == user_id, t.c.read_on.is_(None)).values(read_on=utcnow())
    if notification_id is not None:
        stmt = stmt.where(t.c.id == notification_id)
    done = _session().execute(stmt).rowcount
    _session().commit()
    return int(done)


def owns(user_id: int, notification_id: int) -> Any:
    t = _table()
    return _session().execute(sa.select(t).where(t.c.id == notification_id, t.c.user_id == user_id)).mappings().first()


class NotificationsView(BaseView):
    route_base = "/crm/notifications"
    default_view = "index"
    class_permission_name = VIEW
    base_permissions = ["can_read", "can_write"]
    method_permission_name = {"index": "read", "open": "write", "read_one": "write", "read_all": "write"}

    @expose("/")
    @has_access
    def index(self) -> Any:
        lang = current_lang()
        return self.render_template("crm/notifications.html", items=mine(acting_user_id() or 0),
                                    ui={k: v.get(lang) for k, v in UI.items()})

    @expose("/<int:notification_id>/open", methods=["POST"])
    @has_access
    def open(self, notification_id: int) -> Any:
        row = owns(acting_user_id() or 0, notification_id)
        if row is None:
            abort(404)
        mark_read(acting_user_id() or 0, notification_id)
        return redirect(as_json(row)["url"] or "/crm/notifications/")

    @expose("/<int:notification_id>/read", methods=["POST"])
    @has_access
    def read_one(self, notification_id: int) -> Any:
        if owns(acting_user_id() or 0, notification_id) is None:
            abort(404)
        mark_read(acting_user_id() or 0, notification_id)
        return redirect("/crm/notifications/")

    @expose("/read", methods=["POST"])
    @has_access
    def read_all(self) -> Any:
        mark_read(acting_user_id() or 0, None)
        return redirect("/crm/notifications/")


class NotificationsApi(CrmApi):
    resource_name = "notifications"
    class_permission_name = VIEW
    base_permissions = ["can_read", "can_write"]
    method_permission_name = {"list_notifications": "read", "read_notification": "write"}
    allow_browser_login = True
    openapi_spec_tag = "Notifications"

    @api_expose("/", methods=["GET"])
    @protect()
    @safe
    @permission_name("list_notifications")
    def list_notifications(self) -> Any:
        """The signed-in user's notifications, newest first (at most 100), and how many are unread.
        ---
        get:
          parameters:
          - {in: query, name: unread, required: false, schema: {type: string, enum: ["0", "1"]}}
          responses:
            200:
              description: "{unread, result: [notification]}"
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      unread: {type: integer}
                      result:
                        type: array
                        items:
                          type: object
                          properties:
                            id: {type: integer}
                            kind: {type: string}
                            rule: {type: string, nullable: true}
                            entity: {type: string, nullable: true}
                            record_id: {type: integer, nullable: true}
                            message: {type: string}
                            url: {type: string, nullable: true}
                            created_on: {type: string}
                            created_local: {type: string}
                            read: {type: boolean}
            400:
              $ref: '#/components/responses/400'
            401:
              $ref: '#/components/responses/401'
        """
        unread = request.args.get("unread", "0")
        if unread not in ("0", "1"):
            return self.response_400(message={"unread": ["0 or 1"]})
        user_id = acting_user_id() or 0
        return self.response(200, unread=unread_count(user_id), result=mine(user_id, unread == "1"))

    @api_expose("/<int:notification_id>/read", methods=["POST"])
    @protect()
    @safe
    @permission_name("read_notification")
    def read_notification(self, notification_id: int) -> Any:
        """Mark one of my notifications read.
        ---
        post:
          parameters:
          - {in: path, name: notification_id, required: true, schema: {type: integer}}
          responses:
            200:
              description: "{unread}: how many are still unread"
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      unread: {type: integer}
            401:
              $ref: '#/components/responses/401'
            404:
              $ref: '#/components/responses/404'
        """
        user_id = acting_user_id() or 0
        if owns(user_id, notification_id) is None:
            return self.response_404()
        mark_read(user_id, notification_id)
        return self.response(200, unread=unread_count(user_id))


def bell() -> dict[str, Any]:
    """`crm_unread()` for the top bar: counted only when the bar is drawn, for a signed-in user."""
    def count() -> int:
        user = getattr(g, "user", None)
        if user is None or not user.is_authenticated:
            return 0
        user_id = int(user.id)  # from memory until a notification is written or read (no statement a page)
        return current_app.extensions["crm"].notice_cache.get(("unread", user_id), lambda: unread_count(user_id))

    return {"crm_unread": count, "crm_notifications_label": UI["title"].get(current_lang())}


def register_notifications(appbuilder: AppBuilder) -> None:
    appbuilder.add_view_no_menu(NotificationsView)
    appbuilder.add_api(NotificationsApi)
    current_app.context_processor(bell)
