"""Load a metadata folder into a CrmSpec, reporting every problem at once.

`load_metadata(root)` returns (spec, problems); `load_spec(root)` raises
MetadataError when there is any problem, which is what the app factory uses.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path
from typing import Any

from app.automations.loader import parse_automations
from app.automations.reminders import parse_reminders
from app.fieldtypes import field_type
from app.i18n import _t

from .computed import check_computed
from .conversion import check_conversion
from .dashboards import parse_dashboards
from .definitions import CRM_KEYS, LANGUAGES, MENU_KEYS
from .entities import RawEntity, parse_entity
from .files import unreadable_reason
from .normalisers import check_phone_region
from .problems import MetadataError, Problem, ProblemSink, did_you_mean
from .roles import parse_roles
from .rules import check_rules
from .shapes import check_identifier, check_label, check_mapping, line_of, type_name
from .spec import CrmSpec, EntitySpec, MenuGroup, RoleSpec, Text
from .yamlsource import LocMap, read_yaml


def load_spec(root: Path | str) -> CrmSpec:
    spec, problems = load_metadata(root)
    if problems or spec is None:
        raise MetadataError(problems, Path(root))
    return spec


def load_metadata(root: Path | str) -> tuple[CrmSpec | None, list[Problem]]:
    root = Path(root).resolve()
    problems: list[Problem] = []
    crm_path = root / "crm.yaml"
    if not root.is_dir():
        problems.append(Problem("CRM-E019", root, 0, f"metadata folder {root} does not exist",
                                "set CRM_METADATA_DIR to the folder holding crm.yaml"))
        return None, problems
    crm_node = _read(crm_path, problems, required=True)
    crm_sink = ProblemSink(crm_path, problems)
    crm_values = check_mapping(crm_node, CRM_KEYS, crm_sink, "crm.yaml", 1) if crm_node is not None else {}
    languages = _languages(crm_values, crm_node, crm_sink)
    if "name" in crm_values:
        check_label(crm_values["name"], crm_sink, crm_node.line_of("name"), "crm.yaml name", languages)

    raw_entities: list[RawEntity] = []
    entity_dir = root / "entities"
    files = sorted(entity_dir.glob("*.yaml")) + sorted(entity_dir.glob("*.yml")) if entity_dir.is_dir() else []
    if not entity_dir.is_dir():
        problems.append(Problem("CRM-E019", entity_dir, 0, "the entities folder is missing",
                                "create metadata/entities/ with one <entity>.yaml per entity"))
    elif not files:
        problems.append(Problem("CRM-E019", entity_dir, 0, "no entity files found",
                                "add metadata/entities/<entity>.yaml"))
    seen: dict[str, Path] = {}
    for path in files:
        node = _read(path, problems)
        if node is None:
            continue
        sink = ProblemSink(path, problems)
        raw = parse_entity(node, path.stem, sink, languages)
        if raw is None:
            continue
        if raw.spec.name in seen:
            sink.add("CRM-E004", node.line_of("name"),
                     f"entity '{raw.spec.name}' is also defined in {seen[raw.spec.name].name}")
            continue
        seen[raw.spec.name] = path
        raw_entities.append(raw)

    entities = {r.spec.name: r.spec for r in raw_entities}
    _check_entity_renames(raw_entities, entities, problems)
    entities, computed_order = check_computed(entities, problems)
    for raw in raw_entities:
        raw.spec = entities[raw.spec.name]
    for raw in raw_entities:
        _check_links(raw, entities, ProblemSink(raw.spec.source, problems))
        check_conversion(raw.spec, raw.node, entities, ProblemSink(raw.spec.source, problems))
    menu = _parse_menu(crm_values.get("menu"), crm_node, crm_sink, entities, languages)
    roles_path = root / "roles.yaml"
    roles = parse_roles(_read(roles_path, problems), roles_path, problems, entities, languages)
    _check_stage_roles(raw_entities, roles, problems)
    _check_user_field_roles(raw_entities, roles, problems)
    entities = check_rules(raw_entities, entities, {r.name for r in roles} | {"Admin"}, problems, languages)
    dashboards_path = root / "dashboards.yaml"
    dashboards = parse_dashboards(_read(dashboards_path, problems), dashboards_path, problems, entities,
                                  {r.name for r in roles} | {"Admin"}, languages)
    automations_path = root / "automations.yaml"  # automations: optional file, checked like the rest
    automations_node = _read(automations_path, problems) if automations_path.exists() else None
    automations = parse_automations(automations_node, automations_path, problems, entities, languages,
                                    {r.name for r in roles} | {"Admin"})
    reminders = parse_reminders(automations_node, automations_path, problems, entities)
    region = check_phone_region(crm_values.get("phone_region"), crm_sink,
                                crm_node.line_of("phone_region") if isinstance(crm_node, LocMap) else 1)
    if problems:
        return None, list(dict.fromkeys(problems))  # two checks may find one fault at one line
    currency = crm_values.get("currency", "CNY")
    spec = CrmSpec(
        name=Text.of(crm_values.get("name"), "MetaCRM"), languages=languages,
        currency=currency, timezone=crm_values.get("timezone", "UTC"),
        menu=menu, entities=tuple(_with_locale(e, currency, region) for e in entities.values()), root=root,
        digest=_digest([crm_path, *files, roles_path, dashboards_path]), roles=roles, dashboards=dashboards,
        phone_region=region,
        computed_order=computed_order, automations=automations, reminders=reminders,
    )
    return spec, problems


def _with_locale(entity: EntitySpec, currency: str, region: str) -> EntitySpec:
    """Money fields read the CRM's currency, phone normalisers its region (crm.yaml)."""
    fields = tuple(replace(f, currency=currency) if f.type == "money"
                   else replace(f, phone_region=region) if f.normalise else f for f in entity.fields)
    return replace(entity, fields=fields)


