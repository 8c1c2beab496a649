"""User-facing text from gettext catalogs (app/translations/<lang>/LC_MESSAGES/messages.po).

Msgids are the English text. `_t("Search")` is a Text whose `get(lang)` reads the catalog
of `lang`, so code written against metadata labels (`label.get(lang)`) takes catalog text
unchanged; `translate()` is the same lookup for a plain string. A language is a catalog:
adding app/translations/ja/... (and `ja` in crm.yaml's languages) needs no code.
"""

from __future__ import annotations

import gettext
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.support import Translations

from app.metadata.spec import Text

CATALOG_DIR = Path(__file__).resolve().parent.parent / "translations"
DOMAIN = "messages"


@lru_cache(maxsize=None)
def catalog(lang: str) -> gettext.NullTranslations:
    """The compiled catalog of one language (an empty one for English or an unknown code)."""
    return Translations.load(str(CATALOG_DIR), [lang], DOMAIN)


@lru_cache(maxsize=1)
def languages() -> tuple[str, ...]:
    """English (the msgids) and every language that has a catalog folder, English first."""
    found = sorted(p.parent.parent.name for p in CATALOG_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))
    return ("en", *(lang for lang in found if lang != "en"))


def language_name(lang: str) -> str:
    """A language's own name for the language menu ('中文', 'English', '日本語')."""
    try:
        return (Locale.parse(lang).get_display_name(lang) or lang).capitalize()
    except (UnknownLocaleError, ValueError):
        return lang


def translate(msgid: str, lang: str | None = None, **params: Any) -> str:
    """The catalog text of `msgid` in `lang` (English when None), `{placeholders}` filled."""
    text = catalog(lang).gettext(msgid) if lang and lang != "en" else msgid
    return text.format(**params) if params else text


class Msg(Text):
    """A Text backed by the catalogs: `get(lang)` translates the English msgid."""

    def __init__(self, msgid: str) -> None:  # noqa: D107 - a Text without stored values
        object.__setattr__(self, "msgid", msgid)

    @property  # type: ignore[override]
    def values(self) -> tuple[tuple[str, str], ...]:
        return tuple((lang, translate(self.msgid, lang)) for lang in languages())

    def get(self, lang: str | None = None, default: Any = None) -> str:  # noqa: ARG002 - dict.get's shape
        return translate(self.msgid, lang)

    def __getitem__(self, lang: str) -> str:
        return translate(self.msgid, lang)

    def __bool__(self) -> bool:
        return bool(self.msgid)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Msg) and other.msgid == self.msgid or (
            isinstance(other, Text) and not isinstance(other, Msg) and other.values == self.values)

    def __hash__(self) -> int:
        return hash(self.msgid)

    def __repr__(self) -> str:
        return f"_t({self.msgid!r})"


def _t(msgid: str) -> Msg:
    """Mark `msgid` for the catalogs (pybabel extracts `_t`) and look it up when read."""
    return Msg(msgid)
