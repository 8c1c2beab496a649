"""The automations page (/crm/automations/): the rules in force and the run log, for Admin.

The run log is `crm_delivery`: each rule that fired, was skipped (and why) or failed
(and why), each plugin hook that failed, each e-mail and webhook with its attempts,
state and last answer. Only Admin holds `can_read` on `automations`.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_appbuilder import AppBuilder, BaseView, expose, has_access

from app.automations.words import ACTIONS, STATES, TRIGGERS, word
from app.i18n import _t

from .labels import current_lang, lazy
from .record_page import local_stamp

VIEW = "automations"
TITLE = _t("Automations")
UI = {
    "rules": _t("Rules"), "log": _t("Run log"),
    "rule": _t("Rule"), "entity": _t("Entity"),
    "trigger": _t("Trigger"), "action": _t("Action"),
    "state": _t("State"), "reason": _t("Reason"),
    "record": _t("Record"), "when": _t("When"),
    "attempts": _t("Attempts"), "none": _t("Nothing yet."),
    "off": _t("off"),
}
LIMIT = 200


def run_log(limit: int = LIMIT) -> list[dict[str, Any]]:
    state = current_app.extensions["crm"]
    log, event = state.models.core["crm_delivery"], state.models.core["crm_event"]
    rows = state.db.session.execute(
        sa.select(log, event.c.entity, event.c.record_id).outerjoin(event, event.c.id == log.c.event_id)
        .order_by(log.c.id.desc()).limit(limit)).mappings().all()
    return [dict(r) for r in rows]


class AutomationLogView(BaseView):
    route_base = "/crm/automations"
    default_view = "index"
    class_permission_name = VIEW
    base_permissions = ["can_read"]
    method_permission_name = {"index": "read"}

    @expose("/")
    @has_access
    def index(self) -> Any:
        lang = current_lang()
        spec = current_app.extensions["crm"].spec
        return self.render_template("crm/automations.html", rules=spec.automations, log=run_log(), lang=lang,
                                    title=UI["rules"].get(lang), crm_local_stamp=local_stamp,
                                    ui={k: v.get(lang) for k, v in UI.items()},
                                    entity_label=lambda name: spec.entity(name).label.get(lang)
                                    if name in spec.entity_map else name or "",
                                    trigger=lambda code: word(TRIGGERS, code, lang),
                                    action=lambda code: word(ACTIONS, code, lang),
                                    state_label=lambda code: word(STATES, code, lang))


def register_automation_log(appbuilder: AppBuilder) -> None:
    appbuilder.add_view(AutomationLogView, VIEW, label=lazy(TITLE), icon="fa-bolt", category="Security")
