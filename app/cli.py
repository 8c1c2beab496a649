"""`flask crm ...`: the lifecycle commands.

Registered as a `flask.commands` entry point, so `flask crm validate` runs
even when the metadata is broken and the app itself cannot be built.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from app.automations.cli import automations_group, outbox_group
from app.metadata.loader import load_metadata
from app.metadata.problems import MetadataError
from app.metaversions.cli import export_metadata_command
from app.ops.cli import register as register_ops_commands
from app.settings import load_settings


class CrmGroup(AppGroup):
    """`flask crm ...`: located problems (metadata, plugins, schema history) are printed
    as they are, file:line and code, with exit status 1, never as a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except MetadataError as exc:
            click.echo(str(exc), err=True)
            ctx.exit(1)


crm = CrmGroup("crm", help="MetaCRM lifecycle: validate, plan, apply, init, sync, demo, access.")
crm.add_command(automations_group)  # automations: `crm automations test`, `crm outbox run`
crm.add_command(outbox_group)
register_ops_commands(crm)  # backup, restore, upgrade (app/ops/cli.py)
crm.add_command(export_metadata_command)  # metadata versions: the version in force into the files



@crm.command("validate", with_appcontext=False)
@click.option("--metadata", "metadata_dir", type=click.Path(), default=None,
              help="Metadata folder (default: CRM_METADATA_DIR).")
@click.option("--plugins", "plugins_dir", type=click.Path(), default=None,
              help="Plugins folder (default: CRM_PLUGINS_DIR).")
def validate_command(metadata_dir: str | None, plugins_dir: str | None) -> None:
    """Check the metadata and the plugins; print every problem with file:line; exit 1 on any."""
    from app.plugins.manager import check_plugins, plugins_folder

    settings = load_settings({"CRM_PLUGINS_DIR": plugins_dir} if plugins_dir else None)
    root = Path(metadata_dir or settings["CRM_METADATA_DIR"])
    folder = plugins_folder(settings)
    host, plugin_problems = check_plugins(settings)  # first: it registers the plugins' field types
    spec, problems = load_metadata(root)
    for problem in problems:
        click.echo(problem.format(root), err=False)
    for problem in plugin_problems:
        click.echo(problem.format(folder), err=False)
    if problems or plugin_problems or spec is None:
        click.echo(f"{len(problems) + len(plugin_problems)} problem(s) in {root} and {folder}", err=True)
        sys.exit(1)
    fields = sum(len(e.declared_fields) for e in spec.entities)
    click.echo(f"metadata OK: {len(spec.entities)} entities, {fields} fields ({root})")
    plugins = [name for name, _ in host.list_name_plugin() if name and name.startswith("plugins.")]
    if plugins:
        click.echo(f"plugins OK: {len(plugins)} file(s) ({folder})")


@crm.command("secret-key", with_appcontext=False)
def secret_key_command() -> None:
    """Write a random SECRET_KEY into CRM_SECRET_KEY_FILE (instance/secret_key) unless one is there."""
    from app.security.secret import key_file, write_key_file

    path = key_file(load_settings())
    if write_key_file(path):
        click.echo(f"secret key written to {path} (keep it private; it signs sessions and API tokens)")
    else:
        click.echo(f"secret key: using {path}")


@crm.command("schema", with_appcontext=False)
@click.argument("folder", type=click.Path(file_okay=False), default="docs/schema")
@click.option("--plugins", "plugins_dir", type=click.Path(), default=None,
              help="Plugins folder whose field types the schemas take (default: CRM_PLUGINS_DIR).")
def schema_command(folder: str, plugins_dir: str | None) -> None:
    """Write JSON Schemas for crm.yaml and entity files (for editor completion), plugins' field types included."""
    from app.fieldtypes import field_types
    from app.metadata.jsonschema import write_json_schemas
    from app.plugins.manager import load_plugins

    load_plugins(load_settings({"CRM_PLUGINS_DIR": plugins_dir} if plugins_dir else None))  # their field types
    for path in write_json_schemas(Path(folder), field_types()):
        click.echo(f"wrote {path}")


