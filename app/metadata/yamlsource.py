"""Read YAML while keeping the line of every key and item.

Consultants need `file:line` in every message, so the loader never works on
plain dicts: mappings become `LocMap` and sequences `LocList`, each knowing
where it and its children start. Duplicate keys, which YAML silently merges,
are recorded so the checker can report them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml


class LocMap(dict):
    """A mapping that remembers its own line and the line of each key."""

    line: int = 0
    key_lines: dict[str, int]
    duplicates: list[tuple[str, int]]

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class LocList(list):
    """A sequence that remembers its own line and the line of each item."""

    line: int = 0
    item_lines: list[int]

    def line_of(self, index: int) -> int:
        if 0 <= index < len(self.item_lines):
            return self.item_lines[index]
        return self.line


class _LocatingLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """SafeLoader (libyaml's when installed: 10x faster) building LocMap/LocList."""


def _construct_mapping(loader: _LocatingLoader, node: yaml.MappingNode) -> LocMap:
    mapping = LocMap()
    mapping.line = node.start_mark.line + 1
    mapping.key_lines = {}
    mapping.duplicates = []
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str):
            # Keys are names: `on:` or `no:` mean the words, not YAML 1.1 booleans.
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key)
        line = key_node.start_mark.line + 1
        if key in mapping:
            mapping.duplicates.append((key, line))
        try:
            mapping[key] = loader.construct_object(value_node, deep=True)
        except ValueError as exc:  # e.g. an impossible date (2024-13-01): PyYAML raises a bare ValueError
            raise yaml.constructor.ConstructorError(None, None, f"cannot read this value: {exc}",
                                                    value_node.start_mark) from None
        mapping.key_lines[key] = line
    return mapping


def _construct_sequence(loader: _LocatingLoader, node: yaml.SequenceNode) -> LocList:
    items = LocList(loader.construct_object(child, deep=True) for child in node.value)
    items.line = node.start_mark.line + 1
    items.item_lines = [child.start_mark.line + 1 for child in node.value]
    return items


_LocatingLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LocatingLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


@dataclass
class YamlDocument:
    """One parsed file: its data, or the syntax error that stopped parsing."""

    path: Path
    data: Any = None
    error: str | None = None
    error_line: int = 0
    text: str = field(default="", repr=False)
    hint: str = "check indentation and quoting around this line"
    code: str = "CRM-E001"


MAX_DEPTH = 50
"""How deep metadata may nest. The deepest real file is a few levels; a value nested
hundreds of levels deep is a mistake, and would overflow Python's stack when built."""


def read_yaml(path: Path) -> YamlDocument:
    """Parse one file; a syntax error is returned, never raised."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        return YamlDocument(path, error=f"file is not UTF-8 text ({exc.reason})", error_line=1,
                            hint="save the file as UTF-8 (most editors: File > Save with Encoding)")
    except OSError as exc:
        return YamlDocument(path, error=f"{path.name} cannot be read: {exc.strerror or exc}", error_line=0,
                            hint="make it a readable file for the user running the CRM", code="CRM-E028")
    try:
        data = _load(text)
    except _TooDeep as exc:
        return YamlDocument(path, error=f"malformed YAML: a value nested more than {MAX_DEPTH} levels deep",
                            error_line=exc.line, text=text,
                            hint="metadata nests a few levels; look for brackets or indentation that never close")
    except RecursionError:  # a structure the depth check did not see (defensive)
        return YamlDocument(path, error="malformed YAML: nested too deep to read", error_line=1, text=text,
                            hint="metadata nests a few levels; look for brackets or indentation that never close")
    except yaml.constructor.ConstructorError as exc:  # a value that cannot be built: located already
        line = exc.problem_mark.line + 1 if exc.problem_mark is not None else 1
        return YamlDocument(path, error=f"malformed YAML: {exc.problem}", error_line=line, text=text,
                            hint="quote the value if it is text, or give a real date (YYYY-MM-DD)")
    except yaml.YAMLError as exc:
        return _syntax_error(path, text, exc)
    return YamlDocument(path, data=data, text=text)


class _TooDeep(Exception):
    def __init__(self, line: int):
        super().__init__(line)
        self.line = line


def _load(text: str) -> Any:
    """Compose the node tree (libyaml: no Python recursion), refuse it when it nests deeper
    than MAX_DEPTH, then build LocMap/LocList from it."""
    loader = _LocatingLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        deep = _too_deep(node)
        if deep is not None:
            raise _TooDeep(deep.start_mark.line + 1)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _too_deep(root: yaml.Node) -> yaml.Node | None:
    """The first node deeper than MAX_DEPTH, walked without recursion; shared (aliased)
    nodes are walked again only when reached deeper, so a billion-laughs file stays cheap."""
    deepest: dict[int, int] = {}
    stack: list[tuple[yaml.Node, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            return node
        if deepest.get(id(node), 0) >= depth:
            continue
        deepest[id(node)] = depth
        if isinstance(node, yaml.MappingNode):
            stack.extend((child, depth + 1) for pair in node.value for child in pair)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((child, depth + 1) for child in node.value)
    return None


def _error_line(exc: yaml.MarkedYAMLError, text: str) -> int:
    """Where the problem is; at end of file (an unclosed quote or bracket), where it opened."""
    last = max(1, len(text.splitlines()))
    for mark in (exc.problem_mark, exc.context_mark):
        if mark is not None and mark.line + 1 <= last:
            return mark.line + 1
    return last


def _syntax_error(path: Path, text: str, first: yaml.YAMLError) -> YamlDocument:
    """Re-parse with the pure-Python parser: its messages name what it found (unless the
    file nests so deep that its recursion gives up: then libyaml's message)."""
    try:
        try:
            yaml.safe_load(text)
        except RecursionError:
            raise first from None
    except yaml.MarkedYAMLError as exc:
        line = _error_line(exc, text)
        reason = " ".join(part for part in (exc.context, exc.problem) if part)
        return YamlDocument(path, error=f"malformed YAML: {reason}", error_line=line, text=text)
    except yaml.YAMLError as exc:
        return YamlDocument(path, error=f"malformed YAML: {exc}", error_line=1, text=text)
    return YamlDocument(path, error="malformed YAML", error_line=1, text=text)
