"""Record commands: create, update, delete, each with validate() and run().

Screens, the REST API, imports and (later) automations all write through
these, so a rule checked here holds on every path. Errors are typed; the
web layer maps them to field errors (422), 404 and 409.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import ObjectDeletedError, StaleDataError

from app.clock import crm_today, utc_now
from app.i18n import label_value
from app.metadata.spec import EntitySpec, FieldSpec
from app.models import ModelSet
from app.models.actor import acting_user_id

from .assignees import assignee_errors
from .conditions import condition_errors, lock_message
from .messages import forbidden_text, msg
from .normalise import normalise_values
from .rules import check_value, is_empty
from .stages import StaleRecord, apply_stage, check_fresh, gate_errors, gate_reads, record_state
from .uniqueness import field_taken, integrity_errors, set_errors
from .versions import stale_message

REFERENCES = frozenset({"link", "links", "user"})  # the types whose values `_reference_errors` judges


class CommandError(Exception):
    """Base of every error a command raises on purpose."""


class FieldErrors(CommandError):
    """Errors by field name, shown next to each field on a form and returned as such by the API."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))  # logs: field names

    def text(self, entity: EntitySpec, lang: str | None) -> str:
        """The errors as a user reads them, in one line: each field by its label in `lang` with the
        language's colon ('Amount: required' / '金额：必填'); a form-wide error by itself."""
        return "; ".join(field_error_text(entity, name, messages, lang) for name, messages in self.errors.items())


def field_error_text(entity: EntitySpec, name: str, messages: list[str], lang: str | None) -> str:
    """One field's errors after its label ('金额：必填'); `_schema` (the record as a whole) bare, an
    unknown name (a plugin's, a converted target's `account.name`) as it is."""
    said = " ".join(messages)
    if name == "_schema":
        return said
    f = entity.field_map.get(name)
    return label_value(f.label.get(lang) if f is not None else name, said, lang)


class ValidationFailed(FieldErrors):
    """Values that break a rule or a gate: a 422."""


class FieldsRefused(FieldErrors):
    """The input names fields the user may not write (unknown, read-only, hidden): a 400."""


class RecordNotFound(CommandError):
    pass


class Forbidden(CommandError):
    """The user's role does not allow the action on this record."""


class Conflict(CommandError):
    pass


class StaleVersion(Conflict):
    """The record changed since the version the client read (a 409): nothing was written.
    `changed` names the fields changed since, never one hidden from the user."""

    def __init__(self, message: str, record: Any, your_version: int | None, changed: list[str]):
        super().__init__(message)
        self.record = record
        self.version = record.version
        self.your_version = your_version
        self.changed = changed


def check_version(ctx: RecordContext, entity: EntitySpec, record: Any, expected: int | None) -> None:
    """Refuse a write made from a stale copy; no version given = last write wins (see README)."""
    if expected is not None and record.version != expected:
        text, changed = stale_message(ctx, entity, record, expected)
        raise StaleVersion(text, record, expected, changed)


def lost_race(ctx: RecordContext, entity: EntitySpec, record: Any, expected: int | None,
              exc: Exception) -> CommandError:
    """Another writer committed between our check and our commit (the ORM's version check)."""
    ctx.session.rollback()
    try:
        ctx.session.refresh(record)
    except (ObjectDeletedError, sa.exc.InvalidRequestError):
        return RecordNotFound(str(exc))
    text, changed = stale_message(ctx, entity, record, expected if expected is not None else record.version - 1)
    return StaleVersion(text, record, expected, changed)


@dataclass
class RecordContext:
    """What every command needs: the session, the models and who is asking."""

    session: Session
    models: ModelSet
    lang: str | None = None
    user_id: int | None = field(default_factory=acting_user_id)
    hooks: Any = None  # the plugin host's `hook` relay, when plugins are loaded
    access: Any = None  # the user's Access (roles.yaml); None = unrestricted (CLI, demo)

    def entity(self, name: str) -> EntitySpec:
        return self.models.spec.entity(name)


def default_for(f: FieldSpec, user_id: int | None) -> Any:
    if f.default == "today":  # the CRM's today: in Shanghai after 16:00 UTC it is tomorrow
        return crm_today()
    if f.default == "now":
        return utc_now()
    if f.default == "current_user":
        return user_id
    if f.type == "multichoice" and f.default is not None:
        return [f.default]
    return f.default