def _read(path: Path, problems: list[Problem], required: bool = False) -> Any:
    unreadable = unreadable_reason(path)
    if unreadable:
        problems.append(Problem("CRM-E028", path, 0, f"{path.name} {unreadable[0]}", unreadable[1]))
        return None
    if not path.is_file():
        if required:
            problems.append(Problem("CRM-E019", path, 0, f"{path.name} is missing",
                                    "every metadata folder needs crm.yaml"))
        return None
    doc = read_yaml(path)
    if doc.error:
        problems.append(Problem(doc.code, path, doc.error_line, doc.error, doc.hint))
        return None
    if doc.data is None:
        empty = LocMap()
        empty.line, empty.key_lines, empty.duplicates = 1, {}, []
        return empty
    return doc.data


def _languages(values: dict, node: Any, sink: ProblemSink) -> tuple[str, ...]:
    langs = values.get("languages") or ["en"]
    good = []
    for i, lang in enumerate(langs):
        if not isinstance(lang, str):
            sink.add("CRM-E003", line_of(langs, i, 1), f"languages entry must be a language code, got {type_name(lang)}")
        elif lang not in LANGUAGES:
            sink.add("CRM-E018", line_of(langs, i, 1), f"language '{lang}' is not supported",
                     did_you_mean(str(lang), LANGUAGES) or f"supported: {', '.join(LANGUAGES)}")
        else:
            good.append(lang)
    return tuple(good) or ("en",)


def _check_links(raw: RawEntity, entities: dict[str, EntitySpec], sink: ProblemSink) -> None:
    spec = raw.spec
    for f in spec.declared_fields:
        if f.type in ("link", "links") and f.to not in entities:
            sink.add("CRM-E009", f.line, f"field '{f.name}' links to unknown entity '{f.to}'",
                     did_you_mean(str(f.to), entities) or f"entities: {', '.join(sorted(entities))}")
    list_node = raw.node.get("list") if isinstance(raw.node, LocMap) else None
    for key in ("columns", "search"):
        items = list_node.get(key) if isinstance(list_node, LocMap) else None
        for index, entry in enumerate(items or []):
            if not isinstance(entry, str) or "." not in entry or entry.split(".")[0] not in spec.field_map:
                continue
            head, tail = entry.split(".", 1)
            link = spec.field(head)
            if not link.is_link:
                continue  # already reported by the entity pass
            target = entities.get(link.target) if link.type == "link" else None
            line = line_of(items, index, raw.node.line_of("list"))
            if "." in tail:
                sink.add("CRM-E020", line, f"list {key}: '{entry}' goes more than one link deep",
                         "paths are link.field, one level")
                continue
            if link.type == "user":
                if tail not in ("username", "first_name", "last_name"):
                    sink.add("CRM-E010", line, f"list {key}: users have no field '{tail}'",
                             "use username, first_name or last_name")
                continue
            if target is None:
                continue
            if tail not in target.field_map:
                sink.add("CRM-E010", line, f"list {key}: '{link.to}' has no field '{tail}'",
                         did_you_mean(tail, target.field_map))
            elif key == "search" and not field_type(target.field(tail).type).searchable:
                sink.add("CRM-E020", line, f"list search: '{entry}' is not a text field",
                         "search looks in text fields; offer a filter on the link instead")


