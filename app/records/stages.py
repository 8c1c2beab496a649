"""Stage moves: the one command behind the form, the API, the kanban and automations.

A move checks the gate of the stage it enters (fields required, transition
allowed from the current stage, role allowed, record writable by the user),
refuses a move made from a stale copy of the record, sets the derived
probability, and writes the stage history with the time spent in the stage
it leaves. The clock is a parameter so time-in-stage can be tested exactly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import Any

import sqlalchemy as sa

from app.metadata.spec import EntitySpec, PipelineSpec, StageSpec
from app.models.events import utcnow

from .messages import msg
from .rules import is_empty


class StageError(Exception):
    """A move the gate refuses; `errors` maps field to messages (the stage field for the move itself)."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        super().__init__("; ".join(" ".join(v) for v in errors.values()))


class StaleRecord(Exception):
    """The record changed since the user loaded it: the move would overwrite someone's work."""


def stage_allowed_for(access: Any, spec: Any, entity: EntitySpec, stage: StageSpec) -> bool:
    """May the user's roles move a record into `stage` (metadata roles or roles.yaml stages)?"""
    if access is None or access.is_admin:
        return True
    for role in access.roles:
        role_spec = spec.role_map.get(role)
        granted = {s for e, s in role_spec.stages if e == entity.name} if role_spec else set()
        restricted = role_spec is not None and any(e == entity.name for e, _ in role_spec.stages)
        if role in stage.roles or stage.name in granted:
            return True
        if not stage.roles and not restricted:
            return True
    return False


def transition_allowed_for(access: Any, pipeline: PipelineSpec, source: str | None, target: str) -> bool:
    """May the user's roles make the source→target move (a `transitions` rule with roles)?"""
    rule = pipeline.transition(source, target)
    if rule is None or not rule.roles or access is None or access.is_admin:
        return True
    return any(role in rule.roles for role in access.roles)


def allowed_targets(access: Any, spec: Any, entity: EntitySpec, pipeline: PipelineSpec,
                    current: str | None) -> list[StageSpec]:
    """The stages the user may move a record into from `current` (next, transition and stage roles)."""
    from_stage = pipeline.stage(current)
    return [stage for stage in pipeline.stages
            if stage.name != current
            and (from_stage is None or from_stage.next is None or stage.name in from_stage.next)
            and transition_allowed_for(access, pipeline, current, stage.name)
            and stage_allowed_for(access, spec, entity, stage)]


def gate_reads(entity: EntitySpec) -> frozenset[str]:
    """The fields `gate_errors` reads from its state: those a stage of the entity requires (kept on
    the entity as its cached properties are: read on every write)."""
    reads = entity.__dict__.get(_GATE_READS)
    if reads is None:
        required = {name for pipeline in entity.pipelines for stage in pipeline.stages for name in stage.requires}
        reads = entity.__dict__[_GATE_READS] = frozenset(required & entity.field_map.keys())
    return reads  # type: ignore[no-any-return]


_GATE_READS = "_crm_gate_reads"


def gate_errors(ctx: Any, entity: EntitySpec, pipeline: PipelineSpec, current: str | None, target: str,
                state: dict[str, Any]) -> dict[str, list[str]]:
    """Why a record in `state` may not enter `target` from `current` ({} when it may)."""
    lang = ctx.lang
    field = pipeline.field
    stage = pipeline.stage(target)
    if stage is None:
        names = ", ".join(s.label.get(lang) for s in pipeline.stages)
        return {field: [msg("stage_unknown", lang, stage=target, pipeline=pipeline.label.get(lang), stages=names)]}
    from_stage = pipeline.stage(current)
    if from_stage is not None and from_stage.next is not None and target != current and target not in from_stage.next:
        targets = allowed_targets(ctx.access, ctx.models.spec, entity, pipeline, current)
        allowed = ", ".join(s.label.get(lang) for s in targets) or "—"
        return {field: [msg("stage_transition", lang, source=from_stage.label.get(lang),
                            target=stage.label.get(lang), allowed=allowed)]}
    if target != current and not transition_allowed_for(ctx.access, pipeline, current, target):
        return {field: [msg("stage_transition_role", lang, source=from_stage.label.get(lang) if from_stage else "",
                            target=stage.label.get(lang))]}
    if not stage_allowed_for(ctx.access, ctx.models.spec, entity, stage):
        return {field: [msg("stage_role", lang, stage=stage.label.get(lang))]}
    # a field the user's role cannot see counts as filled: never demand what cannot be seen
    hidden = ctx.access.hidden_fields(entity) if ctx.access is not None else set()
    missing = [name for name in stage.requires if name not in hidden and is_empty(state.get(name))]
    if missing:
        labels = ", ".join(entity.field(n).label.get(lang) for n in missing)
        return {field: [msg("stage_requires", lang, stage=stage.label.get(lang), fields=labels)],
                **{n: [msg("required", lang)] for n in missing}}
    return {}