_PIPELINES = "_crm_new_record_pipelines"  # kept on the entity: pipeline state -> `_record_pipelines`
_PIPELINES_KEPT = 256  # states kept per entity (a stage field can be given any text)


def _new_record_pipelines(entity: EntitySpec, state: dict[str, Any]) -> tuple[Any, ...] | None:
    """A new record's `_record_pipelines` for this state when an earlier new record had it: it
    depends on the state alone (the pipelines' `when` and stage fields), not on the record."""
    key = _state_key(state)
    return None if key is None else entity.__dict__.get(_PIPELINES, {}).get(key)  # type: ignore[no-any-return]


def _keep_new_record_pipelines(entity: EntitySpec, state: dict[str, Any], result: tuple[Any, ...]) -> None:
    kept, key = entity.__dict__.setdefault(_PIPELINES, {}), _state_key(state)
    if key is not None and len(kept) < _PIPELINES_KEPT:
        kept[key] = result


def _state_key(state: dict[str, Any]) -> tuple[tuple[str, str], ...] | None:
    """The state as a key when all its values are text (stages, choices: equal only when the same
    text); None for anything else (worked out each time)."""
    items = tuple(state.items())
    return items if all(type(value) is str for _, value in items) else None


class _RecordCommand:
    def __init__(self, ctx: RecordContext, entity: str, values: dict[str, Any],
                 input_errors: dict[str, list[str]] | None = None):
        self.ctx = ctx
        self.entity = ctx.entity(entity)
        self.model = ctx.models.model(entity)
        self.values = dict(values)
        # Errors found while reading the input (bad types): reported with the rule errors.
        self.input_errors = dict(input_errors or {})
        self.record: Any = None
        self.now: Any = None  # the clock, for stage history; None = now
        self.autocommit = True  # False inside a larger command that commits once
        self.expected_version: int | None = None  # the version the client read (None: no check)
        # Values the server filled in (metadata defaults, the first stage): never the user writing them.
        self.server_filled: set[str] = set()
        self._pipelines: tuple[dict[str, Any], tuple[Any, ...]] | None = None  # last `_record_pipelines`

    def _refuse_fields(self) -> None:
        """Unknown, read-only and (for this user) hidden or read fields are refused outright."""
        lang, access, field_map = self.ctx.lang, self.ctx.access, self.entity.field_map
        hidden = access.hidden_fields(self.entity) if access is not None else ()
        writable = access.writable_fields(self.entity) if access is not None else None
        refused: dict[str, list[str]] = {}
        for name in self.values:
            if name in self.server_filled:
                continue
            f = field_map.get(name)
            if f is None or name in hidden:
                refused[name] = [msg("unknown_field", lang)]
            elif not f.editable or (writable is not None and name not in writable):
                refused[name] = [msg("read_only", lang)]
        for name, messages in self.input_errors.items():
            if messages and messages[0] in (msg("unknown_field", lang), msg("read_only", lang)):
                refused[name] = messages
        for pipeline, _, _ in self._record_pipelines():  # a probability the stage sets is not typed in
            name = pipeline.probability_field
            if name in self.values and not pipeline.probability_overridable and not self._unchanged(name):
                refused[name] = [msg("read_only", lang)]
        if refused:
            raise FieldsRefused(refused)

    def _unchanged(self, name: str) -> bool:
        """A form posts every field it shows: an unchanged value is not a write."""
        value = self.values.get(name)
        if self.record is None:
            return value is None
        current = getattr(self.record, name, None)
        try:
            return value == current or (value is not None and current is not None and float(value) == float(current))
        except (TypeError, ValueError):
            return False

    def _require(self, action: str, record: Any = None) -> None:
        access = self.ctx.access
        if access is not None and not access.allows(self.entity.name, action, record):
            raise Forbidden(forbidden_text(action, self.entity.label, self.ctx.lang))

    def _check(self, fields: list[FieldSpec]) -> dict[str, list[str]]:
        self._refuse_fields()
        errors: dict[str, list[str]] = {k: list(v) for k, v in self.input_errors.items()}
        lang = self.ctx.lang
        # canonical form first: the rules and the duplicate checks judge what will be stored
        errors.update(normalise_values(self.entity, self.values, lang, skip=errors))
        for f in fields:
            value = self.values.get(f.name)
            if f.name in errors or (value is None and not f.required):  # nothing to check (a blank optional field)
                continue
            problems = check_value(f, value, lang)
            if not problems and not is_empty(value):  # asked only of the fields they can refuse
                problems = ((self._reference_errors(f) if f.type in REFERENCES else [])
                            + (self._unique_errors(f) if f.unique else []))
            if problems:
                errors.setdefault(f.name, []).extend(problems)
        timezone = self.ctx.models.spec.timezone
        for name, messages in condition_errors(self.ctx, self.entity, self.record, self.values, timezone).items():
            if name not in errors:
                errors[name] = messages
        if not errors:
            errors = set_errors(self.ctx.session, self.entity, self.model, self.values, self.record, lang)
        if not errors and self.ctx.hooks is not None and self.ctx.hooks.crm_validate.get_hookimpls():
            for extra in self.ctx.hooks.crm_validate(entity=self.entity, values=self.values,
                                                     record=self.record, lang=lang):
                for name, messages in (extra or {}).items():
                    errors.setdefault(name, []).extend(messages)
        return errors

    def _refuse_locked(self) -> None:
        """A record `locked_if` says is closed: only its unlock roles may change or move it."""
        locked = lock_message(self.ctx, self.entity, self.record, self.ctx.models.spec.timezone)
        if locked:
            raise Forbidden(locked)

    def _reference_errors(self, f: FieldSpec) -> list[str]:
        """A link to a record the user cannot read, an assignee who may not be one (`REFERENCES` only)."""
        value = self.values[f.name]
        if f.type == "link" or f.type == "links":
            target = self.ctx.models.model(f.target)
            ids = set(value if f.type == "links" else [value])
            query = sa.select(target.id).where(target.id.in_(ids))
            if self.ctx.access is not None:  # no linking to a record the user cannot read
                query = self.ctx.access.records(self.ctx.models, f.to).where(query)
            found = set(self.ctx.session.scalars(query)) | (ids & self._stored_ids(f))
            missing = sorted(ids - found)
            label = self.ctx.entity(f.target).label.get(self.ctx.lang)
            return [msg("link", self.ctx.lang, entity=label, id=i) for i in missing]
        if f.type == "user":
            if value in self._stored_ids(f):  # kept as it was: a since-deactivated user stays
                return []
            return assignee_errors(self.ctx.session, self.ctx.models.user_model, f, value, self.ctx.lang)
        return []

    def _stored_ids(self, f: FieldSpec) -> set[Any]:
        """Ids the record links to already: kept on save even when the user may not read them
        (the form shows them as restricted and posts them back unchanged)."""
        if self.record is None:
            return set()
        if f.type == "links":
            return {item.id for item in getattr(self.record, f.name, None) or []}
        return {getattr(self.record, f.column_name, None)} - {None}

    def _unique_errors(self, f: FieldSpec) -> list[str]:
        """A unique field's value another record holds (asked of unique fields only)."""
        if f.unique and field_taken(self.ctx.session, self.model, f, self.values[f.name], self.record):
            return [msg("unique", self.ctx.lang)]
        return []

    def _assign(self, record: Any) -> None:
        for name, value in self.values.items():
            f = self.entity.field(name)
            if f.type == "links":
                target = self.ctx.models.model(f.target)
                items = self.ctx.session.scalars(sa.select(target).where(target.id.in_(value or []))).all()
                setattr(record, f.name, list(items))
            else:
                setattr(record, f.column_name, value if not is_empty(value) else None)

    def _record_pipelines(self) -> list[tuple[Any, str | None, str | None]]:
        """(pipeline, current stage, stage after this change) for each stage field of the record."""
        state = record_state(self.entity, self.record, self.values, self.entity.pipeline_fields)
        if self.record is None and self._pipelines is not None and self._pipelines[0] == state:
            return list(self._pipelines[1])  # a new record's answer depends on `state` alone
        known = _new_record_pipelines(self.entity, state) if self.record is None else None
        if known is not None:  # the same state met by an earlier new record (an import's rows)
            self._pipelines = (state, known)
            return list(known)
        probe = SimpleNamespace(**state)  # all pipeline_for and the loop below read
        result = []
        for pipeline in {p.field: self.entity.pipeline_for(probe) for p in self.entity.pipelines}.values():
            if pipeline is not None:
                current = getattr(self.record, pipeline.field, None) if self.record is not None else None
                result.append((pipeline, current, state.get(pipeline.field) or current))
        self._pipelines = (state, tuple(result))
        if self.record is None:
            _keep_new_record_pipelines(self.entity, state, self._pipelines[1])
        return result

    def _default_stages(self) -> None:
        """A new record starts in the first stage of its own pipeline, unless a stage was chosen
        (the stage field's default belongs to the default pipeline: a renewal starts elsewhere)."""
        for pipeline, _, target in self._record_pipelines():
            default = self.entity.field(pipeline.field).default
            if target in (None, default) and pipeline.stage(target) is None:
                self.values[pipeline.field] = pipeline.stages[0].name
                self.server_filled.add(pipeline.field)

    def _stage_moves(self) -> list[tuple[Any, str | None, str]]:
        """(pipeline, from, to) for each stage field this change sets or moves."""
        moves = []
        for pipeline, current, target in self._record_pipelines():
            # a change of the `when` field can put the record in a pipeline without its stage
            switched = (self.record is not None and pipeline.when is not None and pipeline.when[0] in self.values
                        and pipeline.stage(current) is None)
            if target is not None and (target != current or self.record is None or switched):
                moves.append((pipeline, None if self.record is None else current, target))
        return moves

    def _gate_errors(self) -> dict[str, list[str]]:
        # a stored record: every field (loads it: its history needs the old values); a new one: what a gate reads
        state = record_state(self.entity, self.record, self.values, None if self.record is not None else gate_reads(self.entity))
        errors: dict[str, list[str]] = {}
        for pipeline, source, target in self._stage_moves():
            for name, messages in gate_errors(self.ctx, self.entity, pipeline, source, target, state).items():
                errors.setdefault(name, []).extend(messages)
        return errors

    def _apply_stages(self, record: Any, moves: list[tuple[Any, str | None, str]]) -> None:
        for pipeline, source, target in moves:
            apply_stage(self.ctx, self.entity, pipeline, record, source, target, self.values, self.now)

    def _commit(self) -> None:
        try:
            if not self.autocommit:
                self.ctx.session.flush()
                return
            self.ctx.session.commit()
        except IntegrityError as exc:
            self.ctx.session.rollback()
            duplicates = integrity_errors(self.entity, exc, self.ctx.lang)
            if duplicates:  # a writer racing past the check: the same 422, never a 500
                raise ValidationFailed(duplicates) from None
            raise Conflict(f"the database refused the change: {exc.orig}") from exc
        except StaleDataError as exc:
            raise lost_race(self.ctx, self.entity, self.record, self.expected_version, exc) from None


