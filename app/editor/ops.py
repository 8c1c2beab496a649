"""Turn one posted Settings form into round-trip edits of the metadata files.

Each operation reads the form's fields (plain names: label_en, required, choices...),
edits the `Workspace` only where a value differs from the file (so an untouched control
never rewrites a line), and returns its controls: the YAML node behind each input, so a
checker problem on that node's line is shown next to the input (`locate`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from . import pipelines_edit as pe
from . import roundtrip as rt
from . import yamledit as ye

Form = Mapping[str, str]


@dataclass(frozen=True)
class Control:
    """An input of the form and the YAML node it writes (file, keys from the document root)."""

    name: str
    path: str
    keys: tuple[Any, ...]


def text(form: Form, name: str) -> str:
    return (form.get(name) or "").strip()


def names(form: Form, name: str) -> list[str]:
    """A comma-separated list of names."""
    return [n.strip() for n in text(form, name).replace("，", ",").split(",") if n.strip()]


def lines(form: Form, name: str) -> list[str]:
    """One text per line (an import heading may hold a comma: 金额（元，含税）)."""
    return [line.strip() for line in (form.get(name) or "").splitlines() if line.strip()]


def aliases_of(node: Any) -> list[str]:
    """A field's `aliases:` as the form shows them, one per line (a lone text is one alias)."""
    value = node.get("aliases") if isinstance(node, Mapping) else None
    if value is None:
        return []
    return [str(a) for a in value] if isinstance(value, list) else [str(value)]


def label(form: Form, prefix: str) -> dict[str, str]:
    return {lang: text(form, f"{prefix}_{lang}") for lang in ("en", "zh") if text(form, f"{prefix}_{lang}")}


def scalar(raw: str) -> Any:
    """A typed-in default: 10 is a number, true a boolean, anything else text."""
    if raw == "":
        return None
    try:
        value = yaml.safe_load(raw)
    except yaml.YAMLError:
        return raw
    return value if isinstance(value, (int, float, bool, str)) else raw


def _same_label(current: Any, new: dict[str, str]) -> bool:
    if isinstance(current, str):
        return new in ({"en": current}, {"en": current, "zh": current})
    return dict(current or {}) == new


def _put_label(target: Callable[[dict[str, str] | None], None], current: Any, new: dict[str, str]) -> None:
    if not _same_label(current, new):
        target(new or None)


def op_entity(ws: ye.Workspace, form: Form) -> list[Control]:
    entity = text(form, "entity")
    doc, path = ws.entity(entity), ye.entity_file(entity)
    for key in ("label", "plural"):
        _put_label(lambda v, k=key: ye.set_entity(ws, entity, **{k: v}), doc.get(key), label(form, key))
    for key in ("icon", "title"):
        if text(form, key) != str(doc.get(key) or ""):
            ye.set_entity(ws, entity, **{key: text(form, key) or None})
    group = text(form, "menu_group")
    menu = ws.doc(ye.MENU_FILE).get("menu") or []
    now = next((g.get("group") for g in menu if entity in (g.get("entities") or [])), None)
    if group and group != now:
        ye.set_menu_group(ws, entity, group)
    return [Control(k, path, (k,)) for k in ("label", "plural", "icon", "title")]


def _choices_text(raw: str) -> list[dict[str, Any]]:
    """`value | English | 中文 | #color` per line."""
    out = []
    for line in raw.splitlines():
        parts = [p.strip() for p in line.split("|")]
        if not parts[0]:
            continue
        lab = {k: v for k, v in zip(("en", "zh"), parts[1:3], strict=False) if v}
        out.append({"value": parts[0], "label": lab or None, "color": parts[3] if len(parts) > 3 else None})
    return out


