"""`flask crm backup | restore | upgrade`: built from the settings alone, not the app, so they
work on an empty database (restore), an older schema (upgrade) or broken metadata (backup)."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import sqlalchemy as sa

from app.settings import load_settings


def register(group: click.Group) -> None:
    for command in (backup_command, restore_command, upgrade_command):
        group.add_command(command)


@click.command("backup", context_settings={"ignore_unknown_options": False})
@click.argument("path", required=False, type=click.Path(path_type=Path))
def backup_command(path: Path | None) -> None:
    """Write one archive: the data (consistent while the app runs), the metadata and revision
    files, and a manifest with row counts and checksums. PATH: a file or a folder
    (default: CRM_BACKUP_DIR, else instance/backups/)."""
    from .backup import write_backup
    from .dbdump import DumpError

    try:
        written = write_backup(load_settings(), path)
    except DumpError as exc:
        raise click.ClickException(f"backup failed, no archive written: {exc}") from None
    manifest = written.manifest
    rows = sum(manifest["row_counts"].values())
    click.echo(f"backup written: {written.path}")
    click.echo(f"MetaCRM {manifest['product_version']} (core {manifest['core_head']}), {manifest['database']}, "
               f"metadata {manifest['metadata_digest']} (revision {manifest['metadata_revision']}), "
               f"{len(manifest['row_counts'])} tables, {rows} rows, {len(manifest['files'])} files")


@click.command("restore")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--replace-files", is_flag=True,
              help="Put the archive's metadata and revision files in place of differing ones (kept aside).")
def restore_command(path: Path, replace_files: bool) -> None:
    """Restore an archive from `crm backup` into an EMPTY database (SQLALCHEMY_DATABASE_URI),
    after checking it; refuses a non-empty database and another release's archive."""
    from .dbdump import DumpError
    from .restore import RestoreRefused, restore

    try:
        done = restore(load_settings(), path, replace_files)
    except RestoreRefused as exc:
        raise click.ClickException(f"restore refused: {exc}") from None
    except DumpError as exc:
        raise click.ClickException(f"restore failed, the database is left empty: {exc}") from None
    click.echo(f"restored {path}: {len(done.counts)} tables, {sum(done.counts.values())} rows, "
               "row counts match the manifest")
    for aside in done.replaced:
        click.echo(f"previous files kept at {aside}")
    click.echo("next: `flask crm sync` if the roles changed since; start the web and worker processes")


@click.command("upgrade")
@click.option("--check", "check_only", is_flag=True, help="Only the pre-flight report; exit 2 when work is pending.")
@click.option("--allow-destructive", is_flag=True, help="Allow metadata changes that drop columns or tables.")
@click.option("--backup", "backup_to", type=click.Path(path_type=Path), default=None,
              help="Write a backup archive here (file or folder) before changing anything.")
def upgrade_command(check_only: bool, allow_destructive: bool, backup_to: Path | None) -> None:
    """Apply this release's core revisions, then pending metadata revisions and metadata
    changes, after a pre-flight (a rehearsal rolled back) that must pass."""
    from .upgrade import preflight, upgrade

    settings = load_settings()
    engine = sa.create_engine(settings["SQLALCHEMY_DATABASE_URI"])
    try:
        report, models = preflight(engine, settings, allow_destructive)
        for line in report.lines:
            click.echo(line)
        if not report.ok:
            for failure in report.failures:
                click.echo(f"check failed: {failure}", err=True)
            raise click.ClickException("upgrade refused, nothing changed")
        click.echo("pre-flight: all checks passed")
        if check_only or not report.pending:
            sys.exit(2 if check_only and report.pending else 0)
        if backup_to is not None:
            backup_command.callback(backup_to)  # type: ignore[misc]
        for line in upgrade(engine, settings, models, allow_destructive):
            click.echo(line)
    finally:
        engine.dispose()
    click.echo("upgrade done; next: `flask crm sync` (permissions of new screens), then restart the processes")
