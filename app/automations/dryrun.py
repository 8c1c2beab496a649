"""Dry run: would a rule fire for a record's last change, and what would it do? Nothing is written.

The change judged is the record's newest outbox event (a record with none is judged as
if just created with the values it has), so "why did (or didn't) my rule fire on this
deal" has an answer before the rule is switched on.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from app.events.read import Change, decode
from app.models.events import utcnow
from app.records.commands import RecordContext

from .actions import plan_action
from .engine import decide, evaluation_view, trigger_matches
from .spec import TIME_TRIGGERS
from .whatif import judge_time


class DryRunError(Exception):
    """An unknown rule or record: said in words, no traceback."""


def last_change(session: Any, models: Any, entity: str, record: Any) -> Change:
    table = models.core["crm_event"]
    spec = models.spec.entity(entity)
    row = session.execute(sa.select(table).where(table.c.entity == entity, table.c.record_id == record.id)
                          .order_by(table.c.id.desc()).limit(1)).first()
    if row is not None:
        return decode(row, spec)
    values = {f.name: (None, getattr(record, f.column_name, None)) for f in spec.declared_fields if f.has_column}
    return Change(0, entity, record.id, "created", values, None, None, 0, utcnow())


def dry_run(app: Any, rule_name: str, entity: str, record_id: int, now: Any = None) -> dict[str, Any]:
    state = app.extensions["crm"]
    models = state.models
    rule = next((r for r in models.spec.automations if r.name == rule_name), None)
    if rule is None:
        names = ", ".join(r.name for r in models.spec.automations) or "none"
        raise DryRunError(f"no automation named '{rule_name}' (rules: {names})")
    if entity not in models.spec.entity_map:
        raise DryRunError(f"no entity named '{entity}'")
    session = state.db.session
    try:
        record = session.get(models.model(entity), record_id)
        if record is None:
            raise DryRunError(f"no {entity} with id {record_id}")
        change = last_change(session, models, entity, record)
        report: dict[str, Any] = {"rule": rule.name, "entity": entity, "record": record_id,
                                  "change": {"kind": change.kind, "fields": sorted(change.changes)}}
        if rule.entity != entity:
            return {**report, "fires": False, "reason": f"the rule watches {rule.entity}, not {entity}"}
        if rule.trigger in TIME_TRIGGERS:  # judged against the clock: due? fired already? (whatif.py)
            ctx = RecordContext(session, models, lang=models.spec.languages[0], user_id=None, access=None)
            verdict = judge_time(ctx, rule, record, now or utcnow(),
                                 int(app.config.get("CRM_AUTOMATION_TICK_CATCH_UP", 60)))
            return {**report, "change": {"kind": rule.trigger, "fields": []}, "actions": [], **verdict}
        if not trigger_matches(rule, change, models.spec.entity(entity)):
            return {**report, "fires": False, "reason": f"the last change does not match trigger {rule.trigger}"}
        ctx = RecordContext(session, models, lang=models.spec.languages[0], user_id=None, access=None)
        view = evaluation_view(ctx, models.spec.entity(entity), record, change)
        decision = decide(rule, change, view, models.spec.timezone)
        report.update(fires=decision.fires, reason=decision.reason, actions=[])
        if decision.fires:
            report["actions"] = [plan_action(ctx, rule, action, change, view, models.spec.timezone,
                                             ctx.lang or "en") for action in rule.actions]
        return report
    finally:
        session.rollback()
