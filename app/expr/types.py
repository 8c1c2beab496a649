"""Value types of the language and how metadata field types map onto them.

Five types: number (integer, decimal, money, percent: all Decimal-exact), text,
bool, date, datetime; `null` is the type of the literal null and fits anywhere.
"""

from __future__ import annotations

NUMBER, TEXT, BOOL, DATE, DATETIME, NULL = "number", "text", "bool", "date", "datetime", "null"
TYPES = (NUMBER, TEXT, BOOL, DATE, DATETIME)

# Metadata field type → expression type. Links/owner are ids (numbers).
FIELD_TYPE_MAP: dict[str, str] = {
    "string": TEXT, "text": TEXT, "email": TEXT, "phone": TEXT, "url": TEXT, "choice": TEXT,
    "autonumber": TEXT, "multichoice": TEXT,
    "integer": NUMBER, "decimal": NUMBER, "money": NUMBER, "percent": NUMBER,
    "boolean": BOOL, "date": DATE, "datetime": DATETIME, "link": NUMBER, "user": NUMBER,
}


def fits(actual: str, wanted: str) -> bool:
    """Can a value of `actual` stand where `wanted` is expected?"""
    return actual == NULL or wanted == NULL or actual == wanted


def comparable(left: str, right: str) -> bool:
    if NULL in (left, right) or left == right:
        return True
    return {left, right} == {DATE, DATETIME}
