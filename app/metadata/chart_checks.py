"""Check what one chart of dashboards.yaml refers to: field paths, groupings, measure, filters.

A chart is checked against its entity here, at load, with the same rules the
chart query applies when it runs (app/charts/query.py parses filter values with
the field's input parser): what passes here never fails for a viewer later.
Every problem is CRM-E027 at the line of the key or item at fault, with a hint.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from .definitions import DATE_BUCKETS, FILTER_OPS, MEASURES, RELATIVE_RANGES
from .problems import ProblemSink, did_you_mean
from .shapes import line_of, type_name
from .spec import Condition, EntitySpec, FieldSpec, Grouping, Measure, Text

NUMERIC = ("integer", "decimal", "money", "percent")
DATES = ("date", "datetime")
TEXTUAL = ("string", "email", "phone", "url", "autonumber")
GROUPABLE = ("string", "choice", "boolean", "link", "user", "integer", "percent", "email", "phone", "url",
             "autonumber", *DATES)
# Ops comparing with an order: numbers, dates and text (as the report builder allows).
RANGE_OPS = ("gt", "gte", "lt", "lte", "between")
RANGEABLE = (*NUMERIC, *DATES, "string", "autonumber")
LIST_OPS = ("in", "not_in", "between")
USER_FIELDS = ("username", "first_name", "last_name")
MEASURE_RE = re.compile(r"^\s*([a-z_]+)\s*(?:\(\s*([a-z][a-z0-9_]*)\s*\))?\s*$")
RELATIVE_N_DAYS = re.compile(r"^(last|next)_(\d{1,4})_days$")
MAX_N_DAYS = 3660
RANGES_HINT = f"ranges: {', '.join(RELATIVE_RANGES)}, last_N_days, next_N_days (N from 1 to {MAX_N_DAYS})"
DUPLICATE_HINT = "YAML keeps only the last one; remove the other"
_BAD = object()  # a filter value that failed its check (None is a value's absence)


def is_relative_range(value: Any) -> bool:
    """A relative date range name: this_month, last_quarter, last_30_days ..."""
    if not isinstance(value, str):
        return False
    match = RELATIVE_N_DAYS.match(value)
    return value in RELATIVE_RANGES or (match is not None and 1 <= int(match.group(2)) <= MAX_N_DAYS)


def _looks_relative(value: Any) -> bool:
    return isinstance(value, str) and (value in RELATIVE_RANGES or RELATIVE_N_DAYS.match(value) is not None)


class ChartCheck:
    """Checks one chart's references against its entity; `ok` turns false on any problem."""

    def __init__(self, sink: ProblemSink, entities: dict[str, EntitySpec], entity: EntitySpec, where: str):
        self.sink, self.entities, self.entity, self.where = sink, entities, entity, where
        self.ok = True

    def fail(self, line: int, message: str, hint: str = "", code: str = "CRM-E027") -> None:
        self.sink.add(code, line, f"{self.where}: {message}", hint)
        self.ok = False

    def duplicates(self, node: Any, what: str) -> None:
        """Keys a mapping repeats (YAML keeps the last): CRM-E004."""
        for key, key_line in getattr(node, "duplicates", None) or []:
            self.fail(key_line, f"{what} repeat '{key}'", DUPLICATE_HINT, code="CRM-E004")

    def field_at(self, path: str, line: int, what: str) -> FieldSpec | None:
        """The field a path names (a link's field for link.field), or None after reporting."""
        head, _, tail = path.partition(".")
        f = self.entity.field_map.get(head)
        if f is None:
            self.fail(line, f"{what} '{path}': {self.entity.name} has no field '{head}'",
                      did_you_mean(head, self.entity.field_map))
            return None
        if not tail:
            return f
        if "." in tail:
            self.fail(line, f"{what} '{path}' goes more than one link deep", "paths are link.field, one level")
            return None
        if f.type == "user":
            if tail not in USER_FIELDS:
                self.fail(line, f"{what} '{path}': users have no field '{tail}'", f"use {', '.join(USER_FIELDS)}")
                return None
            return FieldSpec(tail, "string", Text.of(tail))
        if f.type != "link":
            self.fail(line, f"{what} '{path}': '{head}' is a {f.type} field, not a link")
            return None
        target = self.entities.get(f.to or "")
        if target is None:  # the link itself is CRM-E009 in its entity file
            self.ok = False
            return None
        if tail not in target.field_map:
            self.fail(line, f"{what} '{path}': {target.name} has no field '{tail}'",
                      did_you_mean(tail, target.field_map))
            return None
        return target.field(tail)

    def grouping(self, raw: str, line: int, what: str) -> Grouping | None:
        path, _, bucket = raw.partition(":")
        path, bucket = path.strip(), bucket.strip()
        f = self.field_at(path, line, what)
        if f is None:
            return None
        if f.type not in GROUPABLE:
            self.fail(line, f"{what} '{path}' is a {f.type} field, which cannot group a chart",
                      "group by a choice, link, user, boolean, text-like or date field; "
                      "amounts belong in the measure")
            return None
        if f.type in DATES and not bucket:
            self.fail(line, f"{what} '{path}' is a date: say how to bucket it",
                      f"e.g. {path}:month; buckets: {', '.join(DATE_BUCKETS)}")
            return None
        if bucket and f.type not in DATES:
            self.fail(line, f"{what} '{raw}': only date fields take a bucket")
            return None
        if bucket and bucket not in DATE_BUCKETS:
            self.fail(line, f"{what} '{raw}': unknown date bucket '{bucket}'",
                      did_you_mean(bucket, DATE_BUCKETS) or f"buckets: {', '.join(DATE_BUCKETS)}")
            return None
        return Grouping(path, bucket or None)

    def measure(self, raw: str, line: int) -> Measure | None:
        match = MEASURE_RE.match(raw)
        if not match or (match.group(1) == "count") != (match.group(2) is None):
            self.fail(line, f"measure '{raw}' is not count or func(field)",
                      "e.g. count, sum(amount), avg(amount), min(close_date), max(amount), median(amount), "
                      "count_distinct(account)")
            return None
        func, name = match.groups()
        if func not in MEASURES:
            self.fail(line, f"measure '{raw}': unknown function '{func}'",
                      did_you_mean(func, MEASURES) or f"functions: {', '.join(MEASURES)}")
            return None
        if name is None:
            return Measure()
        f = self.field_at(name, line, "measure field")
        if f is None:
            return None
        if func == "count_distinct":
            if f.type not in GROUPABLE:
                self.fail(line, f"measure '{raw}': {name} is a {f.type} field, whose distinct values "
                          "cannot be counted", "count_distinct takes a field a chart could group by "
                          "(choice, link, user, text-like, number, date)", code="CRM-E045")
                return None
            return Measure(func, name)
        if func == "median" and f.type not in NUMERIC:
            self.fail(line, f"measure '{raw}': {name} is a {f.type} field; median needs a number",
                      "e.g. median(amount)", code="CRM-E045")
            return None
        allowed = NUMERIC + DATES if func in ("min", "max") else NUMERIC
        if f.type not in allowed:
            self.fail(line, f"measure '{raw}': {name} is a {f.type} field; {func} needs a number"
                      + (" or a date" if func in ("min", "max") else ""))
            return None
        return Measure(func, name)

    def filters(self, raw: dict, line: int) -> tuple[Condition, ...]:
        """`field: value`, `field: [values]`, `field:` (empty) or `field: {op: value, ...}`."""
        self.duplicates(raw, "filters")
        result: list[Condition] = []
        for key, condition in raw.items():
            path, key_line = str(key), line_of(raw, key, line)
            f = self.field_at(path, key_line, "filter")
            if f is None:
                continue
            if f.type == "links":
                self.fail(key_line, f"filter '{path}' is a links field, which charts cannot filter on",
                          "filter on a link field, or on the linked entity's own charts")
                continue
            if isinstance(condition, dict):
                self.duplicates(condition, f"filter '{path}'")
                if not condition:
                    self.fail(key_line, f"filter '{path}' has no condition", "e.g. {in: [a, b]} or {gte: 100}")
                pairs = [(str(op), value, line_of(condition, op, key_line)) for op, value in condition.items()]
            elif isinstance(condition, list):
                pairs = [("in", condition, key_line)]
            elif condition is None:
                pairs = [("empty", True, key_line)]
            else:
                pairs = [("eq", condition, key_line)]
            for op, value, op_line in pairs:
                cond = self.condition(path, f, op, value, op_line)
                if cond is not None:
                    result.append(cond)
        return tuple(result)

    def condition(self, path: str, f: FieldSpec, op: str, value: Any, line: int) -> Condition | None:
        if op not in FILTER_OPS:
            self.fail(line, f"filter '{path}': unknown operator '{op}'",
                      did_you_mean(op, FILTER_OPS) or f"operators: {', '.join(FILTER_OPS)}")
            return None
        if op == "empty":
            if not isinstance(value, bool):
                self.fail(line, f"filter '{path}': empty takes true or false, got {type_name(value)}")
                return None
            return Condition(path, op, value)
        if f.type in ("multichoice", "text"):
            self.fail(line, f"filter '{path}' is a {f.type} field: charts filter it only with empty",
                      f"e.g. {path}: {{empty: false}}")
            return None
        values = value if isinstance(value, list) else [value]
        if f.type in DATES and any(_looks_relative(v) for v in values):
            if op == "eq" and is_relative_range(value):
                return Condition(path, "relative", value)
            if op == "eq" and isinstance(value, str):
                self.fail(line, f"filter '{path}': '{value}' is not a relative date range", RANGES_HINT)
            else:
                self.fail(line, f"filter '{path}': relative ranges stand alone, not with {op}",
                          f"e.g. {path}: this_month, or {path}: last_30_days")
            return None
        if op in LIST_OPS:
            if not isinstance(value, list) or not value or (op == "between" and len(value) != 2):
                want = "a list of two values [from, to]" if op == "between" else "a non-empty list"
                self.fail(line, f"filter '{path}': {op} takes {want}, got {type_name(value)}")
                return None
        elif isinstance(value, (list, dict)):
            self.fail(line, f"filter '{path}': {op} takes one value, got {type_name(value)}",
                      "in and not_in take a list" if isinstance(value, list) else "")
            return None
        if op in RANGE_OPS and f.type not in RANGEABLE:
            self.fail(line, f"filter '{path}': {op} compares numbers, dates and text, not a {f.type} field",
                      "use eq, ne, in or not_in")
            return None
        typed = [self.value(path, f, v, line) for v in values]
        if any(v is _BAD for v in typed):
            return None
        return Condition(path, op, tuple(typed) if op in LIST_OPS else typed[0])

    def value(self, path: str, f: FieldSpec, value: Any, line: int) -> Any:
        """The value as the chart query will parse it, or _BAD after reporting why it cannot."""
        problem, hint = _value_problem(f, value)
        if problem is None:
            return str(value) if f.type in ("choice", *TEXTUAL) and isinstance(value, (int, float)) else value
        self.fail(line, f"filter '{path}': {problem}", hint)
        return _BAD