class CreateRecord(_RecordCommand):
    """Create a record; absent fields take their metadata default."""

    def validate(self) -> None:
        self._require("create")
        self._take_owner()
        for f in self.entity.defaulted_fields:
            if f.name not in self.values and f.name not in self.input_errors:
                self.values[f.name] = default_for(f, self.ctx.user_id)
                self.server_filled.add(f.name)
        self._default_stages()
        writable = self.ctx.access.writable_fields(self.entity) if self.ctx.access is not None else None
        editable = list(self.entity.editable_fields) if writable is None else [
            f for f in self.entity.editable_fields if f.name in self.values or f.name in writable]
        errors = self._check(editable)
        if not errors:
            errors = self._gate_errors()
        if errors:
            raise ValidationFailed(errors)

    def run(self) -> Any:
        self.validate()
        moves = self._stage_moves()
        record = self.model()
        self._assign(record)
        record.owner_id = self.owner_id if self.owner_id is not None else self.ctx.user_id
        self.ctx.session.add(record)
        self._apply_stages(record, moves)
        if self.ctx.hooks is not None:
            self.ctx.hooks.crm_before_insert(entity=self.entity, record=record, session=self.ctx.session)
        self._commit()
        return record


    owner_id: Any = None

    def _take_owner(self) -> None:
        """`owner` given on create: allowed to roles that may reassign (and to the CLI), checked
        like a reassignment (an active user, of the owner field's roles, within the reassign scope)."""
        if "owner" not in self.values:
            return
        from .reassign import owner_errors  # reassign builds on this module

        value = self.values.pop("owner")
        if is_empty(value):
            return
        access, lang = self.ctx.access, self.ctx.lang
        if access is not None and access.scope(self.entity.name, "reassign") == "no":
            raise FieldsRefused({"owner": [msg("read_only", lang)]})
        errors = owner_errors(self.ctx, self.entity, value)
        if errors:
            raise ValidationFailed({"owner": errors})
        self.owner_id = value


