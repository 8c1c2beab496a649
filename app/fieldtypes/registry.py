"""The field types: the built-in ones, in the order the docs list them, plus plugins' types.

`field_type(name)` is how every layer reaches a type's behaviour. Plugins add
types through the `crm_field_types()` hook (app/plugins/hookspecs.py); they are
registered when the app starts (and by `crm validate`), before the metadata is
read, so an entity may use them; metadata may use the types of the plugins
loaded last, and an app keeps finding the types it was built with.
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
_plugin_types: dict[str, FieldType] = {}  # every plugin type registered in this process, by name
_active: tuple[str, ...] = ()  # those the plugins of the last load gave: what metadata may use


def field_types() -> dict[str, FieldType]:
    """The types metadata may use: the built-in ones, then those of the plugins loaded last."""
    return {**BUILTIN_TYPES, **{name: _plugin_types[name] for name in _active}}


def field_type(name: str) -> FieldType:
    """The type called `name` (KeyError for an unknown one: the metadata loader refuses those first).

    A type a plugin registered stays found after another app loads other plugins, so an
    app built earlier in the same process (tests) keeps working."""
    found = BUILTIN_TYPES.get(name) or _plugin_types.get(name)
    if found is None:
        raise KeyError(f"no field type {name!r}")
    return found


def register_types(kinds: list[FieldType]) -> None:
    """The plugins' types of this load (names checked by app/plugins/fieldtypes.py: none built in)."""
    global _active
    for kind in kinds:
        assert kind.name not in BUILTIN_TYPES, kind.name
        _plugin_types[kind.name] = kind
    _active = tuple(kind.name for kind in kinds)
