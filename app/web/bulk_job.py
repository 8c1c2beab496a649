"""Run bulk work (app/records/bulk.py) now or, above CRM_BULK_JOB_ROWS records, as a job.

The screen and the API both land here with the chosen ids: small selections run in
the request and answer with the per-row outcome; large ones are enqueued (kind
`bulk`) and run as the user in a worker, with progress on the jobs page and the
outcome (per-row failures with titles and reasons) stored as the job's result.
"""

from __future__ import annotations

from typing import Any

from flask import current_app

from app.i18n import _t
from app.jobs import JobContext, enqueue, job_handler
from app.jobs.acting import record_context
from app.metadata.spec import EntitySpec
from app.models.actor import acting_user_id
from app.records.bulk import BulkOutcome, BulkRecords
from app.records.payload import values_from_payload

from .labels import current_lang, in_each_language

BULK_KIND = "bulk"
MAX_FAILURES_KEPT = 1000  # a job's result keeps the first failures; the count says how many in all
TITLE = {"update": _t("Bulk update"),
         "reassign": _t("Bulk reassign"),
         "delete": _t("Bulk delete")}


def job_threshold() -> int:
    """Records above which bulk work runs as a job (CRM_BULK_JOB_ROWS; 0 = never)."""
    value = current_app.config.get("CRM_BULK_JOB_ROWS")
    return 200 if value is None else int(value)


def max_rows() -> int:
    """The most records "all matching the filter" may take (CRM_BULK_MAX_ROWS)."""
    return int(current_app.config.get("CRM_BULK_MAX_ROWS") or 50_000)


def bulk_command(ctx: Any, entity: EntitySpec, action: str, ids: list[int], raw_values: dict[str, Any] | None,
                 owner: Any) -> BulkRecords:
    """The command, with `raw_values` parsed like a form or API write (errors by field)."""
    values, errors = values_from_payload(entity, raw_values or {}, ctx.lang) if action == "update" else ({}, {})
    return BulkRecords(ctx, entity.name, action, ids, values, errors, owner)


def start_bulk(entity: EntitySpec, action: str, ids: list[int], raw_values: dict[str, Any] | None,
               owner: Any) -> int:
    """Enqueue bulk work as the current user (already validated once in the request)."""
    lang = current_lang()
    payload = {"entity": entity.name, "action": action, "ids": ids, "values": raw_values or {},
               "owner": owner, "lang": lang}
    title = in_each_language(lambda lang: f"{TITLE[action].get(lang)} {entity.plural.get(lang)} ({len(ids)})")
    return enqueue(BULK_KIND, payload, user_id=acting_user_id(), title=title)


def kept(outcome: BulkOutcome) -> dict[str, Any]:
    body = outcome.as_json()
    body["failed_count"] = len(outcome.failed)
    body["failed"] = body["failed"][:MAX_FAILURES_KEPT]
    body["ids"] = body["ids"][:MAX_FAILURES_KEPT]
    return body


@job_handler(BULK_KIND)
def run_bulk(job: JobContext) -> dict[str, Any]:
    payload = job.payload
    state = job.app.extensions["crm"]
    entity = state.spec.entity(payload["entity"])
    ctx = record_context(job.app, job.user_id, payload.get("lang"))
    command = bulk_command(ctx, entity, payload["action"], list(payload["ids"]), payload.get("values"),
                           payload.get("owner"))
    outcome = command.run(progress=lambda done, total, failed: job.progress(done, total, failed=failed),
                          cancelled=job.cancelled)
    return {"entity": entity.name, **kept(outcome)}
