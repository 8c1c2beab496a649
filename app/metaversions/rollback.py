"""Roll back to an earlier version: its schema through app/schema/rollback.py, its files as a new version.

The database goes back by running the downgrade of every revision written since that
version (with the same data checks as `crm rollback`: data a dropped column holds is
refused unless allow_destructive, values that do not fit the old type always). What the
downgrades leave different from the version's files (a version whose revision was itself
undone before) is planned and applied forward. Then the version's files are recorded as
the next version (source "rollback"): history only grows.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask

from app.models import build_models
from app.models.statement_timeout import unbounded
from app.schema.apply import PlanRefused, apply_plan, is_metadata_revision, script_directory
from app.schema.plan import Change, make_plan
from app.schema.rollback import RollbackRefused, rollback

from . import store
from .apply import (
    ApplyResult,
    after_apply,
    apply_lock,
    check_files,
    describe_changes,
    refusals,
    removed_by_edit,
    write_back_files,
)
from .live import announce
from .revisions import metadata_head


def rollback_to(app: Flask, version_id: int, *, author: str, allow_destructive: bool = False,
                dry_run: bool = False, write_back: bool = True) -> ApplyResult:
    with app.app_context(), unbounded():  # schema work: no web statement timeout (app/web/readtimeout.py)
        engine = app.extensions["crm"].db.engine
        target = store.get(engine, version_id)
        if target is None:
            return ApplyResult(refused=[f"there is no metadata version {version_id}"])
        spec, problems = check_files(target.files)
        if problems or spec is None:  # e.g. a plugin's field type it used is gone
            return ApplyResult(problems=problems)
        with apply_lock(engine):
            current = store.current(engine)
            result = _roll_back(app, build_models(spec), target, current, author=author,
                                allow_destructive=allow_destructive, dry_run=dry_run)
        if result.version_id is not None and current is not None and result.version_id != current.id:
            after_apply(app, current.files, target.files)
            announce(app, result.version_id)
            if write_back:
                result.write_back_skipped = write_back_files(app, current, target.files)
        return result


def undo_path(engine: sa.Engine, versions: Path, to: str | None) -> list[str] | None:
    """Revisions to undo, newest first, to get back to revision `to` (None: before any);
    None when `to` is not behind the database's head (it was undone already: go forward)."""
    script = script_directory(versions)
    with engine.connect() as conn:
        head = metadata_head(conn)
    if head is None:
        return [] if to is None else None
    chain = [r.revision for r in script.iterate_revisions(head, "base") if is_metadata_revision(script, r.revision)]
    if to is None:
        return chain
    return chain[:chain.index(to)] if to in chain else None


def _roll_back(app: Flask, models: Any, target: store.MetadataVersion, current: store.MetadataVersion | None, *,
               author: str, allow_destructive: bool, dry_run: bool) -> ApplyResult:
    engine = app.extensions["crm"].db.engine
    versions = Path(app.config["CRM_MIGRATIONS_DIR"])
    if current is not None and current.id == target.id:
        return ApplyResult(version_id=current.id)
    undo = undo_path(engine, versions, target.schema_revision) or []
    result = ApplyResult(changes=[{"kind": "undo_revision", "table": None, "column": None,
                                   "describe": f"undo revision {r} (its downgrade, data checked first)",
                                   "destructive": False, "rows_affected": None, "blocked": None} for r in undo])
    # First as a dry run (checks, and the plan on the database as the downgrades leave it),
    # so that a refusal leaves the database as it was; then for real.
    plan = _undo_and_plan(engine, versions, models, target, undo, allow_destructive, result,
                          removed_by_edit(app, current))
    if plan is None or dry_run or result.refused:
        return result
    forward = plan.pending or (allow_destructive and bool(plan.changes))
    recorded: list[int] = []

    def record(conn: sa.Connection, revision: str | None = None, path: Path | None = None) -> None:
        """In the migration's own transaction: the schema and its version commit together."""
        recorded.append(store.record(
            conn, target.files, parent_id=current.id if current else None, author=author,
            message=f"rollback to version {target.id}", source="rollback",
            revisions={path.name: path.read_text(encoding="utf-8")} if path else {},
            schema_revision=revision or metadata_head(conn)))
    try:
        if undo:
            done = rollback(engine, models, versions, target.schema_revision or "base", allow_destructive,
                            inspect=None if forward else record)
            result.notes = done.notes
        if forward:
            applied = apply_plan(engine, models, versions, allow_destructive, before_commit=record)
            result.revision = applied.revision
        if not recorded:
            with engine.begin() as conn:
                record(conn)
    except (RollbackRefused, PlanRefused) as exc:  # the data changed since the check
        result.refused = list(exc.reasons)
        return result
    result.version_id = recorded[0]
    return result


def _undo_and_plan(engine: sa.Engine, versions: Path, models: Any, target: store.MetadataVersion, undo: list[str],
                   allow_destructive: bool, result: ApplyResult, removed: Callable[[Change], bool]) -> Any:
    """Check the undo (a dry run) and plan what is left after it; None when refused."""
    planned: list[Any] = []
    if undo:
        try:
            done = rollback(engine, models, versions, target.schema_revision or "base", allow_destructive,
                            dry_run=True, inspect=lambda conn: planned.append(make_plan(conn, models)))
        except RollbackRefused as exc:
            result.refused = list(exc.reasons)
            return None
        result.notes = done.notes
    else:
        with engine.connect() as conn:
            planned.append(make_plan(conn, models))
    plan = planned[0]
    result.changes += describe_changes(plan)
    result.refused = refusals(plan, allow_destructive, removed)
    return plan
