"""Parse and check one field definition into a FieldSpec."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from app.fieldtypes import field_type, field_types

from .definitions import (
    CHOICE_KEYS,
    COMPUTED_KINDS,
    DEFAULT_KEYWORDS,
    FIELD_KEYS,
    FIELD_TYPES,
    FORMULA_RETURNS,
    ON_DELETE,
    RESERVED_FIELD_NAMES,
    ROLLUP_FUNCTIONS,
    SYSTEM_FIELDS,
)
from .normalisers import parse_normalisers, parse_units
from .problems import ProblemSink, closest, did_you_mean
from .shapes import check_identifier, check_label, check_mapping, type_name
from .spec import Choice, ComputedSpec, FieldSpec, Text
from .yamlsource import LocList, LocMap

AUTONUMBER_FORMAT = re.compile(r"^[^{}]*\{(0+)\}[^{}]*$")
NUMERIC_TYPES = tuple(name for name, kind in FIELD_TYPES.items() if kind.numeric)


def parse_field(name: str, node: Any, line: int, sink: ProblemSink,
                languages: tuple[str, ...]) -> FieldSpec | None:
    """Check one field; return its spec, or None if it cannot be built."""
    where = f"field '{name}'"
    ok = check_identifier(name, sink, line, "field name")
    if ok and name in RESERVED_FIELD_NAMES:
        hint = ("every entity already has it" if name in SYSTEM_FIELDS
                else "pick another name")
        sink.add("CRM-E006", line, f"field name '{name}' is reserved", hint)
        ok = False
    if isinstance(node, str):  # shorthand: `notes: text`
        node_map = LocMap({"type": node})
        node_map.line, node_map.key_lines, node_map.duplicates = line, {"type": line}, []
        node = node_map
    values = check_mapping(node, FIELD_KEYS, sink, where, line)
    ftype = values.get("type")
    if ftype is None:
        return None
    known = field_types()  # the built-in types and the plugins'
    if ftype not in known:
        close = closest(str(ftype), known)
        sink.add("CRM-E008", node.line_of("type"), f"{where} has unknown type '{ftype}'",
                 did_you_mean(ftype, known) or f"types: {', '.join(known)}")
        if not close:
            return None
        # A typo ('mony'): checked on as the type it is close to, so the field's stages, charts and
        # rules do not each report it unknown (one typo was 21 problems); the problem stops startup.
        ftype = close
    kind = known[ftype]
    allowed = kind.options
    for key in values:
        if key not in allowed:
            sink.add("CRM-E013", node.line_of(key),
                     f"{where}: option '{key}' does not apply to type {ftype}",
                     f"{ftype} takes: {', '.join(sorted(allowed))}")
    for key in ("label", "help", "pattern_message"):
        if key in values:
            check_label(values[key], sink, node.line_of(key), where, languages)
    choices = _parse_choices(values, node, sink, where, ftype, languages, line)
    ok = _check_options(values, node, sink, where, ftype, line) and ok
    default = _parse_default(values, node, sink, where, ftype, choices)
    normalise = parse_normalisers(values.get("normalise") if "normalise" in allowed else None,
                                  node, sink, where, ftype)
    units = parse_units(values.get("units") if "units" in allowed else None, node, sink, where)
    computed = _parse_computed(values, node, sink, where, ftype, line) if ftype in COMPUTED_KINDS else None
    if not ok or (ftype in COMPUTED_KINDS and computed is None):
        return None
    return FieldSpec(
        name=name, type=ftype,
        label=Text.of(values.get("label"), name.replace("_", " ").capitalize()),
        help=Text.of(values.get("help")),
        required=bool(values.get("required", False)),
        unique=bool(values.get("unique", False)) or kind.always_unique,
        unique_ignore_case=values.get("unique") == "ignore_case",
        normalise=normalise,
        units=units,
        required_if=values.get("required_if"),
        visible_if=values.get("visible_if"),
        read_only_if=values.get("read_only_if"),
        default=default,
        min=values.get("min", kind.default_min),
        max=values.get("max", kind.default_max),
        max_length=values.get("max_length", kind.default_max_length),
        pattern=values.get("pattern"),
        pattern_message=Text.of(values.get("pattern_message")),
        read_only=bool(values.get("read_only", False)),
        index=bool(values.get("index", False)),
        choices=choices,
        to=values.get("to") if ftype not in COMPUTED_KINDS else None,
        roles=tuple(str(r) for r in values.get("roles") or []),
        on_delete=values.get("on_delete", "restrict"),
        format=values.get("format"),
        scale=values.get("scale", kind.default_scale),
        renamed_from=values.get("renamed_from"),
        aliases=_parse_aliases(values.get("aliases"), node, sink, where),
        line=line,
        computed=computed,
    )


def heading_key(text: str) -> str:
    """A column heading as the import compares it: no spaces, `_`, `-`, colons, stars or
    brackets, any case ("Mobile Phone:" and "mobile_phone" are one heading)."""
    return re.sub(r"[\s_\-:：*（）()]+", "", text).casefold()


def check_aliases(fields: list[FieldSpec], raw: LocMap, sink: ProblemSink) -> None:
    """An alias that is another field's name, label or alias (CRM-E004, at the alias's line): an
    import column so headed could not say which field it fills."""
    owner: dict[str, str] = {}
    for f in fields:
        for heading in (f.name, *(label for _, label in f.label.values)):
            owner.setdefault(heading_key(heading), f.name)
    for f in fields:
        node = raw.get(f.name)
        items = node.get("aliases") if isinstance(node, LocMap) else None
        for index, alias in enumerate(f.aliases):
            key = heading_key(alias)
            other = owner.setdefault(key, f.name)
            if other != f.name:
                line = items.line_of(index) if isinstance(items, LocList) else f.line
                sink.add("CRM-E004", line, f"field '{f.name}': alias '{alias}' already names field '{other}'",
                         "an import column so headed could fill either: drop the alias or rename the label")


def _parse_aliases(value: Any, node: LocMap, sink: ProblemSink, where: str) -> tuple[str, ...]:
    """`aliases: [电话, Tel]`: each a heading (CRM-E014 at its line): a string with something left
    once compared as the import compares headings (not "", not "（）"); the duplicates across an
    entity's fields are checked with the entity (`check_aliases`)."""
    if value is None:
        return ()
    kept = []
    for index, alias in enumerate(value):
        line = value.line_of(index) if isinstance(value, LocList) else node.line_of("aliases")
        if not isinstance(alias, str) or not heading_key(alias):
            sink.add("CRM-E014", line, f"{where}: alias {alias!r} is not a heading",
                     "a non-empty text, as a file's column is headed: aliases: [电话, Tel]")
        else:
            kept.append(alias.strip())
    return tuple(kept)


