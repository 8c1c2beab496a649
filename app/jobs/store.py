"""The crm_job table, read and written in short transactions of their own.

Job state is written on the engine, never on the ORM session of the work the job
does: a progress update commits at once (the page polling it sees it), and a
rolled-back row of an import never takes the job's state with it.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from app.metadata.spec import Text
from app.models.events import utcnow

STATES = ("queued", "running", "done", "failed", "cancelled")
FINISHED = ("done", "failed", "cancelled")


@dataclass
class JobRow:
    """One job as read from crm_job, JSON columns decoded."""

    id: int
    kind: str
    title: Any
    state: str
    payload: dict[str, Any]
    result: dict[str, Any] | None
    error: str | None
    done: int
    total: int | None
    counts: dict[str, Any]
    cancel_requested: bool
    user_id: int | None
    created_on: dt.datetime
    started_on: dt.datetime | None
    finished_on: dt.datetime | None
    heartbeat_on: dt.datetime | None
    attempts: int

    def title_text(self, lang: str | None = None) -> str:
        if isinstance(self.title, dict):
            return Text.of(self.title).get(lang)
        return str(self.title or self.kind)

    def stale(self, seconds: float, now: dt.datetime | None = None) -> bool:
        """A running job whose worker gave no sign of life for `seconds` (killed, host lost)."""
        if self.state != "running":
            return False
        last = self.heartbeat_on or self.started_on or self.created_on
        return ((now or utcnow()) - last).total_seconds() > seconds

    def as_json(self, lang: str | None = None, stale_seconds: float | None = None) -> dict[str, Any]:
        def stamp(v: dt.datetime | None) -> str | None:
            return v.isoformat() if v is not None else None

        return {"id": self.id, "kind": self.kind, "title": self.title_text(lang), "state": self.state,
                "done": self.done, "total": self.total, "counts": self.counts, "result": self.result,
                "error": self.error, "cancel_requested": self.cancel_requested, "user_id": self.user_id,
                "created_on": stamp(self.created_on), "started_on": stamp(self.started_on),
                "finished_on": stamp(self.finished_on), "attempts": self.attempts,
                "stale": bool(stale_seconds is not None and self.stale(stale_seconds))}


def _loads(text: str | None, default: Any) -> Any:
    return json.loads(text) if text else default


def _title(title: Any) -> str | None:
    if isinstance(title, Text):
        return json.dumps(dict(title.values), ensure_ascii=False)
    return None if title is None else str(title)


def _read_title(text: str | None) -> Any:
    if text and text.startswith("{"):
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


class JobStore:
    """crm_job on one engine."""

    def __init__(self, engine: sa.Engine, table: sa.Table):
        self.engine, self.table = engine, table

    def _row(self, row: Any) -> JobRow:
        m = row._mapping
        return JobRow(id=m["id"], kind=m["kind"], title=_read_title(m["title"]), state=m["state"],
                      payload=_loads(m["payload"], {}), result=_loads(m["result"], None), error=m["error"],
                      done=m["done"] or 0, total=m["total"], counts=_loads(m["counts"], {}),
                      cancel_requested=bool(m["cancel_requested"]), user_id=m["user_id"],
                      created_on=m["created_on"], started_on=m["started_on"], finished_on=m["finished_on"],
                      heartbeat_on=m["heartbeat_on"], attempts=m["attempts"] or 0)

    def create(self, kind: str, payload: dict[str, Any], user_id: int | None, title: Any) -> int:
        with self.engine.begin() as conn:
            result = conn.execute(sa.insert(self.table).values(
                kind=kind, title=_title(title), state="queued", payload=json.dumps(payload, ensure_ascii=False),
                done=0, counts="{}", cancel_requested=False, user_id=user_id, created_on=utcnow(), attempts=0))
            return int(result.inserted_primary_key[0])  # type: ignore[index]

    def get(self, job_id: int) -> JobRow | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(self.table).where(self.table.c.id == job_id)).first()
        return self._row(row) if row is not None else None

    def recent(self, user_id: int | None = None, limit: int = 100) -> list[JobRow]:
        """Newest first; `user_id` None = everyone's (Admin)."""
        stmt = sa.select(self.table).order_by(self.table.c.id.desc()).limit(limit)
        if user_id is not None:
            stmt = stmt.where(self.table.c.user_id == user_id)
        with self.engine.connect() as conn:
            return [self._row(r) for r in conn.execute(stmt)]

    def in_states(self, *states: str) -> list[JobRow]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(self.table).where(self.table.c.state.in_(states)).order_by(self.table.c.id))
            return [self._row(r) for r in rows]

    def _update(self, job_id: int, where: Any = None, **values: Any) -> bool:
        stmt = sa.update(self.table).where(self.table.c.id == job_id)
        if where is not None:
            stmt = stmt.where(where)
        with self.engine.begin() as conn:
            return conn.execute(stmt.values(**values)).rowcount == 1

    def start(self, job_id: int) -> bool:
        """Claim a queued job for this worker; False when another took it or it was cancelled."""
        now = utcnow()
        return self._update(job_id, self.table.c.state == "queued", state="running", started_on=now,
                            heartbeat_on=now, finished_on=None, attempts=self.table.c.attempts + 1)

    def progress(self, job_id: int, done: int, total: int | None, counts: dict[str, Any]) -> None:
        with self.engine.begin() as conn:
            conn.execute(self.progress_statement(job_id, done, total, counts))

    def progress_statement(self, job_id: int, done: int, total: int | None, counts: dict[str, Any]) -> Any:
        """The progress update as a statement, for a job that writes it in a transaction of its own
        work (an import's batch: the bar then counts only what committed); it returns whether a
        cancel was asked, so the job learns it without a query of its own."""
        values: dict[str, Any] = {"done": done, "heartbeat_on": utcnow(), "counts": json.dumps(counts)}
        if total is not None:
            values["total"] = total
        return (sa.update(self.table).where(self.table.c.id == job_id).values(**values)
                .returning(self.table.c.cancel_requested))

    def cancel_requested(self, job_id: int) -> bool:
        with self.engine.connect() as conn:
            return bool(conn.scalar(sa.select(self.table.c.cancel_requested).where(self.table.c.id == job_id)))

    def finish(self, job_id: int, state: str, result: dict[str, Any] | None, error: str | None = None) -> None:
        self._update(job_id, state=state, finished_on=utcnow(), error=error,
                     result=json.dumps(result, ensure_ascii=False, default=str) if result is not None else None)

    def request_cancel(self, job_id: int) -> str | None:
        """Ask a job to stop: a queued one is cancelled at once, a running one at its next check."""
        if self._update(job_id, self.table.c.state == "queued", state="cancelled", cancel_requested=True,
                        finished_on=utcnow()):
            return "cancelled"
        if self._update(job_id, self.table.c.state == "running", cancel_requested=True):
            return "running"
        return None

    def requeue(self, job_id: int, stale_seconds: float) -> bool:
        """Put a failed, cancelled or stale running job back in the queue (its handler resumes)."""
        row = self.get(job_id)
        if row is None or not (row.state in ("failed", "cancelled") or row.stale(stale_seconds)):
            return False
        return self._update(job_id, self.table.c.state == row.state, state="queued", error=None,
                            finished_on=None, cancel_requested=False)

    def requeue_lost(self, row: JobRow, stale_seconds: float, now: dt.datetime | None = None) -> bool:
        """A running job still as the sweep read it (no sign of life since): queued again."""
        if not row.stale(stale_seconds, now):
            return False
        return self._update(row.id, sa.and_(self.table.c.state == "running", self._same_beat(row)), state="queued",
                            error=None, finished_on=None, cancel_requested=False)

    def give_up(self, row: JobRow, state: str, reason: str) -> bool:
        """A lost job, still in the state (and heartbeat) the sweep read: failed or cancelled, saying why."""
        return self._update(row.id, sa.and_(self.table.c.state == row.state, self._same_beat(row)), state=state,
                            finished_on=utcnow(), error=reason[:2000])

    def _same_beat(self, row: JobRow) -> Any:
        column = self.table.c.heartbeat_on
        return column.is_(None) if row.heartbeat_on is None else column == row.heartbeat_on

    def mark_lost(self, job_id: int, stale_seconds: float) -> bool:
        """A running job whose worker died: failed, saying so (it can be retried)."""
        row = self.get(job_id)
        if row is None or not row.stale(stale_seconds):
            return False
        last = row.heartbeat_on or row.started_on
        return self._update(job_id, self.table.c.state == "running", state="failed", finished_on=utcnow(),
                            error=f"worker lost: no sign of life since {last:%Y-%m-%d %H:%M:%S} UTC")
