"""How values look on lists and record pages (FAB formatters_columns)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from markupsafe import Markup, escape

from app.metadata.spec import CrmSpec, EntitySpec, FieldSpec

from .labels import current_lang
from .linktitles import may_read, restricted_markup

CURRENCY_SIGNS = {"CNY": "¥", "USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "HKD": "HK$"}


def view_url(entity: str, pk: Any) -> str:
    return f"/crm/{entity}/show/{pk}"


def _link(entity: str, item: Any) -> Markup:
    if not may_read(item):  # the id stays, the title and the way to it do not
        return restricted_markup(item)
    return Markup('<a href="{}">{}</a>').format(view_url(entity, item.id), str(item))


def formatter_for(f: FieldSpec, spec: CrmSpec) -> Callable[[Any], Any] | None:
    t = f.type
    if t == "choice":
        def choice(value: Any) -> Any:
            if value is None:
                return ""
            color = next((c.color for c in f.choices if c.value == value), None)
            style = f' style="background:{escape(color)}"' if color else ""
            return Markup('<span class="label label-default crm-choice"{}>{}</span>').format(
                Markup(style), f.choice_label(value, current_lang()))
        return choice
    if t == "multichoice":
        return lambda values: Markup(" ").join(
            Markup('<span class="label label-info">{}</span>').format(f.choice_label(v, current_lang()))
            for v in (values or []))
    if t == "money":
        sign = CURRENCY_SIGNS.get(spec.currency, spec.currency + " ")
        return lambda v: "" if v is None else f"{sign}{Decimal(v):,.2f}"
    if t == "percent":
        return lambda v: "" if v is None else f"{Decimal(v):.2f}".rstrip("0").rstrip(".") + "%"
    if t == "boolean":
        return lambda v: "" if v is None else ("✓" if v else "✗")
    if t == "datetime":
        return lambda v: "" if v is None else v.strftime("%Y-%m-%d %H:%M")
    if t == "link":
        return lambda item: "" if item is None else _link(f.to or "", item)
    if t == "links":
        return lambda items: Markup(", ").join(_link(f.to or "", i) for i in (items or []))
    if t == "url":
        return lambda v: "" if not v else Markup('<a href="{0}" rel="noopener" target="_blank">{0}</a>').format(v)
    if t == "email":
        return lambda v: "" if not v else Markup('<a href="mailto:{0}">{0}</a>').format(v)
    if t == "text":
        return lambda v: "" if not v else Markup("<br>").join(str(v).splitlines())
    return None


def formatters(entity: EntitySpec, spec: CrmSpec) -> dict[str, Callable[[Any], Any]]:
    result = {}
    for f in entity.fields:
        fmt = formatter_for(f, spec)
        if fmt is not None:
            result[f.name] = fmt
    return result


def json_value(f: FieldSpec, value: Any) -> Any:
    """A field value as the API returns it."""
    if value is None:
        return [] if f.type in ("links", "multichoice") else None
    if f.type in ("decimal", "money", "percent"):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value