def op_add_field(ws: ye.Workspace, form: Form) -> list[Control]:
    entity, name, kind = text(form, "entity"), text(form, "name"), text(form, "type")
    options: dict[str, Any] = {"required": form.get("required") in ("on", "true", "1"),
                               "default": scalar(text(form, "default")), "to": text(form, "to") or None,
                               "aliases": lines(form, "aliases")}
    choices = _choices_text(form.get("choices") or "") if kind in ("choice", "multichoice") else None
    ye.add_field(ws, entity, name, kind, label(form, "label") or None, choices=choices, **options)
    base = ("fields", name)
    return [Control("name", ye.entity_file(entity), base), Control("type", ye.entity_file(entity), (*base, "type")),
            *(Control(k, ye.entity_file(entity), (*base, k)) for k in ("label", "aliases", "default", "choices", "to"))]


RULE_KEYS = ("required_if", "visible_if", "read_only_if")


def op_field(ws: ye.Workspace, form: Form) -> list[Control]:
    entity, name = text(form, "entity"), text(form, "field")
    node, path = ye.field_node(ws, entity, name), ye.entity_file(entity)
    for key in ("label", "help"):
        _put_label(lambda v, k=key: ye.set_field(ws, entity, name, **{k: v}), node.get(key), label(form, key))
    if "aliases" in form and lines(form, "aliases") != aliases_of(node):
        ye.set_field(ws, entity, name, aliases=lines(form, "aliases"))
    required = form.get("required") in ("on", "true", "1")
    if required != bool(node.get("required")):
        ye.set_field(ws, entity, name, required=required)
    if text(form, "type") and text(form, "type") != node.get("type"):
        ye.set_field(ws, entity, name, type=text(form, "type"))  # the plan says what the data becomes
    default = scalar(text(form, "default"))
    if default != node.get("default"):
        ye.set_field(ws, entity, name, default=default)
    for key in RULE_KEYS:
        if text(form, key) != str(node.get(key) or ""):
            ye.set_field(ws, entity, name, **{key: text(form, key) or None})
    if isinstance(node.get("choices"), list):
        _edit_choices(ws, form, entity, name)
    base = ("fields", name)
    return [Control(k, path, (*base, k))
            for k in ("type", "label", "help", "aliases", "required", "default", *RULE_KEYS, "choices")]


def _edit_choices(ws: ye.Workspace, form: Form, entity: str, name: str) -> None:
    items = ye.field_node(ws, entity, name)["choices"]
    order = []
    for i, item in enumerate(list(items)):
        value = ye.choice_value(item)
        current = item.get("label") if isinstance(item, dict) else None
        new = label(form, f"choice_{i}")
        if not _same_label(current, new) and (current is not None or new != {"en": value}):
            ye.edit_choice(ws, entity, name, value, label=new)
        color = text(form, f"choice_{i}_color")
        if color != str((item.get("color") if isinstance(item, dict) else None) or ""):
            ye.edit_choice(ws, entity, name, value, color=color)
        position = text(form, f"choice_{i}_order")
        order.append((float(position) if _number(position) else float(i), i, value))
    values = [v for _p, _i, v in sorted(order)]
    if values != [v for _p, _i, v in order]:
        ye.order_choices(ws, entity, name, values)
    if text(form, "new_choice_value"):
        ye.add_choice(ws, entity, name, text(form, "new_choice_value"), label(form, "new_choice") or None,
                      text(form, "new_choice_color") or None)


def _number(raw: str) -> bool:
    try:
        float(raw)
    except ValueError:
        return False
    return True


def op_list(ws: ye.Workspace, form: Form) -> list[Control]:
    entity = text(form, "entity")
    current = ws.entity(entity).get("list") or {}
    for key in ("columns", "filters", "search"):
        if names(form, key) != list(current.get(key) or []):
            ye.set_list(ws, entity, **{key: names(form, key) or None})
    if text(form, "order") != str(current.get("order") or ""):
        ye.set_list(ws, entity, order=text(form, "order") or None)
    return [Control(k, ye.entity_file(entity), ("list", k)) for k in ("columns", "filters", "search", "order")]


