"""JSON Schemas for crm.yaml, entity files, roles.yaml and dashboards.yaml, generated from definitions.py.

Editors (VS Code's YAML extension) use them for completion, hover help and
squiggles while a consultant types; the loader stays the authority and says
more (cross-file references, line numbers, codes). Generated, never written by
hand, so a key added to definitions.py reaches the editor too.

Only keywords that draft-07 tools also understand are used (if/then, const,
propertyNames, $ref into $defs): the YAML extension validates with draft-07.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .chart_checks import MAX_N_DAYS
from .dashboards import MAX_DAYS, PARAM_KINDS
from .definitions import (
    ACTION_KEYS,
    ANALYSES,
    BUILTIN_ROLES,
    CHART_KEYS,
    CHART_KINDS,
    CHART_SORTS,
    CHART_TIES,
    CHOICE_KEYS,
    CONVERT_KEYS,
    CRM_KEYS,
    DASHBOARD_FILE_KEYS,
    DASHBOARD_KEYS,
    DATE_BUCKETS,
    DEFAULT_KEYWORDS,
    ENTITY_KEYS,
    FIELD_KEYS,
    FIELD_MODES,
    FIELD_TYPES,
    FILTER_OPS,
    FORMULA_RETURNS,
    KINDS,
    LANGUAGES,
    LIST_KEYS,
    MEASURES,
    MENU_KEYS,
    NORMALISERS,
    ON_DELETE,
    OUTCOMES,
    OWNER_KEYS,
    PERIOD_KEYS,
    PHONE_FORMS,
    PIPELINE_KEYS,
    RELATIVE_RANGES,
    RESERVED_ENTITY_NAMES,
    RESERVED_ENTITY_PREFIXES,
    RESERVED_FIELD_NAMES,
    ROLE_KEYS,
    ROLLUP_FUNCTIONS,
    RULE_KEYS,
    SCOPES,
    SECTION_KEYS,
    SETTINGS_MODES,
    STAGE_KEYS,
    TARGET_KEYS,
    TRANSITION_KEYS,
    FieldType,
    Key,
)
from .entities import MAX_PAGE_SIZE
from .fields import AUTONUMBER_FORMAT

DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_FILES = {"crm": "crm.schema.json", "entity": "entity.schema.json", "roles": "roles.schema.json",
                "dashboards": "dashboards.schema.json"}

IDENTIFIER = "^[a-z][a-z0-9_]*$"
# Any text (线上咨询, web): no surrounding spaces, commas or control characters, up to 64 (fields.is_choice_value).
CHOICE_VALUE = "^[^\\s,\\x00-\\x1f]([^,\\x00-\\x1f]{0,62}[^\\s,\\x00-\\x1f])?$"
PATH = "^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)?$"
ORDER = "^-?[a-z][a-z0-9_]*$"
DATE = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"  # the YAML extension reads 2024-01-31 as a string
FIELD_RULE_KEY = "^[a-z][a-z0-9_]*\\.[a-z][a-z0-9_]*$"  # entity.field
# Chart values, as dashboards.py parses them (spaces around the parts are allowed there too).
MEASURE = ("^\\s*(count|(" + "|".join(m for m in MEASURES if m != "count")
           + ")\\s*\\(\\s*[a-z][a-z0-9_]*\\s*\\))\\s*$")
GROUPING = "^\\s*[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)?\\s*(:\\s*(" + "|".join(DATE_BUCKETS) + ")\\s*)?$"
N_DAYS = "^(last|next)_[0-9]{1,4}_days$"  # N from 1 to MAX_N_DAYS: the loader says when it is out of range
ROLE_NAME_LENGTH = 64
# A scope, in an action map or as the shorthand for every action: yes/true mean all, no/false
# mean no. The editor reads YAML 1.2, where an unquoted yes is the string "yes"; the loader
# (YAML 1.1) reads it as true: both are allowed.
ACTION_SCOPES: list[Any] = [*SCOPES, "yes", True, False]
# `own(presales)`, `via(account)`, `own or own(presales)`: clauses the loader checks (CRM-E040/E041).
_CLAUSE = r"(all|team|own|no|yes|(own|team|via)\([a-z_][a-z0-9_]*\))"
SCOPE_TEXT = {"type": "string", "pattern": f"^{_CLAUSE}( or {_CLAUSE})*$"}
# Ranges the loader enforces with CRM-E014 (fields.py, entities.py, pipelines.py).
LIMITS = {"max_length": (1, 10000), "scale": (1, 10), "page_size": (1, MAX_PAGE_SIZE), "probability": (0, 100)}
# Options a field type cannot do without when it takes them (CRM-E007/E011/E014).
NEEDED_WHEN_ALLOWED = ("to", "choices", "format", "expression", "path", "via", "function")


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/$defs/{name}"}


KIND_SCHEMAS: dict[str, dict[str, Any]] = {
    "text": {"type": "string"},
    "label": _ref("label"),
    "identifier": _ref("identifier"),
    "bool": {"type": "boolean"},
    "integer": {"type": "integer"},
    "number": {"anyOf": [{"type": "number"}, {"type": "string", "pattern": DATE}]},
    "scalar": {"type": ["string", "number", "boolean"]},
    "identifiers": {"type": "array", "items": _ref("identifier")},
    "paths": {"type": "array", "items": {"type": "string", "pattern": PATH}},
    "texts": {"type": "array", "items": {"type": "string", "minLength": 1}},
    "order": {"type": "string", "pattern": ORDER},
    "choices": {"type": "array", "minItems": 1, "items": _ref("choice")},
    "languages": {"type": "array", "items": {"enum": list(LANGUAGES)}},
    "menu": {"type": "array", "items": _ref("menu_group")},
    "sections": {"type": "array", "items": _ref("section")},
    "fields": {"type": "object", "minProperties": 1, "propertyNames": _ref("field_name"),
               "additionalProperties": _ref("field")},
    "listspec": _ref("list"),
    "rolenames": {"type": "array", "items": _ref("role_name")},
    "grants": {"type": "object", "propertyNames": _ref("identifier"),
               "additionalProperties": _ref("grant")},
    "fieldrules": {"type": "object", "propertyNames": {"type": "string", "pattern": FIELD_RULE_KEY},
                   "additionalProperties": {"enum": list(FIELD_MODES)}},
    "scope": _ref("scope"),
    "pipelines": {"type": "array", "items": _ref("pipeline")},
    "stages": {"type": "array", "minItems": 1, "items": _ref("stage")},
    "transitions": {"type": "array", "items": _ref("transition")},
    # {deal_type: renewal}: one choice field, one of its values (choice values may be numbers).
    "condition": {"type": "object", "minProperties": 1, "maxProperties": 1,
                  "propertyNames": _ref("identifier"),
                  "additionalProperties": {"anyOf": [{"type": "string", "pattern": CHOICE_VALUE},
                                                     {"type": "integer", "minimum": 0}]}},
    "stagegrants": {"type": "object", "propertyNames": _ref("identifier"),
                    "additionalProperties": _ref("stage_names")},
    "conversion": _ref("conversion"),
    "ownerspec": _ref("owner"),
    "targets": {"type": "array", "minItems": 1, "items": _ref("convert_target")},
    # target field: a field of the converted record, or $<entity> for a record made earlier.
    "mapping": {"type": "object", "minProperties": 1, "propertyNames": _ref("identifier"),
                "additionalProperties": {"type": "string", "pattern": "^\\$?[a-z][a-z0-9_]*$"}},
    "dashboards": {"type": "array", "items": _ref("dashboard")},
    "charts": {"type": "array", "minItems": 1, "items": _ref("chart")},
    "measure": {"type": "string", "pattern": MEASURE},
    "measures": {"type": "array", "minItems": 2, "items": {"type": "string", "pattern": MEASURE}},
    "grouping": {"type": "string", "pattern": GROUPING},
    "filters": {"type": "object", "propertyNames": {"type": "string", "pattern": PATH},
                "additionalProperties": _ref("filter")},
    "period": _ref("period"),
    "params": _ref("params"),
    # trim, or {map: {UK: GB}}: a normaliser name, or a one-key map of name to option.
    "normalisers": {"type": "array", "items": {"anyOf": [
        {"enum": [n for n in NORMALISERS if n not in ("map", "replace")]},
        {"type": "object", "minProperties": 1, "maxProperties": 1, "properties": {
            "phone": {"enum": list(PHONE_FORMS)},
            "map": {"type": "object", "minProperties": 1, "additionalProperties": {"type": "string"}},
            "replace": {"type": "array", "minItems": 2, "maxItems": 2, "items": {"type": "string"}}},
         "additionalProperties": False}]}},
    "units": {"type": "object", "minProperties": 1, "additionalProperties": {"type": "number", "exclusiveMinimum": 0}},
    "uniqueness": {"anyOf": [{"type": "boolean"}, {"const": "ignore_case"}]},
    "rules": {"type": "array", "items": _ref("rule")},
    "uniquesets": {"anyOf": [
        {"type": "array", "minItems": 2, "uniqueItems": True, "items": _ref("identifier")},
        {"type": "array", "minItems": 1, "items": {
            "type": "array", "minItems": 2, "uniqueItems": True, "items": _ref("identifier")}}]},
}

# Keys whose value is narrower than their kind: (mapping, key) -> schema.
OVERRIDES: dict[tuple[str, str], dict[str, Any]] = {
    ("field", "type"): {"enum": list(FIELD_TYPES)},
    ("field", "on_delete"): {"enum": list(ON_DELETE)},
    ("field", "returns"): {"enum": list(FORMULA_RETURNS)},
    ("field", "function"): {"enum": list(ROLLUP_FUNCTIONS)},
    ("field", "format"): {"type": "string", "pattern": AUTONUMBER_FORMAT.pattern},
    ("choice", "value"): {"type": "string", "pattern": CHOICE_VALUE},
    ("choice", "renamed_from"): {"type": "string", "pattern": CHOICE_VALUE},
    ("entity", "name"): _ref("entity_name"),
    # The stage field is made by the pipeline, so it is named like any field (not a reserved one).
    ("pipeline", "field"): _ref("field_name"),
    ("stage", "outcome"): {"enum": list(OUTCOMES)},
    ("role", "settings"): {"enum": list(SETTINGS_MODES)},
    # Any role of roles.yaml, or Admin (which may enter every stage anyway); not Public.
    ("stage", "roles"): {"type": "array", "items": {
        "type": "string", "minLength": 1, "maxLength": ROLE_NAME_LENGTH, "not": {"const": "Public"}}},
    ("transition", "roles"): {"type": "array", "minItems": 1, "items": {
        "type": "string", "minLength": 1, "maxLength": ROLE_NAME_LENGTH, "not": {"const": "Public"}}},
    ("field", "roles"): {"type": "array", "items": {
        "type": "string", "minLength": 1, "maxLength": ROLE_NAME_LENGTH, "not": {"const": "Public"}}},
    ("owner", "roles"): {"type": "array", "items": {
        "type": "string", "minLength": 1, "maxLength": ROLE_NAME_LENGTH, "not": {"const": "Public"}}},
    ("dashboard", "roles"): {"type": "array", "uniqueItems": True, "items": {
        "type": "string", "minLength": 1, "maxLength": ROLE_NAME_LENGTH, "not": {"const": "Public"}}},
    # Role names (roles.yaml or Admin) may hold spaces: Sales Manager.
    ("entity", "unlock_roles"): {"type": "array", "items": {
        "type": "string", "minLength": 1, "maxLength": ROLE_NAME_LENGTH, "not": {"const": "Public"}}},
    ("chart", "kind"): {"enum": list(CHART_KINDS)},
    ("chart", "sort"): {"enum": list(CHART_SORTS)},
    ("chart", "ties"): {"enum": list(CHART_TIES)},
    ("chart", "top"): {"type": "integer", "minimum": 1},
    ("chart", "width"): {"type": "integer", "minimum": 1, "maximum": 12},
    ("chart", "analysis"): {"enum": list(ANALYSES)},
    ("period", "range"): _ref("relative_range"),
}


def _object(keys: tuple[Key, ...], where: str) -> dict[str, Any]:
    """A closed mapping of `keys`: unknown keys are CRM-E002 in the loader too."""
    properties: dict[str, Any] = {}
    for key in keys:
        schema = dict(OVERRIDES.get((where, key.name), KIND_SCHEMAS[key.kind]))
        if key.name in LIMITS:
            schema["minimum"], schema["maximum"] = LIMITS[key.name]
        schema["description"] = key.doc
        properties[key.name] = schema
    result: dict[str, Any] = {"type": "object", "properties": properties,
                              "additionalProperties": False}
    required = [key.name for key in keys if key.required]
    if required:
        result["required"] = required
    return result


def _type_rule(ftype: FieldType) -> dict[str, Any]:
    """if type is X then only X's options, plus what X needs and how X bounds values (X's own fragment)."""
    then: dict[str, Any] = {"properties": {
        key.name: False for key in FIELD_KEYS if key.name not in ftype.options}}
    needed = [name for name in NEEDED_WHEN_ALLOWED if name in ftype.options]
    if needed:
        then["required"] = needed
    ftype.schema_rule(then)
    wrong = [word for word, types in DEFAULT_KEYWORDS.items() if ftype.name not in types]
    if "default" in ftype.options and wrong:
        then["properties"]["default"] = {**then["properties"].get("default", {}), "not": {"enum": wrong}}
    return {"if": {"properties": {"type": {"const": ftype.name}}, "required": ["type"]},
            "then": then}


def _field(types: dict[str, FieldType]) -> dict[str, Any]:
    """A field: the full mapping, or the shorthand `notes: text`."""
    full = _object(FIELD_KEYS, "field")
    full["properties"]["type"] = {**full["properties"]["type"], "enum": list(types)}
    full["allOf"] = [_type_rule(ftype) for ftype in types.values()]
    described = "; ".join(f"{t.name}: {t.doc}" for t in types.values())
    full["properties"]["type"]["description"] += " " + described
    shorthand = {"enum": list(types), "description": "Shorthand for {type: ...}."}
    # if/else rather than anyOf: editors then report the real mistake, not "no match".
    return {"if": {"type": "string"}, "then": shorthand, "else": full}


def _common_defs() -> dict[str, Any]:
    """Definitions both files use: identifiers and labels."""
    languages = {code: {"type": "string", "description": name} for code, name in LANGUAGES.items()}
    return {
        "identifier": {"type": "string", "pattern": IDENTIFIER, "maxLength": 63,
                       "not": {"pattern": "__"}, "description": KINDS["identifier"]},
        "label": {"description": KINDS["label"], "oneOf": [
            {"type": "string"},
            {"type": "object", "properties": languages, "additionalProperties": False,
             "minProperties": 1},
        ]},
    }


def _entity_defs(types: dict[str, FieldType]) -> dict[str, Any]:
    """Definitions of the parts of an entity file."""
    prefixes = "|".join(RESERVED_ENTITY_PREFIXES)
    choice_map = _object(CHOICE_KEYS, "choice")
    return {
        "entity_name": {"allOf": [_ref("identifier")], "not": {"anyOf": [
            {"enum": sorted(RESERVED_ENTITY_NAMES)}, {"pattern": f"^({prefixes})"}]},
            "description": "Entity name; must not be reserved for the app itself."},
        "field_name": {"allOf": [_ref("identifier")],
                       "not": {"enum": sorted(RESERVED_FIELD_NAMES)},
                       "description": "Field name; system fields and keywords are reserved."},
        "field": _field(types),
        "rule": _object(RULE_KEYS, "rule"),
        "choice": {"anyOf": [{"type": "string", "pattern": CHOICE_VALUE},
                             {"type": "integer", "minimum": 0}, choice_map],
                   "description": KINDS["choices"]},
        "list": _object(LIST_KEYS, "list"),
        "section": _object(SECTION_KEYS, "section"),
        "pipeline": _object(PIPELINE_KEYS, "pipeline"),
        "stage": _object(STAGE_KEYS, "stage"),
        "transition": _object(TRANSITION_KEYS, "transition"),
        "conversion": _object(CONVERT_KEYS, "convert"),
        "convert_target": _object(TARGET_KEYS, "target"),
        "owner": _object(OWNER_KEYS, "owner"),
    }


def _role_defs() -> dict[str, Any]:
    """Definitions of the parts of roles.yaml."""
    actions = _object(ACTION_KEYS, "actions")
    actions["description"] = "Scope per action; an action not named is no."
    bare = {"enum": ACTION_SCOPES, "description": "Shorthand: every action with this scope."}
    return {
        "role_name": {"type": "string", "minLength": 1, "maxLength": ROLE_NAME_LENGTH,
                      "not": {"enum": list(BUILTIN_ROLES)},
                      "description": "A role's display name (1-64 characters); "
                                     f"{' and '.join(BUILTIN_ROLES)} are built in."},
        "role": _object(ROLE_KEYS, "role"),
        "scope": {"anyOf": [{"enum": ACTION_SCOPES}, SCOPE_TEXT,
                            {"type": "array", "minItems": 1, "items": {"anyOf": [{"enum": ACTION_SCOPES}, SCOPE_TEXT]}}],
                  "description": KINDS["scope"] + "; or own(user_field), team(user_field), via(link); several "
                                 "clauses OR-ed as `own or own(presales)` or a list [own, own(presales)]"},
        # if/else rather than anyOf: editors then report the real mistake, not "no match".
        "grant": {"if": {"type": ["string", "boolean"]}, "then": bare, "else": actions,
                  "description": KINDS["grants"]},
        # The loader also takes one stage name alone: `opportunity: won`.
        "stage_names": {"if": {"type": "string"}, "then": _ref("identifier"),
                        "else": {"type": "array", "items": _ref("identifier")},
                        "description": "Stages of the entity's pipelines the role may move records into."},
    }


def _filter() -> dict[str, Any]:
    """One filter: a value (eq), a list (in), nothing (empty), or a map of operator to value."""
    scalar = {"type": ["string", "number", "boolean"]}
    values = {"type": "array", "minItems": 1, "items": scalar}
    by_op: dict[str, Any] = {op: scalar for op in FILTER_OPS}
    by_op.update({"in": values, "not_in": values, "empty": {"type": "boolean"},
                  "between": {**values, "minItems": 2, "maxItems": 2}})
    ops = {"type": "object", "minProperties": 1, "properties": by_op, "additionalProperties": False}
    return {"if": {"type": "object"}, "then": ops,
            "else": {"anyOf": [scalar, values, {"type": "null"}]},
            "description": KINDS["filters"] + ": field: value, field: [values], field: {op: value}; "
                           "dates also take a relative range alone (close_date: this_month)"}


def _param_schema(name: str) -> dict[str, Any]:
    kind, _ = PARAM_KINDS[name]
    if kind == "days":
        return {"type": "integer", "minimum": 1, "maximum": MAX_DAYS}
    return _ref("identifier")


def _analysis_rule(name: str) -> dict[str, Any]:
    """if analysis is X then X's kinds, X's params only, and a pipeline only when X follows one."""
    analysis = ANALYSES[name]
    params = {"type": "object", "additionalProperties": False,
              "properties": {key: {**_param_schema(key), "description": doc} for key, doc in analysis.params}}
    then: dict[str, Any] = {"properties": {"kind": {"enum": list(analysis.kinds)}, "params": params}}
    if not analysis.needs_pipeline:
        then["properties"]["pipeline"] = False
    return {"if": {"properties": {"analysis": {"const": name}}, "required": ["analysis"]}, "then": then}


def _chart() -> dict[str, Any]:
    """A chart: its keys, what its kind needs, and what each analysis takes."""
    chart = _object(CHART_KEYS, "chart")
    plain = {"not": {"required": ["analysis"]}}
    chart["allOf"] = [
        {"if": plain, "then": {"properties": {"pipeline": False, "params": False}}},
        {"if": {"allOf": [plain, {"properties": {"kind": {"enum": ["bar", "stacked_bar", "line", "area", "pie",
                                                                     "funnel", "pivot"]}}}]},
         "then": {"required": ["group"]}},
        {"if": {"allOf": [plain, {"properties": {"kind": {"const": "pivot"}}}]}, "then": {"required": ["series"]}},
        {"if": {"allOf": [plain, {"properties": {"kind": {"enum": ["pie", "funnel", "kpi"]}}}]},
         "then": {"properties": {"series": False}}},
        {"if": {"allOf": [plain, {"properties": {"kind": {"const": "kpi"}}}]},
         "then": {"properties": {"group": False}}},
        {"if": {"properties": {"kind": {"not": {"const": "kpi"}}}}, "then": {"properties": {"period": False}}},
        *(_analysis_rule(name) for name in ANALYSES),
    ]
    kinds = "; ".join(f"{a.name}: {a.doc}" for a in ANALYSES.values())
    chart["properties"]["analysis"]["description"] += " " + kinds
    return chart


def _dashboard_defs() -> dict[str, Any]:
    """Definitions of the parts of dashboards.yaml."""
    return {
        "dashboard": _object(DASHBOARD_KEYS, "dashboard"),
        "chart": _chart(),
        "filter": _filter(),
        "period": _object(PERIOD_KEYS, "period"),
        "params": {"type": "object", "description": KINDS["params"],
                   "propertyNames": {"enum": list(PARAM_KINDS)}},
        "relative_range": {"description": f"A relative date range: {', '.join(RELATIVE_RANGES)}, last_N_days "
                                          f"or next_N_days (N from 1 to {MAX_N_DAYS}).",
                           "anyOf": [{"enum": list(RELATIVE_RANGES)}, {"type": "string", "pattern": N_DAYS}]},
    }


def build_json_schema(kind: str, types: dict[str, FieldType] | None = None) -> dict[str, Any]:
    """The schema of crm.yaml ("crm"), of one entities/*.yaml file ("entity"), of roles.yaml or dashboards.yaml.

    `types`: the field types an entity may use (default the built-in ones; `crm schema`
    passes the plugins' too)."""
    if kind == "crm":
        root, title = _object(CRM_KEYS, "crm"), "MetaCRM crm.yaml"
        defs = {**_common_defs(), "menu_group": _object(MENU_KEYS, "menu")}
    elif kind == "entity":
        root, title = _object(ENTITY_KEYS, "entity"), "MetaCRM entity file"
        defs = {**_common_defs(), **_entity_defs(types or FIELD_TYPES)}
    elif kind == "roles":
        root = {"type": "object", "propertyNames": _ref("role_name"),
                "additionalProperties": _ref("role")}
        title = "MetaCRM roles.yaml"
        defs = {**_common_defs(), **_role_defs()}
    elif kind == "dashboards":
        root, title = _object(DASHBOARD_FILE_KEYS, "dashboards"), "MetaCRM dashboards.yaml"
        defs = {**_common_defs(), **_dashboard_defs()}
    else:
        raise ValueError(f"unknown schema kind {kind!r}; use one of {', '.join(SCHEMA_FILES)}")
    return {
        "$schema": DIALECT,
        "title": title,
        "description": "Generated from app/metadata/definitions.py; "
                       "`flask --app run.py crm validate` checks what a schema cannot.",
        **root,
        "$defs": defs,
    }


def write_json_schemas(folder: Path, types: dict[str, FieldType] | None = None) -> list[Path]:
    """Write crm.schema.json, entity.schema.json, roles.schema.json and dashboards.schema.json into `folder`."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for kind, filename in SCHEMA_FILES.items():
        path = folder / filename
        text = json.dumps(build_json_schema(kind, types), indent=2, ensure_ascii=False)
        path.write_text(text + "\n", encoding="utf-8")
        written.append(path)
    return written