@crm.command("init")
@click.option("--admin-password", envvar="CRM_ADMIN_PASSWORD", default=None,
              help="Password for a new admin (default: a random one, printed once).")
def init_command(admin_password: str | None) -> None:
    """Create missing tables, sync permissions and make sure an admin exists."""
    from pathlib import Path

    from app.metaversions.cli import versions_recorded
    from app.schema.startup import ensure_schema
    from app.security.passwords import password_problem, random_password
    from app.security.sync import sync_permissions
    from app.security.users import ensure_admin

    if admin_password is not None and (problem := password_problem(admin_password)):
        raise click.ClickException(f"CRM_ADMIN_PASSWORD refused: {problem}")
    state = current_app.extensions["crm"]
    with versions_recorded(current_app) as recorded:
        done = ensure_schema(state.db.engine, state.models, "auto", Path(current_app.config["CRM_MIGRATIONS_DIR"]),
                             command=True)
    click.echo("schema: " + ("; ".join(done) if done else "up to date with the metadata"))
    if recorded:
        click.echo(f"metadata version {recorded[0]} recorded from the files")
    report = sync_permissions(state.appbuilder)
    _print_sync(report)
    password = admin_password or random_password()
    if ensure_admin(state.appbuilder, password):
        if admin_password is None:
            click.echo(f"admin user created: login 'admin', password '{password}' "
                       "(random, shown only now: note it, or set CRM_ADMIN_PASSWORD before the first run)")
        else:
            click.echo("admin user created: login 'admin', password from CRM_ADMIN_PASSWORD")
    else:
        click.echo("admin user exists: password unchanged")


@crm.command("sync")
def sync_command() -> None:
    """Turn the registered views into FAB permissions, in one bulk, idempotent step."""
    from app.security.sync import sync_permissions

    _print_sync(sync_permissions(current_app.extensions["crm"].appbuilder))


def _print_sync(report: object) -> None:
    click.echo(f"permissions: {report.total} ({report.added} added, {report.removed} removed)")  # type: ignore[attr-defined]
    for role, count in report.roles.items():  # type: ignore[attr-defined]
        click.echo(f"role {role!r}: {count} permissions")
    for role in report.removed_roles:  # type: ignore[attr-defined]
        click.echo(f"role {role!r} removed (no longer in roles.yaml)")


