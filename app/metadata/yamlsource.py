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


def read_yaml(path: Path) -> YamlDocument:
    """Parse one file; a syntax error is returned, never raised."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        return YamlDocument(path, error=f"file is not UTF-8 text ({exc.reason})", error_line=1,
                            hint="save the file as UTF-8 (most editors: File > Save with Encoding)")
    try:
        data = yaml.load(text, Loader=_LocatingLoader)  # noqa: S506 - SafeLoader subclass
    except yaml.constructor.ConstructorError as exc:  # a value that cannot be built: located already
        line = exc.problem_mark.line + 1 if exc.problem_mark is not None else 1
        return YamlDocument(path, error=f"malformed YAML: {exc.problem}", error_line=line, text=text,
                            hint="quote the value if it is text, or give a real date (YYYY-MM-DD)")
    except yaml.YAMLError:
        return _syntax_error(path, text)
    return YamlDocument(path, data=data, text=text)


def _error_line(exc: yaml.MarkedYAMLError, text: str) -> int:
    """Where the problem is; at end of file (an unclosed quote or bracket), where it opened."""
    last = max(1, len(text.splitlines()))
    for mark in (exc.problem_mark, exc.context_mark):
        if mark is not None and mark.line + 1 <= last:
            return mark.line + 1
    return last


def _syntax_error(path: Path, text: str) -> YamlDocument:
    """Re-parse with the pure-Python parser: its messages name what it found."""
    try:
        yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        line = _error_line(exc, text)
        reason = " ".join(part for part in (exc.context, exc.problem) if part)
        return YamlDocument(path, error=f"malformed YAML: {reason}", error_line=line, text=text)
    except yaml.YAMLError as exc:
        return YamlDocument(path, error=f"malformed YAML: {exc}", error_line=1, text=text)
    return YamlDocument(path, error="malformed YAML", error_line=1, text=text)
