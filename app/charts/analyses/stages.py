"""Pipelines in SQL: which records follow a pipeline, its stages by outcome.

`EntitySpec.pipeline_for` decides a record's pipeline in Python (the first
pipeline whose `when` matches, else the default); `member_clause` is the
same rule as a WHERE clause, so analyses count a pipeline's records in the
database.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from app.metadata.spec import ChartSpec, EntitySpec, PipelineSpec

from .guard import Omitted


def pipeline_of(ctx: Any, chart: ChartSpec) -> tuple[EntitySpec, PipelineSpec]:
    """The chart's entity and the pipeline it names (the first when it names none)."""
    entity = ctx.spec.entity(chart.entity)
    pipeline = next((p for p in entity.pipelines if p.name == chart.pipeline), None)
    if pipeline is None and entity.pipelines and chart.pipeline is None:
        pipeline = entity.pipelines[0]
    if pipeline is None:  # the checker refuses this; an app built around it must not 500
        raise Omitted(f"{entity.name} has no pipeline '{chart.pipeline}'")
    return entity, pipeline


def member_clause(entity: EntitySpec, pipeline: PipelineSpec, model: Any) -> Any:
    """Rows of `model` whose pipeline (by `pipeline_for`'s rule) is `pipeline`."""
    def matches(p: PipelineSpec) -> Any:
        assert p.when is not None
        name, value = p.when
        column = getattr(model, entity.field(name).column_name)
        return sa.and_(column.is_not(None), column == value)

    earlier: list[Any] = []
    default = next((p for p in entity.pipelines if p.when is None), None)
    for p in entity.pipelines:
        if p.when is None:
            continue
        if p.name == pipeline.name:
            return sa.and_(matches(p), *[sa.not_(c) for c in earlier])
        earlier.append(matches(p))
    if default is not None and default.name == pipeline.name:
        return sa.and_(sa.true(), *[sa.not_(c) for c in earlier])
    return sa.false()


def stage_names(pipeline: PipelineSpec, *outcomes: str) -> list[str]:
    return [s.name for s in pipeline.stages if s.outcome in outcomes]


def stage_column(entity: EntitySpec, pipeline: PipelineSpec, model: Any) -> Any:
    return getattr(model, entity.field(pipeline.field).column_name)


def won_clause(entity: EntitySpec, model: Any) -> Any:
    """Records in a won-outcome stage of their own pipeline, whichever pipeline that is."""
    parts = [sa.and_(member_clause(entity, p, model), stage_column(entity, p, model).in_(stage_names(p, "won")))
             for p in entity.pipelines if stage_names(p, "won")]
    return sa.or_(*parts) if parts else sa.false()