def _parse_computed(values: dict, node: LocMap, sink: ProblemSink, where: str, ftype: str,
                    line: int) -> ComputedSpec | None:
    """The options of a formula, lookup or rollup; references are checked later
    (app/metadata/computed.py), once every entity is known."""
    needed = {"formula": ("expression",), "lookup": ("path",), "rollup": ("to", "via", "function")}[ftype]
    ok = True
    for key in needed:
        if key not in values:
            sink.add("CRM-E007", line, f"{where} of type {ftype} has no '{key}'",
                     FIELD_TYPES[ftype].example)
            ok = False
    if ftype == "formula" and values.get("returns", "money") not in FORMULA_RETURNS:
        sink.add("CRM-E014", node.line_of("returns"), f"{where}: returns '{values['returns']}' is not a type "
                 "a formula can give", did_you_mean(str(values["returns"]), FORMULA_RETURNS)
                 or f"one of {', '.join(FORMULA_RETURNS)}")
        ok = False
    if ftype == "rollup" and "function" in values:
        function = values["function"]
        if function not in ROLLUP_FUNCTIONS:
            sink.add("CRM-E014", node.line_of("function"), f"{where}: function '{function}' is not one of "
                     f"{', '.join(ROLLUP_FUNCTIONS)}", did_you_mean(str(function), ROLLUP_FUNCTIONS))
            ok = False
        elif function != "count" and "of" not in values:
            sink.add("CRM-E007", line, f"{where}: rollup {function} has no 'of'",
                     "name the child field: of: amount")
            ok = False
    if ftype == "lookup" and "path" in values and str(values["path"]).count(".") != 1:
        sink.add("CRM-E034", node.line_of("path"), f"{where}: lookup path '{values['path']}' is not link.field",
                 "for example path: account.industry")
        ok = False
    if values.get("index") and not values.get("stored"):
        sink.add("CRM-E014", node.line_of("index"), f"{where}: only a stored formula can be indexed",
                 "add stored: true, or drop index")
        ok = False
    if not ok:
        return None
    keys = ("expression", "path", "to", "via", "function", "of", "where", "returns", "stored", "copy_at_create")
    return ComputedSpec(
        kind=ftype, expression=values.get("expression"), path=values.get("path"),
        to=values.get("to"), via=values.get("via"), function=values.get("function"), of=values.get("of"),
        where=values.get("where"), returns=values.get("returns"),
        stored=bool(values.get("stored") or values.get("copy_at_create")),
        lines=tuple((key, node.line_of(key)) for key in keys if key in values),
    )