class UpdateRecord(_RecordCommand):
    """Change the fields given; others keep their values (PATCH semantics)."""

    def __init__(self, ctx: RecordContext, entity: str, record: Any, values: dict[str, Any],
                 input_errors: dict[str, list[str]] | None = None, version: int | None = None):
        super().__init__(ctx, entity, values, input_errors)
        self.record = record
        self.expected_version = version

    def validate(self) -> None:
        self._require("update", self.record)
        check_version(self.ctx, self.entity, self.record, self.expected_version)
        self._refuse_locked()
        touched = [f for f in self.entity.declared_fields if f.name in self.values and f.editable]
        errors = self._check(touched)
        if not errors:
            errors = self._gate_errors()
        if errors:
            raise ValidationFailed(errors)

    def run(self) -> Any:
        self.validate()
        moves = self._stage_moves()
        self._assign(self.record)
        self._apply_stages(self.record, moves)
        self._commit()  # crm_on_update: delivered after the commit from the outbox (app/automations/process.py)
        return self.record


class DeleteRecord:
    """Delete a record unless a restrict link still points at it."""

    def __init__(self, ctx: RecordContext, entity: str, record: Any, version: int | None = None):
        self.ctx = ctx
        self.entity = ctx.entity(entity)
        self.record = record
        self.expected_version = version

    def validate(self) -> None:
        access = self.ctx.access
        if access is not None and not access.allows(self.entity.name, "delete", self.record):
            raise Forbidden(forbidden_text("delete", self.entity.label, self.ctx.lang))
        check_version(self.ctx, self.entity, self.record, self.expected_version)
        spec = self.ctx.models.spec
        for source, f in spec.links_to(self.entity.name):
            if f.type != "link" or f.on_delete != "restrict":
                continue
            model = self.ctx.models.model(source.name)
            column = getattr(model, f.column_name)
            count = self.ctx.session.scalar(
                sa.select(sa.func.count()).select_from(model).where(column == self.record.id))
            if count:
                raise Conflict(msg("restricted", self.ctx.lang, count=count,
                                   entity=source.label.get(self.ctx.lang),
                                   field=f.label.get(self.ctx.lang)))

    def run(self) -> None:
        self.validate()  # crm_on_delete: delivered after the commit from the outbox (app/automations/process.py)
        self.ctx.session.delete(self.record)
        try:
            self.ctx.session.commit()
        except IntegrityError as exc:
            self.ctx.session.rollback()
            raise Conflict(f"the database refused the delete: {exc.orig}") from exc
        except StaleDataError as exc:
            raise lost_race(self.ctx, self.entity, self.record, self.expected_version, exc) from None


class MoveStage(UpdateRecord):
    """Move a record to another stage (kanban, API): an update of the stage field alone,
    refused when the record changed since the client loaded it (`expected_changed_on`)."""

    def __init__(self, ctx: RecordContext, entity: str, record: Any, stage: str,
                 expected_changed_on: Any = None, now: Any = None, field: str | None = None,
                 version: int | None = None):
        spec = ctx.entity(entity)
        pipeline = spec.pipeline_for(record)
        stage_field = field or (pipeline.field if pipeline else "")
        super().__init__(ctx, entity, record, {stage_field: stage} if stage_field else {}, version=version)
        self.expected = expected_changed_on
        self.now = now
        self.pipeline = pipeline

    def validate(self) -> None:
        if self.pipeline is None:
            raise ValidationFailed({"_schema": [f"{self.entity.name} has no pipeline"]})
        self._require("update", self.record)
        check_version(self.ctx, self.entity, self.record, self.expected_version)
        try:
            check_fresh(self.record, self.expected)
        except StaleRecord as exc:
            raise Conflict(str(exc)) from None
        super().validate()
