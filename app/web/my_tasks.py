"""My tasks (/crm/my_tasks/) and the home-page widget: the open tasks assigned to the
signed-in user, in the entities automations.yaml `reminders:` names, grouped by due time
in the CRM's time zone: overdue, today, this week (to Sunday), later (or no due time).

Only the user's own tasks (assignee = me), open ones (done hidden), and only records the
user's role may read (the scoped layer). The widget's counts are one statement per task
entity (a CASE per group), whatever the number of tasks.

A task with a `done` field gets a Done button: an update of that one field through the record
commands as the user (update scope, field rules, gates; the change's event and history as any
edit), the outcome flashed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import abort, current_app, flash, g, redirect
from flask_appbuilder import AppBuilder, BaseView, expose, has_access

from app.automations.reminders import ReminderSpec, open_tasks
from app.i18n import _t
from app.models.events import utcnow
from app.records.commands import CommandError, FieldErrors, UpdateRecord
from app.security.access import current_access
from app.security.scoped import Records

from .context import request_record_context
from .labels import current_lang, label_value, lazy

VIEW = "my_tasks"
GROUPS = ("overdue", "today", "week", "later")
LIMIT = 200
TITLE = _t("My tasks")
UI = {
    "title": _t("My tasks"), "overdue": _t("Overdue"),
    "today": _t("Today"), "week": _t("This week"),
    "later": _t("Later"), "none": _t("Nothing to do."),
    "due": _t("Due"), "all": _t("All my tasks"),
    "done": _t("Done", "task"), "marked": _t("Marked done"),
}


def bounds(now: dt.datetime, timezone: str) -> tuple[dt.datetime, dt.datetime, dt.datetime]:
    """(now, start of tomorrow, start of next Monday) in naive UTC, days counted in the CRM's zone."""
    zone = ZoneInfo(timezone or "UTC")
    local = now.replace(tzinfo=dt.UTC).astimezone(zone)
    tomorrow = dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time(), zone)
    monday = dt.datetime.combine(local.date() + dt.timedelta(days=7 - local.weekday()), dt.time(), zone)
    return now, *(t.astimezone(dt.UTC).replace(tzinfo=None) for t in (tomorrow, monday))


def _group(due: Any, now: dt.datetime, tomorrow: dt.datetime, monday: dt.datetime) -> Any:
    return sa.case((due.is_(None), "later"), (due < now, "overdue"), (due < tomorrow, "today"),
                   (due < monday, "week"), else_="later")


class TaskQuery:
    """The signed-in user's open tasks of one task entity, as the scoped layer lets them read."""

    def __init__(self, spec: ReminderSpec, user_id: int, now: dt.datetime | None = None):
        state = current_app.extensions["crm"]
        self.spec, self.user_id = spec, user_id
        self.entity = state.spec.entity(spec.entity)
        self.model = state.models.model(spec.entity)
        self.records = Records(current_access(), state.models, spec.entity)
        self.due = getattr(self.model, self.entity.field(spec.due).column_name)
        self.bounds = bounds(now or utcnow(), state.spec.timezone)
        self.group = _group(self.due, *self.bounds).label("group")

    def where(self, stmt: Any) -> Any:
        mine = getattr(self.model, self.entity.field(self.spec.assignee).column_name) == self.user_id
        return self.records.where(stmt.where(mine, open_tasks(self.model, self.entity, self.spec)), "read")

    def counts(self, session: Any) -> dict[str, int]:
        rows = session.execute(self.where(sa.select(self.group, sa.func.count()).select_from(self.model))
                               .group_by(self.group)).all()
        return {group: int(n) for group, n in rows}

    def rows(self, session: Any) -> list[dict[str, Any]]:
        title = getattr(self.model, self.entity.field(self.entity.title_field).column_name)
        stmt = self.where(sa.select(self.model.id, title, self.due, self.group).select_from(self.model))
        zone = ZoneInfo(current_app.extensions["crm"].spec.timezone or "UTC")
        found = []
        for pk, text, due, group in session.execute(stmt.order_by(self.due.is_(None), self.due, self.model.id)
                                                    .limit(LIMIT)).all():
            local = due.replace(tzinfo=dt.UTC).astimezone(zone) if due is not None else None
            found.append({"id": pk, "title": text or f"#{pk}", "group": group, "entity": self.spec.entity,
                          "due": f"{local:%Y-%m-%d %H:%M}" if local else "", "url": f"/crm/{self.spec.entity}/show/{pk}"})
        finishable = self.finishable(session, [row["id"] for row in found])
        for row in found:
            row["can_finish"] = row["id"] in finishable
        return found

    def finishable(self, session: Any, ids: list[int]) -> set[int]:
        """Which of `ids` the user may mark done: one statement for the page (the update scope)."""
        if not ids or not self.can_finish:
            return set()
        stmt = self.records.where(sa.select(self.model.id).where(self.model.id.in_(ids)), "update")
        return set(session.scalars(stmt))

    @property
    def can_finish(self) -> bool:
        """Whether the Done button is offered: the entity has a done field the user may write (the
        record's own update scope is the command's to check)."""
        access = current_access()
        return self.spec.done is not None and (
            access is None or (access.scope(self.entity.name, "update") != "no"
                               and access.writable(self.entity, self.spec.done)))


