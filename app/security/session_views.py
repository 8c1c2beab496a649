"""Logout and language switch by POST (with the CSRF token), not by GET links.

FAB serves both as GET links, so any page elsewhere (an <img src>) could log a
user out or switch their language. Here both answer POST only; the navbar
(templates/appbuilder/navbar_right.html) posts small forms instead of links.
The language is read without writing the default into the session (`chosen_locale`).
"""

from __future__ import annotations

from typing import Any

from flask import Flask, abort, current_app, redirect, request, session
from flask_appbuilder.baseviews import BaseView, expose
from flask_appbuilder.security.views import AuthDBView
from flask_appbuilder.utils.base import get_safe_redirect
from flask_babel import get_babel, refresh
from flask_login import logout_user
from werkzeug.wrappers import Response

FAB_LOCALE_ENDPOINT = "LocaleView.index"


class CrmAuthDBView(AuthDBView):
    """FAB's database login, with logout by POST only."""

    @expose("/logout/", methods=["POST"])
    def logout(self) -> Response:
        user = self._get_authenticated_user()
        logout_user()
        if user is not None:
            self.appbuilder.sm.on_user_logout(user)
        return redirect(self.appbuilder.get_url_for_index)


class CrmLocaleView(BaseView):
    """POST /lang/<locale>: store the language in the session, back to the page it came from."""

    route_base = "/lang"
    default_view = "index"

    @expose("/<string:locale>", methods=["POST"])
    def index(self, locale: str) -> Response:
        if locale not in self.appbuilder.bm.languages:
            abort(404, description="Locale not supported.")
        session["locale"] = locale
        refresh()
        return redirect(get_safe_redirect(request.form.get("next", "")))


def chosen_locale() -> str | None:
    """The request's language: FAB's `_l_` argument (API), else the one chosen with /lang, else
    None (Flask-Babel's default, BABEL_DEFAULT_LOCALE). FAB's selector wrote the default into the
    session, so the first request that asked (an API list after the login) re-sent the cookie; a
    session without a choice also follows a later change of the default."""
    languages = current_app.config["LANGUAGES"]
    asked = request.args.get("_l_")
    if asked is not None:
        return asked if asked in languages else current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = session.get("locale")
    return chosen or None


def replace_locale_view(app: Flask, appbuilder: Any) -> None:
    """Serve CrmLocaleView in place of FAB's GET LocaleView (same URL, POST only), and choose
    the language with `chosen_locale`."""
    appbuilder.bm.locale_view = appbuilder.add_view_no_menu(CrmLocaleView())
    get_babel(app).locale_selector = chosen_locale

    def refuse_get(**_kwargs: Any) -> Response:
        return Response("Switch the language with POST (the menu does).", status=405,
                        headers={"Allow": "POST"})

    app.view_functions[FAB_LOCALE_ENDPOINT] = refuse_get
