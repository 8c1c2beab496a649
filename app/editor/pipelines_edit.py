"""Round-trip edits of pipelines (stages, gates, probabilities, transitions) and roles.yaml."""

from __future__ import annotations

from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from app.metadata.roles import ACTIONS as ROLE_ACTION_NAMES

from .roundtrip import flow_map, flow_seq, quoted
from .yamledit import ROLES_FILE, EditError, Workspace, _label, _set

STAGE_KEYS = ("name", "label", "color", "probability", "outcome", "requires", "next", "roles")
ROLE_ACTIONS = ROLE_ACTION_NAMES  # every action of roles.yaml, the bulk verbs too (definitions.py)


def pipeline_node(ws: Workspace, entity: str, pipeline: str) -> CommentedMap:
    for node in ws.entity(entity).get("pipelines") or []:
        if node.get("name") == pipeline:
            return node
    raise EditError(f"'{entity}' has no pipeline '{pipeline}'")


def _stage(node: CommentedMap, name: str) -> CommentedMap:
    for stage in node.get("stages") or []:
        if stage.get("name") == name:
            return stage
    raise EditError(f"pipeline '{node.get('name')}' has no stage '{name}'")


def _stage_value(key: str, value: Any) -> Any:
    if key == "label":
        return _label(value)
    if key == "color" and value:
        return quoted(value)
    if key in ("requires", "next", "roles") and isinstance(value, list):
        return flow_seq(value)
    return value


def add_stage(ws: Workspace, entity: str, pipeline: str, name: str, after: str | None = None,
              **values: Any) -> None:
    """A new stage (after `after`, else before the first won/lost stage, else last)."""
    node = pipeline_node(ws, entity, pipeline)
    stages = node["stages"]
    if any(s.get("name") == name for s in stages):
        raise EditError(f"stage '{name}' exists already")
    stage = flow_map({"name": name})
    for key in STAGE_KEYS[1:]:
        if values.get(key) not in (None, "", []) or (key == "next" and values.get(key) == []):
            stage[key] = _stage_value(key, values[key])
    if after is not None:
        index = [s.get("name") for s in stages].index(after) + 1 if after in [s.get("name") for s in stages] \
            else len(stages)
    else:
        index = next((i for i, s in enumerate(stages) if s.get("outcome") in ("won", "lost")), len(stages))
    stages.insert(index, stage)


def set_stage(ws: Workspace, entity: str, pipeline: str, name: str, **values: Any) -> None:
    """Relabel, colour, probability, gate (requires, roles), next stages; None removes a key."""
    stage = _stage(pipeline_node(ws, entity, pipeline), name)
    for key, value in values.items():
        if key not in STAGE_KEYS[1:]:
            raise EditError(f"unknown stage key {key}")
        if key == "next" and value == []:
            stage["next"] = flow_seq([])
            continue
        _set(stage, key, _stage_value(key, value) if value not in (None, "", []) else None)


def set_transitions(ws: Workspace, entity: str, pipeline: str, transitions: list[dict[str, Any]]) -> None:
    """Transitions [{from, to, roles}] of one pipeline, replacing the list (its comments stay)."""
    node = pipeline_node(ws, entity, pipeline)
    items = [flow_map({"from": t["from"], "to": t["to"], **({"roles": flow_seq(t["roles"])} if t.get("roles")
                                                          else {})}) for t in transitions]
    if isinstance(node.get("transitions"), list):
        node["transitions"][:] = items
    elif items:
        seq = CommentedSeq(items)
        seq.fa.set_block_style()
        node["transitions"] = seq


# --- roles ------------------------------------------------------------------------------------

def role_node(ws: Workspace, role: str) -> CommentedMap:
    doc = ws.doc(ROLES_FILE)
    if role not in doc:
        raise EditError(f"no role '{role}'")
    if doc[role] is None:
        doc[role] = CommentedMap()
    return doc[role]


def add_role(ws: Workspace, role: str, label: dict[str, str] | None = None) -> None:
    doc = ws.doc(ROLES_FILE)
    if role in doc:
        raise EditError(f"role '{role}' exists already")
    node = CommentedMap()
    if label:
        node["label"] = _label(label)
    node["entities"] = CommentedMap()
    doc[role] = node


def set_scope(ws: Workspace, role: str, entity: str, action: str, scope: str | None) -> None:
    """One action's scope (all, team, own, no, yes, own(field), via(link)...); None removes it."""
    if action not in ROLE_ACTIONS:
        raise EditError(f"unknown action {action}")
    node = role_node(ws, role)
    if node.get("entities") is None:
        node["entities"] = CommentedMap()
    entities = node["entities"]
    grants = entities.get(entity)
    if not isinstance(grants, dict):
        grants = entities[entity] = flow_map({}) if grants is None else flow_map({a: grants for a in ROLE_ACTIONS})
    _set(grants, action, scope)
    if not grants:
        del entities[entity]


def set_field_rule(ws: Workspace, role: str, path: str, mode: str | None) -> None:
    """`entity.field: hidden | read | write` for the role; None removes the rule."""
    node = role_node(ws, role)
    if node.get("fields") is None:
        if mode is None:
            return
        node["fields"] = CommentedMap()
    _set(node["fields"], path, mode)
    if not node["fields"]:
        del node["fields"]


def set_settings(ws: Workspace, role: str, mode: str | None) -> None:
    """The role's access to the Settings pages: edit, read or none (None)."""
    node = role_node(ws, role)
    _set(node, "settings", mode, after="description" if "description" in node else "label")