@crm.command("demo")
@click.option("--size", default=200, show_default=True, help="Records per main entity.")
@click.option("--seed", default=7, show_default=True)
@click.option("--if-empty", is_flag=True, help="Do nothing when any entity already has records.")
def demo_command(size: int, seed: int, if_empty: bool) -> None:
    """Fill every entity with realistic Chinese and English demo data."""
    import sqlalchemy as sa

    from app.demo.loader import load_demo
    from app.demo.users import DEMO_PASSWORD, create_demo_users

    state = current_app.extensions["crm"]
    if if_empty:
        session = state.db.session
        for entity in state.spec.entities:
            model = state.models.model(entity.name)
            if session.scalar(sa.select(model.id).limit(1)) is not None:
                # Known-password users come only with demo data, never into a database with real records.
                click.echo(f"demo data and demo users skipped: {entity.name} already has records")
                return
    users = create_demo_users(state.appbuilder, state.models)
    for username, role in users:
        click.echo(f"demo user {username!r} ({role}), password {DEMO_PASSWORD!r}")
    # A company has far fewer campaigns and products than deals: keep the starter ones realistic.
    few = {name: max(8, size // 20) for name in ("campaign", "product") if name in state.spec.entity_map}
    counts = load_demo(state.db.session, state.models, size=size, seed=seed, sizes=few)
    for name, count in counts.items():
        click.echo(f"{name}: {count}")


@crm.command("access")
@click.argument("username")
@click.argument("entity", required=False)
@click.argument("record_id", required=False, type=int)
def access_command(username: str, entity: str | None, record_id: int | None) -> None:
    """Explain what USERNAME may do (on ENTITY, on record RECORD_ID) and which rule decides."""
    from app.security.access import access_for
    from app.security.explain import explain, format_answer

    state = current_app.extensions["crm"]
    user = state.appbuilder.sm.find_user(username=username)
    if user is None:
        raise click.ClickException(f"no user {username!r}")
    access = access_for(user)
    click.echo(f"user {username!r}, roles: {', '.join(access.roles) or 'none'}")
    names = [entity] if entity else [e.name for e in state.spec.entities]
    for name in names:
        if name not in state.spec.entity_map:
            raise click.ClickException(f"no entity {name!r}; entities: {', '.join(state.spec.entity_map)}")
        record = None
        if record_id is not None:
            record = state.db.session.get(state.models.model(name), record_id)
        for line in format_answer(explain(access, state.spec, name, record, record_id)):
            click.echo(line)


@crm.command("plan")
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON, for tools.")
def plan_command(as_json: bool) -> None:
    """What applying the metadata would change in the database, and the data it touches.
    Changes nothing; exits 2 when changes are pending, 0 when the database is current."""
    import json

    from app.schema.plan import make_plan
    from app.schema.status import schema_status

    state = current_app.extensions["crm"]
    status = schema_status(state.db.engine, state.models, Path(current_app.config["CRM_MIGRATIONS_DIR"]))
    with state.db.engine.connect() as conn:
        plan = make_plan(conn, state.models)
    if as_json:
        click.echo(json.dumps({**plan.as_json(), "status": status.as_json()}, ensure_ascii=False, indent=2,
                              default=str))
    else:
        for line in status.lines():
            click.echo(line)
        for change in plan.changes:
            click.echo(change.describe())
        click.echo("changes pending" if plan.pending else "database is up to date with the metadata")
    sys.exit(2 if plan.pending else 0)


@crm.command("apply")
@click.option("--allow-destructive", is_flag=True, help="Also drop tables and columns the metadata removed.")
@click.option("--force", is_flag=True, help="Apply the files even when the version in force came from the web "
              "and they do not hold its edits (they are replaced).")
def apply_command(allow_destructive: bool, force: bool) -> None:
    """Apply the metadata files as the version in force: write an Alembic revision for the
    pending changes into migrations/, run it, and record the version (every process follows)."""
    from app.metaversions.cli import apply_from_files

    apply_from_files(current_app, allow_destructive, force)


@crm.command("rollback")
@click.option("--to", "to", default=None, help="Metadata revision to go back to (default: the one before); "
              "'base' undoes every metadata revision.")
@click.option("--allow-destructive", is_flag=True, help="Also drop columns and tables that hold data.")
def rollback_command(to: str | None, allow_destructive: bool) -> None:
    """Run the downgrade of the newest metadata revision (or back to --to), keeping the data
    that still fits; then restore the metadata of that revision from git."""
    from app.metaversions.cli import rollback_recorder
    from app.schema.rollback import RollbackRefused, rollback

    state = current_app.extensions["crm"]
    versions = Path(current_app.config["CRM_MIGRATIONS_DIR"])
    record, recorded = rollback_recorder(current_app)
    try:
        done = rollback(state.db.engine, state.models, versions, to, allow_destructive, inspect=record)
    except RollbackRefused as exc:
        raise click.ClickException("rollback refused, nothing changed:\n" + "\n".join(exc.reasons)) from None
    if not done.undone:
        click.echo("nothing to roll back")
        return
    for note in done.notes:
        click.echo(f"dropped with --allow-destructive: {note}")
    click.echo(f"rolled back {', '.join(done.undone)}; in force now: {done.target or 'no metadata revision'}"
               f" (metadata {done.digest or 'none'})")
    click.echo(f"undone revision files moved to {versions.parent / 'rolled_back'}")
    if recorded:
        click.echo(f"metadata version {recorded[0]} in force, with the files of that revision; "
                   "`flask crm export-metadata` writes them into the metadata folder")
        return
    click.echo("now restore the metadata of that revision from git (see docs/schema-changes.md); "
               "until then start-up in auto mode would apply the newer metadata again")


@crm.command("status")
def status_command() -> None:
    """Which revisions and metadata digest are in force, and whether changes are pending."""
    from app.metaversions.cli import version_line
    from app.schema.plan import make_plan
    from app.schema.status import schema_status

    state = current_app.extensions["crm"]
    status = schema_status(state.db.engine, state.models, Path(current_app.config["CRM_MIGRATIONS_DIR"]))
    for line in status.lines():
        click.echo(line)
    click.echo(version_line(current_app))
    with state.db.engine.connect() as conn:
        plan = make_plan(conn, state.models)
    pending = [c for c in plan.changes if not c.kind.startswith("keep_")]
    click.echo(f"changes pending: {len(pending)} (see `crm plan`)" if pending else "no changes pending")


@crm.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty (tests, cron).")
@click.option("--name", default=None, help="Worker name (default: rq's, host and pid).")
def worker_command(burst: bool, name: str | None) -> None:
    """Run background jobs (imports, exports...) from the 'crm' queue on REDIS_URL; run several for more."""
    from app.jobs.worker import run_worker

    try:
        run_worker(current_app, burst=burst, name=name)
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from None


@crm.group("jobs")
def jobs_group() -> None:
    """Background jobs kept in crm_job."""


@jobs_group.command("requeue")
def jobs_requeue_command() -> None:
    """Queue again the jobs a Redis or worker loss left behind: queued ones, failed ones and
    running ones whose worker gave no sign of life (marked failed first). Without REDIS_URL
    they run here, in the foreground."""
    from app.jobs import job_store
    from app.jobs.queue import dispatch, stale_seconds
    from app.jobs.runner import execute

    store, stale = job_store(), stale_seconds(current_app)
    for row in store.in_states("running"):
        if store.mark_lost(row.id, stale):
            click.echo(f"job {row.id} ({row.kind}): worker lost, marked failed")
    for row in store.in_states("queued", "failed"):
        if row.state == "failed" and not store.requeue(row.id, stale):
            continue
        if current_app.config.get("REDIS_URL"):
            dispatch(current_app, row.id)
            click.echo(f"job {row.id} ({row.kind}): queued")
        else:
            execute(current_app, row.id)
            click.echo(f"job {row.id} ({row.kind}): {store.get(row.id).state}")  # type: ignore[union-attr]


@jobs_group.command("sweep")
def jobs_sweep_command() -> None:
    """Find jobs a killed worker or a Redis loss left queued or running: queue them again (their
    handler never ran, or their kind resumes) or fail them saying why. The automations tick and
    every rq worker (rq's maintenance, every 10 minutes) run this too."""
    from app.jobs.sweep import sweep

    counts = sweep(current_app._get_current_object(), foreground=True)  # type: ignore[attr-defined]
    for job in counts["jobs"]:
        click.echo(f"job {job['id']} ({job['kind']}): {job['action']}: {job['reason']}")
    click.echo(f"requeued {counts['requeued']}, failed {counts['failed']}, superseded {counts['superseded']}")


@crm.group("files")
def files_group() -> None:
    """Files under CRM_FILES_DIR: uploads, error reports, exports."""


@files_group.command("clean")
def files_clean_command() -> None:
    """Remove files older than CRM_FILES_KEEP_DAYS (default 7), never one a queued or running job
    names (the automations tick does this too)."""
    from app.jobs.cleanup import clean_files

    counts = clean_files(current_app)
    click.echo(f"removed {counts['removed']} file(s); kept {counts['kept_in_use']} old file(s) of running jobs")
