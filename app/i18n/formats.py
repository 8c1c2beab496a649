"""Money, numbers and moments as the user's language writes them (Babel's CLDR data).

The CRM's currency comes from crm.yaml, the zone from app/clock.py; exports and the API stay
machine-readable (plain decimals, ISO moments with offset) and do not come through here.

Money is on every list row: Babel's `format_currency` parses its pattern machinery per call
(20 µs, a tenth of a list page's rows). A plain CLDR currency pattern (groups of three, the
currency's digits, sign and symbol around the number: every language we ship) is read once
per currency and language (`_money_shape`) and applied with Python's own grouping, the same
text as Babel's (tests/test_formats.py compares them); any other pattern goes to Babel.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import lru_cache
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_datetime
from babel.numbers import (
    format_compact_currency,
    format_compact_decimal,
    format_currency,
    format_decimal,
    get_currency_precision,
    get_currency_symbol,
    get_decimal_symbol,
    get_group_symbol,
)

REGIONS = {"zh": "zh_CN", "en": "en_US", "ja": "ja_JP"}  # a language's usual region for number formats


@lru_cache(maxsize=64)
def locale_of(lang: str | None) -> Locale:
    try:
        return Locale.parse(REGIONS.get(lang or "en", lang or "en"))
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en_US")


class MoneyShape(NamedTuple):
    """A plain currency pattern, resolved: what goes around the number, the separators, digits."""

    prefix: str
    suffix: str
    negative_prefix: str
    negative_suffix: str
    separators: dict[int, str]  # str.translate: Python's "," and "." to the language's
    quantum: Decimal


@lru_cache(maxsize=128)
def _money_shape(currency: str, lang: str | None) -> MoneyShape | None:
    """The language's currency pattern, or None when it is not plain (Babel formats those)."""
    locale = locale_of(lang)
    pattern = locale.currency_formats["standard"]
    if (pattern.grouping != (3, 3) or pattern.exp_prec or pattern.scale or "@" in pattern.pattern
            or pattern.int_prec[0] != 1 or not pattern.number_pattern):
        return None
    affixes = (pattern.prefix[0], pattern.suffix[0], pattern.prefix[1], pattern.suffix[1])
    if any("¤¤¤" in a or "'" in a for a in affixes):  # a plural currency name, quoted text
        return None
    symbol, group, point = get_currency_symbol(currency, locale), get_group_symbol(locale), get_decimal_symbol(locale)
    if "'" in symbol + group + point:  # Babel drops quoted text from the result (de_CH's 1'234): its own way
        return None
    resolved = [a.replace("¤¤", currency.upper()).replace("¤", symbol) for a in affixes]
    separators = {ord(","): group, ord("."): point}
    return MoneyShape(*resolved, separators=separators,
                      quantum=Decimal(1).scaleb(-get_currency_precision(currency)))


def money(value: Any, currency: str, lang: str | None) -> str:
    """¥120,000.00 in zh, CN¥120,000.00 in en (CLDR names a foreign yuan apart from the yen)."""
    amount, currency = Decimal(value), currency or "CNY"
    shape = _money_shape(currency, lang)
    if shape is None or not amount.is_finite():
        return format_currency(amount, currency, locale=locale_of(lang))
    number = f"{abs(amount).quantize(shape.quantum):,f}".translate(shape.separators)
    if amount.is_signed():
        return shape.negative_prefix + number + shape.negative_suffix
    return shape.prefix + number + shape.suffix


def number(value: Any, lang: str | None) -> str:
    return format_decimal(value, locale=locale_of(lang))


@lru_cache(maxsize=64)
def first_unit(lang: str | None) -> int | None:
    """The smallest number the language writes in a unit (CLDR's short compact forms): 10,000
    (万) in zh, 1,000 (K) in en; None for a language that writes every number in full."""
    forms = locale_of(lang).compact_decimal_formats.get("short", {}).get("other", {})
    units = [int(m) for m, pattern in forms.items() if pattern.pattern.strip("0")]
    return min(units, default=None)


SHORTEN_FROM = 10_000  # four digits read at a glance (8,500; 1,234) in every language


def _in_units(value: Decimal, lang: str | None) -> bool:
    """From five digits on, in the language's units: en keeps 8,500 rather than 8.5K, as zh keeps
    8,500 below 万 (CLDR's first unit is 1,000 in en, 10,000 in zh)."""
    unit = first_unit(lang)
    return unit is not None and abs(value) >= max(unit, SHORTEN_FROM)


def compact_number(value: Any, lang: str | None) -> str:
    """350万, 1.2亿, 8,500 in zh; 3.5M, 12.5K, 8,500 in en: at most two decimals, none trailing. Below the
    language's first unit CLDR writes the number bare ("8500"): it keeps its groups here."""
    amount = round(Decimal(str(value)), 2) + 0  # + 0: no "-0"
    if _in_units(amount, lang):
        return format_compact_decimal(amount, locale=locale_of(lang), fraction_digits=2)
    return format_decimal(amount, format="#,##0.##", locale=locale_of(lang))


def compact_money(value: Any, currency: str, lang: str | None) -> str:
    """¥350万 in zh, CN¥3.5M in en (a dashboard's KPI card); below the language's first unit the
    exact amount, as short (¥8,500.00)."""
    amount = Decimal(str(value))
    if amount.is_finite() and _in_units(round(amount, 2), lang):
        return format_compact_currency(amount, currency or "CNY", locale=locale_of(lang), fraction_digits=2)
    return money(amount, currency, lang)


def moment(utc: dt.datetime, zone: ZoneInfo, lang: str | None) -> str:
    """A stored (naive UTC) moment on the CRM's wall clock: 2026-06-11 00:30 (sortable, both languages)."""
    aware = utc if utc.tzinfo else utc.replace(tzinfo=dt.UTC)
    return format_datetime(aware, "yyyy-MM-dd HH:mm", tzinfo=zone, locale=locale_of(lang))
