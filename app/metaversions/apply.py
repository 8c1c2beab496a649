"""Apply a set of metadata files as the next version: check, plan, apply, record, write back.

The one path for every change of metadata in force: the web editor (source "web"),
`crm apply` (source "files"), rollbacks. Nothing is applied when the files have
problems (located like `crm validate`, paths relative to the metadata root), when the
base is not the version in force (a conflict, with the difference), or when a step
would lose data or the data does not fit (refused, saying what). `dry_run` is the plan.
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.exc import IntegrityError

from app.metadata.loader import load_metadata
from app.metadata.problems import Problem
from app.metadata.spec import CrmSpec
from app.models import build_models
from app.models.statement_timeout import unbounded
from app.schema.apply import PlanRefused, apply_plan
from app.schema.plan import Change, Plan, make_plan

from . import store
from .files import Files, bad_path, files_digest, read_tree, unified_diff, write_tree
from .live import announce
from .revisions import metadata_head

_PROCESS_LOCK = threading.Lock()
_PG_LOCK_KEY = 0x6D657461  # "meta": one apply at a time across processes (PostgreSQL)


@dataclass
class ApplyResult:
    problems: list[Problem] = field(default_factory=list)
    conflict: dict[str, str] | None = None
    changes: list[dict[str, Any]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    version_id: int | None = None
    write_back_skipped: str | None = None
    revision: str | None = None  # the schema revision written, if any
    notes: list[str] = field(default_factory=list)  # data given up with allow_destructive (rollback)

    @property
    def ok(self) -> bool:
        return not (self.problems or self.conflict or self.refused)

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["problems"] = [{"path": p.path.as_posix(), "line": p.line, "code": p.code, "message": p.message,
                             "hint": p.hint, "text": p.format()} for p in self.problems]
        return data


def check_files(files: Files) -> tuple[CrmSpec | None, list[Problem]]:
    """Load the files like `crm validate` does; problems located relative to the metadata root."""
    problems = [Problem("CRM-E080", Path(name), 0, f"file name '{name}' {why}",
                        "name metadata files like crm.yaml or entities/lead.yaml")
                for name in files if (why := bad_path(name))]
    if problems:
        return None, problems
    with tempfile.TemporaryDirectory(prefix="crm-version-") as tmp:
        root = Path(tmp).resolve()
        write_tree(root, files, previous={})
        spec, found = load_metadata(root)
    return spec, [_relative(p, root) for p in found]


def _relative(problem: Problem, root: Path) -> Problem:
    try:
        path = problem.path.relative_to(root)
    except ValueError:
        return problem
    return Problem(problem.code, path, problem.line, problem.message, problem.hint)


def describe_changes(plan: Plan) -> list[dict[str, Any]]:
    return [{"kind": c.kind, "table": c.table, "column": c.column, "describe": c.describe().strip(),
             "destructive": c.destructive, "rows_affected": c.rows, "blocked": c.blocked or None}
            for c in plan.changes]


def refusals(plan: Plan, allow_destructive: bool, removed: Callable[[Change], bool] | None = None) -> list[str]:
    """Steps that cannot run: data that does not fit (always), and, without
    allow_destructive, data a step would drop. A field removed from the files is kept with
    its data (`keep_column`); one this edit removes through the web (`removed` says which:
    it was in the version in force) is a drop to confirm. Columns kept from earlier removals
    stay kept, and do not stop an unrelated save."""
    out = [c.describe().strip() for c in plan.changes if c.blocked]
    if allow_destructive:
        return out
    for c in plan.changes:
        if c.destructive and not c.kind.startswith("keep_"):
            out.append(f"{_where(c)}: {c.describe().strip()}")
        elif removed and c.kind in ("keep_column", "keep_table") and c.rows and removed(c):
            what = "values" if c.kind == "keep_column" else "rows"
            out.append(f"removing {_where(c)} drops its data: {c.rows} {what} would be lost "
                       "(confirm to drop it, allow_destructive)")
    return out


def removed_by_edit(app: Flask, current: store.MetadataVersion | None) -> Callable[[Change], bool]:
    """Is a kept table or column one the version in force declares (so this edit removes it)?"""
    if current is None:
        return lambda c: False
    if app.extensions.get("crm_version") == current.id:
        models = app.extensions["crm"].models
    else:
        spec, _ = check_files(current.files)
        if spec is None:
            return lambda c: True
        models = build_models(spec)
    declared = {t.name: {col.name for col in t.columns} for t in models.metadata.tables.values()}
    return lambda c: c.table in declared and (c.column is None or c.column in declared[c.table])


def _where(c: Change) -> str:
    return f"{c.table}.{c.column}" if c.column else c.table


@contextmanager
def apply_lock(engine: sa.Engine) -> Iterator[None]:
    """One apply at a time: in this process, and on PostgreSQL across processes and hosts."""
    with _PROCESS_LOCK:
        if engine.dialect.name != "postgresql":
            yield
            return
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": _PG_LOCK_KEY})
            try:
                yield
            finally:
                conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_LOCK_KEY})


def conflict_with(engine: sa.Engine, base_id: int | None,
                  current: store.MetadataVersion | None) -> dict[str, str] | None:
    """None when `base_id` is the version in force; else the difference base -> in force."""
    if (current.id if current else None) == base_id:
        return None
    base = store.get(engine, base_id) if base_id is not None else None
    return unified_diff(base.files if base else {}, current.files if current else {},
                        f"version-{base_id}", f"version-{current.id if current else 'none'}") or \
        {"": f"version {base_id} is not the version in force ({current.id if current else 'none'})"}


def apply_files(app: Flask, files: dict[str, str], *, base_id: int | None, author: str, message: str,
                source: str = "web", allow_destructive: bool = False, dry_run: bool = False,
                write_back: bool = True) -> ApplyResult:
    """Check, plan and (unless dry_run) apply `files` as the version after `base_id`.
    Schema work: without the web processes' statement timeout (app/web/readtimeout.py)."""
    with app.app_context(), unbounded():
        return _apply_files(app, files, base_id=base_id, author=author, message=message, source=source,
                            allow_destructive=allow_destructive, dry_run=dry_run, write_back=write_back)


