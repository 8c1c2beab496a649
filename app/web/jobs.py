"""The jobs page (/crm/jobs/) and GET /api/v1/jobs/<id>: a user sees their own jobs, Admin all.

Every signed-in role holds `can_read`/`can_write` on `jobs` (app/security/sync.py
SELF_SERVICE); which job a user may see, cancel or retry is decided here, by owner.
Files a job made (an import's error report, an export) download from
/crm/jobs/<id>/file/<name> under the same rule.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, request, send_file
from flask_appbuilder import AppBuilder, BaseView, expose, has_access
from flask_appbuilder.api import expose as api_expose
from flask_appbuilder.api import safe
from flask_appbuilder.security.decorators import permission_name, protect

from app.i18n import _t
from app.jobs import JobRow, JobStore, cancel, job_store, retry
from app.jobs.queue import stale_seconds
from app.models.actor import acting_user_id
from app.security.access import current_access

from .crmapi import CrmApi
from .labels import current_lang, lazy
from .record_page import local_stamp
from .report_export import XLSX_MIME

JOBS_VIEW = "jobs"
TITLE = _t("Jobs")
UI = {
    "title": TITLE, "state": _t("State"),
    "job": _t("Job"), "progress": _t("Progress"),
    "result": _t("Result"), "created": _t("Started"),
    "retry": _t("Retry"), "cancel": _t("Cancel"),
    "none": _t("No jobs yet."), "user": _t("User"),
    # a job's state as the page says it (the API's `state` stays the lowercase key)
    "queued": _t("Queued", "job state"), "running": _t("Running", "job state"),
    "done": _t("Done", "job state"), "failed": _t("Failed", "job state"),
    "cancelled": _t("Cancelled", "job state"),
    "retried": _t("Job queued again."),
    "not_retried": _t("Only a failed, cancelled or stalled job can be retried."),
    "cancel_asked": _t("Cancel requested."),
}
# What a job's result counts and the files it made are called on the page (import, revert, export);
# the keys are the result's, which the page printed as they are ("created 3" on a zh page).
RESULT_WORDS = {
    "created": _t("created"), "updated": _t("updated"), "unchanged": _t("unchanged"),
    "duplicate": _t("duplicate"), "rejected": _t("rejected"), "deleted": _t("deleted"),
    "restored": _t("restored"), "refused": _t("refused"),
    "errors": _t("Error report"), "export": _t("Export"),
}


def visible_job(job_id: int) -> JobRow | None:
    """The job when the current user may see it (their own; Admin: any), else None (a 404)."""
    store = job_store()
    row = store.get(job_id)
    if row is None:
        return None
    if not current_access().is_admin and row.user_id != acting_user_id():
        return None
    return settled(store, row)


def settled(store: JobStore, row: JobRow) -> JobRow:
    """The job as it stands: one whose worker died (no sign of life for CRM_JOB_STALE_SECONDS)
    is marked failed, saying so, as soon as someone looks (it can then be retried or reverted)."""
    if row.stale(stale_seconds(current_app)) and store.mark_lost(row.id, stale_seconds(current_app)):
        return store.get(row.id) or row
    return row


def job_file(row: JobRow, name: str) -> Path | None:
    """A file the job's result names (`result.files[name]`), inside CRM_FILES_DIR."""
    files = (row.result or {}).get("files") or {}
    relative = files.get(name)
    if not relative:
        return None
    root = Path(current_app.config["CRM_FILES_DIR"]).resolve()
    path = (root / relative).resolve()
    return path if path.is_relative_to(root) and path.is_file() else None


def job_json(row: JobRow) -> dict[str, Any]:
    body = row.as_json(current_lang(), stale_seconds(current_app))
    body["files"] = {name: f"/crm/jobs/{row.id}/file/{name}" for name in ((row.result or {}).get("files") or {})}
    body["state_label"] = UI[row.state].get(current_lang()) if row.state in UI else row.state
    return body


