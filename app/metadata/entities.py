"""Parse one entity file into an EntitySpec, checking its own references.

References inside the entity (list columns, filters, form fields, title)
are checked here; references to other entities in `loader.py`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.fieldtypes import field_type
from app.i18n import _t

from .conversion import parse_conversion
from .definitions import (
    ENTITY_KEYS,
    LIST_KEYS,
    OWNER_KEYS,
    RESERVED_ENTITY_NAMES,
    RESERVED_ENTITY_PREFIXES,
    SECTION_KEYS,
    SYSTEM_FIELDS,
)
from .fields import check_aliases, parse_field
from .normalisers import parse_unique_sets
from .pipelines import parse_pipelines
from .problems import ProblemSink, did_you_mean
from .shapes import check_identifier, check_label, check_mapping, line_of, type_name
from .spec import EntitySpec, FieldSpec, FormSection, ListSpec, Text
from .yamlsource import LocList, LocMap

MAX_PAGE_SIZE = 100


@dataclass
class RawEntity:
    """An entity as parsed, with the YAML it came from, for cross-checks."""

    spec: EntitySpec
    node: LocMap
    link_lines: dict[str, int] = field(default_factory=dict)


def system_fields(owner: dict[str, Any] | None = None) -> list[FieldSpec]:
    """The system fields; `owner` (the entity's `owner:` key) relabels the owner and limits its roles."""
    owner = owner or {}
    return [
        FieldSpec(name=name, type=ftype, label=Text.of(owner.get("label") if name == "owner" and
                                                        owner.get("label") else label),
                  help=Text.of(owner.get("help")) if name == "owner" else Text(()),
                  roles=tuple(str(r) for r in owner.get("roles") or []) if name == "owner" else (),
                  system=True, read_only=True, index=name == "owner")
        for name, (ftype, label) in SYSTEM_FIELDS.items()
    ]


def _parse_owner(raw: Any, node: LocMap, sink: ProblemSink, languages: tuple[str, ...]) -> dict[str, Any]:
    if raw is None:
        return {}
    line = node.line_of("owner")
    values = check_mapping(raw, OWNER_KEYS, sink, "owner", line)
    for key in ("label", "help"):
        if key in values:
            check_label(values[key], sink, line_of(raw, key, line), "owner", languages)
    return values


def parse_entity(node: Any, stem: str, sink: ProblemSink,
                 languages: tuple[str, ...]) -> RawEntity | None:
    values = check_mapping(node, ENTITY_KEYS, sink, "entity", node.line if isinstance(node, LocMap) else 1)
    if not values and not isinstance(node, LocMap):
        return None
    name = values.get("name", stem)
    name_line = node.line_of("name")
    if not check_identifier(name, sink, name_line, "entity name"):
        return None
    if name in RESERVED_ENTITY_NAMES or name.startswith(RESERVED_ENTITY_PREFIXES):
        sink.add("CRM-E006", name_line, f"entity name '{name}' is reserved",
                 "names used by the app itself (user, role, team, ab_*, crm_*) cannot be entities")
        return None
    if name != stem:
        sink.add("CRM-E015", name_line, f"entity '{name}' is in file '{stem}.yaml'",
                 f"rename the file to {name}.yaml or drop the name key")
    for key in ("label", "plural", "description"):
        if key in values:
            check_label(values[key], sink, node.line_of(key), f"entity '{name}'", languages)
    fields = _parse_fields(values.get("fields"), node, sink, languages)
    raw_fields = values.get("fields") or {}
    sink.broken_fields = {str(k) for k in raw_fields} - {f.name for f in fields}
    _check_renames(fields, sink)
    pipelines, stage_fields = parse_pipelines(values.get("pipelines"), node, sink, fields, languages)
    fields = fields + stage_fields
    owner = _parse_owner(values.get("owner"), node, sink, languages)
    all_fields = {f.name: f for f in fields + system_fields(owner)}
    title = _title_field(values, node, sink, fields, name)
    list_spec = _parse_list(values.get("list"), node, sink, all_fields, fields)
    form = _parse_form(values.get("form"), node, sink, fields, languages)
    label = Text.of(values.get("label"), name.capitalize())
    spec = EntitySpec(
        name=name, label=label, plural=Text.of(values.get("plural")) or label,
        title_field=title, fields=tuple(fields) + tuple(system_fields(owner)), list=list_spec,
        form=form, icon=values.get("icon", "fa-table"),
        description=Text.of(values.get("description")), source=sink.path, pipelines=tuple(pipelines),
        convert=parse_conversion(values.get("convert"), node, sink, languages),
        renamed_from=_renamed_from(values, node, sink, name), renamed_line=node.line_of("renamed_from"),
        unique=parse_unique_sets(values.get("unique"), node, sink, {f.name: f for f in fields}),
    )
    return RawEntity(spec, node, {f.name: f.line for f in fields if f.to})


def _parse_fields(raw: Any, node: LocMap, sink: ProblemSink,
                  languages: tuple[str, ...]) -> list[FieldSpec]:
    if not isinstance(raw, LocMap):
        return []
    for key, key_line in raw.duplicates:
        sink.add("CRM-E004", key_line, f"field '{key}' is defined twice")
    result = []
    for fname, fnode in raw.items():
        spec = parse_field(str(fname), fnode, raw.line_of(fname), sink, languages)
        if spec is not None:
            result.append(spec)
    if not raw:
        sink.add("CRM-E007", node.line_of("fields"), "entity has no fields")
    check_aliases(result, raw, sink)
    return result


def _check_renames(fields: list[FieldSpec], sink: ProblemSink) -> None:
    names = {f.name for f in fields}
    seen: dict[str, str] = {}
    for f in fields:
        old = f.renamed_from
        if old is None:
            continue
        if old in names:
            sink.add("CRM-E014", f.line, f"field '{f.name}': renamed_from '{old}' is still a field",
                     "a rename needs the old name gone; remove the old field or the renamed_from")
        elif old in seen:
            sink.add("CRM-E014", f.line, f"field '{f.name}': '{old}' is also renamed to '{seen[old]}'")
        elif old == f.name:
            sink.add("CRM-E014", f.line, f"field '{f.name}': renamed_from names the field itself")
        seen.setdefault(old, f.name)


def _renamed_from(values: dict, node: LocMap, sink: ProblemSink, name: str) -> str | None:
    """The entity's previous name, when it is one an entity could have had."""
    old = values.get("renamed_from")
    line = node.line_of("renamed_from")
    if old is None or not check_identifier(old, sink, line, "renamed_from"):
        return None
    if old in RESERVED_ENTITY_NAMES or old.startswith(RESERVED_ENTITY_PREFIXES):
        sink.add("CRM-E006", line, f"entity '{name}': renamed_from '{old}' is a reserved name",
                 "only an entity's table can be renamed, never one of the app's own")
        return None
    if old == name:
        sink.add("CRM-E014", line, f"entity '{name}': renamed_from names the entity itself")
        return None
    return str(old)


def _title_field(values: dict, node: LocMap, sink: ProblemSink, fields: list[FieldSpec],
                 name: str) -> str:
    by_name = {f.name: f for f in fields}
    title = values.get("title")
    if title is None:
        textual = [f.name for f in fields if f.type in ("string", "autonumber", "email")]
        return textual[0] if textual else "id"
    if title in sink.broken_fields:
        return "id"  # the field itself was already reported
    if title not in by_name:
        sink.add("CRM-E017", node.line_of("title"), f"title '{title}' is not a field of '{name}'",
                 did_you_mean(title, by_name))
        return "id"
    if by_name[title].type in ("links", "multichoice", "text"):
        sink.add("CRM-E017", node.line_of("title"),
                 f"title '{title}' is a {by_name[title].type} field", "use a one-line field")
        return "id"
    return title


def _check_name(entry: Any, known: dict[str, FieldSpec], sink: ProblemSink, line: int,
                where: str, allow_path: bool) -> str | None:
    if where == "form" and isinstance(entry, str) and entry in SYSTEM_FIELDS and entry != "owner":
        sink.add("CRM-E010", line, f"form names system field '{entry}'",
                 "system fields are filled by the app and shown on the record page; remove it "
                 "(of them only `owner` may be placed)")
        return None
    if not isinstance(entry, str):
        sink.add("CRM-E003", line, f"{where} entry must be a field name, got {type_name(entry)}")
        return None
    head = entry.split(".", 1)[0]
    if head in sink.broken_fields:
        return None  # the field itself was already reported
    if head not in known:
        sink.add("CRM-E010", line, f"{where} names unknown field '{head}'",
                 did_you_mean(head, known))
        return None
    if "." in entry and (not allow_path or not known[head].is_link):
        sink.add("CRM-E020", line, f"{where}: '{entry}' is not allowed here",
                 "only a link field can be followed by .field, and only in columns and search")
        return None
    return entry


def _parse_list(raw: Any, node: LocMap, sink: ProblemSink, known: dict[str, FieldSpec],
                declared: list[FieldSpec]) -> ListSpec:
    line = node.line_of("list")
    values = check_mapping(raw, LIST_KEYS, sink, "list", line) if raw is not None else {}

    def names(key: str, allow_path: bool) -> list[tuple[str, int]]:
        items = values.get(key) or []
        out = []
        for i, entry in enumerate(items):
            entry_line = line_of(items, i, line)
            ok = _check_name(entry, known, sink, entry_line, f"list {key}", allow_path)
            if ok:
                out.append((ok, entry_line))
        return out

    default_cols = [f.name for f in declared if f.type not in ("links", "text")][:6]
    columns = [n for n, _ in names("columns", True)] if "columns" in values else default_cols
    search = []
    for entry, entry_line in names("search", True):
        target = known[entry.split(".")[0]]
        if "." not in entry and not field_type(target.type).searchable:
            sink.add("CRM-E020", entry_line, f"list search: '{entry}' is {article(target.type)} field",
                     "search looks in text fields; offer it as a filter instead")
        search.append(entry)
    filters = []
    for entry, entry_line in names("filters", False):
        if known[entry].type == "links":
            sink.add("CRM-E020", entry_line, f"list filters: '{entry}' is a links field",
                     "filter on a link field instead")
        filters.append(entry)
    order = None
    if "order" in values:
        raw_order = values["order"]
        desc = raw_order.startswith("-")
        fname = raw_order[1:] if desc else raw_order
        if fname not in known and fname != "id":
            sink.add("CRM-E010", _order_line(raw, line), f"list order names unknown field '{fname}'",
                     did_you_mean(fname, known))
        elif fname != "id" and known[fname].type in ("links", "multichoice"):
            sink.add("CRM-E020", _order_line(raw, line), f"list order: cannot sort by {known[fname].type} field '{fname}'")
        else:
            order = (fname, "desc" if desc else "asc")
    page_size = values.get("page_size", 25)
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        sink.add("CRM-E014", raw.line_of("page_size"),
                 f"list page_size {page_size} must be between 1 and {MAX_PAGE_SIZE}")
        page_size = 25
    return ListSpec(tuple(columns), tuple(search), tuple(filters), order, page_size)


def article(word: str) -> str:
    return f"an {word}" if word[:1] in "aeio" else f"a {word}"


def _order_line(raw: Any, default: int) -> int:
    return raw.line_of("order") if isinstance(raw, LocMap) else default


def _parse_form(raw: Any, node: LocMap, sink: ProblemSink, fields: list[FieldSpec],
                languages: tuple[str, ...]) -> tuple[FormSection, ...]:
    # `owner` may be placed like a field: set on create by roles that may reassign, read-only otherwise
    known = {f.name: f for f in (*fields, *system_fields()) if not f.system or f.name == "owner"}
    line = node.line_of("form")
    sections: list[FormSection] = []
    placed: set[str] = set()
    for index, item in enumerate(raw or []):
        item_line = line_of(raw, index, line)
        values = check_mapping(item, SECTION_KEYS, sink, "form section", item_line)
        if "section" in values:
            check_label(values["section"], sink, line_of(item, "section", item_line), "form section", languages)
        names = []
        entries = values.get("fields") or []
        for j, entry in enumerate(entries):
            entry_line = line_of(entries, j, item_line)
            if _check_name(entry, known, sink, entry_line, "form", False) is None:
                continue
            if entry in placed:
                sink.add("CRM-E004", entry_line, f"form places field '{entry}' twice")
                continue
            placed.add(entry)
            names.append(entry)
        sections.append(FormSection(Text.of(values.get("section"), "Details"), tuple(names)))
    rest = tuple(f.name for f in fields if f.name not in placed)
    if rest:
        title = _t("Details") if not sections else _t("More")
        sections.append(FormSection(title, rest))
    return tuple(sections)


__all__ = ["RawEntity", "parse_entity", "LocList"]
