"""Undo an import, updates included, as a job.

The import's log (crm_import_row) holds the id of each record it created and the old
values of each field it changed, with the record version it left. A revert deletes
the created records and writes the old values back, through the record commands as
the reverting user, but refuses (and lists) every record changed since the import:
its version moved on, so someone's later work would be lost.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from app.jobs import JobContext, JobRow, job_handler, job_store
from app.jobs.acting import record_context
from app.records.commands import CommandError, DeleteRecord, FieldErrors, UpdateRecord
from app.records.payload import values_from_payload

from .messages import text
from .run import IMPORT_KIND, import_tables

REVERT_KIND = "import_revert"
UNDOABLE = ("created", "updated")


def _pending(log: sa.Table, import_id: int) -> Any:
    return sa.select(log).where(log.c.job_id == import_id, log.c.outcome.in_(UNDOABLE), log.c.reverted.is_(False))


def revert_refusal(session: Any, log: sa.Table, job: JobRow, lang: str | None) -> str | None:
    """Why this import cannot be reverted now (None: it can)."""
    if job.kind != IMPORT_KIND:
        return text("not_import", lang, id=job.id)
    if job.state in ("queued", "running"):
        return text("still_running", lang)
    has_any = session.scalar(sa.select(sa.func.count()).select_from(log).where(
        log.c.job_id == job.id, log.c.outcome.in_(UNDOABLE)))
    pending = session.scalar(sa.select(sa.func.count()).select_from(_pending(log, job.id).subquery()))
    session.rollback()
    if has_any and not pending:
        return text("reverted_already", lang)
    return None


def _mark(session: Any, log: sa.Table, line_id: int) -> None:
    """Mark a log line reverted in the session's transaction: the command's commit takes it along."""
    session.execute(sa.update(log).where(log.c.id == line_id).values(reverted=True))


def revert_line(ctx: Any, entity: Any, model: Any, log: sa.Table, line: Any) -> str | None:
    """Undo one logged row; the reason it was refused, or None when undone."""
    session, lang = ctx.session, ctx.lang
    record = session.get(model, line.record_id)
    if record is None:
        if line.outcome == "created":  # deleted since: nothing left to undo
            _mark(session, log, line.id)
            session.commit()
            return None
        return text("gone", lang)
    if record.version != line.version:
        return text("changed_since", lang, now=record.version, then=line.version)
    _mark(session, log, line.id)
    try:
        if line.outcome == "created":
            DeleteRecord(ctx, entity.name, record, version=line.version).run()
        else:
            old = json.loads(line.data or "{}").get("old", {})
            values, errors = values_from_payload(entity, old, lang)
            UpdateRecord(ctx, entity.name, record, values, errors, version=line.version).run()
    except FieldErrors as exc:
        session.rollback()
        return exc.text(entity, lang)
    except CommandError as exc:
        session.rollback()
        return str(exc)
    return None


@job_handler(REVERT_KIND, resumable=True)  # reverted rows are marked
def run_revert(job: JobContext) -> dict[str, Any]:
    """The revert job: payload {import_job, lang}."""
    lang = job.payload.get("lang")
    import_id = int(job.payload["import_job"])
    imported = job_store(job.app).get(import_id)
    if imported is None or imported.kind != IMPORT_KIND:
        raise LookupError(text("not_import", lang, id=import_id))
    ctx = record_context(job.app, job.user_id, lang)
    entity = ctx.entity(imported.payload["plan"]["entity"])
    model = ctx.models.model(entity.name)
    log = import_tables(job.app)
    lines = list(ctx.session.execute(_pending(log, import_id).order_by(log.c.row.desc())))
    ctx.session.rollback()
    counts = {"deleted": 0, "restored": 0, "refused": 0}
    refused: list[dict[str, Any]] = []
    for done, line in enumerate(lines, start=1):
        reason = revert_line(ctx, entity, model, log, line)
        if reason is None:
            counts["deleted" if line.outcome == "created" else "restored"] += 1
        else:
            counts["refused"] += 1
            refused.append({"row": line.row, "record_id": line.record_id, "outcome": line.outcome, "reason": reason})
        if done % 20 == 0 or done == len(lines):
            job.progress(done, len(lines), **counts)
            if job.cancelled():
                break
    refused.sort(key=lambda item: item["row"])
    return {"import_job": import_id, "entity": entity.name, "counts": counts, "refused": refused[:1000]}
