"""Normalisers: rewrite a typed-in value into its one canonical form before it is checked.

Declared per field (`normalise: [trim, nfkc, phone]`) and applied by the record
commands on every write path (form, API, board move, conversion, import), before
the field rules and before the duplicate checks, so `１３８ 0013-8000`,
`+86 138 0013 8000` and `0086 13800138000` are one number, stored once and
judged as one for `unique`. Every normaliser is idempotent: a stored value
normalises to itself, so re-saving a record never changes it.

Money input in the CRM's currency (`¥1,280`, `￥3,500.00`, `12,345.60`) is read
here too (`money_text`), by the parser, since it must become a number at all.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from app.metadata.spec import EntitySpec, FieldSpec, Normaliser

from .messages import msg


class NormaliseError(ValueError):
    """A value no normaliser can read; the message is for the user."""


def _nfkc(value: str) -> str:
    return unicodedata.normalize("NFKC", value)


def _phone(value: str, n: Normaliser, field: FieldSpec, lang: str | None) -> str:
    text = _nfkc(value).strip()
    try:
        number = phonenumbers.parse(text, field.phone_region)
    except phonenumbers.NumberParseException:
        raise NormaliseError(msg("phone", lang)) from None
    if not phonenumbers.is_valid_number(number):
        raise NormaliseError(msg("phone", lang))
    home = phonenumbers.region_code_for_number(number) == field.phone_region
    if n.arg == "national" and home:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _email(value: str, n: Normaliser, field: FieldSpec, lang: str | None) -> str:
    try:
        return validate_email(_nfkc(value).strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        raise NormaliseError(msg("email", lang)) from None


def _map(value: str, n: Normaliser, field: FieldSpec, lang: str | None) -> str:
    table = dict(n.arg)
    if value in table:
        return str(table[value])
    folded = {k.casefold(): v for k, v in table.items()}
    return str(folded.get(value.casefold(), value))


def _replace(value: str, n: Normaliser, field: FieldSpec, lang: str | None) -> str:
    pattern, replacement = n.arg
    return re.sub(pattern, replacement, value)


STEPS: dict[str, Callable[[str, Normaliser, FieldSpec, str | None], str]] = {
    "trim": lambda v, n, f, lang: v.strip(),
    "nfkc": lambda v, n, f, lang: _nfkc(v),
    "lower": lambda v, n, f, lang: v.lower(),
    "upper": lambda v, n, f, lang: v.upper(),
    "collapse_spaces": lambda v, n, f, lang: re.sub(r"\s+", " ", v).strip(),
    "phone": _phone,
    "email": _email,
    "map": _map,
    "replace": _replace,
}


def normalise_value(field: FieldSpec, value: Any, lang: str | None = None) -> Any:
    """The canonical form of one value (lists: each item); NormaliseError when unreadable."""
    if not field.normalise or value is None:
        return value
    if isinstance(value, list):
        return [normalise_value(field, item, lang) for item in value]
    if not isinstance(value, str):
        return value
    for step in field.normalise:
        value = STEPS[step.name](value, step, field, lang)
        if value == "":
            return None
    return value


def normalise_values(entity: EntitySpec, values: dict[str, Any], lang: str | None = None,
                     skip: Any = ()) -> dict[str, list[str]]:
    """Normalise `values` in place; errors by field name for the values that cannot be read."""
    errors: dict[str, list[str]] = {}
    for name, value in values.items():
        f = entity.field_map.get(name)
        if f is None or name in skip or not f.normalise:
            continue
        try:
            values[name] = normalise_value(f, value, lang)
        except NormaliseError as exc:
            errors[name] = [str(exc)]
    return errors


# -- money typed in the CRM's currency -------------------------------------------------

CURRENCY_SIGNS: dict[str, tuple[str, ...]] = {
    "CNY": ("¥", "RMB", "CNY", "元", "人民币"),
    "USD": ("US$", "$", "USD", "美元"),
    "EUR": ("€", "EUR", "欧元"),
    "GBP": ("£", "GBP", "英镑"),
    "JPY": ("¥", "JPY", "円", "日元"),
    "HKD": ("HK$", "HKD", "港币", "港元"),
    "KRW": ("₩", "KRW", "韩元"),
    "INR": ("₹", "INR"),
}
# Unit words people type after amounts; refused unless the field states what they mean.
UNIT_WORDS = ("万", "亿", "千", "百万", "k", "K", "m", "M", "w", "W", "万元", "千元")
NUMBER = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$")
PARTS = re.compile(r"^(?P<pre>[^\d+\-.]*?)\s*(?P<sign>[+-]?)\s*(?P<pre2>[^\d+\-.]*?)\s*"
                   r"(?P<num>\d[\d,]*(\.\d+)?|\.\d+)\s*(?P<post>.*?)$")


def _strip_own(text: str, own: tuple[str, ...]) -> str:
    text = text.strip()
    upper = text.upper()
    for sign in _longest_first(own):
        if upper.startswith(sign):
            return text[len(sign):].strip()
        if upper.endswith(sign):
            return text[: len(text) - len(sign)].strip()
    return text


@lru_cache(maxsize=64)
def _longest_first(signs: tuple[str, ...]) -> tuple[str, ...]:
    """A currency's signs upper-cased, longest first (US$ before $): sorted once, not a cell."""
    return tuple(sign.upper() for sign in sorted(signs, key=len, reverse=True))


def money_text(field: FieldSpec, raw: str, lang: str | None = None) -> str:
    """A plain decimal string for an amount typed with the CRM's currency sign, thousands
    separators or a unit the field declares; NormaliseError (a clear message) otherwise."""
    text = _nfkc(raw).strip()
    try:
        Decimal(text)
        return text  # a plain number (1280, -5.5, 1e30): the parser judges its size
    except InvalidOperation:
        pass
    match = PARTS.match(text)
    if match is None:
        raise NormaliseError(msg("number", lang))
    own = CURRENCY_SIGNS.get(field.currency, (field.currency,))
    pre = _strip_own(match["pre"] + match["pre2"], own)
    post = _strip_own(match["post"], own)
    number = match["num"]
    if not NUMBER.match(number):
        raise NormaliseError(msg("number", lang))
    units = dict(field.units)
    factor: Any = 1
    if post in units:
        factor, post = units[post], ""
    for extra in (pre, post):
        if not extra:
            continue
        foreign = next((c for c, signs in CURRENCY_SIGNS.items() if c != field.currency
                        and any(extra.upper() == s.upper() for s in signs)), None)
        if foreign is not None:
            raise NormaliseError(msg("money_currency", lang, sign=extra, currency=field.currency))
        if extra in UNIT_WORDS or extra.rstrip("元") in UNIT_WORDS:
            raise NormaliseError(msg("money_unit", lang, unit=extra))
        raise NormaliseError(msg("number", lang))
    try:
        value = Decimal(number.replace(",", "")) * Decimal(str(factor))
    except InvalidOperation:
        raise NormaliseError(msg("number", lang)) from None
    return ("-" if match["sign"] == "-" else "") + format(value.normalize(), "f")
