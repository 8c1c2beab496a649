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


def moment(utc: dt.datetime, zone: ZoneInfo, lang: str | None) -> str:
    """A stored (naive UTC) moment on the CRM's wall clock: 2026-06-11 00:30 (sortable, both languages)."""
    aware = utc if utc.tzinfo else utc.replace(tzinfo=dt.UTC)
    return format_datetime(aware, "yyyy-MM-dd HH:mm", tzinfo=zone, locale=locale_of(lang))