def _value_problem(f: FieldSpec, value: Any) -> tuple[str | None, str]:
    """(what is wrong with one filter value for field f, hint), or (None, '') when it is fine."""
    got = type_name(value)
    if value is None:
        return "a value is missing", "for records with no value use {empty: true}"
    if isinstance(value, (list, dict)):
        return f"each value must be a single value, got {got}", ""
    if f.type == "choice":
        known = [c.value for c in f.choices]
        if isinstance(value, bool):
            return (f"{got} is not one of its choices",
                    "yes, no, on and off are booleans in YAML: quote them, or use the choice's value")
        if str(value) not in known:
            return (f"'{value}' is not one of its choices",
                    did_you_mean(str(value), known) or f"choices: {', '.join(known)}")
        return None, ""
    if f.type in TEXTUAL:
        ok = isinstance(value, (str, int, float)) and not isinstance(value, bool)
        return (None, "") if ok else (f"takes text, got {got}", "quote it")
    if f.type == "boolean":
        ok = isinstance(value, bool) or (isinstance(value, str) and value.lower() in ("true", "false", "1", "0"))
        return (None, "") if ok else (f"takes true or false, got {got}", "")
    if f.type in NUMERIC:
        return _number_problem(f, value), ""
    if f.type in DATES:
        if isinstance(value, dt.date) or (isinstance(value, str) and _iso(value, f.type == "date")):
            return None, ""
        want = "a date (2024-01-31)" if f.type == "date" else "a date or a date and time (2024-01-31 09:30)"
        return f"takes {want}, got {got}", f"or, alone, a relative range: {f.name}: this_month"
    if f.type in ("link", "user"):
        ok = isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**31
        shown = "username" if f.type == "user" else "name"
        return (None, "") if ok else (f"takes a record id (a whole number), got {got}",
                                      f"to filter by a name, filter on {f.name}.{shown}")
    return f"a {f.type} field cannot be filtered on", ""


def _number_problem(f: FieldSpec, value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return f"takes a number, got {type_name(value)}"
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return f"takes a number, got {type_name(value)}"
    if not number.is_finite():
        return f"takes a number, got {type_name(value)}"
    if f.type == "integer":
        if number != number.to_integral_value():
            return f"takes a whole number, got {type_name(value)}"
        limit = Decimal(2) ** 63
    else:  # the column's NUMERIC(precision, scale)
        scale = f.scale if f.type == "decimal" else 2
        limit = Decimal(10) ** ((7 if f.type == "percent" else 18) - scale)
    if abs(number) >= limit:
        return f"{value} is too large for a {f.type} field"
    return None


def _iso(text: str, date_only: bool) -> bool:
    try:
        dt.date.fromisoformat(text[:10]) if date_only else dt.datetime.fromisoformat(text)
    except ValueError:
        return False
    return True
