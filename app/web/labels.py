"""Labels that follow the UI language of the current request.

FAB reads label_columns, titles and menu names once, at start-up; a lazy
string evaluated at render time lets one built app speak en and zh.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from flask import Flask, current_app
from flask.globals import _cv_app, _cv_request
from flask_babel import LazyString, get_locale
from markupsafe import Markup, escape

from app.i18n import _t
from app.i18n import label_value as i18n_label_value
from app.metadata.spec import Text

_READER_LANG: ContextVar[str | None] = ContextVar("crm_reader_lang", default=None)


@contextmanager
def reading_as(lang: str) -> Iterator[None]:
    """Outside a request, answer `current_lang()` with `lang`: a job (an export) recorded its
    requester's language when queued, so its filters, order and labels are that user's."""
    token = _READER_LANG.set(lang)
    try:
        yield
    finally:
        _READER_LANG.reset(token)


def current_lang() -> str:
    """The request's UI language (outside a request: the language `reading_as` set, else "en").
    Asked per cell of a list (money, choices, lazy labels): the locale Flask-Babel already chose
    for this request is read where it keeps it, without its three context lookups; when it has
    none yet, it chooses."""
    app_ctx = _cv_app.get(None)
    if app_ctx is None or _cv_request.get(None) is None:
        return _READER_LANG.get() or "en"
    locale = getattr(getattr(app_ctx.g, "_flask_babel", None), "babel_locale", None) or get_locale()
    return locale.language if locale is not None else "en"


def in_each_language(render: Callable[[str], str]) -> Text:
    """A text made in every language the CRM speaks: a job's title is stored once and read later
    in whichever language the reader uses (made in the starter's only, a zh import read zh in en)."""
    languages = current_app.extensions["crm"].spec.languages or ("en",)
    return Text(tuple((lang, render(lang)) for lang in languages))


def lazy(text: Text) -> LazyString:
    return LazyString(lambda: text.get(current_lang()))


def lazy_format(template: Text, **parts: Text) -> LazyString:
    """A lazy label built from other labels, e.g. 'Add {entity}'."""
    def render() -> str:
        lang = current_lang()
        return template.get(lang).format(**{k: v.get(lang) for k, v in parts.items()})
    return LazyString(render)


def label_value(label: object, value: object = "", lang: str | None = None) -> str:
    """'Total: 12' / '合计：12' in the request's language (app.i18n.label_value; a label alone, for
    a value that follows in markup, with no value)."""
    return i18n_label_value(label, value, lang or current_lang())


def label_markup(label: object, value: object = "", tag: str | None = None) -> Markup:
    """`label_value` for templates (`crm_colon`): both parts escaped, unless already markup. With
    `tag`, the label and its colon in that element and the value after it with the language's own
    gap: `<strong>Record Count:</strong> 56` / `<strong>记录数目：</strong>56` (no space after "：";
    a space written in the template after the element put one there)."""
    if tag is None:
        return Markup(label_value(escape(label), escape(value)))
    head = label_value(escape(label), "")
    gap = head[len(head.rstrip()):]
    return Markup(f"<{tag}>{head.rstrip()}</{tag}>{gap}{escape(value)}")



HTML_LANGS = {"zh": "zh-CN"}  # the Chinese the catalogs are written in: simplified, mainland forms


def html_lang() -> str:
    """The request's language as <html lang> says it (BCP 47)."""
    lang = current_lang() or "en"
    return HTML_LANGS.get(lang, lang.replace("_", "-"))


def install_label_colon(app: Flask) -> None:
    """`crm_colon`, `crm_language` (the request's language; the session holds one only once chosen)
    and `crm_html_lang`."""
    app.add_template_global(label_markup, "crm_colon")
    app.add_template_global(current_lang, "crm_language")
    app.add_template_global(html_lang, "crm_html_lang")


UI = {
    "list": _t("{entity}"),
    "add": _t("Add {entity}"),
    "edit": _t("Edit {entity}"),
    "show": _t("{entity}", "record page"),
    "search": _t("Search"),
    "saved": _t("Saved."),
    "deleted": _t("Deleted."),
    "fix_errors": _t("Please correct the highlighted fields."),
}