def op_form(ws: ye.Workspace, form: Form) -> list[Control]:
    """`English | 中文: field, field` per line, one line per section."""
    entity, sections = text(form, "entity"), []
    for line in (form.get("sections") or "").splitlines():
        if ":" not in line:
            continue
        head, fields = line.split(":", 1)
        parts = [p.strip() for p in head.split("|")]
        section = {k: v for k, v in zip(("en", "zh"), parts, strict=False) if v}
        sections.append({"section": section, "fields": [f.strip() for f in fields.split(",") if f.strip()]})
    ye.set_form(ws, entity, sections)
    return [Control("sections", ye.entity_file(entity), ("form",))]


def _stage_values(form: Form) -> dict[str, Any]:
    probability = text(form, "probability")
    return {"label": label(form, "label") or None, "color": text(form, "color") or None,
            "probability": int(probability) if probability.isascii() and probability.lstrip("-").isdigit() else probability or None,
            "requires": names(form, "requires") or None, "roles": names(form, "roles") or None}


def _stage_controls(ws: ye.Workspace, entity: str, pipeline: str, stage: str) -> list[Control]:
    pipelines = ws.entity(entity).get("pipelines") or []
    p = next(i for i, n in enumerate(pipelines) if n.get("name") == pipeline)
    s = next((i for i, n in enumerate(pipelines[p]["stages"]) if n.get("name") == stage), 0)
    base = ("pipelines", p, "stages", s)
    return [Control(k, ye.entity_file(entity), (*base, k))
            for k in ("name", "label", "color", "probability", "requires", "roles", "next")]


def op_stage(ws: ye.Workspace, form: Form) -> list[Control]:
    entity, pipeline, stage = text(form, "entity"), text(form, "pipeline"), text(form, "stage")
    node = next(s for s in pe.pipeline_node(ws, entity, pipeline)["stages"] if s.get("name") == stage)
    values = _stage_values(form)
    values["next"] = [] if form.get("final") in ("on", "true", "1") else names(form, "next") or None
    changed = {}
    for key, value in values.items():
        current = node.get(key)
        same = _same_label(current, value or {}) if key == "label" else \
            (list(current) if isinstance(current, list) else current) == value
        if not same:
            changed[key] = value
    if changed:
        pe.set_stage(ws, entity, pipeline, stage, **changed)
    return _stage_controls(ws, entity, pipeline, stage)


def op_add_stage(ws: ye.Workspace, form: Form) -> list[Control]:
    entity, pipeline, name = text(form, "entity"), text(form, "pipeline"), text(form, "name")
    pe.add_stage(ws, entity, pipeline, name, after=text(form, "after") or None, **_stage_values(form))
    return _stage_controls(ws, entity, pipeline, name)


def op_transitions(ws: ye.Workspace, form: Form) -> list[Control]:
    """`from -> to: Role, Role` per line."""
    entity, pipeline, items = text(form, "entity"), text(form, "pipeline"), []
    for line in (form.get("transitions") or "").splitlines():
        move, _, roles = line.partition(":")
        if "->" not in move:
            continue
        src, dst = (x.strip() for x in move.split("->", 1))
        items.append({"from": src, "to": dst, "roles": [r.strip() for r in roles.split(",") if r.strip()]})
    pe.set_transitions(ws, entity, pipeline, items)
    pipelines = ws.entity(entity).get("pipelines") or []
    p = next(i for i, n in enumerate(pipelines) if n.get("name") == pipeline)
    return [Control("transitions", ye.entity_file(entity), ("pipelines", p, "transitions"))]