class JobsView(BaseView):
    route_base = "/crm/jobs"
    default_view = "index"
    class_permission_name = JOBS_VIEW
    base_permissions = ["can_read", "can_write"]
    method_permission_name = {"index": "read", "file": "read", "retry_job": "write", "cancel_job": "write"}

    @expose("/")
    @has_access
    def index(self) -> Any:
        admin = current_access().is_admin
        store = job_store()
        rows = [settled(store, r) for r in store.recent(None if admin else acting_user_id())]
        lang = current_lang()
        jobs = [job_json(r) for r in rows]
        if admin:  # whose job it is, by login
            user = current_app.extensions["crm"].models.user_model
            ids = {r.user_id for r in rows} - {None}
            names = dict(current_app.extensions["crm"].db.session.execute(
                sa.select(user.id, user.username).where(user.id.in_(ids))).all()) if ids else {}
            for job in jobs:
                job["user"] = names.get(job["user_id"], "")
        return self.render_template("crm/jobs.html", jobs=jobs, admin=admin, crm_local_stamp=local_stamp,
                                    ui={k: v.get(lang) for k, v in UI.items()},
                                    words={k: v.get(lang) for k, v in RESULT_WORDS.items()},
                                    api=current_app.config["CRM_API_PREFIX"] + "/jobs/")

    @expose("/<int:job_id>/file/<name>")
    @has_access
    def file(self, job_id: int, name: str) -> Any:
        row = visible_job(job_id)
        path = job_file(row, name) if row is not None else None
        if path is None:
            abort(404)
        mimetype = XLSX_MIME if path.suffix == ".xlsx" else "text/csv"
        return send_file(path, mimetype=mimetype, as_attachment=True, download_name=path.name)

    @expose("/<int:job_id>/retry", methods=["POST"])
    @has_access
    def retry_job(self, job_id: int) -> Any:
        if visible_job(job_id) is None:
            abort(404)
        ok = retry(job_id)
        flash(str(UI["retried" if ok else "not_retried"].get(current_lang())), "success" if ok else "warning")
        return redirect(request.referrer or "/crm/jobs/")

    @expose("/<int:job_id>/cancel", methods=["POST"])
    @has_access
    def cancel_job(self, job_id: int) -> Any:
        if visible_job(job_id) is None:
            abort(404)
        cancel(job_id)
        flash(str(UI["cancel_asked"].get(current_lang())), "info")
        return redirect(request.referrer or "/crm/jobs/")


class JobsApi(CrmApi):
    resource_name = "jobs"
    class_permission_name = JOBS_VIEW
    base_permissions = ["can_read", "can_write"]
    method_permission_name = {"list_jobs": "read", "get_job": "read", "cancel_job": "write", "retry_job": "write"}
    allow_browser_login = True
    openapi_spec_tag = "Jobs"

    @api_expose("/", methods=["GET"])
    @protect()
    @safe
    @permission_name("list_jobs")
    def list_jobs(self) -> Any:
        """The user's jobs, newest first (Admin: everyone's).
        ---
        get:
          responses:
            200:
              description: "{result: [job]}"
        """
        admin = current_access().is_admin
        store = job_store()
        rows = store.recent(None if admin else acting_user_id())
        return self.response(200, result=[job_json(settled(store, r)) for r in rows])

    @api_expose("/<int:job_id>", methods=["GET"])
    @protect()
    @safe
    @permission_name("get_job")
    def get_job(self, job_id: int) -> Any:
        """A job's state and progress, for polling.
        ---
        get:
          parameters:
          - {in: path, name: job_id, required: true, schema: {type: integer}}
          responses:
            200:
              description: "{id, kind, title, state, done, total, counts, result, error, files}"
            404:
              description: No such job, or another user's
        """
        row = visible_job(job_id)
        if row is None:
            return self.response_404()
        return self.response(200, **job_json(row))

    @api_expose("/<int:job_id>/cancel", methods=["POST"])
    @protect()
    @safe
    @permission_name("cancel_job")
    def cancel_job(self, job_id: int) -> Any:
        """Ask a job to stop (a queued one at once, a running one at its next row).
        ---
        post:
          parameters:
          - {in: path, name: job_id, required: true, schema: {type: integer}}
          responses:
            200:
              description: The job
            404:
              description: No such job, or another user's
            409:
              description: The job has finished
        """
        if visible_job(job_id) is None:
            return self.response_404()
        if cancel(job_id) is None:
            return self.response(409, message="the job has finished")
        return self.response(200, **job_json(visible_job(job_id)))  # type: ignore[arg-type]

    @api_expose("/<int:job_id>/retry", methods=["POST"])
    @protect()
    @safe
    @permission_name("retry_job")
    def retry_job(self, job_id: int) -> Any:
        """Run a failed, cancelled or stalled job again (it resumes where it can).
        ---
        post:
          parameters:
          - {in: path, name: job_id, required: true, schema: {type: integer}}
          responses:
            200:
              description: The job, queued again
            404:
              description: No such job, or another user's
            409:
              description: The job is queued, running or done
        """
        if visible_job(job_id) is None:
            return self.response_404()
        if not retry(job_id):
            return self.response(409, message=str(UI["not_retried"].get(current_lang())))
        return self.response(200, **job_json(visible_job(job_id)))  # type: ignore[arg-type]


def register_jobs(appbuilder: AppBuilder) -> None:
    appbuilder.add_view(JobsView, JOBS_VIEW, label=lazy(TITLE), icon="fa-tasks")
    appbuilder.add_api(JobsApi)
