"""Parse and check `convert`: one step that turns a record into others.

Shapes are checked with the entity; references to other entities' fields in
the loader's cross pass (`check_conversion`), once every entity is known.
"""

from __future__ import annotations

from typing import Any

from app.i18n import _t

from .definitions import CONVERT_KEYS, TARGET_KEYS
from .problems import ProblemSink, did_you_mean
from .shapes import check_label, check_mapping, line_of
from .spec import ConvertSpec, ConvertTarget, EntitySpec, Text
from .yamlsource import LocMap

DEFAULT_LABEL = _t("Convert")


def parse_conversion(raw: Any, node: LocMap, sink: ProblemSink, languages: tuple[str, ...]) -> ConvertSpec | None:
    if raw is None:
        return None
    line = node.line_of("convert")
    values = check_mapping(raw, CONVERT_KEYS, sink, "convert", line)
    if "label" in values:
        check_label(values["label"], sink, raw.line_of("label"), "convert", languages)
    targets = []
    for index, item in enumerate(values.get("targets") or []):
        item_line = line_of(values["targets"], index, line)
        got = check_mapping(item, TARGET_KEYS, sink, "convert target", item_line)
        if "entity" not in got or "fields" not in got:
            continue
        fields = tuple((str(k), str(v)) for k, v in got["fields"].items())
        targets.append(ConvertTarget(got["entity"], fields, got.get("match"), got.get("link")))
    if not targets or "from" not in values or "to" not in values:
        return None
    return ConvertSpec(Text.of(values.get("label")) or DEFAULT_LABEL, tuple(values["from"]), values["to"],
                       tuple(targets))


def check_conversion(entity: EntitySpec, node: LocMap, entities: dict[str, EntitySpec], sink: ProblemSink) -> None:
    spec = entity.convert
    if spec is None:
        return
    line = node.line_of("convert")
    stages = {s.name for p in entity.pipelines for s in p.stages}
    for stage in (*spec.from_stages, spec.to_stage):
        if stage not in stages:
            sink.add("CRM-E025", line, f"convert names unknown stage '{stage}'", did_you_mean(stage, stages))
    made: set[str] = set()
    for target in spec.targets:
        where = f"convert target '{target.entity}'"
        other = entities.get(target.entity)
        if other is None:
            sink.add("CRM-E026", line, f"{where} is not an entity", did_you_mean(target.entity, entities))
            continue
        for to_field, source in target.fields:
            if to_field not in other.field_map or not other.field(to_field).editable:
                sink.add("CRM-E026", line, f"{where}: '{target.entity}' has no writable field '{to_field}'",
                         did_you_mean(to_field, other.field_map))
            if source.startswith("$"):
                if source[1:] not in made:
                    sink.add("CRM-E026", line, f"{where}: {source} is not a record made earlier in the conversion",
                             did_you_mean(source[1:], made))
            elif source not in entity.field_map:
                sink.add("CRM-E026", line, f"{where}: '{entity.name}' has no field '{source}'",
                         did_you_mean(source, entity.field_map))
        if target.match is not None and target.match not in other.field_map:
            sink.add("CRM-E026", line, f"{where}: match names unknown field '{target.match}'")
        if target.link is not None:
            link = entity.field_map.get(target.link)
            if link is None or link.type != "link" or link.to != target.entity:
                sink.add("CRM-E026", line, f"{where}: link '{target.link}' must be a link field of "
                         f"'{entity.name}' to '{target.entity}'")
        made.add(target.entity)
