"""Parse and check an entity's pipelines: ordered stages with gates.

A pipeline makes its stage field (a choice of its stages), so stage names,
labels and colors are written once. Gates per stage: fields required to
enter it, the stages allowed next, and the roles that may move into it.
"""

from __future__ import annotations

from typing import Any

from app.i18n import _t

from .definitions import (
    OUTCOMES,
    PIPELINE_KEYS,
    RESERVED_FIELD_NAMES,
    STAGE_KEYS,
    SYSTEM_FIELDS,
    TRANSITION_KEYS,
)
from .problems import ProblemSink, did_you_mean
from .shapes import check_identifier, check_label, check_mapping, line_of
from .spec import Choice, FieldSpec, PipelineSpec, StageSpec, Text, TransitionSpec
from .yamlsource import LocMap

AMOUNT_TYPES = ("money", "decimal", "integer")
STAGE_LABEL = _t("Stage")


def parse_pipelines(raw: Any, node: LocMap, sink: ProblemSink, declared: list[FieldSpec],
                    languages: tuple[str, ...]) -> tuple[list[PipelineSpec], list[FieldSpec]]:
    """Pipelines of one entity, and the stage fields they make."""
    line = node.line_of("pipelines")
    known = {f.name: f for f in declared}
    pipelines: list[PipelineSpec] = []
    seen: set[str] = set()
    for index, item in enumerate(raw or []):
        item_line = line_of(raw, index, line)
        pipeline = _parse_pipeline(item, item_line, sink, known, languages)
        if pipeline is None:
            continue
        if pipeline.name in seen:
            sink.add("CRM-E004", item_line, f"pipeline '{pipeline.name}' is defined twice")
            continue
        seen.add(pipeline.name)
        pipelines.append(pipeline)
    _check_defaults(pipelines, sink, line)
    return pipelines, _stage_fields(pipelines)


def _parse_pipeline(item: Any, line: int, sink: ProblemSink, known: dict[str, FieldSpec],
                    languages: tuple[str, ...]) -> PipelineSpec | None:
    values = check_mapping(item, PIPELINE_KEYS, sink, "pipeline", line)
    name = values.get("name")
    if name is None or not check_identifier(name, sink, line, "pipeline name"):
        return None
    where = f"pipeline '{name}'"
    if "label" in values:
        check_label(values["label"], sink, item.line_of("label"), where, languages)
    stage_field = values.get("field")
    if stage_field is None or not check_identifier(stage_field, sink, item.line_of("field"), "stage field"):
        return None
    if stage_field in RESERVED_FIELD_NAMES:
        sink.add("CRM-E006", item.line_of("field"), f"{where}: stage field name '{stage_field}' is reserved",
                 "name it stage or status")
        return None
    if stage_field in known:
        sink.add("CRM-E024", item.line_of("field"), f"{where}: field '{stage_field}' is declared in fields",
                 "the pipeline makes its stage field from its stages: remove the declaration")
        return None
    stages = _parse_stages(values.get("stages") or [], item, sink, known, where, languages)
    if not stages:
        if values.get("stages"):  # the stages themselves were reported
            return None
        if "stages" in item and isinstance(item.get("stages"), list):
            sink.add("CRM-E024", item.line_of("stages"), f"{where} has no stages")
        return None
    when = _parse_when(values.get("when"), item, sink, known, where)
    if when is None and values.get("when") is not None:
        when = ("", "")  # reported bad: claims no record, and is not a second default
    probability = _typed_field(values, "probability_field", ("percent",), item, sink, known, where)
    amount = _typed_field(values, "amount_field", AMOUNT_TYPES, item, sink, known, where)
    if "field_label" in values:
        check_label(values["field_label"], sink, item.line_of("field_label"), where, languages)
    transitions = _parse_transitions(values.get("transitions") or [], item, sink, stages, where)
    cards = []
    for j, card in enumerate(values.get("card_fields") or []):
        if card not in known and card not in SYSTEM_FIELDS:
            sink.add("CRM-E010", line_of(values["card_fields"], j, line), f"{where}: card_fields names "
                     f"unknown field '{card}'", did_you_mean(str(card), known))
        else:
            cards.append(card)
    return PipelineSpec(name=name, label=Text.of(values.get("label"), name.replace("_", " ").capitalize()),
                        field=stage_field, stages=tuple(stages), when=when, probability_field=probability,
                        probability_overridable=bool(values.get("probability_overridable", False)),
                        amount_field=amount, card_fields=tuple(cards), transitions=tuple(transitions),
                        field_label=Text.of(values["field_label"], stage_field) if "field_label" in values else None)


