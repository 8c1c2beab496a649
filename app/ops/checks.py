"""The checks behind /health: each answers ok or what is wrong, fast, and never raises.

Error details go to the log, not to the (unauthenticated) answer: a load balancer needs to
know *that* the database is unreachable, a stranger need not learn its address."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask

log = logging.getLogger("crm.health")


@dataclass
class Check:
    ok: bool
    problem: str = ""
    detail: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"ok": self.ok, **self.detail}
        if self.problem:
            out["problem"] = self.problem
        return out


def _failed(name: str, exc: BaseException) -> Check:
    log.warning("health: %s check failed: %s", name, exc)
    return Check(False, f"{name} unreachable ({type(exc).__name__})")


def database_check(app: Flask) -> tuple[Check, set[str] | None, dict[str, Any] | None]:
    """One round trip: the Alembic heads and the metadata version in force (app/metaversions)."""
    engine = app.extensions["crm"].db.engine
    started = time.perf_counter()
    try:
        with engine.connect() as conn:
            heads = {r[0] for r in conn.execute(sa.text("SELECT version_num FROM alembic_version"))}
            row = conn.execute(sa.text(
                "SELECT v.id AS version, v.digest, s.revision FROM crm_metadata_version v "
                "LEFT JOIN (SELECT revision FROM crm_schema_version ORDER BY id DESC LIMIT 1) s ON 1 = 1 "
                "ORDER BY v.id DESC LIMIT 1")).mappings().first()
    except Exception as exc:  # noqa: BLE001 - any failure is an answer, not a crash
        return _failed("database", exc), None, None
    ms = round((time.perf_counter() - started) * 1000, 1)
    return Check(True, detail={"ms": ms, "dialect": engine.dialect.name}), heads, dict(row) if row else None


def redis_check(app: Flask, min_workers: int) -> tuple[Check, Check]:
    """Redis answers a PING; the rq workers on the crm queue are counted (rq's heartbeat keys)."""
    url = app.config.get("REDIS_URL")
    if not url:
        skipped = {"configured": False}
        return Check(True, detail=skipped), Check(True, detail={**skipped, "mode": "in-process threads"})
    from redis import Redis

    from app.jobs.queue import QUEUE_NAME

    try:
        connection = Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        connection.ping()
        alive = alive_workers(connection, QUEUE_NAME)
    except Exception as exc:  # noqa: BLE001
        return _failed("redis", exc), Check(False, "workers unknown (redis unreachable)")
    workers = Check(alive >= min_workers, detail={"alive": alive, "required": min_workers})
    if not workers.ok:
        workers.problem = f"{alive} rq worker(s) alive on queue '{QUEUE_NAME}', {min_workers} required"
    return Check(True, detail={"configured": True}), workers


def alive_workers(connection: Any, queue_name: str) -> int:
    """Workers registered on the queue whose heartbeat key has not expired: a worker killed
    with -9 stays in rq's set until someone cleans it, but its key lapses within its TTL."""
    from rq import Queue
    from rq.worker_registration import get_keys

    keys = sorted(get_keys(queue=Queue(queue_name, connection=connection)))
    if not keys:
        return 0
    pipe = connection.pipeline()
    for key in keys:
        pipe.exists(key)
    return sum(1 for found in pipe.execute() if found)


def migrations_check(app: Flask, heads: set[str] | None) -> Check:
    """Revisions in the history (core and metadata files) the database has not run.

    Worked out once per process for each state of the revision folders (their mtimes: a new
    file) and of the database's heads, then remembered: a load balancer polls often, and the
    answer cannot change while neither does. In the usual case (the database at the heads the
    files name) it comes from the files' text, without Alembic (app/schema/quickcheck.py)."""
    if heads is None:
        return Check(False, "migrations unknown (database unreachable)")
    from app.schema import CORE_VERSIONS

    versions = Path(app.config["CRM_MIGRATIONS_DIR"])
    key = (str(versions), _mtime(versions), _mtime(CORE_VERSIONS), frozenset(heads))
    answer = _answers.get(key)
    if answer is None:
        answer = _current_by_text([CORE_VERSIONS, versions], heads) or _by_history(versions, heads)
        if len(_answers) >= ANSWERS_KEPT:
            _answers.clear()  # (one atomic step: another request thread may be reading it)
        _answers[key] = answer
    return Check(answer.ok, answer.problem, dict(answer.detail))


ANSWERS_KEPT = 16
_answers: dict[tuple[str, float, float, frozenset[str]], Check] = {}


def _current_by_text(folders: list[Path], heads: set[str]) -> Check | None:
    """Nothing pending when the database stands at the files' heads (every revision leads to
    one); None when it does not, or a file is unclear: Alembic's history decides then."""
    from app.schema.quickcheck import file_revisions, heads_of

    revisions = file_revisions(folders)
    if revisions is None or heads_of(revisions) != heads:
        return None
    metadata = {r.revision for r in revisions if r.metadata}
    return Check(True, detail={"core": next((h for h in heads if h not in metadata), None), "pending": []})


def _by_history(versions: Path, heads: set[str]) -> Check:
    from app.schema.apply import is_metadata_revision, script_directory

    script = script_directory(versions)
    try:
        done: set[str] = set()
        for rev in heads:
            done.update(r.revision for r in script.iterate_revisions(rev, "base"))
    except Exception as exc:  # noqa: BLE001 - a revision the files do not know (CRM-E030)
        log.warning("health: migrations: %s", exc)
        return Check(False, "the database is at a revision this deployment's files do not have")
    pending = [r.revision for r in script.walk_revisions() if r.revision not in done][::-1]
    core = next((h for h in heads if not is_metadata_revision(script, h)), None)
    check = Check(not pending, detail={"core": core, "pending": pending})
    if pending:
        check.problem = f"{len(pending)} revision(s) not run: {', '.join(pending)} (run `flask crm upgrade`)"
    return check


def metadata_check(app: Flask, recorded: dict[str, Any] | None, db_ok: bool) -> Check:
    """The metadata this process serves is the version in force in the database (a process
    follows a new version within seconds: app/metaversions/live.py)."""
    serving = app.extensions.get("crm_version")
    if not db_ok:
        return Check(False, "metadata version unknown (database unreachable)", {"serving": serving})
    in_force = recorded["version"] if recorded else None
    check = Check(serving == in_force, detail={
        "serving": serving, "in_force": in_force, "digest": recorded["digest"] if recorded else None,
        "revision": recorded["revision"] if recorded else None})
    if not check.ok:
        check.problem = f"this process serves metadata version {serving}, the one in force is {in_force or 'none'}"
    return check


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


JOBS_CHECK_SECONDS = 15.0  # a load balancer polls often: crm_job and Redis are read at most this often
JOBS_SEEN = "crm_health_jobs"  # kept on the app: a dict keyed by id(app) let a new app at a collected one's address read its counts


def jobs_check(app: Flask, required: bool) -> Check:
    """Jobs a killed worker or a Redis loss left queued or running (what `flask crm jobs sweep`
    would act on: app/jobs/sweep.py). Counted always; a problem only when asked (`?jobs=1`):
    the sweep runs every minute (tick) and at each worker's maintenance, so a count that stays
    above 0 says no sweep runs."""
    from app.jobs.sweep import find_lost

    seen = app.extensions.get(JOBS_SEEN)
    if seen is None or time.monotonic() - seen[0] > JOBS_CHECK_SECONDS:
        try:
            lost = find_lost(app)
        except Exception as exc:  # noqa: BLE001
            log.warning("health: jobs check failed: %s", exc)
            return Check(not required, "jobs unknown (crm_job or Redis unreadable)" if required else "")
        counts = {"stuck": len(lost), "stuck_queued": sum(1 for item in lost if item.job.state == "queued"),
                  "stuck_running": sum(1 for item in lost if item.job.state == "running")}
        seen = app.extensions[JOBS_SEEN] = (time.monotonic(), counts)
    check = Check(not (required and seen[1]["stuck"]), detail=dict(seen[1]))
    if not check.ok:
        check.problem = f"{seen[1]['stuck']} job(s) stuck: run `flask crm jobs sweep` (is the tick running?)"
    return check
