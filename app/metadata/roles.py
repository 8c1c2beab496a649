"""Parse and check roles.yaml: who may do what, on which records and fields.

A role names entities with a scope per action (all, team, own, no) and
field rules (hidden, read, write). `extends` starts a role from others'
rules; its own entries override theirs. Admin is built in and not declared.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from .definitions import ACTION_KEYS, BUILTIN_ROLES, FIELD_MODES, ROLE_KEYS, SCOPES, SETTINGS_MODES
from .problems import Problem, ProblemSink, did_you_mean
from .shapes import check_label, check_mapping, line_of, type_name
from .spec import EntitySpec, RoleSpec, Text
from .yamlsource import LocMap

ACTIONS = tuple(k.name for k in ACTION_KEYS)
SCOPE_SYNTAX = re.compile(r"^(?P<kind>[a-z_]+)(?:\((?P<arg>[a-z_][a-z0-9_]*)\))?$")


def parse_roles(node: Any, path: Path, problems: list[Problem], entities: dict[str, EntitySpec],
                languages: tuple[str, ...]) -> tuple[RoleSpec, ...]:
    sink = ProblemSink(path, problems)
    if node is None:
        return ()
    if not isinstance(node, LocMap):
        sink.add("CRM-E003", 1, f"roles.yaml must map role names to roles, got {type_name(node)}")
        return ()
    for key, key_line in node.duplicates:
        sink.add("CRM-E004", key_line, f"role '{key}' is defined twice")
    roles = []
    for name, body in node.items():
        line = node.line_of(name)
        if name in BUILTIN_ROLES:
            sink.add("CRM-E006", line, f"role name '{name}' is built in",
                     "Admin has every permission and Public is for anonymous users; pick another name")
            continue
        if not name.strip() or len(name) > 64:
            sink.add("CRM-E005", line, f"role name '{name}' must be 1-64 characters")
            continue
        roles.append(_parse_role(name, body, line, sink, entities, languages))
    _check_extends(roles, sink)
    for role in roles:
        _check_via_cycles(role, entities, sink)
    _check_mass(roles, sink)
    return tuple(roles)


MASS_NEEDS = {"mass_update": ("update", "CRM-E048"), "mass_delete": ("delete", "CRM-E049")}


def _granted(name: str, by_name: dict[str, RoleSpec], seen: set[str]) -> dict[tuple[str, str], str]:
    """A role's grants with its `extends` folded in (own entries win; cycles are CRM-E023's)."""
    if name in seen or name not in by_name:
        return {}
    seen.add(name)
    grants: dict[tuple[str, str], str] = {}
    for parent in by_name[name].extends:
        for key, scope in _granted(parent, by_name, seen).items():
            grants[key] = scope if grants.get(key, "no") == "no" else grants[key]
    grants.update(dict(by_name[name].grants))
    return grants


def _check_mass(roles: list[RoleSpec], sink: ProblemSink) -> None:
    """A bulk verb without its single-record verb admits nothing: every row would be refused."""
    by_name = {r.name: r for r in roles}
    for role in roles:
        grants = _granted(role.name, by_name, set())
        for (entity, action), scope in sorted(dict(role.grants).items()):
            needs = MASS_NEEDS.get(action)
            if needs is None or scope == "no" or grants.get((entity, needs[0]), "no") != "no":
                continue
            sink.add(needs[1], role.line, f"role '{role.name}': {action} on '{entity}' without {needs[0]}",
                     f"grant {needs[0]} on '{entity}' too: bulk work changes only records the role may "
                     f"{needs[0]} one by one")


def _check_via_cycles(role: RoleSpec, entities: dict[str, EntitySpec], sink: ProblemSink) -> None:
    """`read: via(x)` chains must end: account via(lead) and lead via(account) admit nothing."""
    follows: dict[str, list[str]] = {}
    for (entity, action), scope in role.grants:
        if action == "read":
            for part in scope.split(" or "):
                match = SCOPE_SYNTAX.match(part.strip())
                if match and match["kind"] == "via" and match["arg"]:
                    follows.setdefault(entity, []).append(entities[entity].field(match["arg"]).target)
    for start in follows:
        path, todo = [start], list(follows[start])
        seen: set[str] = set()
        while todo:
            nxt = todo.pop()
            if nxt == start:
                sink.add("CRM-E041", role.line, f"role '{role.name}': read via links of '{start}' leads back "
                         f"to '{start}'", "one entity on the way needs a scope of its own (own, team, all)")
                return
            if nxt not in seen:
                seen.add(nxt)
                path.append(nxt)
                todo.extend(follows.get(nxt, []))


def _parse_role(name: str, body: Any, line: int, sink: ProblemSink, entities: dict[str, EntitySpec],
                languages: tuple[str, ...]) -> RoleSpec:
    where = f"role '{name}'"
    values = check_mapping(body if body is not None else _empty(line), ROLE_KEYS, sink, where, line)
    for key in ("label", "description"):
        if key in values:
            check_label(values[key], sink, line_of(body, key, line), where, languages)
    grants: dict[tuple[str, str], str] = {}
    raw_entities = values.get("entities") or {}
    raw_fields = values.get("fields") or {}
    for raw, what in ((raw_entities, "entity"), (raw_fields, "field rule")):
        for key, key_line in getattr(raw, "duplicates", []):
            sink.add("CRM-E004", key_line, f"{where} lists {what} '{key}' twice",
                     "YAML keeps only the last one; merge them")
    for entity, actions in raw_entities.items():
        entity_line = line_of(raw_entities, entity, line)
        if entity not in entities:
            sink.add("CRM-E021", entity_line, f"{where} names unknown entity '{entity}'",
                     did_you_mean(str(entity), entities))
            continue
        for action, scope in _actions(actions, entity_line, sink, f"{where}, entity '{entity}'",
                                      entities[entity]).items():
            grants[(entity, action)] = scope
    rules: dict[tuple[str, str], str] = {}
    for path, mode in raw_fields.items():
        rule_line = line_of(raw_fields, path, line)
        target = _field_path(path, entities, sink, rule_line, where)
        if target is None:
            continue
        if mode not in FIELD_MODES:
            sink.add("CRM-E022", rule_line, f"{where}: field rule '{mode}' for {path} is not one of "
                     f"{', '.join(FIELD_MODES)}", did_you_mean(str(mode), FIELD_MODES))
            continue
        rules[target] = mode
    extends = tuple(str(r) for r in values.get("extends") or [])
    stages = _stage_grants(values.get("stages") or {}, line, sink, entities, where)
    return RoleSpec(name=name, label=Text.of(values.get("label"), name), extends=extends, stages=stages,
                    grants=tuple(sorted(grants.items())), field_rules=tuple(sorted(rules.items())),
                    description=Text.of(values.get("description")), line=line,
                    settings=_settings(values, body, line, sink, where))


def _settings(values: dict[str, Any], body: Any, line: int, sink: ProblemSink, where: str) -> str | None:
    """`settings: edit | read`: the web metadata editor (app/editor); anything else is CRM-E047."""
    if "settings" not in values:
        return None
    mode = values["settings"]
    if mode not in SETTINGS_MODES:
        sink.add("CRM-E047", line_of(body, "settings", line), f"{where}: settings '{mode}' is not edit or read",
                 did_you_mean(str(mode), SETTINGS_MODES) or "edit: see and save the Settings pages; read: see only")
        return None
    return str(mode)


def _stage_grants(raw: Any, line: int, sink: ProblemSink, entities: dict[str, EntitySpec],
                  where: str) -> tuple[tuple[str, str], ...]:
    grants = []
    for key, key_line in getattr(raw, "duplicates", []):
        sink.add("CRM-E004", key_line, f"{where} lists stages of '{key}' twice", "merge them")
    for entity, stages in raw.items():
        entity_line = line_of(raw, entity, line)
        if not isinstance(stages, (list, str)):
            sink.add("CRM-E003", entity_line, f"{where}: stages of '{entity}' must be a list of stage names")
            continue
        if entity not in entities:
            sink.add("CRM-E021", entity_line, f"{where}: stages names unknown entity '{entity}'",
                     did_you_mean(str(entity), entities))
            continue
        known = {s.name for p in entities[entity].pipelines for s in p.stages}
        for index, stage in enumerate(stages if isinstance(stages, list) else [stages]):
            if stage not in known:
                sink.add("CRM-E025", line_of(stages, index, entity_line),
                         f"{where}: '{entity}' has no stage '{stage}'", did_you_mean(str(stage), known))
            else:
                grants.append((entity, str(stage)))
    return tuple(grants)


def _empty(line: int) -> LocMap:
    node = LocMap()
    node.line, node.key_lines, node.duplicates = line, {}, []
    return node


def _actions(actions: Any, line: int, sink: ProblemSink, where: str, entity: EntitySpec) -> dict[str, str]:
    if isinstance(actions, bool) or (isinstance(actions, str) and actions in SCOPES + ("yes",)):
        # `account: all` (or yes / no, which YAML reads as booleans) sets every action
        scope = "all" if actions is True or actions == "yes" else "no" if actions is False else actions
        return {action: scope for action in ACTIONS}
    if isinstance(actions, (str, int)):
        sink.add("CRM-E022", line, f"{where}: scope '{actions}' is not one of all, team, own, no, yes",
                 did_you_mean(str(actions), SCOPES))
        return {}
    values = check_mapping(actions, ACTION_KEYS, sink, where, line)
    result = {}
    for action, raw in values.items():
        scope = _scope(raw, entity, sink, line_of(actions, action, line), where, action)
        if scope is not None:
            result[action] = scope
    return result


def _scope(raw: Any, entity: EntitySpec, sink: ProblemSink, line: int, where: str, action: str) -> str | None:
    """One action's scope: a clause, clauses joined by ` or `, or a list of clauses (OR-ed).

    Returns the scope as one string (`own or own(presales)`), or None after reporting a problem."""
    items = raw if isinstance(raw, list) else [raw]
    parts: list[str] = []
    for item in items:
        if item is True or item == "yes" or item is False:
            parts.append("all" if item is not False else "no")
            continue
        parts.extend(p.strip() for p in str(item).split(" or "))
    ok = bool(parts)
    for part in parts:
        ok = _check_clause(part, entity, sink, line, where, action) and ok
    if not ok:
        return None
    return " or ".join(dict.fromkeys(parts)) if len(parts) > 1 else parts[0]


def _check_clause(part: str, entity: EntitySpec, sink: ProblemSink, line: int, where: str, action: str) -> bool:
    match = SCOPE_SYNTAX.match(part)
    kinds = (*SCOPES, "via")
    if match is None or match["kind"] not in kinds or (match["arg"] and match["kind"] in ("all", "no")):
        sink.add("CRM-E022", line, f"{where}: scope '{part}' for {action} is not one of all, team, own, no, yes "
                 "(or own(field), team(field), via(link))", did_you_mean(part, SCOPES))
        return False
    kind, arg = match["kind"], match["arg"]
    if kind == "via" and not arg:
        sink.add("CRM-E041", line, f"{where}: {action}: via needs a link field, as in via(account)",
                 f"links of '{entity.name}': {', '.join(_links(entity)) or 'none'}")
        return False
    if not arg:
        return True
    f = entity.field_map.get(arg)
    if kind in ("own", "team") and (f is None or f.type != "user"):
        users = [x.name for x in entity.fields if x.type == "user"]
        sink.add("CRM-E040", line, f"{where}: {action}: {kind}({arg}): {_what(entity, arg)}, not a user field",
                 did_you_mean(arg, users) or f"user fields of '{entity.name}': {', '.join(users)}")
        return False
    if kind == "via" and (f is None or f.type != "link"):
        sink.add("CRM-E041", line, f"{where}: {action}: via({arg}): {_what(entity, arg)}, not a link",
                 did_you_mean(arg, _links(entity)) or f"links of '{entity.name}': {', '.join(_links(entity)) or 'none'}")
        return False
    return True


def _what(entity: EntitySpec, name: str) -> str:
    f = entity.field_map.get(name)
    return f"'{entity.name}' has no field '{name}'" if f is None else f"'{name}' is a {f.type} field"


def _links(entity: EntitySpec) -> list[str]:
    return [f.name for f in entity.fields if f.type == "link"]


def _field_path(path: Any, entities: dict[str, EntitySpec], sink: ProblemSink, line: int,
                where: str) -> tuple[str, str] | None:
    if not isinstance(path, str) or path.count(".") != 1:
        sink.add("CRM-E021", line, f"{where}: field rule key '{path}' must be entity.field",
                 "for example opportunity.amount")
        return None
    entity, name = path.split(".")
    if entity not in entities:
        sink.add("CRM-E021", line, f"{where}: field rule names unknown entity '{entity}'",
                 did_you_mean(entity, entities))
        return None
    if name not in entities[entity].field_map:
        sink.add("CRM-E021", line, f"{where}: '{entity}' has no field '{name}'",
                 did_you_mean(name, entities[entity].field_map))
        return None
    return entity, name


def _check_extends(roles: list[RoleSpec], sink: ProblemSink) -> None:
    by_name = {r.name: r for r in roles}
    for role in roles:
        for parent in role.extends:
            if parent not in by_name:
                sink.add("CRM-E023", role.line, f"role '{role.name}' extends unknown role '{parent}'",
                         did_you_mean(parent, by_name))
        seen: list[str] = []
        if _cycle(role.name, by_name, seen) and seen[-1] == role.name:
            sink.add("CRM-E023", role.line, f"role '{role.name}' extends itself through "
                     f"{' -> '.join(seen)}", "remove one of the extends")


def _cycle(name: str, by_name: dict[str, RoleSpec], path: list[str]) -> bool:
    if name in path:
        path.append(name)
        return True
    path.append(name)
    for parent in by_name[name].extends if name in by_name else ():
        if _cycle(parent, by_name, path):
            return True
    path.pop()
    return False
