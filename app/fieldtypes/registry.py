"""The field types: the built-in ones, in the order the docs list them, plus plugins' types.

`field_type(name)` is how every layer reaches a type's behaviour. Plugins add
types through the `crm_field_types()` hook (app/plugins/hookspecs.py); they are
registered when the app starts, before the metadata is read, so an entity may
use them. Registered types live for the process (a type a plugin registered
stays known to apps built later in the same process; a plugin registering a
type again, e.g. on a second app, replaces it).
"""

from __future__ import annotations

from types import MappingProxyType

from . import (
    autonumber,
    boolean,
    choice,
    date,
    datetime,
    decimal,
    email,
    formula,
    integer,
    link,
    links,
    lookup,
    money,
    multichoice,
    percent,
    phone,
    rollup,
    string,
    text,
    url,
    user,
)
from .base import FieldType

_BUILTIN_MODULES = (string, text, integer, decimal, money, percent, boolean, date, datetime, email, phone,
                    url, choice, multichoice, link, links, user, autonumber, formula, lookup, rollup)
BUILTIN_TYPES: MappingProxyType[str, FieldType] = MappingProxyType({m.TYPE.name: m.TYPE for m in _BUILTIN_MODULES})
_plugin_types: dict[str, FieldType] = {}


def field_types() -> dict[str, FieldType]:
    """Every known type: the built-in ones, then the plugins'."""
    return {**BUILTIN_TYPES, **_plugin_types}


def field_type(name: str) -> FieldType:
    """The type called `name` (KeyError for an unknown one: the metadata loader refuses those first)."""
    found = BUILTIN_TYPES.get(name) or _plugin_types.get(name)
    if found is None:
        raise KeyError(f"no field type {name!r}")
    return found


def register_type(kind: FieldType) -> None:
    """Add (or replace) a plugin's type; a built-in type cannot be replaced (checked by the caller)."""
    assert kind.name not in BUILTIN_TYPES, kind.name
    _plugin_types[kind.name] = kind
