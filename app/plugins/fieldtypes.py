"""Field types from plugins: checked, located, then registered before the metadata is read.

A plugin's `crm_field_types()` returns FieldType instances. Each is checked as
metadata is (a located problem with a code, never a traceback): it must be a
FieldType with an identifier name and a doc (CRM-E053), must not take a name
already taken (CRM-E054), and may only take options the metadata knows
(CRM-E055), since the loader checks keys before types.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pluggy

from app.fieldtypes import BUILTIN_TYPES, FieldType, register_types
from app.metadata.definitions import FIELD_KEYS
from app.metadata.problems import Problem

from .checks import _source

NAME = re.compile(r"^[a-z][a-z0-9_]*$")
KNOWN_OPTIONS = frozenset(key.name for key in FIELD_KEYS)


def plugin_field_types(host: pluggy.PluginManager | None) -> list[Problem]:
    """Call every `crm_field_types` hook, register the types if all pass, return the problems
    (None: plugins that cannot run register no type)."""
    problems: list[Problem] = []
    if host is None:
        register_types([])
        return problems
    taken: dict[str, Path] = {}
    accepted: list[FieldType] = []
    for impl in reversed(host.hook.crm_field_types.get_hookimpls()):  # registration order
        where, line = _source(impl.function)
        try:
            found = impl.function()
        except Exception as exc:  # noqa: BLE001 - a plugin's failure is reported, located
            problems.append(Problem("CRM-E053", where, line,
                                    f"crm_field_types failed: {type(exc).__name__}: {exc}"))
            continue
        for kind in found if isinstance(found, (list, tuple)) else [found]:
            problem = _problem(kind, taken, where, line)
            if problem is not None:
                problems.append(problem)
                continue
            taken[kind.name] = where
            accepted.append(kind)
    register_types(accepted if not problems else [])
    return problems


def _problem(kind: Any, taken: dict[str, Path], where: Path, line: int) -> Problem | None:
    if not isinstance(kind, FieldType):
        return Problem("CRM-E053", where, line, f"crm_field_types returned {kind!r}, not a FieldType",
                       "return instances of subclasses of app.fieldtypes.FieldType")
    if not isinstance(kind.name, str) or not NAME.match(kind.name) or not kind.doc:
        return Problem("CRM-E053", where, line, f"field type {kind.name!r} needs a lower-case name and a doc",
                       "set the class attributes name = 'rating' and doc = 'What it holds.'")
    if kind.name in BUILTIN_TYPES or kind.name in taken:
        other = "a built-in type" if kind.name in BUILTIN_TYPES else f"a type of {taken[kind.name].name}"
        return Problem("CRM-E054", where, line, f"field type '{kind.name}' is already {other}",
                       "give the plugin's type another name")
    unknown = sorted(set(kind.options) - KNOWN_OPTIONS)
    if unknown or "type" not in kind.options:
        what = f"options {', '.join(unknown)} unknown to the metadata" if unknown else "no 'type' option"
        return Problem("CRM-E055", where, line, f"field type '{kind.name}' has {what}",
                       "build options from app.fieldtypes.COMMON / TEXTUAL / NUMERIC")
    return None
