"""Check the normalising keys of a field (`normalise`, `units`) and an entity's `unique` sets.

Codes: CRM-E035 unknown normaliser (or one that does not fit the field type),
CRM-E036 bad normaliser option (a regex that does not compile, an empty map),
CRM-E037 bad unique set, CRM-E038 bad phone region or money units.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import phonenumbers

from app.fieldtypes import field_type

from .definitions import NORMALISERS, PHONE_FORMS
from .problems import ProblemSink, did_you_mean
from .shapes import line_of, type_name
from .spec import FieldSpec, Normaliser
from .yamlsource import LocMap

NO_ARGUMENT = ("trim", "nfkc", "lower", "upper", "collapse_spaces", "phone", "email")


def parse_normalisers(raw: Any, node: LocMap, sink: ProblemSink, where: str,
                      ftype: str) -> tuple[Normaliser, ...]:
    """The field's normalisers, in order; each problem reported with its own line."""
    if raw is None:
        return ()
    base = node.line_of("normalise")
    result: list[Normaliser] = []
    for index, item in enumerate(raw):
        line = line_of(raw, index, base)
        if isinstance(item, str):
            name, arg = item, None
        elif isinstance(item, dict) and len(item) == 1:
            name, arg = next(iter(item.items()))
            name = str(name)
        else:
            sink.add("CRM-E036", line, f"{where}: normaliser {type_name(item)} is not a name or a one-key map",
                     "write trim, or {map: {UK: GB}}")
            continue
        if name not in NORMALISERS:
            sink.add("CRM-E035", line, f"{where}: unknown normaliser '{name}'",
                     did_you_mean(name, NORMALISERS) or f"normalisers: {', '.join(NORMALISERS)}")
            continue
        types = NORMALISERS[name][0]
        if ftype not in types:
            sink.add("CRM-E035", line, f"{where}: normaliser '{name}' does not apply to type {ftype}",
                     f"'{name}' is for {', '.join(types)} fields")
            continue
        checked = _argument(name, arg, item, sink, line, where)
        if checked is not _BAD:
            result.append(Normaliser(name, checked))
    return tuple(result)


_BAD = object()


def _argument(name: str, arg: Any, item: Any, sink: ProblemSink, line: int, where: str) -> Any:
    if name in NO_ARGUMENT and not isinstance(item, dict):
        return None
    if name == "phone":
        if arg in PHONE_FORMS:
            return arg
        sink.add("CRM-E036", line, f"{where}: phone form '{arg}' is not one of {', '.join(PHONE_FORMS)}")
        return _BAD
    if name in NO_ARGUMENT:
        sink.add("CRM-E036", line, f"{where}: normaliser '{name}' takes no option", f"write just {name}")
        return _BAD
    if name == "map":
        if isinstance(item, str) or not isinstance(arg, dict) or not arg:
            sink.add("CRM-E036", line, f"{where}: map needs a non-empty map of value to value",
                     "{map: {UK: GB, 百度推广: paid_search}}")
            return _BAD
        return tuple((str(k), str(v)) for k, v in arg.items())
    # replace: [pattern, replacement]
    if isinstance(item, str) or not isinstance(arg, list) or len(arg) != 2 or not all(
            isinstance(a, str) for a in arg):
        sink.add("CRM-E036", line, f"{where}: replace needs [pattern, replacement]",
                 "{replace: ['[\\s-]+', '']}")
        return _BAD
    try:
        re.compile(arg[0])
        re.sub(arg[0], arg[1], "")
    except (re.error, IndexError) as exc:
        sink.add("CRM-E036", line, f"{where}: replace pattern is not a valid regular expression: {exc}")
        return _BAD
    return (arg[0], arg[1])


def parse_units(raw: Any, node: LocMap, sink: ProblemSink, where: str) -> tuple[tuple[str, Decimal], ...]:
    """Money unit words: {万: 10000}; each word a non-empty text, each factor a positive number."""
    if raw is None:
        return ()
    line = node.line_of("units")
    result = []
    for word, factor in raw.items():
        if not isinstance(factor, (int, float)) or isinstance(factor, bool) or factor <= 0 or not str(word).strip():
            sink.add("CRM-E038", line, f"{where}: unit '{word}' needs a positive number, got {type_name(factor)}",
                     "units: {万: 10000, 亿: 100000000}")
            continue
        result.append((str(word).strip(), Decimal(str(factor))))
    return tuple(result)


def check_phone_region(value: Any, sink: ProblemSink, line: int) -> str:
    """crm.yaml phone_region: a region phonenumbers knows (CN, HK, GB...)."""
    if value is None:
        return "CN"
    if str(value).upper() in phonenumbers.SUPPORTED_REGIONS and str(value).isupper():
        return str(value)
    sink.add("CRM-E038", line, f"phone_region '{value}' is not a region code",
             did_you_mean(str(value).upper(), phonenumbers.SUPPORTED_REGIONS)
             or "an ISO 3166 code in capitals: CN, HK, SG, GB, US")
    return "CN"


def parse_unique_sets(raw: Any, node: LocMap, sink: ProblemSink,
                      fields: dict[str, FieldSpec]) -> tuple[tuple[str, ...], ...]:
    """Entity `unique`: [a, b] is one set, [[a, b], [c, d]] several; each of two or more
    distinct one-value fields of the entity."""
    if raw is None:
        return ()
    line = node.line_of("unique")
    groups = raw if raw and all(isinstance(item, list) for item in raw) else [raw]
    result = []
    for index, group in enumerate(groups):
        group_line = line_of(raw, index, line) if groups is raw else line
        names: list[str] = []
        ok = True
        for entry in group:
            if not isinstance(entry, str):
                sink.add("CRM-E037", group_line, f"unique set entry must be a field name, got {type_name(entry)}")
                ok = False
            elif entry in sink.broken_fields:
                ok = False
            elif entry not in fields:
                sink.add("CRM-E037", group_line, f"unique set names unknown field '{entry}'",
                         did_you_mean(entry, fields))
                ok = False
            elif not field_type(fields[entry].type).in_unique_set or fields[entry].is_computed:
                sink.add("CRM-E037", group_line, f"unique set: '{entry}' is a {'computed' if fields[entry].is_computed else fields[entry].type} field",
                         "a set holds one-line fields: string, numbers, dates, choices, links")
                ok = False
            elif entry in names:
                sink.add("CRM-E037", group_line, f"unique set names '{entry}' twice")
                ok = False
            else:
                names.append(entry)
        if ok and len(names) < 2:
            sink.add("CRM-E037", group_line, "a unique set needs two or more fields",
                     "for one field write unique: true on the field itself")
            ok = False
        if ok:
            result.append(tuple(names))
    return tuple(result)