def task_entities() -> list[ReminderSpec]:
    """The task entities the user's role may read."""
    state = current_app.extensions["crm"]
    access = current_access()
    return [r for r in state.spec.reminders if access is None or access.scope(r.entity, "read") != "no"]


def my_tasks(user_id: int) -> dict[str, list[dict[str, Any]]]:
    session = current_app.extensions["crm"].db.session
    grouped: dict[str, list[dict[str, Any]]] = {name: [] for name in GROUPS}
    for spec in task_entities():
        for row in TaskQuery(spec, user_id).rows(session):
            grouped[row["group"]].append(row)
    return grouped


def my_task_counts(user_id: int) -> dict[str, int]:
    session = current_app.extensions["crm"].db.session
    totals = dict.fromkeys(GROUPS, 0)
    for spec in task_entities():
        for group, n in TaskQuery(spec, user_id).counts(session).items():
            totals[group] += n
    return totals


def widget() -> dict[str, Any] | None:
    """The home page's box: counts per group and the labels (None: no task entity, or signed out)."""
    user = getattr(g, "user", None)
    if user is None or not user.is_authenticated or not current_app.extensions["crm"].spec.reminders:
        return None
    lang = current_lang()
    return {"counts": my_task_counts(int(user.id)), "ui": {k: v.get(lang) for k, v in UI.items()},
            "groups": GROUPS}


class MyTasksView(BaseView):
    route_base = "/crm/my_tasks"
    default_view = "index"
    class_permission_name = VIEW
    base_permissions = ["can_read"]
    method_permission_name = {"index": "read", "finish": "read"}

    @expose("/")
    @has_access
    def index(self) -> Any:
        lang = current_lang()
        return self.render_template("crm/my_tasks.html", groups=GROUPS, tasks=my_tasks(int(g.user.id)),
                                    ui={k: v.get(lang) for k, v in UI.items()})

    @expose("/<entity>/<int:pk>/done", methods=["POST"])
    @has_access
    def finish(self, entity: str, pk: int) -> Any:
        """Mark one task done (its `done` field true), as an edit by the user would."""
        spec = next((r for r in task_entities() if r.entity == entity and r.done is not None), None)
        if spec is None:
            abort(404)
        state, lang = current_app.extensions["crm"], current_lang()
        session = state.db.session
        records = Records(current_access(), state.models, entity)
        record = records.get(session, pk, "read")
        if record is None:
            abort(404)
        entity_spec = state.spec.entity(entity)
        title = records.titles(session, [pk], lang)[pk]
        try:
            UpdateRecord(request_record_context(session), entity, record, {spec.done: True}).run()
        except FieldErrors as exc:
            session.rollback()
            flash(label_value(str(title), exc.text(entity_spec, lang), lang), "danger")
        except CommandError as exc:
            session.rollback()
            flash(label_value(str(title), str(exc), lang), "danger")
        else:
            flash(label_value(UI["marked"].get(lang), str(title), lang), "success")
        return redirect(f"{self.route_base}/")


def register_my_tasks(appbuilder: AppBuilder) -> None:
    appbuilder.add_view(MyTasksView, VIEW, label=lazy(TITLE), icon="fa-check-square-o")
    current_app.context_processor(lambda: {"crm_task_widget": widget})
