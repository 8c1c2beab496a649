"""How text sorts for a reader of each language: Chinese in pinyin order.

`CRM_TEXT_COLLATION` maps a UI language to a database collation (default `zh=zh-x-icu`). A
user reading in that language gets text columns and link titles sorted `COLLATE "zh-x-icu"`
(PostgreSQL's ICU collation: Han characters by pinyin, digits and Latin before them, Latin
ignoring case first), so 阿里巴巴 < 百度 < 腾讯 < 字节跳动; other languages keep the
database's own order. The collation is checked at start-up (`check_collations`).

SQLite has no ICU. The `zh` collation is registered on each connection under the same name
as a Python comparison of the GB18030 encoding (`chinese_key`, standard library only): GB2312's
3,755 common characters (level 1) are encoded in pinyin order, so names made of them sort as
ICU sorts them; rarer characters (level 2, by radical, and the GBK/GB18030 extensions) follow
that encoding's order, not pinyin. Python's own sorts of labels (chart and report groups) use
the same key (`text_key`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import sqlalchemy as sa

SETTING = "CRM_TEXT_COLLATION"
DEFAULT = "zh=zh-x-icu"
CHINESE = "zh"  # the language whose collation SQLite and Python get as `chinese_key`
SORT_INDEX = "__sort_"  # in the name of an index on (column COLLATE ...): app/schema/sort_indexes.py
_PAIR = re.compile(r"^([a-z]{2,3}(?:[_-][A-Za-z0-9]+)*)=([A-Za-z0-9][A-Za-z0-9_.@-]*)$")


class CollationSettingError(ValueError):
    """`CRM_TEXT_COLLATION` is malformed or names a collation the database lacks."""


@lru_cache(maxsize=8)
def parse_collations(value: str) -> dict[str, str]:
    """`"zh=zh-x-icu, ja=ja-x-icu"` as {language: collation}; empty: no language sorts collated."""
    result = {}
    for part in (p.strip() for p in str(value or "").split(",")):
        if not part:
            continue
        match = _PAIR.match(part)
        if match is None:
            raise CollationSettingError(f"{SETTING}: {part!r} is not language=collation (e.g. {DEFAULT})")
        result[match.group(1)] = match.group(2)
    return result


def collation_for(config: Any, lang: str) -> str | None:
    """The collation text sorts in for a reader of `lang`, or None (the database's order)."""
    return parse_collations(config.get(SETTING, DEFAULT)).get(lang)


def indexed_collations(languages: tuple[str, ...] | list[str]) -> dict[str, str]:
    """The collations the schema indexes indexed text fields in (PostgreSQL): the default
    setting's, for the languages the CRM speaks. From the metadata alone, so every process
    plans the same schema; a deployment that sets another zh collation sorts without the index."""
    return {lang: name for lang, name in parse_collations(DEFAULT).items() if lang in languages}


def sort_index_name(table: str, column: str, lang: str) -> str:
    """`ix_<table>_<column>__sort_<lang>`, within PostgreSQL's 63 characters."""
    name = f"ix_{table}_{column}{SORT_INDEX}{lang}"
    if len(name) <= 63:
        return name
    digest = hashlib.sha1(name.encode()).hexdigest()[:8]
    keep = 63 - len(f"ix_{digest}_{SORT_INDEX}{lang}")
    return f"ix_{digest}_{name[3:3 + keep]}{SORT_INDEX}{lang}"


def collated(expr: Any, collation: str | None) -> Any:
    """`expr COLLATE "<collation>"`, or `expr` itself when there is none."""
    return expr if collation is None else expr.collate(collation)


@lru_cache(maxsize=8192)  # SQLite calls the collation per comparison: n log n keys for n names
def chinese_key(text: str) -> tuple[bytes, bytes]:
    """A sort key in pinyin order for common characters (GB18030 bytes; see the module's note),
    ignoring case first; every string encodes (GB18030 covers Unicode)."""
    return (text.casefold().encode("gb18030", "backslashreplace"), text.encode("gb18030", "backslashreplace"))


def text_key(config: Any, lang: str) -> Callable[[str], Any]:
    """What Python sorts a reader's labels by: `chinese_key` for zh when zh sorts collated, else
    the text ignoring case (the order labels had before)."""
    return chinese_key if lang == CHINESE and collation_for(config, lang) else str.casefold


def _compare(a: str, b: str) -> int:
    ka, kb = chinese_key(a), chinese_key(b)
    return (ka > kb) - (ka < kb)


def install_collations(config: Any, engine: sa.Engine) -> None:
    """Make the configured collations usable on `engine`: on SQLite the zh one is registered on
    every connection; on PostgreSQL each must exist (checked once: a missing one stops start-up
    with its name rather than failing every sorted list)."""
    collations = parse_collations(config.get(SETTING, DEFAULT))
    if engine.dialect.name == "sqlite":
        name = collations.get(CHINESE)
        if name is not None:
            sa.event.listen(engine, "connect", lambda dbapi, _record: dbapi.create_collation(name, _compare))
        return
    if engine.dialect.name == "postgresql" and collations:
        with engine.connect() as conn:
            found = set(conn.execute(sa.text("SELECT collname FROM pg_collation WHERE collname = ANY(:names)"),
                                     {"names": sorted(set(collations.values()))}).scalars())
        missing = sorted(set(collations.values()) - found)
        if missing:
            raise CollationSettingError(f"{SETTING}: PostgreSQL has no collation {', '.join(missing)} "
                                        "(SELECT collname FROM pg_collation lists them; ICU ones end in -x-icu)")
