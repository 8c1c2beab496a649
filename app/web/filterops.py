"""Filter operators per field type: only operators that mean something for the field.

FAB offers every column of a type the same list (a choice column is a string, so it got
"Starts with", and a tags column compared the characters of its JSON text). Here a choice
offers is / is not / any of / none of, a tags field has / has not (an element of the list),
a date or datetime on / not on / after / before / between / within a relative range (taken
in the CRM time zone, the charts' ranges). Other types keep FAB's operators. Screen and API
share these lists, so the same `opr` works in both and an operator not listed is refused.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.models.sqla.filters import get_field_setup_query

from app.charts.dates import UnknownRange, resolve_range
from app.clock import crm_today, day_bounds_utc, to_utc
from app.i18n import _t, translate
from app.metadata.spec import FieldSpec, Text

from .labels import lazy

RELATIVE = ("today", "yesterday", "this_week", "last_week", "this_month", "last_month", "this_quarter",
            "last_quarter", "this_year", "last_year", "last_7_days", "last_30_days", "last_90_days",
            "next_30_days")



RANGE_LABELS = {
    "today": _t("Today"), "yesterday": _t("Yesterday"), "this_week": _t("This week"),
    "last_week": _t("Last week"), "this_month": _t("This month"),
    "last_month": _t("Last month"), "this_quarter": _t("This quarter"),
    "last_quarter": _t("Last quarter"), "this_year": _t("This year"),
    "last_year": _t("Last year"), "last_7_days": _t("Last 7 days"),
    "last_30_days": _t("Last 30 days"), "last_90_days": _t("Last 90 days"),
    "next_30_days": _t("Next 30 days"),
}


class FilterValueError(ValueError):
    """A filter value this operator cannot use (said to the user, a 400 on the API).
    str() is the English (the API's, with internal values); `text(lang)` the catalog's
    translation for a screen, with `shown` parameters (labels) where they differ."""

    def __init__(self, msgid: str, shown: dict[str, Any] | None = None, **params: Any):
        super().__init__(msgid.format(**params))
        self.msgid, self.params, self.shown = msgid, params, {**params, **(shown or {})}

    def text(self, lang: str) -> str:
        return translate(self.msgid, lang, **self.shown)


@dataclass(frozen=True)
class Span:
    """What a date filter value covers: [lo, hi) in column terms; `exact` for one instant."""

    lo: Any
    hi: Any
    exact: bool = False
    raw: Any = None  # the value as given, for a job that parses the filter again (export jobs)


# -- choice ----------------------------------------------------------------------------------
def _op(name: Text, arg: str, clause: Any) -> type[BaseFilter]:
    def apply(self: BaseFilter, query: Any, value: Any) -> Any:
        query, column = get_field_setup_query(query, self.model, self.column_name)
        return query.filter(clause(column, value))

    return type(f"Crm_{arg}", (BaseFilter,), {"name": lazy(name), "arg_name": arg, "apply": apply})


def _or_empty(clause: Any, column: Any) -> Any:
    """A negative filter keeps the records with no value ("stage is not Won" includes blanks)."""
    return sa.or_(clause, column.is_(None))


CHOICE_OPS = [
    _op(_t("Is"), "eq", lambda c, v: c == v),
    _op(_t("Is not"), "neq", lambda c, v: _or_empty(c != v, c)),
    _op(_t("Is any of"), "in", lambda c, v: c.in_(v)),
    _op(_t("Is none of"), "not_in", lambda c, v: _or_empty(c.notin_(v), c)),
]


# -- multichoice (a JSON list as text: an element is matched with its quotes) -------------------
def _has_any(column: Any, values: tuple[str, ...]) -> Any:
    text = sa.type_coerce(column, sa.Text)  # not through the list type's bind (it would listify the pattern)
    return sa.or_(*[text.contains(json.dumps(v, ensure_ascii=False), autoescape=True) for v in values])


MULTICHOICE_OPS = [
    _op(_t("Has any of"), "ct", _has_any),
    _op(_t("Has none of"), "nct", lambda c, v: _or_empty(sa.not_(_has_any(c, v)), c)),
]


# -- date and datetime -----------------------------------------------------------------------
DATE_OPS = [
    _op(_t("On"), "eq", lambda c, s: c == s.lo if s.exact else sa.and_(c >= s.lo, c < s.hi)),
    _op(_t("Not on"), "neq", lambda c, s: c != s.lo if s.exact else sa.or_(c < s.lo, c >= s.hi)),
    _op(_t("After", "date"), "gt", lambda c, s: c > s.lo if s.exact else c >= s.hi),
    _op(_t("Before"), "lt", lambda c, s: c < s.lo),
    _op(_t("Between"), "between", lambda c, s: sa.and_(c >= s.lo, c < s.hi)),
    _op(_t("Within"), "range", lambda c, s: sa.and_(c >= s.lo, c < s.hi)),
]

OPS_BY_TYPE: dict[str, list[type[BaseFilter]]] = {
    "choice": CHOICE_OPS, "multichoice": MULTICHOICE_OPS, "date": DATE_OPS, "datetime": DATE_OPS,
}


def field_filters(f: FieldSpec | None) -> list[type[BaseFilter]] | None:
    """The operators a field offers, in menu order; None: FAB's for the column type."""
    return OPS_BY_TYPE.get(f.type) if f is not None else None


def parse_value(f: FieldSpec, opr: str, value: Any, lang: str) -> Any:
    """The value an operator of ours compares with; raises FilterValueError."""
    if f.type in ("choice", "multichoice"):
        values = [_choice(f, v, lang) for v in _items(value)]
        if not values:
            raise FilterValueError("choose at least one value")
        if opr in ("eq", "neq"):
            return values[0]
        # FAB applies each item of a list separately (AND) unless the operator is in/not_in
        return values if opr in ("in", "not_in") else tuple(values)
    return dataclasses.replace(_span(f, opr, value), raw=value)


def plain_value(value: Any) -> Any:
    """A parsed filter value back as given (JSON-able), for a job to parse again."""
    if isinstance(value, Span):
        return value.raw
    return list(value) if isinstance(value, tuple) else value


def _items(value: Any) -> list[Any]:
    if isinstance(value, list):
        return [v for v in value if v not in ("", None)]
    if isinstance(value, str) and "," in value:
        return [v.strip() for v in value.split(",") if v.strip()]
    return [] if value in ("", None) else [value]


def _choice(f: FieldSpec, value: Any, lang: str) -> str:
    """A choice's value, also found by its label in the user's language."""
    text = str(value).strip()
    if not f.choices:  # a computed field showing a choice elsewhere: its values are not listed here
        return text
    for c in f.choices:
        if text == c.value or text.casefold() == (c.label.get(lang) or "").casefold():
            return c.value
    raise FilterValueError("'{text}' is not one of the choices ({choices})", text=text,
                           choices=", ".join(c.value for c in f.choices),
                           shown={"choices": translate(", ", lang, "list").join(c.label.get(lang) or c.value
                                                                        for c in f.choices)})


def _span(f: FieldSpec, opr: str, value: Any) -> Span:
    is_datetime = f.type == "datetime"
    if opr == "range":
        name = value[0] if isinstance(value, list) and len(value) == 1 else value
        try:
            start, end = resolve_range(str(name), crm_today())
        except UnknownRange:
            raise FilterValueError("'{name}' is not a relative range ({ranges}, last_N_days)", name=name,
                                   ranges=", ".join(RELATIVE)) from None
        return _days(start, end, is_datetime)
    if opr == "between":
        ends = value if isinstance(value, list) else str(value).split("..")
        if len(ends) != 2:
            raise FilterValueError("between takes two dates, e.g. 2026-01-01..2026-01-31")
        first, last = (_moment(str(v), is_datetime) for v in ends)
        return Span(first.lo, last.hi)
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    return _moment(str(value), is_datetime)


def _moment(text: str, is_datetime: bool) -> Span:
    """A day (2026-01-31) or, on a datetime, an instant (2026-01-31T09:30, CRM time unless an offset)."""
    text = text.strip()
    try:
        if len(text) == 10:
            day = dt.date.fromisoformat(text)
            return _days(day, day + dt.timedelta(days=1), is_datetime)
        if is_datetime:
            moment = to_utc(dt.datetime.fromisoformat(text.replace(" ", "T")))
            return Span(moment, moment, exact=True)
    except ValueError:
        pass
    if is_datetime:
        raise FilterValueError("'{text}' is not a date (2026-01-31) or a date and time", text=text)
    raise FilterValueError("'{text}' is not a date (2026-01-31)", text=text)


def _days(start: dt.date, end: dt.date, is_datetime: bool) -> Span:
    if is_datetime:
        return Span(*day_bounds_utc(start, end))
    return Span(start, end)


def filter_config(entity: Any, filters: Any, lang: str) -> dict[str, Any]:
    """What crm-filters.js needs: each column's operators (by position, as FAB's URLs number
    them), which columns are dates and choices, and the relative ranges in the user's language."""
    ops = {col: [f.arg_name for f in flts] for col, flts in filters.get_search_filters().items()}
    kinds = {col: entity.field_map[col].type for col in ops if col in entity.field_map}
    return {"ops": ops, "kinds": kinds,
            "ranges": [[name, RANGE_LABELS[name].get(lang)] for name in RELATIVE]}