def _parse_transitions(raw: list[Any], item: LocMap, sink: ProblemSink, stages: list[StageSpec],
                       where: str) -> list[TransitionSpec]:
    """Rules per from→to move: both stages known (CRM-E043), a move `next` allows, each pair once (CRM-E044)."""
    base = item.line_of("transitions")
    names = {s.name: s for s in stages}
    parsed: list[TransitionSpec] = []
    for index, node in enumerate(raw):
        line = line_of(raw, index, base)
        values = check_mapping(node, TRANSITION_KEYS, sink, f"a transition of {where}", line)
        source, target = values.get("from"), values.get("to")
        if source is None or target is None:
            continue
        unknown = [(key, str(name)) for key, name in (("from", source), ("to", target)) if name not in names]
        for key, name in unknown:
            sink.add("CRM-E043", node.line_of(key) or line, f"{where}: transition {key} unknown stage '{name}'",
                     did_you_mean(name, names))
        if unknown:
            continue
        allowed = names[source].next
        if source == target or (allowed is not None and target not in allowed):
            sink.add("CRM-E044", line, f"{where}: transition {source} → {target} is not a move stage "
                     f"'{source}' allows", f"add '{target}' to the next of '{source}'" if source != target else
                     "a transition moves between two different stages")
            continue
        if any(t.source == source and t.target == target for t in parsed):
            sink.add("CRM-E044", line, f"{where}: transition {source} → {target} is listed twice")
            continue
        parsed.append(TransitionSpec(source=source, target=target,
                                     roles=tuple(str(r) for r in values.get("roles") or []),
                                     line=node.line_of("roles") or line))
    return parsed


def _parse_stages(raw: list[Any], item: LocMap, sink: ProblemSink, known: dict[str, FieldSpec], where: str,
                  languages: tuple[str, ...]) -> list[StageSpec]:
    base = item.line_of("stages")
    parsed: list[tuple[StageSpec, dict[str, Any], int]] = []
    for index, node in enumerate(raw):
        line = line_of(raw, index, base)
        values = check_mapping(node, STAGE_KEYS, sink, f"a stage of {where}", line)
        name = values.get("name")
        if name is None or not check_identifier(name, sink, line, "stage name"):
            continue
        if any(s.name == name for s, _, _ in parsed):
            sink.add("CRM-E004", line, f"{where}: stage '{name}' is listed twice")
            continue
        if "label" in values:
            check_label(values["label"], sink, node.line_of("label"), where, languages)
        probability = values.get("probability")
        if probability is not None and not 0 <= probability <= 100:
            sink.add("CRM-E014", node.line_of("probability"), f"{where}: stage '{name}' probability "
                     f"{probability} must be between 0 and 100")
        outcome = values.get("outcome", "open")
        if outcome not in OUTCOMES:
            sink.add("CRM-E024", node.line_of("outcome"), f"{where}: stage '{name}' outcome '{outcome}' "
                     f"is not one of {', '.join(OUTCOMES)}", did_you_mean(str(outcome), OUTCOMES))
            outcome = "open"
        requires = []
        for j, required in enumerate(values.get("requires") or []):
            if required not in known:
                sink.add("CRM-E010", line_of(values["requires"], j, line), f"{where}: stage '{name}' "
                         f"requires unknown field '{required}'", did_you_mean(str(required), known))
            else:
                requires.append(required)
        stage = StageSpec(name=name, label=Text.of(values.get("label"), name.replace("_", " ").capitalize()),
                          color=values.get("color"), probability=probability, outcome=outcome,
                          requires=tuple(requires),
                          next=tuple(values["next"]) if "next" in values else None,
                          roles=tuple(str(r) for r in values.get("roles") or []),
                          line=node.line_of("roles") if isinstance(node, LocMap) else line)
        parsed.append((stage, values, line))
    names = {s.name for s, _, _ in parsed}
    for stage, values, line in parsed:
        for j, target in enumerate(values.get("next") or []):
            if target not in names:
                sink.add("CRM-E025", line_of(values["next"], j, line), f"{where}: stage '{stage.name}' "
                         f"moves next to unknown stage '{target}'", did_you_mean(str(target), names))
    return [s for s, _, _ in parsed]


