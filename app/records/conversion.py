"""Convert a record (a qualified lead) into records of other entities, in one transaction.

Each target is made through CreateRecord, so its rules, gates, owner and
plugin hooks apply as if the user had created it; an existing record is
reused when the `match` field has the same value (and the user may read it).
The source keeps links to what was made and moves to the `to` stage.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm.exc import StaleDataError

from app.metadata.spec import ConvertTarget

from .commands import (
    CreateRecord,
    Forbidden,
    RecordContext,
    ValidationFailed,
    _RecordCommand,
    check_version,
    lost_race,
)
from .normalise import normalise_values
from .stages import apply_stage


class ConvertRecord(_RecordCommand):
    def __init__(self, ctx: RecordContext, entity: str, record: Any, version: int | None = None):
        super().__init__(ctx, entity, {})
        self.record = record
        self.expected_version = version  # the lead as the user saw it: a stale conversion is a 409
        self.spec = self.entity.convert

    def validate(self) -> None:
        if self.spec is None:
            raise ValidationFailed({"_schema": [f"{self.entity.name} cannot be converted"]})
        self._require("update", self.record)
        check_version(self.ctx, self.entity, self.record, self.expected_version)
        self._refuse_locked()
        pipeline = self.entity.pipeline_for(self.record)
        current = getattr(self.record, pipeline.field, None) if pipeline else None
        if current not in self.spec.from_stages:
            allowed = ", ".join(self.spec.from_stages)
            raise ValidationFailed({pipeline.field if pipeline else "_schema": [
                f"Only records in {allowed} can be converted (this one is {current})."]})

    def run(self) -> dict[str, Any]:
        self.validate()
        made: dict[str, Any] = {}
        try:
            for target in self.spec.targets:  # type: ignore[union-attr]
                made[target.entity] = self._make(target, made)
                if target.link:
                    setattr(self.record, self.entity.field(target.link).column_name, made[target.entity].id)
            pipeline = self.entity.pipeline_for(self.record)
            if pipeline is not None:
                source = getattr(self.record, pipeline.field)
                apply_stage(self.ctx, self.entity, pipeline, self.record, source, self.spec.to_stage, {})  # type: ignore[union-attr]
            self.ctx.session.commit()
        except StaleDataError as exc:
            raise lost_race(self.ctx, self.entity, self.record, self.expected_version, exc) from None
        except Exception:
            self.ctx.session.rollback()
            raise
        return made

    def _make(self, target: ConvertTarget, made: dict[str, Any]) -> Any:
        values = {}
        for to_field, source in target.fields:
            if source.startswith("$"):
                values[to_field] = made[source[1:]].id
            else:
                f = self.entity.field(source)
                value = getattr(self.record, f.column_name if f.is_link else f.name)
                if value not in (None, "", []):
                    values[to_field] = value
        # the target's canonical form: `match` compares what the new record would store
        normalise_values(self.ctx.entity(target.entity), values, self.ctx.lang)
        existing = self._match(target, values)
        if existing is not None:
            return existing
        command = CreateRecord(self.ctx, target.entity, values)
        command.autocommit = False
        try:
            return command.run()
        except ValidationFailed as exc:
            raise ValidationFailed({f"{target.entity}.{k}": v for k, v in exc.errors.items()}) from None
        except Forbidden:
            raise

    def _match(self, target: ConvertTarget, values: dict[str, Any]) -> Any:
        if target.match is None or values.get(target.match) in (None, ""):
            return None
        model = self.ctx.models.model(target.entity)
        spec = self.ctx.entity(target.entity)
        f = spec.field(target.match)
        column, value = getattr(model, f.column_name), values[target.match]
        if f.unique_ignore_case and isinstance(value, str):
            column, value = sa.func.lower(column), value.lower()
        query = sa.select(model).where(column == value)
        if self.ctx.access is not None:  # the records layer reads through the user's scoped layer
            query = self.ctx.access.records(self.ctx.models, target.entity).where(query)
        return self.ctx.session.scalars(query.limit(1)).first()
