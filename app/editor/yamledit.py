"""Edits of the metadata files in the CRM's own terms, written back round-trip.

A `Workspace` holds the texts of every metadata file (relative posix paths, as the
metadata version stores them). Each operation edits the ruamel document of one file;
`texts()` returns the new texts, each differing from the old only in the lines the
edits changed (comments, key order, Chinese and formatting kept: see `roundtrip`).
Operations raise `EditError` for an edit that cannot be expressed (an unknown field);
whether the result is *valid* metadata is the checker's call, through apply_files.
"""

from __future__ import annotations

from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from . import roundtrip as rt
from .roundtrip import flow_map, flow_seq, quoted

ENTITY_KEYS = ("label", "plural", "description", "icon", "title")
FIELD_KEYS = ("label", "help", "aliases", "required", "default", "read_only", "required_if", "visible_if",
              "read_only_if", "max_length", "min", "max", "to", "type")
MENU_FILE = "crm.yaml"
ROLES_FILE = "roles.yaml"


class EditError(ValueError):
    """An edit that does not fit the files (unknown entity, field, stage, role)."""


def entity_file(entity: str) -> str:
    return f"entities/{entity}.yaml"


class Workspace:
    """The metadata texts under edit; documents are loaded on first use."""

    def __init__(self, files: dict[str, str]):
        self.files = dict(files)
        self._docs: dict[str, Any] = {}

    def doc(self, path: str) -> Any:
        if path not in self._docs:
            if path not in self.files:
                raise EditError(f"no metadata file {path}")
            self._docs[path] = rt.load(self.files[path])
        return self._docs[path]

    def entity(self, name: str) -> CommentedMap:
        return self.doc(entity_file(name))

    def replace_text(self, path: str, text: str) -> None:
        """The per-file editor: the whole text as typed (the checker judges it)."""
        self._docs.pop(path, None)
        self.files[path] = text

    def texts(self) -> dict[str, str]:
        out = dict(self.files)
        for path, doc in self._docs.items():
            original = self.files[path]
            out[path] = rt.splice(original, rt.dump(rt.load(original)), rt.dump(doc))
        return out

    def changed(self) -> dict[str, str]:
        """Only the files whose text changed."""
        return {p: t for p, t in self.texts().items() if self.files.get(p) != t}


def _label(value: dict[str, str] | str | None) -> Any:
    if isinstance(value, dict):
        return flow_map({k: v for k, v in value.items() if v not in (None, "")})
    return value


def _set(node: CommentedMap, key: str, value: Any, after: str | None = None) -> None:
    """Set `key` (None or "" removes it); a new key goes after `after` when given."""
    if value is None or value == "" or value == {}:
        node.pop(key, None)
        return
    if isinstance(value, dict) and not isinstance(value, CommentedMap):
        value = _label(value)
    if key in node or after is None or after not in node:
        node[key] = value
    else:
        node.insert(list(node).index(after) + 1, key, value)


def _set_list(node: CommentedMap, key: str, value: list[Any], after: str | None = None) -> None:
    """A list in the style it is written in (`[a, b]` or one `- a` per line), new ones as `[a, b]`;
    an empty list removes the key."""
    if value and isinstance(node.get(key), list):
        node[key][:] = value
    else:
        _set(node, key, flow_seq(value) if value else None, after=after)


# --- entities ---------------------------------------------------------------------------------

def set_entity(ws: Workspace, entity: str, **values: Any) -> None:
    """label, plural, description (per-language maps), icon, title."""
    doc = ws.entity(entity)
    for key, value in values.items():
        if key not in ENTITY_KEYS:
            raise EditError(f"unknown entity key {key}")
        _set(doc, key, value, after=_previous(doc, ENTITY_KEYS, key))


def _previous(node: CommentedMap, order: tuple[str, ...], key: str) -> str | None:
    before = [k for k in order[: order.index(key)] if k in node]
    return before[-1] if before else None


def set_menu_group(ws: Workspace, entity: str, group: str) -> None:
    """Move an entity into another menu group of crm.yaml."""
    menu = ws.doc(MENU_FILE).get("menu") or []
    target = next((g for g in menu if g.get("group") == group), None)
    if target is None:
        raise EditError(f"no menu group {group}")
    for g in menu:
        names = g.get("entities")
        if g is not target and names is not None and entity in names:
            names.remove(entity)
    names = target.setdefault("entities", flow_seq([]))
    if entity not in names:
        names.append(entity)


# --- fields -----------------------------------------------------------------------------------

def _fields(ws: Workspace, entity: str) -> CommentedMap:
    doc = ws.entity(entity)
    if doc.get("fields") is None:
        doc["fields"] = CommentedMap()
    return doc["fields"]


def field_node(ws: Workspace, entity: str, name: str) -> CommentedMap:
    fields = _fields(ws, entity)
    if name not in fields:
        raise EditError(f"'{entity}' has no field '{name}'")
    node = fields[name]
    if isinstance(node, str):  # `notes: text` shorthand: spell it out before adding keys
        node = fields[name] = CommentedMap(type=node)
    elif isinstance(node, CommentedMap) and node.fa.flow_style():
        node.fa.set_block_style()
    return node


