"""The templates' `_()` kept per locale (app/web/templatetext.py) answers what Flask-Babel answers."""

from __future__ import annotations

from typing import Any

from flask_babel import force_locale, get_translations

TEXTS = ["Page size", "Record Count", "Search", "No records found", "Add a new record", "Actions",
         "Delete record", "not a catalog text 宁德时代", "50% of <b>it</b>"]


def test_kept_gettext_is_flask_babels_in_each_language(app: Any) -> None:
    env = app.jinja_env
    template = env.from_string("{{ _(text) }}|{{ gettext(text) }}")
    for lang in ("en", "zh", "en"):  # back to en: a kept zh text is not served to an en reader
        with app.test_request_context("/"), force_locale(lang):
            for text in TEXTS:
                expected = str(get_translations().ugettext(text))
                assert env.globals["gettext"].__module__ == "jinja2.ext"  # Jinja's wrapper is kept
                if "%" in text:
                    continue  # newstyle gettext formats with `%`: the same call either way
                assert template.render(text=text) == f"{_escaped(expected)}|{_escaped(expected)}", (lang, text)
    assert app.extensions["crm_gettext"]  # the kept table was used


def test_the_kept_table_is_per_locale(app: Any) -> None:
    with app.test_request_context("/"):
        with force_locale("zh"):
            zh = app.jinja_env.from_string("{{ _('Search') }}").render()
        with force_locale("en"):
            en = app.jinja_env.from_string("{{ _('Search') }}").render()
    assert en == "Search" and zh != en


def _escaped(text: str) -> str:
    return text  # newstyle gettext marks the catalog's text safe: it is not escaped
