"""/crm/automations/record/<entity>/<id>: for one record and a trigger kind, which rules
would fire, which are skipped and why, and what each action would do, without doing it
(app/automations/whatif.py). For the roles that may read the automations page (Admin);
the record is read through the scoped layer (404 when out of scope).
"""

from __future__ import annotations

import json
from typing import Any

from flask import abort, current_app, request
from flask_appbuilder import AppBuilder, BaseView, expose, has_access

from app.automations.whatif import KINDS, which_rules
from app.automations.words import ACTIONS, TRIGGERS, word
from app.i18n import _t, in_lang
from app.security.access import current_access
from app.security.scoped import Records

from .automation_log import VIEW
from .labels import current_lang

HIDDEN = ("user_ids", "record_id", "label")
UI = {
    "title": _t("Which rules would fire"),
    "kind": _t("Judge against"), "go": _t("Show"),
    "last": _t("its last change"), "created": _t("as if just created"),
    "deleted": _t("as if deleted"), "time": _t("time rules, now"),
    "fires": _t("would fire"), "skipped": _t("skipped"),
    "none": _t("No rule of this kind watches this entity."),
    "note": _t("Nothing is done: this is what the rules would do."),
    "back": _t("Back to the record"),
}


class RuleCheckView(BaseView):
    route_base = "/crm/automations/record"
    class_permission_name = VIEW
    base_permissions = ["can_read"]
    method_permission_name = {"record": "read"}

    @expose("/<entity>/<int:pk>")
    @has_access
    def record(self, entity: str, pk: int) -> Any:
        state = current_app.extensions["crm"]
        if entity not in state.spec.entity_map:
            abort(404)
        found = Records(current_access(), state.models, entity).get(state.db.session, pk)
        if found is None:
            abort(404)
        kind = request.args.get("kind", "last")
        if kind not in KINDS:
            abort(400)
        lang = current_lang()
        title = str(getattr(found, state.spec.entity(entity).field(state.spec.entity(entity).title_field).column_name,
                            "") or f"#{pk}")
        verdicts = which_rules(current_app, entity, found, kind)
        for verdict in verdicts:  # each planned action as readable JSON (ids the plan carries left out)
            verdict["reason"] = in_lang(verdict.get("reason"), lang)
            verdict["trigger"] = word(TRIGGERS, verdict.get("trigger"), lang)
            for action in verdict.get("actions", []):
                action["label"] = word(ACTIONS, action.get("action"), lang)
            verdict["shown"] = [json.dumps({k: v for k, v in a.items() if k not in HIDDEN}, ensure_ascii=False,
                                           default=str) for a in verdict.get("actions", [])]
        return self.render_template("crm/rule_check.html", entity=state.spec.entity(entity), pk=pk, title=title,
                                    kind=kind, kinds=KINDS, verdicts=verdicts, lang=lang,
                                    ui={k: v.get(lang) for k, v in UI.items()})


def register_rule_check(appbuilder: AppBuilder) -> None:
    appbuilder.add_view_no_menu(RuleCheckView)