def add_field(ws: Workspace, entity: str, name: str, type: str, label: dict[str, str] | None = None,
              choices: list[dict[str, Any]] | None = None, **options: Any) -> None:
    """Add a field at the end of `fields:` with its keys in the starter's order."""
    fields = _fields(ws, entity)
    if name in fields:
        raise EditError(f"'{entity}' already has a field '{name}'")
    node = CommentedMap(type=type)
    if label:
        node["label"] = _label(label)
    for key in FIELD_KEYS:
        if key in options and options[key] not in (None, "", False, []):
            value = options[key]
            node[key] = _label(value) if key == "help" else flow_seq(value) if isinstance(value, list) else value
    if choices is not None:
        node["choices"] = rt.block_seq([_choice(c) for c in choices])
    fields[name] = node


def set_field(ws: Workspace, entity: str, name: str, **values: Any) -> None:
    """Relabel, (un)require, default, help, aliases (import headings), rules (required_if,
    visible_if, read_only_if), type..."""
    node = field_node(ws, entity, name)
    for key, value in values.items():
        if key not in FIELD_KEYS:
            raise EditError(f"unknown field key {key}")
        if isinstance(value, list):
            _set_list(node, key, value, after=_previous(node, ("type", *FIELD_KEYS), key))
            continue
        _set(node, key, False if key in ("required", "read_only") and value is False else value,
             after=_previous(node, ("type", *FIELD_KEYS), key) if key != "type" else None)
        if key in ("required", "read_only") and value is False:
            node.pop(key, None)


def remove_field(ws: Workspace, entity: str, name: str) -> None:
    """Drop a field (the plan then shows the column's data as lost unless confirmed)."""
    fields = _fields(ws, entity)
    if name not in fields:
        raise EditError(f"'{entity}' has no field '{name}'")
    del fields[name]


# --- choices ----------------------------------------------------------------------------------

def _choice(item: dict[str, Any] | str) -> Any:
    if isinstance(item, str):
        return item
    node = flow_map({"value": item["value"]})
    if item.get("label"):
        node["label"] = _label(item["label"])
    if item.get("color"):
        node["color"] = quoted(item["color"])
    return node


def _choices(ws: Workspace, entity: str, name: str) -> CommentedSeq:
    node = field_node(ws, entity, name)
    if not isinstance(node.get("choices"), list):
        raise EditError(f"'{entity}.{name}' has no choices")
    return node["choices"]


def choice_value(item: Any) -> str:
    return str(item.get("value")) if isinstance(item, dict) else str(item)


def _choice_index(items: CommentedSeq, value: str) -> int:
    for i, item in enumerate(items):
        if choice_value(item) == value:
            return i
    raise EditError(f"no choice '{value}'")


def add_choice(ws: Workspace, entity: str, name: str, value: str, label: dict[str, str] | None = None,
               color: str | None = None) -> None:
    items = _choices(ws, entity, name)
    if any(choice_value(i) == value for i in items):
        raise EditError(f"choice '{value}' exists already")
    items.append(_choice({"value": value, "label": label, "color": color}))


def edit_choice(ws: Workspace, entity: str, name: str, value: str, *, label: dict[str, str] | None = None,
                color: str | None = None) -> None:
    """Relabel or recolour one choice; the stored value (and so the data) stays."""
    items = _choices(ws, entity, name)
    i = _choice_index(items, value)
    if not isinstance(items[i], dict):
        items[i] = flow_map({"value": items[i]})
    if label is not None:
        _set(items[i], "label", label, after="value")
    if color is not None:
        _set(items[i], "color", quoted(color) if color else None)


def order_choices(ws: Workspace, entity: str, name: str, values: list[str]) -> None:
    """Put the choices in this order (every value once)."""
    items = _choices(ws, entity, name)
    if sorted(values) != sorted(choice_value(i) for i in items):
        raise EditError("the new order must name every choice once")
    ordered = [items[_choice_index(items, v)] for v in values]
    items[:] = ordered


# --- list and form ----------------------------------------------------------------------------

def set_list(ws: Workspace, entity: str, **values: list[str] | str | None) -> None:
    """columns, filters, search (lists of field names) and order, each kept in its style."""
    doc = ws.entity(entity)
    if doc.get("list") is None:
        doc["list"] = CommentedMap()
    node = doc["list"]
    for key, value in values.items():
        if key not in ("columns", "filters", "search", "order"):
            raise EditError(f"unknown list key {key}")
        if isinstance(value, list):
            _set_list(node, key, value)
        else:
            _set(node, key, value)


def set_form(ws: Workspace, entity: str, sections: list[dict[str, Any]]) -> None:
    """The form's sections: [{section: {en, zh}, fields: [...]}], existing sections edited in place."""
    doc = ws.entity(entity)
    old = doc.get("form") if isinstance(doc.get("form"), list) else CommentedSeq()
    new = CommentedSeq()
    for i, section in enumerate(sections):
        node = old[i] if i < len(old) and isinstance(old[i], dict) else CommentedMap()
        _set(node, "section", section.get("section"))
        if isinstance(node.get("fields"), list):
            node["fields"][:] = section["fields"]
        else:
            node["fields"] = flow_seq(section["fields"])
        new.append(node)
    if isinstance(doc.get("form"), list):
        doc["form"][:] = new
    else:
        doc["form"] = new
