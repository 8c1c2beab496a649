"""Money, numbers and moments as the user's language writes them (Babel's CLDR data).

The CRM's currency comes from crm.yaml, the zone from app/clock.py; exports and the API stay
machine-readable (plain decimals, ISO moments with offset) and do not come through here.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_datetime
from babel.numbers import format_currency, format_decimal

REGIONS = {"zh": "zh_CN", "en": "en_US", "ja": "ja_JP"}  # a language's usual region for number formats


def locale_of(lang: str | None) -> Locale:
    try:
        return Locale.parse(REGIONS.get(lang or "en", lang or "en"))
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en_US")


def money(value: Any, currency: str, lang: str | None) -> str:
    """¥120,000.00 in zh, CN¥120,000.00 in en (CLDR names a foreign yuan apart from the yen)."""
    return format_currency(Decimal(value), currency or "CNY", locale=locale_of(lang))


def number(value: Any, lang: str | None) -> str:
    return format_decimal(value, locale=locale_of(lang))


def moment(utc: dt.datetime, zone: ZoneInfo, lang: str | None) -> str:
    """A stored (naive UTC) moment on the CRM's wall clock: 2026-06-11 00:30 (sortable, both languages)."""
    aware = utc if utc.tzinfo else utc.replace(tzinfo=dt.UTC)
    return format_datetime(aware, "yyyy-MM-dd HH:mm", tzinfo=zone, locale=locale_of(lang))
