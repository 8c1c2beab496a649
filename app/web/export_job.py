"""Exports above CRM_EXPORT_JOB_ROWS run as a job writing a CSV or XLSX file to download when done.

The same query as the streamed export (the list's filters, the user's export scope,
the fields the user may see) and the same writers (app/web/export.py, export_xlsx.py), run as the user
in a worker, in the language recorded when it was queued (`reading_as`: filters, search, the
collated order, headers and labels as that user reads them); the file lands in
CRM_FILES_DIR/exports and downloads from the jobs page.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flask import current_app, request

from app.i18n import _t
from app.jobs import JobContext, enqueue, job_handler
from app.models.actor import acting_user_id
from app.security.access import current_access

from .datamodel import CrmInterface
from .export import csv_chunks, export_columns
from .export_xlsx import write_xlsx
from .filtering import add_checked_filter, search_filter_for
from .filterops import plain_value
from .labels import current_lang, in_each_language, reading_as

EXPORT_KIND = "export"
DEFAULT_THRESHOLD = 10_000
TITLE = _t("Export")


def export_threshold() -> int:
    """Rows above which an export runs as a job (CRM_EXPORT_JOB_ROWS; 0 = never)."""
    value = current_app.config.get("CRM_EXPORT_JOB_ROWS")
    return DEFAULT_THRESHOLD if value is None else int(value)


def too_big(query: Any) -> bool:
    limit = export_threshold()
    return bool(limit) and query.order_by(None).limit(limit + 1).count() > limit


def export_format() -> str:
    """The file the export asks for: `?format=xlsx`, else CSV."""
    return "xlsx" if request.args.get("format", "").strip().lower() == "xlsx" else "csv"


def start_export(entity: Any, filters: Any, order: tuple[str, str], fmt: str = "csv",
                 columns: list[str] | None = None) -> int:
    """Enqueue an export of `entity` with FAB `filters` (checked already) as the current user;
    `columns`: the fields asked for (checked already), else every field the user may see."""
    items = [[flt.column_name, flt.arg_name, plain_value(value)]
             for flt, value in zip(filters.filters, filters.values, strict=True)]
    lang = current_lang()
    payload = {"entity": entity.name, "filters": json.loads(json.dumps(items, default=str)), "order": list(order),
               "lang": lang, "format": fmt, "columns": columns or None}
    return enqueue(EXPORT_KIND, payload, user_id=acting_user_id(), title=in_each_language(
        lambda lang: f"{TITLE.get(lang)} {entity.plural.get(lang)}"))


@job_handler(EXPORT_KIND)
def run_export(job: JobContext) -> dict[str, Any]:
    with reading_as(job.payload.get("lang") or "en"):  # the requester's language: a worker has no request
        return _export(job)


def _export(job: JobContext) -> dict[str, Any]:
    app, payload = job.app, job.payload
    state = app.extensions["crm"]
    entity = state.spec.entity(payload["entity"])
    access = current_access()  # the job's user (set by the runner)
    if access.scope(entity.name, "export") == "no":
        raise PermissionError(f"no export scope on {entity.name}")
    model = state.models.model(entity.name)
    session = state.db.session
    datamodel = CrmInterface(model, session=session)
    search = {entity.title_field: [search_filter_for(entity, state.models)]} if entity.title_field != "id" else {}
    filters = datamodel.get_filters([f.name for f in entity.fields if f.type != "links"], search)
    for column, opr, value in payload["filters"]:
        add_checked_filter(filters, entity, column, opr, value)
    order_column, order_direction = payload.get("order") or ("", "")
    query = datamodel.apply_all(session.query(model), filters, order_column, order_direction)
    query = access.records(state.models, entity.name).where(query, "export")
    hidden = access.hidden_fields(entity)
    refused = [name for name in payload.get("columns") or [] if name in hidden]
    if refused:  # a field hidden from the user since the export was asked for
        raise PermissionError(f"field(s) no longer visible: {', '.join(refused)}")
    columns = export_columns(entity, hidden, payload.get("columns"))
    total = query.order_by(None).count()
    fmt = "xlsx" if payload.get("format") == "xlsx" else "csv"
    relative = Path("exports") / f"job-{job.job_id}-{entity.name}.{fmt}"
    path = Path(app.config["CRM_FILES_DIR"]) / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    lang = current_lang()
    if fmt == "xlsx":
        written = write_xlsx(query, columns, lang, str(path), entity.plural.get(lang),
                             lambda n: job.progress(n, total), job.cancelled)
        return {"entity": entity.name, "rows": written, "format": fmt, "files": {"export": str(relative)}}
    with path.open("w", encoding="utf-8", newline="") as out:
        for chunk in csv_chunks(query, columns, lang, lambda n: job.progress(n, total)):
            out.write(chunk)
            if job.cancelled():
                break
    return {"entity": entity.name, "rows": total, "format": fmt, "files": {"export": str(relative)}}