def _check_entity_renames(raw_entities: list[RawEntity], entities: dict[str, EntitySpec],
                          problems: list[Problem]) -> None:
    """An entity's `renamed_from` must name a name no entity has now, and only one may take it."""
    taken: dict[str, str] = {}
    for raw in raw_entities:
        old, spec = raw.spec.renamed_from, raw.spec
        if old is None:
            continue
        sink = ProblemSink(spec.source, problems)
        if old in entities:
            sink.add("CRM-E014", spec.renamed_line, f"entity '{spec.name}': renamed_from '{old}' is still an entity",
                     f"a rename needs the old name gone; remove {old}.yaml or the renamed_from")
        elif old in taken:
            sink.add("CRM-E014", spec.renamed_line,
                     f"entity '{spec.name}': '{old}' is also renamed to '{taken[old]}'",
                     "one entity takes the old table; remove one of the renamed_from")
        taken.setdefault(old, spec.name)


def _check_stage_roles(raw_entities: list[RawEntity], roles: tuple[RoleSpec, ...],
                       problems: list[Problem]) -> None:
    names = {r.name for r in roles} | {"Admin"}
    for raw in raw_entities:
        sink = ProblemSink(raw.spec.source, problems)
        for pipeline in raw.spec.pipelines:
            for stage in pipeline.stages:
                for role in stage.roles:
                    if role not in names:
                        sink.add("CRM-E024", stage.line or raw.node.line_of("pipelines"),
                                 f"pipeline '{pipeline.name}': stage '{stage.name}' names unknown role '{role}'",
                                 did_you_mean(role, names))
            for transition in pipeline.transitions:
                for role in transition.roles:
                    if role not in names:
                        sink.add("CRM-E044", transition.line or raw.node.line_of("pipelines"),
                                 f"pipeline '{pipeline.name}': transition {transition.source} → "
                                 f"{transition.target} names unknown role '{role}'", did_you_mean(role, names))


def _check_user_field_roles(raw_entities: list[RawEntity], roles: tuple[RoleSpec, ...],
                            problems: list[Problem]) -> None:
    """`roles:` of a user field names roles that exist (Admin included)."""
    names = {r.name for r in roles} | {"Admin"}
    for raw in raw_entities:
        sink = ProblemSink(raw.spec.source, problems)
        for f in raw.spec.fields:
            for role in f.roles:
                if role not in names:
                    line = f.line or raw.node.line_of("owner")
                    sink.add("CRM-E042", line, f"field '{raw.spec.name}.{f.name}': roles names unknown role "
                             f"'{role}'", did_you_mean(role, names) or f"roles: {', '.join(sorted(names))}")


def _parse_menu(raw: Any, node: Any, sink: ProblemSink, entities: dict[str, EntitySpec],
                languages: tuple[str, ...]) -> tuple[MenuGroup, ...]:
    groups: list[MenuGroup] = []
    placed: set[str] = set()
    seen_groups: set[str] = set()
    base_line = node.line_of("menu") if isinstance(node, LocMap) else 1
    for index, item in enumerate(raw or []):
        line = line_of(raw, index, base_line)
        values = check_mapping(item, MENU_KEYS, sink, "menu group", line)
        if "group" not in values or not check_identifier(values["group"], sink, line, "menu group"):
            continue
        if "label" in values:
            check_label(values["label"], sink, line_of(item, "label", line), "menu group", languages)
        names = []
        listed = values.get("entities") or []
        if values["group"] in seen_groups:
            sink.add("CRM-E016", line, f"menu group '{values['group']}' is defined twice")
            continue
        seen_groups.add(values["group"])
        for j, entity in enumerate(listed):
            entry_line = line_of(listed, j, line)
            if not isinstance(entity, str):
                sink.add("CRM-E003", entry_line, f"menu entities entry must be an entity name, got {type_name(entity)}")
            elif entity not in entities:
                sink.add("CRM-E016", entry_line, f"menu group '{values['group']}' names unknown entity '{entity}'",
                         did_you_mean(str(entity), entities))
            elif entity in placed:
                sink.add("CRM-E016", entry_line, f"entity '{entity}' is in the menu twice")
            else:
                placed.add(entity)
                names.append(entity)
        label = Text.of(values.get("label"), values["group"].replace("_", " ").capitalize())
        groups.append(MenuGroup(values["group"], label, tuple(names)))
    rest = tuple(name for name in entities if name not in placed)
    if rest:  # entities no group names go in a last group, under a key no group uses
        key = next(k for k in ("other", *(f"other_{i}" for i in range(2, 99))) if k not in seen_groups)
        groups.append(MenuGroup(key, _t("Other"), rest))
    return tuple(groups)


def _digest(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        if path.is_file():
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]
