"""Error answers people can read: a page in the CRM's layout and language, JSON on the API.

Werkzeug's default error pages are bare English HTML without navigation, and an API
client asking for JSON got that HTML too (a 429 from the login limit, a 404 from a
route). FAB's own API errors are already JSON and never reach these handlers.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, current_app, g, render_template, request
from flask_login import current_user
from markupsafe import escape
from werkzeug.exceptions import HTTPException

from app.i18n import _t
from app.metadata.spec import Text

from .labels import current_lang

PAGES: dict[int, tuple[Text, Text]] = {
    400: (_t("Bad request"),
          _t("The request could not be understood.")),
    403: (_t("Not allowed"),
          _t("Your role may not open this page or do this. Ask an administrator if you need it.")),
    404: (_t("Not found"),
          _t("There is no such page or record, or you may not see it.")),
    405: (_t("Method not allowed"),
          _t("This address does not accept that kind of request.")),
    413: (_t("Too large"),
          _t("What was sent is larger than this server accepts.")),
    429: (_t("Too many attempts"),
          _t("Too many attempts from your address. Wait a minute and try again.")),
}
log = logging.getLogger(__name__)
HOME = _t("Back to the home page")


def wants_json() -> bool:
    """API paths and clients that ask for JSON get JSON."""
    prefix = current_app.config.get("CRM_API_PREFIX", "/api/v1")
    if request.path.startswith(prefix) or request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and not request.accept_mimetypes.accept_html


def error_answer(exc: HTTPException) -> Any:
    code = exc.code or 500
    lang = current_lang()
    title, explanation = PAGES.get(code, (Text.of(exc.name), None))
    detail = exc.description if code != 429 and (code not in PAGES or _custom(exc)) else None
    if wants_json():
        message = detail or (explanation.get(lang) if explanation else title.get(lang))
        response = current_app.response_class(
            current_app.json.dumps({"message": message}), status=code, mimetype="application/json")
    else:
        parts = {"code": code, "title": title.get(lang), "detail": detail,
                 "explanation": explanation.get(lang) if explanation else "", "home": HOME.get(lang)}
        response = current_app.response_class(_page(parts), status=code, mimetype="text/html")
    for name, value in exc.get_headers():  # Retry-After, Allow ...
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def _page(parts: dict[str, Any]) -> str:
    """The page in the CRM's layout; a plain page when the error came before the request had a
    user (a CSRF refusal in before_request), so an error page never fails itself."""
    if "user" not in g:
        g.user = current_user
    try:
        appbuilder = current_app.appbuilder  # type: ignore[attr-defined]
        return render_template("crm/error.html", appbuilder=appbuilder,
                               base_template=appbuilder.base_template, **parts)
    except Exception:  # noqa: BLE001 - the layout needs the menu, the user...; the answer must still go out
        log.exception("error page layout failed; answering a plain page")
        return ("<!doctype html><meta charset=utf-8><title>{code}</title><h2>{code} · {title}</h2>"
                "<p>{explanation}</p><p><a href='/'>{home}</a></p>").format(
                    **{k: escape(str(v or "")) for k, v in parts.items()})


def _custom(exc: HTTPException) -> bool:
    """A description given by our code (abort(404, "...")), not Werkzeug's stock sentence."""
    return exc.description != type(exc).description


def install_error_pages(app: Flask) -> None:
    for code in PAGES:
        app.register_error_handler(code, error_answer)
