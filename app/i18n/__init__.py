"""User-facing text from gettext catalogs (app/translations/<lang>/LC_MESSAGES/messages.po).

Msgids are the English text. `_t("Search")` is a Text whose `get(lang)` reads the catalog
of `lang`, so code written against metadata labels (`label.get(lang)`) takes catalog text
unchanged; `translate()` is the same lookup for a plain string. A language is a catalog:
adding app/translations/ja/... (and `ja` in crm.yaml's languages) needs no code.
"""

from __future__ import annotations

import gettext
import os
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.support import Translations

from app.metadata.spec import Text

# CRM_TRANSLATIONS_DIR: a copy of app/translations with more languages (read once, at import)
CATALOG_DIR = Path(os.environ.get("CRM_TRANSLATIONS_DIR") or Path(__file__).resolve().parent.parent / "translations")
DOMAIN = "messages"


@cache
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


def translate(msgid: str, lang: str | None = None, context: str | None = None, **params: Any) -> str:
    """The catalog text of `msgid` in `lang` (English when None), `{placeholders}` filled.
    A context (msgctxt) tells apart one English word with two translations ('After')."""
    if not lang or lang == "en":
        text = msgid
    elif context:
        text = catalog(lang).pgettext(context, msgid)
    else:
        text = catalog(lang).gettext(msgid)
    return text.format(**params) if params else text


class Msg(Text):
    """A Text backed by the catalogs: `get(lang)` translates the English msgid."""

    msgid: str
    context: str | None

    def __init__(self, msgid: str, context: str | None = None) -> None:
        object.__setattr__(self, "msgid", msgid)
        object.__setattr__(self, "context", context)

    @property  # type: ignore[override]
    def values(self) -> tuple[tuple[str, str], ...]:
        return tuple((lang, translate(self.msgid, lang, self.context)) for lang in languages())

    def get(self, lang: str | None = None, default: Any = None) -> str:  # noqa: ARG002 - dict.get's shape
        return translate(self.msgid, lang, self.context)

    def __getitem__(self, lang: str) -> str:
        return translate(self.msgid, lang, self.context)

    def __bool__(self) -> bool:
        return bool(self.msgid)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Msg) and (other.msgid, other.context) == (self.msgid, self.context) or (
            isinstance(other, Text) and not isinstance(other, Msg) and other.values == self.values)

    def __hash__(self) -> int:
        return hash((self.msgid, self.context))

    def __repr__(self) -> str:
        return f"_t({self.msgid!r})" if self.context is None else f"_t({self.msgid!r}, {self.context!r})"


def _t(msgid: str, context: str | None = None) -> Msg:
    """Mark `msgid` (in `context`) for the catalogs (pybabel: `-k _t:1,2c`); looked up when read."""
    return Msg(msgid, context)


class Phrase(str):
    """A sentence made in code: its str is the English (logs, API, CLI), `get(lang)` reads the
    catalog. Parameters that are Phrases are translated too ("due …, but {reason}")."""

    msgid: str
    params: dict[str, Any]

    def __new__(cls, msgid: str, **params: Any) -> Phrase:
        obj = super().__new__(cls, msgid.format(**params) if params else msgid)
        obj.msgid, obj.params = msgid, params
        return obj

    def get(self, lang: str | None = None) -> str:
        return translate(self.msgid, lang, **{k: in_lang(v, lang) for k, v in self.params.items()})


def in_lang(text: Any, lang: str | None) -> Any:
    """A Phrase or Msg in `lang`; anything else as it is (data, a plain string)."""
    return text.get(lang) if isinstance(text, Phrase | Msg) else text


LABEL_VALUE = _t("{label}: {value}")  # zh: {label}：{value}, the full-width colon of every zh label


def label_value(label: object, value: object, lang: str | None) -> str:
    """'Total: 12' / '合计：12': a label and its value with the language's own colon."""
    return LABEL_VALUE.get(lang).format(label=label, value=value)
