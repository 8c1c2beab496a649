"""The effective-access page (Security > Effective access), for admins."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, request
from flask_appbuilder import AppBuilder, BaseView, expose, has_access

from app.i18n import _t
from app.security.access import access_for
from app.security.explain import explain

from .labels import current_lang, lazy
from .paging import is_record_id

TITLE = _t("Effective access")


class AccessView(BaseView):
    route_base = "/crm/access"
    default_view = "index"
    class_permission_name = "access_explainer"
    base_permissions = ["can_read"]
    method_permission_name = {"index": "read"}

    @expose("/")
    @has_access
    def index(self) -> Any:
        state = current_app.extensions["crm"]
        sm = self.appbuilder.sm
        username = request.args.get("user", "").strip()
        entity = request.args.get("entity", "").strip()
        record_id = request.args.get("id", "").strip()
        answers, user, error = [], None, ""
        if username:
            user = sm.find_user(username=username)
            error = "" if user is not None else f"no user {username!r}"
        if user is not None:
            names = [entity] if entity else [e.name for e in state.spec.entities]
            if entity and entity not in state.spec.entity_map:
                abort(404)
            pk = int(record_id) if is_record_id(record_id) else None
            access = access_for(user)
            for name in names:
                record = state.db.session.get(state.models.model(name), pk) if pk is not None else None
                answers.append(explain(access, state.spec, name, record, pk))
        users = [u.username for u in sm.get_all_users()]
        return self.render_template("crm/access.html", users=users, spec=state.spec, answers=answers,
                                    user=user, username=username, entity=entity, record_id=record_id,
                                    error=error, lang=current_lang(), title=TITLE.get(current_lang()))


def register_access_view(appbuilder: AppBuilder) -> None:
    appbuilder.add_view(AccessView, "access_explainer", label=lazy(TITLE), icon="fa-key", category="Security")
