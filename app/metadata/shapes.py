"""Shape checks shared by every metadata file: keys, kinds, identifiers.

These are the generic checks (unknown key, wrong type, missing key); the
meaning of values is checked by the entity and cross-reference passes.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from .definitions import KINDS, LANGUAGES, Key
from .problems import ProblemSink, did_you_mean
from .yamlsource import LocList, LocMap

IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


def is_identifier(value: Any) -> bool:
    return isinstance(value, str) and bool(IDENTIFIER.match(value)) and "__" not in value


def kind_ok(kind: str, value: Any) -> bool:
    """Is `value` of the given kind? (Contents of lists are checked later.)"""
    if kind in ("text", "order"):
        return isinstance(value, str)
    if kind == "identifier":
        return isinstance(value, str)
    if kind == "label":
        return isinstance(value, str) or (
            isinstance(value, dict) and all(isinstance(v, str) for v in value.values())
        )
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, (int, float, dt.date)) and not isinstance(value, bool)
    if kind == "scalar":
        return isinstance(value, (str, int, float, bool, dt.date))
    if kind in ("identifiers", "texts", "paths", "choices", "languages", "menu", "sections", "rolenames",
                "pipelines", "stages", "transitions", "targets", "dashboards", "charts", "normalisers", "uniquesets",
                "rules", "measures"):
        return isinstance(value, list)
    if kind in ("fields", "listspec", "grants", "fieldrules", "condition", "stagegrants", "conversion", "ownerspec",
                "mapping", "filters", "period", "params", "units"):
        return isinstance(value, dict)
    if kind == "uniqueness":
        return isinstance(value, bool) or value == "ignore_case"
    if kind == "scope":  # one clause, clauses joined by ` or `, or a list of clauses
        return isinstance(value, (str, bool, list))
    if kind in ("measure", "grouping"):
        return isinstance(value, str)
    raise AssertionError(kind)


def check_mapping(node: Any, keys: tuple[Key, ...], sink: ProblemSink, where: str,
                  line: int) -> dict[str, Any]:
    """Check one mapping against its allowed keys; return the well-typed values."""
    if not isinstance(node, LocMap):
        sink.add("CRM-E003", line, f"{where} must be a mapping, got {type_name(node)}")
        return {}
    for key, key_line in node.duplicates:
        sink.add("CRM-E004", key_line, f"{where} repeats key '{key}'",
                 "YAML keeps only the last one; remove the other")
    allowed = {k.name: k for k in keys}
    values: dict[str, Any] = {}
    for key, value in node.items():
        spec = allowed.get(key)
        if spec is None:
            hint = did_you_mean(key, allowed) or f"allowed keys: {', '.join(allowed)}"
            sink.add("CRM-E002", node.line_of(key), f"unknown key '{key}' in {where}", hint)
            continue
        if not kind_ok(spec.kind, value):
            hint = ""
            if spec.kind == "label" and isinstance(value, dict) and None in value.values():
                hint = "a comma inside {...} splits the text: put the text in quotes"
            sink.add("CRM-E003", node.line_of(key),
                     f"'{key}' in {where} must be {KINDS[spec.kind]}, got {type_name(value)}", hint)
            continue
        values[key] = value
    for spec in keys:
        if spec.required and spec.name not in node:
            sink.add("CRM-E007", line, f"{where} has no '{spec.name}'", spec.doc)
    return values


def check_label(value: Any, sink: ProblemSink, line: int, where: str,
                languages: tuple[str, ...]) -> None:
    if isinstance(value, dict):
        for lang in value:
            if lang not in languages:
                known = ", ".join(languages)
                sink.add("CRM-E018", line, f"{where} has a label in unknown language '{lang}'",
                         f"languages in crm.yaml: {known}" + (
                             "" if lang in LANGUAGES else f"; supported: {', '.join(LANGUAGES)}"))


def check_identifier(value: Any, sink: ProblemSink, line: int, what: str) -> bool:
    if is_identifier(value):
        return True
    sink.add("CRM-E005", line, f"{what} '{value}' is not a valid identifier",
             "use lower-case letters, digits and single underscores, starting with a letter")
    return False


def line_of(node: Any, key: Any, default: int) -> int:
    if isinstance(node, LocList):
        return node.line_of(key)
    if isinstance(node, LocMap):
        return node.key_lines.get(key, default)
    return default


def type_name(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"boolean {value}"
    return f"{type(value).__name__} {value!r}"
