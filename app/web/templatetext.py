"""The templates' `_()` answered from a table per language, not Flask-Babel's lookups per call.

Flask-Babel's gettext for Jinja finds the request's translations on every call (the request
context, the domain, the locale, then its own cache of catalogs by locale): a list page calls
it about fifteen times, some 0.3 ms of CPU. The catalogs are loaded once per process and never
change while it runs, so the translated text of a string is kept per app, locale and string and
the lookups run once per pair. Jinja's own newstyle wrapper (autoescape, `%` formatting of the
variables) is kept: only the function it calls is this one. Plural and context forms stay
Flask-Babel's. Outside a request (no locale chosen) the call goes to Flask-Babel as before.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, g
from flask_babel import get_translations

MAX_TEXTS = 8192  # locales x strings; a template passing computed text could grow it: then cleared


def kept_gettext(kept: dict[tuple[Any, ...], str]) -> Any:
    def gettext(text: str) -> str:
        babel = getattr(g, "_flask_babel", None) if g else None  # where Flask-Babel keeps its choices
        locale = getattr(babel, "babel_locale", None)
        if locale is None:
            return str(get_translations().ugettext(text))
        key = (str(locale), id(getattr(babel, "babel_domain", None)), text)  # a domain set for the request
        try:
            return kept[key]
        except KeyError:
            if len(kept) >= MAX_TEXTS:
                kept.clear()
            value = kept[key] = get_translations().ugettext(text)
            return value
    return gettext


def install_kept_gettext(app: Flask) -> None:
    """After Flask-Babel (AppBuilder's init): the same callables, gettext kept per locale."""
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=kept_gettext(app.extensions.setdefault("crm_gettext", {})),
        ngettext=lambda s, p, n: get_translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: get_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: get_translations().unpgettext(c, s, p, n))
