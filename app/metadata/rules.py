"""Check an entity's rules: field conditions (required_if, visible_if, read_only_if),
`validate:` rules and the record lock (`locked_if`, `unlock_roles`).

Every condition is an expression of app/expr, parsed and type-checked against
the entity's fields (and one link deep) at load: an error of the expression
itself keeps the language's code (CRM-E031 syntax, CRM-E032 unknown field,
CRM-E033 type mismatch); a condition that is not true/false, a rule without
its message, a rule marking an unknown field or a lock naming an unknown role
is CRM-E039.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from app.expr import BOOL, NULL, ExprError, check, parse

from .computed import scope_of
from .definitions import RULE_KEYS
from .problems import Problem, ProblemSink, did_you_mean
from .shapes import check_label, check_mapping, line_of, type_name
from .spec import EntitySpec, RuleSpec, Text
from .yamlsource import LocMap

FIELD_CONDITIONS = ("required_if", "visible_if", "read_only_if")


def check_condition(text: Any, entities: dict[str, EntitySpec], entity: str, sink: ProblemSink,
                    line: int, where: str) -> bool:
    """Is `text` a well-typed true/false expression on `entity`? Problems go to `sink`."""
    if not isinstance(text, str) or not text.strip():
        sink.add("CRM-E039", line, f"{where} must be a condition (text), got {type_name(text)}",
                 "e.g. stage in [won, lost]")
        return False
    try:
        result = check(parse(text), scope_of(entities, entity))
    except ExprError as exc:
        hint = exc.hint
        if exc.code == "CRM-E032" and not hint and "'" in exc.message:
            hint = did_you_mean(exc.message.split("'")[1], entities[entity].field_map)
        sink.add(exc.code, line, f"{where} column {exc.pos}: {exc.message}", hint)
        return False
    if result not in (BOOL, NULL):
        sink.add("CRM-E039", line, f"{where} is a {result}, not a condition",
                 "compare it: amount > 0, status = closed, is_empty(reason)")
        return False
    return True


def check_rules(raw_entities: list[Any], entities: dict[str, EntitySpec], roles: set[str],
                problems: list[Problem], languages: tuple[str, ...]) -> dict[str, EntitySpec]:
    """Entities with their rules and lock attached; every problem reported."""
    result = dict(entities)
    for raw in raw_entities:
        name = raw.spec.name
        if name not in entities:
            continue
        sink = ProblemSink(raw.spec.source, problems)
        node = raw.node if isinstance(raw.node, LocMap) else LocMap()
        raw_fields = node.get("fields")
        fields_node: LocMap = raw_fields if isinstance(raw_fields, LocMap) else LocMap()
        for f in entities[name].declared_fields:
            field_node = fields_node.get(f.name)
            for key in FIELD_CONDITIONS:
                text = getattr(f, key)
                if text is not None:
                    line = field_node.line_of(key) if isinstance(field_node, LocMap) else f.line
                    check_condition(text, entities, name, sink, line, f"field '{f.name}': {key}")
        rules = _rules(node, entities, name, sink, languages)
        lock = node.get("locked_if")
        if lock is not None and not check_condition(lock, entities, name, sink, node.line_of("locked_if"),
                                                    "locked_if"):
            lock = None
        unlock = tuple(node.get("unlock_roles") or ())
        for index, role in enumerate(unlock):
            if role not in roles:
                sink.add("CRM-E039", line_of(node.get("unlock_roles"), index, node.line_of("unlock_roles")),
                         f"unlock_roles names unknown role '{role}'",
                         did_you_mean(str(role), roles) or f"roles: {', '.join(sorted(roles))}")
        if unlock and lock is None and "locked_if" not in node:
            sink.add("CRM-E039", node.line_of("unlock_roles"), "unlock_roles without locked_if",
                     "add locked_if: the condition that locks a record")
        result[name] = dataclasses.replace(entities[name], rules=rules,
                                           locked_if=lock if isinstance(lock, str) else None,
                                           unlock_roles=tuple(str(r) for r in unlock))
    return result


def _rules(node: LocMap, entities: dict[str, EntitySpec], entity: str, sink: ProblemSink,
           languages: tuple[str, ...]) -> tuple[RuleSpec, ...]:
    raw = node.get("validate")
    if raw is None:
        return ()
    base = node.line_of("validate")
    found: list[RuleSpec] = []
    for index, item in enumerate(raw):
        line = line_of(raw, index, base)
        where = f"validate rule {index + 1}"
        values = check_mapping(item, RULE_KEYS, sink, where, line)
        if "rule" not in values or "message" not in values:
            continue
        rule_line = item.line_of("rule") if isinstance(item, LocMap) else line
        ok = check_condition(values["rule"], entities, entity, sink, rule_line, f"{where}: rule")
        check_label(values["message"], sink, item.line_of("message"), where, languages)
        marked = []
        for j, name in enumerate(values.get("fields") or []):
            if name not in entities[entity].field_map:
                sink.add("CRM-E039", line_of(values["fields"], j, item.line_of("fields")),
                         f"{where} marks unknown field '{name}'", did_you_mean(str(name), entities[entity].field_map))
                ok = False
            else:
                marked.append(str(name))
        if ok:
            found.append(RuleSpec(values["rule"], Text.of(values["message"]), tuple(marked)))
    return tuple(found)