def record_state(entity: EntitySpec, record: Any, values: dict[str, Any],
                 names: Collection[str] | None = None) -> dict[str, Any]:
    """The record's field values after `values` would be applied (ids for links); only the fields
    `names` when given (what the caller reads)."""
    if record is None and names is not None:  # a new record: the values given (asked several times a row)
        field_map = entity.field_map
        return {n: values[n] for n in names if field_map[n] is not None and n in values}
    state: dict[str, Any] = {}
    for f in entity.fields if names is None else [entity.field_map[n] for n in names]:
        if f.name in values:
            state[f.name] = values[f.name]
        elif record is not None:
            state[f.name] = getattr(record, f.name if not f.is_link else f.column_name, None)
    return state


def set_stage(pipeline: PipelineSpec, record: Any, source: str | None, target: str, values: dict[str, Any]) -> None:
    """The stage field and the probability it derives (no history: see apply_stage; a batch
    import writes the history rows of its new records together after its flush)."""
    stage = pipeline.stage(target)
    setattr(record, pipeline.field, target)
    if pipeline.probability_field and stage is not None and stage.probability is not None:
        overridden = pipeline.probability_overridable and pipeline.probability_field in values and source == target
        if not overridden:
            setattr(record, pipeline.probability_field, stage.probability)


def apply_stage(ctx: Any, entity: EntitySpec, pipeline: PipelineSpec, record: Any, source: str | None,
                target: str, values: dict[str, Any], now: dt.datetime | None = None) -> None:
    """Set the stage, the derived probability, and write the history row (in the open transaction)."""
    now = now or utcnow()
    set_stage(pipeline, record, source, target, values)
    if source == target and record.id is not None:
        return
    history = ctx.models.core["crm_stage_history"]
    session = ctx.session
    session.flush()  # a new record needs its id
    entered = None if source is None else session.scalar(  # a record entering its first stage has no past
        sa.select(history.c.moved_on).where(history.c.entity == entity.name, history.c.record_id == record.id)
        .order_by(history.c.moved_on.desc(), history.c.id.desc()).limit(1))
    seconds = int((now - entered).total_seconds()) if entered is not None else None
    session.execute(sa.insert(history).values(
        entity=entity.name, record_id=record.id, pipeline=pipeline.name, from_stage=source, to_stage=target,
        moved_by_id=ctx.user_id, moved_on=now, seconds_in_from=seconds))


def check_fresh(record: Any, expected: Any) -> None:
    """Refuse a change based on a stale copy: `expected` is the changed_on the client saw."""
    if expected in (None, ""):
        return
    if isinstance(expected, str):
        try:
            expected = dt.datetime.fromisoformat(expected)
        except ValueError:
            raise StaleRecord("changed_on must be the record's changed_on as the API returned it") from None
    if expected.tzinfo is not None:
        expected = expected.astimezone(dt.UTC).replace(tzinfo=None)
    if record.changed_on is not None and record.changed_on.replace(microsecond=0) != expected.replace(microsecond=0):
        raise StaleRecord("the record was changed by someone else since you loaded it; reload and try again")
