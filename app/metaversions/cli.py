"""The command-line side of metadata versions: `crm apply` from the files (with the guard
against undoing web edits), `crm init` recording the first version, `crm rollback`
recording the version it went back to, and `crm export-metadata`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click
import sqlalchemy as sa
from flask import Flask
from flask.cli import with_appcontext

from . import store
from .apply import apply_files
from .files import read_tree, unified_diff, write_tree
from .revisions import folder_revisions, metadata_head
from .startup import files_state, record_files, web_edits_missing


def _engine(app: Flask):  # type: ignore[no-untyped-def]
    return app.extensions["crm"].db.engine


def version_line(app: Flask) -> str:
    """`crm status`: the metadata version in force, and whether the files are it."""
    current = store.current(_engine(app))
    if current is None:
        return "metadata version: none recorded yet (`crm init` or the first start records the files)"
    disk = read_tree(Path(app.config["CRM_METADATA_DIR"]))
    same = "the files are this version" if files_state(_engine(app), current, disk) == "same" else \
        "the files differ (`crm export-metadata` writes the version into them; `crm apply` applies them)"
    return (f"metadata version {current.id} in force ({current.source} by {current.author}, "
            f"{current.created_at:%Y-%m-%d %H:%M} UTC: {current.message}); {same}")


def refuse_web_edits(app: Flask, disk: dict[str, str]) -> None:
    """Stop, printing the difference, when the files would silently undo web edits in force."""
    current = store.current(_engine(app))
    missing = web_edits_missing(_engine(app), current, disk)
    if missing and current is not None:
        for diff in missing.values():
            click.echo(diff, nl=False)
        raise click.ClickException(
            f"refused, nothing changed: the version in force ({current.id}, {current.source} by {current.author}, "
            f"{current.created_at:%Y-%m-%d %H:%M} UTC) holds edits the files in {app.config['CRM_METADATA_DIR']} "
            "do not (the diff above, files -> version). Run `flask crm export-metadata` to write it into the "
            "files, or `flask crm apply --force` to replace it with the files")


@contextmanager
def versions_recorded(app: Flask) -> Iterator[list[int]]:
    """Around `crm init`'s schema step: record the files as a version (the first one, or
    new files) once the schema is in line with them."""
    disk = read_tree(Path(app.config["CRM_METADATA_DIR"]))
    current = store.current(_engine(app))
    state = files_state(_engine(app), current, disk)
    if state == "new":
        refuse_web_edits(app, disk)
    before = set(folder_revisions(Path(app.config["CRM_MIGRATIONS_DIR"])))
    recorded: list[int] = []
    yield recorded
    if state in ("none", "new"):
        version = record_files(app, "bootstrap" if state == "none" else "files", disk,
                               current.id if current else None, before)
        if version is not None and version != (current.id if current else None):
            recorded.append(version)


def apply_from_files(app: Flask, allow_destructive: bool, force: bool) -> None:
    """`crm apply`: the files in CRM_METADATA_DIR become the version in force."""
    versions = Path(app.config["CRM_MIGRATIONS_DIR"])
    disk = read_tree(Path(app.config["CRM_METADATA_DIR"]))
    if not force:
        refuse_web_edits(app, disk)
    current = store.current(_engine(app))
    result = apply_files(app, disk, base_id=current.id if current else None, author="files", message="crm apply",
                         source="files", allow_destructive=allow_destructive, write_back=False)
    for problem in result.problems:
        click.echo(problem.format())
    if result.problems:
        raise click.ClickException(f"{len(result.problems)} problem(s) in the metadata, nothing changed")
    if result.conflict:
        raise click.ClickException("another version came in force meanwhile; run `crm apply` again")
    for change in result.changes:
        click.echo(change["describe"])
    if result.refused:
        raise click.ClickException("refused, nothing changed: " + "; ".join(result.refused))
    if result.revision is None:
        click.echo("nothing to apply")
    else:
        path = next(versions.glob(f"*_{result.revision}_*.py"), versions)
        click.echo(f"applied revision {result.revision} ({path})")
    if result.version_id is not None and result.version_id != (current.id if current else None):
        click.echo(f"metadata version {result.version_id} in force (every process switches to it)")


def rollback_recorder(app: Flask) -> tuple[Callable[[sa.Connection], None], list[int]]:
    """For `crm rollback`: called in the rollback's transaction, records the files of the newest
    version that had the revision the database is back at as the next version (committed with
    the downgrade), so every process serves what the database now is."""
    recorded: list[int] = []

    def record(conn: sa.Connection) -> None:
        engine = _engine(app)
        target = metadata_head(conn)
        match = next((v for v in store.history(engine, 1000) if v.schema_revision == target), None)
        current = store.current(engine)
        if match is None or current is None or match.id == current.id:
            return
        recorded.append(store.record(conn, match.files, parent_id=current.id, author="files",
                                     message=f"crm rollback to revision {target or 'base'} (version {match.id})",
                                     source="rollback", schema_revision=target))
    return record, recorded


@click.command("export-metadata")
@click.argument("folder", type=click.Path(file_okay=False), required=False)
@with_appcontext
def export_metadata_command(folder: str | None) -> None:
    """Write the files of the metadata version in force into FOLDER (default: CRM_METADATA_DIR),
    e.g. to commit web edits to git. Files no longer in the version are removed."""
    from flask import current_app

    current = store.current(_engine(current_app))
    if current is None:
        raise click.ClickException("no metadata version recorded yet (run `flask crm init`)")
    root = Path(folder or current_app.config["CRM_METADATA_DIR"])
    root.mkdir(parents=True, exist_ok=True)
    before = read_tree(root)
    changed = write_tree(root, current.files, previous=before)
    for name in changed:
        click.echo(("removed " if name not in current.files else "wrote ") + str(root / name))
    diff = unified_diff(before, current.files)
    click.echo(f"version {current.id} ({current.source} by {current.author}): "
               + (f"{len(diff)} file(s) changed in {root}" if diff else f"{root} already holds it"))
