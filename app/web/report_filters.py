"""A report's filters: the operators each kind of field offers, and values read as users type them.

The builder shows operators as words in the user's language and values as labels (a
choice's label, a link's title through a picker, dates from the browser's date input);
what comes back may be a choice's value or its label in the user's language, a linked
record's id, an ISO date. A value that does not parse, or an operator the field does not
offer, is a `FilterError` naming the filter row (a message next to it on the page, 422
on the API), never a filter silently left out.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from app.i18n import _t
from app.metadata.dashboards import is_relative_range
from app.metadata.spec import Condition, FieldSpec
from app.records.parse import FieldValueError, parse_value

NUMERIC = ("integer", "decimal", "money", "percent")
DATES = ("date", "datetime")
OPS_BY_KIND = {
    "choice": ("eq", "ne", "in", "not_in", "empty"),
    "link": ("eq", "ne", "in", "not_in", "empty"),
    "boolean": ("eq", "empty"),
    "date": ("eq", "ne", "gt", "gte", "lt", "lte", "between", "relative", "empty"),
    "number": ("eq", "ne", "gt", "gte", "lt", "lte", "between", "in", "not_in", "empty"),
    "text": ("eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte", "between", "empty"),
}
ALL_OPS = ("eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte", "between", "relative", "empty")


OP_LABELS = {
    "eq": _t("is"), "ne": _t("is not"), "in": _t("is any of"), "not_in": _t("is none of"),
    "gt": _t("greater than / after"), "gte": _t("at least / on or after"), "lt": _t("less than / before"),
    "lte": _t("at most / on or before"), "between": _t("between"), "relative": _t("within"),
    "empty": _t("is empty"),
}
# the same operators worded for dates, where "after" reads better than "greater than"
DATE_OP_LABELS = {"gt": _t("after"), "gte": _t("on or after"), "lt": _t("before"),
                  "lte": _t("on or before"), "eq": _t("on"), "ne": _t("not on")}
NUMBER_OP_LABELS = {"gt": _t("greater than"), "gte": _t("at least"),
                    "lt": _t("less than"), "lte": _t("at most")}
MESSAGES = {
    "field": _t("choose a field"),
    "columns": _t("choose at least one column"),
    "operator": _t("unknown operator '{op}' for this field (operators: {ops})"),
    "cannot_filter": _t("a {type} field cannot be filtered on"),
    "empty": _t("is empty takes yes or no"),
    "relative": _t("unknown relative range '{value}' (this_month, last_quarter, last_30_days...)"),
    "relative_dates": _t("relative ranges are for date fields"),
    "list": _t("{op} takes one or more values"),
    "two": _t("between takes two values: from, to"),
    "one": _t("{op} takes one value"),
    "required": _t("a value is required (use is empty for blanks)"),
    "choice": _t("'{value}' is not one of its choices ({known})"),
    "bad": _t("'{value}': {reason}"),
}


class FilterError(ValueError):
    """A filter row that cannot apply: `index` is its row, the message is in the user's language."""

    def __init__(self, index: int, path: str, message: str, status: int = 422):
        super().__init__(f"filter '{path}': {message}")
        self.index, self.path, self.detail, self.status = index, path, message, status


def kind_of(f: FieldSpec) -> str:
    if f.type == "choice":
        return "choice"
    if f.type in ("link", "user"):
        return "link"
    if f.type == "boolean":
        return "boolean"
    if f.type in DATES:
        return "date"
    if f.type in NUMERIC:
        return "number"
    return "text"


def op_label(op: str, kind: str, lang: str) -> str:
    table = DATE_OP_LABELS if kind == "date" else NUMBER_OP_LABELS if kind == "number" else {}
    return (table.get(op) or OP_LABELS[op]).get(lang)


def typed_condition(index: int, path: str, f: FieldSpec, op: Any, value: Any, lang: str) -> Condition:
    """The checked condition of one filter row; FilterError names what is wrong."""
    def fail(key: str, **kw: Any) -> FilterError:
        return FilterError(index, path, MESSAGES[key].get(lang).format(**kw))

    kind = kind_of(f)
    if op not in OPS_BY_KIND[kind]:
        names = ", ".join(f"{o} ({op_label(o, kind, lang)})" for o in OPS_BY_KIND[kind])
        raise fail("operator", op=op, ops=names)
    if op == "empty":
        if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "", "yes", "no"):
            value = value.lower() in ("true", "1", "", "yes")
        if not isinstance(value, bool):
            raise fail("empty")
        return Condition(path, op, value)
    if op == "relative" or (op == "eq" and kind == "date" and is_relative_range(value)):
        if not is_relative_range(value):
            raise fail("relative", value=value)
        return Condition(path, "relative", value)
    label = op_label(op, kind, lang)
    if op in ("in", "not_in", "between"):
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, list) or not value:
            raise fail("two" if op == "between" else "list", op=label)
        if op == "between" and len(value) != 2:
            raise fail("two")
        return Condition(path, op, tuple(_value(f, v, lang, fail) for v in value))
    if isinstance(value, (list, dict)):
        raise fail("one", op=label)
    return Condition(path, op, _value(f, value, lang, fail))


def _value(f: FieldSpec, value: Any, lang: str, fail: Any) -> Any:
    if f.type == "choice" and f.choices and isinstance(value, str):
        text = value.strip()
        for c in f.choices:  # a choice by its value, or by its label in the user's language
            if text == c.value or text.casefold() == (c.label.get(lang) or "").casefold():
                return c.value
        raise fail("choice", value=text, known=", ".join(c.label.get(lang) or c.value for c in f.choices))
    if f.type == "datetime" and isinstance(value, str) and len(value.strip()) == 10:
        try:  # a day: the whole day in the viewer's time zone (report_query turns it into bounds)
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    try:
        typed = parse_value(f, value, lang)
    except FieldValueError as exc:
        raise fail("bad", value=value, reason=exc) from None
    if typed is None or typed == "":
        raise fail("required")
    return typed
