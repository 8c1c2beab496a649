"""`flask crm automations test <rule> <entity> <id>` (dry run) and `flask crm outbox run`."""

from __future__ import annotations

import json
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext

from .dryrun import DryRunError, dry_run
from .process import drain
from .spec import TIME_TRIGGERS
from .tick import tick


@click.group("automations")
def automations_group() -> None:
    """Automation rules (metadata/automations.yaml)."""


@automations_group.command("test")
@click.argument("rule")
@click.argument("entity")
@click.argument("record_id", type=int)
@click.option("--at", "at", type=click.DateTime(), default=None,
              help="Time rules: judge at this UTC moment instead of now (e.g. 2026-12-04T09:00).")
@with_appcontext
def test_command(rule: str, entity: str, record_id: int, at: Any) -> None:
    """Would RULE fire for the last change of ENTITY record RECORD_ID (a time rule: at the next tick),
    and what would it do? Writes nothing."""
    try:
        report = dry_run(current_app, rule, entity, record_id, now=at)
    except DryRunError as exc:
        raise click.ClickException(str(exc)) from None
    verdict = "WOULD FIRE" if report["fires"] else "would not fire"
    click.echo(f"{report['rule']} on {entity} #{record_id}: {verdict} ({report['reason']})")
    if report["change"]["kind"] in TIME_TRIGGERS:
        click.echo(f"  {report['change']['kind']} rule, judged at the next tick")
    else:
        click.echo(f"  last change: {report['change']['kind']} {', '.join(report['change']['fields'])}")
    for action in report.get("actions", []):
        click.echo("  would " + json.dumps(action, ensure_ascii=False, default=str))


@automations_group.command("tick")
@click.option("--queue", is_flag=True, help="Queue the tick as a job (rq worker) instead of running it here.")
@with_appcontext
def tick_command(queue: bool) -> None:
    """Run the time-triggered rules (schedule, date, inactive) whose moment has come. Cron it every minute."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if queue:
        from app.jobs import enqueue

        from .dispatch import TICK_TITLE
        from .tick import TICK_KIND

        click.echo(f"queued job {enqueue(TICK_KIND, {}, user_id=None, title=TICK_TITLE)}")
        return
    counts = tick(app, foreground=True)
    click.echo(", ".join(f"{k}: {v}" for k, v in counts.items() if v) or "nothing due")


@click.group("outbox")
def outbox_group() -> None:
    """The outbox of record changes (automations, plugin hooks, e-mail, webhooks)."""


@outbox_group.command("run")
@click.option("--max-wait", default=0.0, show_default=True, help="Seconds to wait for retries that are due soon.")
@with_appcontext
def run_command(max_wait: float) -> None:
    """Deliver every waiting change now, and retry the e-mails and webhooks that are due."""
    counts = drain(current_app._get_current_object(), max_wait=max_wait)  # type: ignore[attr-defined]
    click.echo(", ".join(f"{k}: {v}" for k, v in counts.items()) or "nothing to do")