def _parse_when(raw: Any, item: LocMap, sink: ProblemSink, known: dict[str, FieldSpec],
                where: str) -> tuple[str, str] | None:
    if raw is None:
        return None
    line = item.line_of("when")
    if len(raw) != 1:
        sink.add("CRM-E024", line, f"{where}: when must name one field and one value, e.g. {{kind: renewal}}")
        return None
    (name, value), = raw.items()
    f = known.get(name)
    if f is None or f.type != "choice":
        sink.add("CRM-E024", line, f"{where}: when names '{name}', which is not a choice field",
                 did_you_mean(str(name), [k for k, v in known.items() if v.type == "choice"]))
        return None
    if str(value) not in {c.value for c in f.choices}:
        sink.add("CRM-E024", line, f"{where}: when value '{value}' is not a choice of '{name}'",
                 did_you_mean(str(value), [c.value for c in f.choices]))
        return None
    return name, str(value)


def _typed_field(values: dict[str, Any], key: str, types: tuple[str, ...], item: LocMap, sink: ProblemSink,
                 known: dict[str, FieldSpec], where: str) -> str | None:
    name = values.get(key)
    if name is None:
        return None
    f = known.get(name)
    if f is None or f.type not in types:
        sink.add("CRM-E024", item.line_of(key), f"{where}: {key} '{name}' must be a {' or '.join(types)} field",
                 did_you_mean(str(name), [k for k, v in known.items() if v.type in types]))
        return None
    return name


def _check_defaults(pipelines: list[PipelineSpec], sink: ProblemSink, line: int) -> None:
    for stage_field in {p.field for p in pipelines}:
        defaults = [p.name for p in pipelines if p.field == stage_field and p.when is None]
        if len(defaults) > 1:
            sink.add("CRM-E024", line, f"pipelines {', '.join(defaults)} all claim every record of "
                     f"'{stage_field}'", "give all but one of them a `when`")


def _stage_fields(pipelines: list[PipelineSpec]) -> list[FieldSpec]:
    fields = []
    for stage_field in dict.fromkeys(p.field for p in pipelines):
        mine = [p for p in pipelines if p.field == stage_field]
        choices: dict[str, Choice] = {}
        for pipeline in mine:
            for stage in pipeline.stages:
                choices.setdefault(stage.name, Choice(stage.name, stage.label, stage.color))
        first = next((p for p in mine if p.when is None), mine[0]).stages[0].name
        own = next((p.field_label for p in mine if p.field_label is not None), None)
        label = own or (STAGE_LABEL if stage_field in ("stage", "status") else Text.of(
            None, stage_field.replace("_", " ").capitalize()))
        fields.append(FieldSpec(name=stage_field, type="choice", label=label, required=True, default=first,
                                choices=tuple(choices.values()), index=True, max_length=64))
    return fields