def _apply_files(app: Flask, files: dict[str, str], *, base_id: int | None, author: str, message: str,
                 source: str, allow_destructive: bool, dry_run: bool, write_back: bool) -> ApplyResult:
    engine = app.extensions["crm"].db.engine
    files = dict(files)
    current = store.current(engine)
    conflict = conflict_with(engine, base_id, current)
    if conflict:
        return ApplyResult(conflict=conflict)
    spec, problems = check_files(files)
    if problems or spec is None:
        return ApplyResult(problems=problems)
    models = build_models(spec)
    if dry_run:
        with engine.connect() as conn:
            plan = make_plan(conn, models)
        return ApplyResult(changes=describe_changes(plan), refused=refusals(
            plan, allow_destructive, removed_by_edit(app, current) if source != "files" else None))
    with apply_lock(engine):
        current = store.current(engine)  # again, under the lock: a save that came first wins
        conflict = conflict_with(engine, base_id, current)
        if conflict:
            return ApplyResult(conflict=conflict)
        result = _apply(app, models, files, current, author=author, message=message, source=source,
                        allow_destructive=allow_destructive)
    if result.version_id is not None and result.version_id != (current.id if current else None):
        after_apply(app, current.files if current else {}, files)
        announce(app, result.version_id)
        if write_back:
            result.write_back_skipped = write_back_files(app, current, files)
    return result


def _apply(app: Flask, models: Any, files: Files, current: store.MetadataVersion | None, *, author: str,
           message: str, source: str, allow_destructive: bool) -> ApplyResult:
    engine = app.extensions["crm"].db.engine
    versions = Path(app.config["CRM_MIGRATIONS_DIR"])
    with engine.connect() as conn:
        plan = make_plan(conn, models)
    removed = removed_by_edit(app, current) if source != "files" else None
    result = ApplyResult(changes=describe_changes(plan), refused=refusals(plan, allow_destructive, removed))
    if result.refused:
        return result
    parent_id = current.id if current else None
    recorded: list[int] = []

    def record_with_schema(conn: sa.Connection, revision: str, path: Path) -> None:
        """In the revision's own transaction: no process sees the new schema without its version."""
        recorded.append(store.record(conn, files, parent_id=parent_id, author=author, message=message, source=source,
                                     revisions={path.name: path.read_text(encoding="utf-8")},
                                     schema_revision=revision))
    try:
        applied = apply_plan(engine, models, versions, allow_destructive, before_commit=record_with_schema)
    except PlanRefused as exc:
        result.refused = list(exc.reasons)
        return result
    except IntegrityError:  # another host recorded a version on the same base meanwhile: nothing applied
        return _lost_race(engine, files, result)
    result.revision = applied.revision
    if recorded:
        result.version_id = recorded[0]
        return result
    if current is not None and files_digest(files) == current.digest:
        result.version_id = current.id  # the same files, nothing new to record
        return result
    try:
        with engine.begin() as conn:
            result.version_id = store.record(conn, files, parent_id=parent_id, author=author, message=message,
                                             source=source, schema_revision=metadata_head(conn))
    except IntegrityError:
        return _lost_race(engine, files, result)
    return result


def _lost_race(engine: sa.Engine, files: Files, result: ApplyResult) -> ApplyResult:
    latest = store.current(engine)
    result.conflict = unified_diff(files, latest.files if latest else {}, "yours", "in-force")
    result.revision = None
    return result


def write_back_files(app: Flask, base: store.MetadataVersion | None, files: Files) -> str | None:
    """Write the new files into CRM_METADATA_DIR when it holds exactly the base version
    (never over a consultant's edit not applied yet); else say why not."""
    root = Path(app.config["CRM_METADATA_DIR"])
    if not root.is_dir():
        return f"{root} is not a folder: run `flask crm export-metadata` where the files live"
    disk = read_tree(root)
    if disk == files:
        return None
    if base is None or disk != base.files:
        changed = sorted(unified_diff(base.files if base else {}, disk))
        return (f"{root} holds edits that are not a version ({', '.join(changed) or 'other files'}): "
                "not written; apply or discard them, then `flask crm export-metadata`")
    write_tree(root, files, previous=disk)
    return None


def after_apply(app: Flask, before: Files, after: Files) -> None:
    """What a new version needs besides the schema: FAB permissions for new entities,
    dashboards or roles (`crm sync` on an app built on the new version)."""
    if not needs_permission_sync(before, after):
        return
    from app.security.sync import sync_permissions

    from .build import build_app

    new = build_app(app)
    try:
        with new.app_context():
            sync_permissions(new.extensions["crm"].appbuilder)
    finally:
        dispose(new)


def needs_permission_sync(before: Files, after: Files) -> bool:
    """Permissions follow entities, dashboards, menus and roles, not fields."""
    def key(files: Files) -> tuple[Any, ...]:
        return (sorted(n for n in files if n.startswith("entities/")),
                *(files.get(n) for n in ("roles.yaml", "dashboards.yaml", "crm.yaml")))
    return key(before) != key(after)


def dispose(app: Flask) -> None:
    with app.app_context():
        state = app.extensions["crm"]
        state.db.session.remove()
        state.db.engine.dispose()