def _parse_choices(values: dict, node: LocMap, sink: ProblemSink, where: str, ftype: str,
                   languages: tuple[str, ...], field_line: int) -> tuple[Choice, ...]:
    raw = values.get("choices")
    if ftype not in ("choice", "multichoice"):
        return ()
    line = node.key_lines.get("choices", field_line)
    if not raw:
        sink.add("CRM-E011", line, f"{where} of type {ftype} needs a non-empty 'choices' list")
        return ()
    result: list[Choice] = []
    seen: set[str] = set()
    for index, item in enumerate(raw):
        item_line = raw.line_of(index) if isinstance(raw, LocList) else line
        if isinstance(item, (str, int)) and not isinstance(item, bool):
            value, label, color, renamed = str(item), None, None, None
        elif isinstance(item, LocMap):
            got = check_mapping(item, CHOICE_KEYS, sink, f"a choice of {where}", item_line)
            if "value" not in got:
                continue
            value, label, color = str(got["value"]), got.get("label"), got.get("color")
            renamed = str(got["renamed_from"]) if got.get("renamed_from") is not None else None
            if label is not None:
                check_label(label, sink, item.line_of("label"), where, languages)
        else:
            sink.add("CRM-E011", item_line, f"{where}: choice {type_name(item)} is not a value")
            continue
        if not is_choice_value(value):
            sink.add("CRM-E011", item_line, f"{where}: choice value '{value}' is not valid",
                     "a value is text without leading or trailing spaces, line breaks or commas "
                     "(web, 线上咨询); put longer words in the label")
            continue
        if len(value) > 64:
            sink.add("CRM-E011", item_line, f"{where}: choice value '{value[:20]}…' is longer than 64 characters")
            continue
        if value in seen:
            sink.add("CRM-E011", item_line, f"{where}: choice '{value}' is listed twice")
            continue
        seen.add(value)
        result.append(Choice(value, Text.of(label, value.replace("_", " ").capitalize()), color, renamed))
    for choice in result:
        if choice.renamed_from is not None and choice.renamed_from in seen:
            sink.add("CRM-E011", line, f"{where}: choice '{choice.value}' is renamed from "
                     f"'{choice.renamed_from}', which is still a choice", "remove one of them")
    return tuple(result)


def is_choice_value(value: str) -> bool:
    """Any text a person would type as a value: no surrounding spaces, no control characters, no
    commas (list filters and exports separate values with them)."""
    return bool(value) and value == value.strip() and "," not in value and all(
        ch.isprintable() for ch in value)


def _check_options(values: dict, node: LocMap, sink: ProblemSink, where: str, ftype: str,
                   line: int) -> bool:
    ok = True
    if ftype in ("link", "links") and "to" not in values:
        sink.add("CRM-E007", line, f"{where} of type {ftype} has no 'to'",
                 "name the entity it points to: to: account")
        ok = False
    if "on_delete" in values and values["on_delete"] not in ON_DELETE:
        sink.add("CRM-E014", node.line_of("on_delete"),
                 f"{where}: on_delete '{values['on_delete']}' is not one of {', '.join(ON_DELETE)}",
                 did_you_mean(values["on_delete"], ON_DELETE))
        ok = False
    if values.get("on_delete") == "set_null" and values.get("required"):
        sink.add("CRM-E014", node.line_of("on_delete"),
                 f"{where}: on_delete set_null contradicts required: true",
                 "use restrict or cascade, or make the field optional")
        ok = False
    if ftype == "autonumber":
        fmt = values.get("format")
        if not fmt or not AUTONUMBER_FORMAT.match(fmt):
            sink.add("CRM-E014", node.line_of("format"),
                     f"{where}: autonumber needs a format with one {{000}} placeholder",
                     "for example TCK-{00000}")
            ok = False
    if "pattern" in values:
        try:
            re.compile(values["pattern"])
        except re.error as exc:
            sink.add("CRM-E014", node.line_of("pattern"), f"{where}: pattern is not a valid regular expression: {exc}")
            ok = False
    for key in ("max_length", "scale"):
        if key in values and not (0 < values[key] <= (10 if key == "scale" else 10000)):
            sink.add("CRM-E014", node.line_of(key), f"{where}: {key} {values[key]} is out of range")
            ok = False
    lo = values.get("min", field_type(ftype).default_min)
    hi = values.get("max", field_type(ftype).default_max)
    if ftype == "date":
        for key in ("min", "max"):
            if key in values and not isinstance(values[key], dt.date):
                sink.add("CRM-E014", node.line_of(key), f"{where}: {key} must be a date (2024-01-31)")
                ok = False
    elif field_type(ftype).numeric:
        for key in ("min", "max"):
            if key in values and isinstance(values[key], dt.date):
                sink.add("CRM-E014", node.line_of(key), f"{where}: {key} must be a number")
                ok = False
    if ok and lo is not None and hi is not None and type(lo) is type(hi) and lo > hi:
        sink.add("CRM-E014", node.line_of("min" if "min" in values else "max"),
                 f"{where}: min {lo} is greater than max {hi}")
        ok = False
    return ok


def _parse_default(values: dict, node: LocMap, sink: ProblemSink, where: str, ftype: str,
                   choices: tuple[Choice, ...]) -> Any:
    if "default" not in values:
        return None
    value = values["default"]
    line = node.line_of("default")
    if isinstance(value, str) and value in DEFAULT_KEYWORDS:
        if ftype in DEFAULT_KEYWORDS[value]:
            return value
        sink.add("CRM-E012", line, f"{where}: default '{value}' does not fit type {ftype}",
                 f"'{value}' is for {', '.join(DEFAULT_KEYWORDS[value])} fields")
        return None
    error = default_error(ftype, value, choices, values)
    if error:
        sink.add("CRM-E012", line, f"{where}: default {value!r} {error}")
        return None
    return value


def default_error(ftype: str, value: Any, choices: tuple[Choice, ...], values: dict) -> str:
    """Why a literal default does not fit its field, or '' (the field type decides)."""
    return field_type(ftype).default_error(value, choices, values)