def op_role(ws: ye.Workspace, form: Form) -> list[Control]:
    """The scope grid (scope__<entity>__<action>), field rules (`entity.field: mode` lines), settings."""
    role = text(form, "role")
    node = ws.doc(ye.ROLES_FILE).get(role) or {}
    controls = []
    for key in form:
        if not key.startswith("scope__"):
            continue
        _, entity, action = key.split("__")
        grants = (node.get("entities") or {}).get(entity)
        current = grants.get(action) if isinstance(grants, dict) else grants
        new = text(form, key)
        if new != ("" if current is None else _scope_text(current)):
            pe.set_scope(ws, role, entity, action, new or None)
        controls.append(Control(key, ye.ROLES_FILE, (role, "entities", entity)))
    if "field_rules" in form:
        wanted = {}
        for line in (form.get("field_rules") or "").splitlines():
            path, _, mode = line.partition(":")
            if path.strip():
                wanted[path.strip()] = mode.strip()
        current_rules = dict(node.get("fields") or {})
        for path in current_rules:
            if path not in wanted:
                pe.set_field_rule(ws, role, path, None)
        for path, mode in wanted.items():
            if current_rules.get(path) != mode:
                pe.set_field_rule(ws, role, path, mode or None)
        controls.append(Control("field_rules", ye.ROLES_FILE, (role, "fields")))
    if "settings" in form and text(form, "settings") != str(node.get("settings") or ""):
        pe.set_settings(ws, role, text(form, "settings") or None)
    controls.append(Control("settings", ye.ROLES_FILE, (role, "settings")))
    return controls


def _scope_text(value: Any) -> str:
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if isinstance(value, list):
        return " or ".join(str(v) for v in value)
    return str(value)


def op_add_role(ws: ye.Workspace, form: Form) -> list[Control]:
    pe.add_role(ws, text(form, "role"), label(form, "label") or None)
    return [Control("role", ye.ROLES_FILE, (text(form, "role"),))]


def op_file(ws: ye.Workspace, form: Form) -> list[Control]:
    path = text(form, "path")
    if path not in ws.files:
        raise ye.EditError(f"no metadata file {path}")
    ws.replace_text(path, (form.get("text") or "").replace("\r\n", "\n"))
    return [Control("text", path, ())]


OPS: dict[str, Callable[[ye.Workspace, Form], list[Control]]] = {
    "entity": op_entity, "add_field": op_add_field, "field": op_field, "list": op_list, "form": op_form,
    "stage": op_stage, "add_stage": op_add_stage, "transitions": op_transitions, "role": op_role,
    "add_role": op_add_role, "file": op_file,
}


def run(files: dict[str, str], form: Form) -> tuple[dict[str, str], list[Control]]:
    """The new files after the form's operation, and its controls. EditError when it cannot apply."""
    op = OPS.get(text(form, "op"))
    if op is None:
        raise ye.EditError(f"unknown operation {text(form, 'op')!r}")
    ws = ye.Workspace(files)
    try:
        controls = op(ws, form)
    except (KeyError, StopIteration) as exc:
        raise ye.EditError(f"not found: {exc}") from exc
    return ws.texts(), controls


def locate(problems: list[Any], texts: dict[str, str], controls: list[Control]) -> dict[str, list[Any]]:
    """Problems by the control whose node is at (or nearest above) the problem's line, in the
    same file and within the op's nodes; the rest under "" (shown at the top, still file:line)."""
    lines: dict[str, list[tuple[int, str]]] = {}
    for c in controls:
        line = _line_of(texts.get(c.path, ""), c.keys)
        if line is not None:
            lines.setdefault(c.path, []).append((line, c.name))
    out: dict[str, list[Any]] = {}
    for p in problems:
        candidates = sorted(x for x in lines.get(p.path.as_posix(), []) if x[0] <= p.line)
        exact = [n for ln, n in candidates if ln == p.line]
        name = exact[0] if exact else candidates[-1][1] if candidates and p.line - candidates[-1][0] < 8 else ""
        out.setdefault(name, []).append(p)
    return out


def _line_of(source: str, keys: tuple[Any, ...]) -> int | None:
    """1-based line of the node at `keys` (its key line), or of its parent when it is absent."""
    try:
        node = rt.load(source)
    except Exception:  # noqa: BLE001 - a file the admin typed that does not parse: E001 says where
        return None
    line = 1
    for key in keys:
        if isinstance(node, dict) and key in node:
            line = node.lc.key(key)[0] + 1
        elif isinstance(node, list) and isinstance(key, int) and key < len(node):
            line = node.lc.item(key)[0] + 1
        else:
            return line
        node = node[key]
    return line
