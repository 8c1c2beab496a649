"""`flask crm upgrade`: bring a live database to this release, with a rehearsal first.

Order: the product's own core revisions, the metadata revision files the database has not
run (from git), then a new metadata revision for what the metadata on disk still changes.
The pre-flight runs all of that inside a transaction it rolls back (PostgreSQL and SQLite
both roll DDL back), so what it reports is what will happen, and a blocked or destructive
change, a revision this release does not know (a database from a newer release), broken
metadata or an unreachable database refuse the upgrade before anything is changed."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command

from app.metadata.problems import MetadataError
from app.models import ModelSet
from app.schema.apply import (
    MissingRevision,
    alembic_config,
    apply_plan,
    database_revisions,
    is_metadata_revision,
    migration_transaction,
    pending_revisions,
    run_upgrade,
    script_directory,
)
from app.schema.plan import make_plan

from .version import core_head, product_version


class _Rehearsed(Exception):
    """Raised inside the rehearsal's transaction so that it rolls back."""


@dataclass
class Preflight:
    lines: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    core: list[str] = field(default_factory=list)
    revisions: list[str] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def pending(self) -> bool:
        return bool(self.core or self.revisions or self.changes)


def build_models(settings: dict[str, Any]) -> ModelSet:
    """The models of the metadata on disk, without building the app (whose start-up may read
    tables an older database does not have yet)."""
    from app.metadata.loader import load_spec
    from app.models import build_models as build
    from app.plugins.manager import load_plugins

    load_plugins(settings)
    return build(load_spec(settings["CRM_METADATA_DIR"]))


def preflight(engine: sa.Engine, settings: dict[str, Any], allow_destructive: bool) -> tuple[Preflight, Any]:
    report = Preflight([f"MetaCRM {product_version()}, core revision head {core_head()}"])
    try:
        models = build_models(settings)
    except MetadataError as exc:
        report.failures.append(f"the metadata has problems:\n{exc}")
        return report, None
    versions = Path(settings["CRM_MIGRATIONS_DIR"])
    try:
        pending = pending_revisions(engine, versions)
    except MissingRevision as exc:
        report.failures.append(f"the database is at a revision this release does not have "
                               f"(a newer release, or a missing revision file):\n{exc}")
        return report, models
    except sa.exc.OperationalError as exc:
        report.failures.append(f"database unreachable: {exc.orig}")
        return report, models
    script = script_directory(versions)
    report.core = [r for r in pending if not is_metadata_revision(script, r)]
    report.revisions = [r for r in pending if is_metadata_revision(script, r)]
    with engine.connect() as conn:
        now = sorted(database_revisions(conn, script))
    report.lines.append(f"database ({engine.dialect.name}) at revisions: {', '.join(now) or 'none (empty)'}")
    report.lines += [f"core revision to run: {r}" for r in report.core]
    report.lines += [f"metadata revision to run: {r}" for r in report.revisions]
    rehearse(engine, versions, models, report, allow_destructive)
    if not report.pending and report.ok:
        report.lines.append("nothing to upgrade: the database is current")
    return report, models


def rehearse(engine: sa.Engine, versions: Path, models: ModelSet, report: Preflight,
             allow_destructive: bool) -> None:
    """Run the pending revisions and plan the metadata changes in a transaction, then roll back."""
    try:
        with migration_transaction(engine) as conn:
            cfg = alembic_config(versions)
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "heads")
            plan = make_plan(conn, models)
            raise _Rehearsed(plan)
    except _Rehearsed as done:
        plan = done.args[0]
    except Exception as exc:  # noqa: BLE001 - a revision that fails in rehearsal refuses the upgrade
        report.failures.append(f"a pending revision fails (rehearsal rolled back): {type(exc).__name__}: {exc}")
        return
    for change in plan.changes:
        if change.kind.startswith("keep_"):
            continue
        report.changes.append(change.describe())
        report.lines.append(f"metadata change: {change.describe()}")
        if change.blocked:
            report.failures.append(f"the data cannot take this change: {change.describe()}")
        elif change.destructive and not allow_destructive:
            report.failures.append(f"drops data, needs --allow-destructive: {change.describe()}")


def upgrade(engine: sa.Engine, settings: dict[str, Any], models: ModelSet, allow_destructive: bool) -> list[str]:
    """Run it for real (after a passing pre-flight): core and pending revisions, then the metadata."""
    versions = Path(settings["CRM_MIGRATIONS_DIR"])
    done = [f"ran revision {r}" for r in pending_revisions(engine, versions)]
    run_upgrade(engine, versions, "heads")
    applied = apply_plan(engine, models, versions, allow_destructive)
    if applied.revision:
        done.append(f"applied metadata revision {applied.revision} ({applied.path})")
    return done
