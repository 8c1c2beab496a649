"""Security headers on every response, and a CSP nonce for our and FAB's scripts.

The Content-Security-Policy allows only our own origin. Scripts run only from
our static files or from inline blocks carrying this request's nonce: FAB's
templates already write `nonce="{{ baselib.get_nonce() }}"`, which calls
`csp_nonce()` when the template context has it (Flask-Talisman's name), so
the nonce is offered under that name. Styles keep 'unsafe-inline': bootstrap,
select2 and plotly set style attributes, and styles cannot run code.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from flask import Flask, Response, g, request
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import BadSignature

NONCE_BYTES = 16


def csp_nonce() -> str:
    """This request's nonce (made on first use)."""
    if "crm_csp_nonce" not in g:
        g.crm_csp_nonce = secrets.token_urlsafe(NONCE_BYTES)
    return str(g.crm_csp_nonce)


POLICY_HEAD = "default-src 'self'; script-src 'self' 'nonce-"
POLICY_TAIL = "'; " + "; ".join((  # joined once: only the nonce differs per request
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))


FIXED_HEADERS = (("X-Frame-Options", "DENY"), ("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "same-origin"))


def content_security_policy(nonce: str) -> str:
    return POLICY_HEAD + nonce + POLICY_TAIL


def install_security_headers(app: Flask) -> None:
    app.jinja_env.globals["csp_nonce"] = csp_nonce

    @app.after_request
    def _security_headers(response: Response) -> Response:
        """Each header the view did not set, in this order (as `setdefault` one by one did, with
        one pass over the response's headers instead of two per header)."""
        headers = response.headers
        present = {name.lower() for name, _ in headers.items()}
        if "content-security-policy" not in present:
            headers.add("Content-Security-Policy", content_security_policy(csp_nonce()))
        for name, value in FIXED_HEADERS:
            if name.lower() not in present:
                headers.add(name, value)
        if request.is_secure and "strict-transport-security" not in present:
            headers.add("Strict-Transport-Security", "max-age=31536000")
        return response

    app.session_interface = HttpsAwareSessionInterface()


class HttpsAwareSessionInterface(SecureCookieSessionInterface):
    """The session cookie is Secure whenever the request came over https (or the config says so).

    A session whose values were set again to what the cookie held is not sent back: FAB sets its
    page history on every list view, so each list page signed and sent the same cookie again (a
    Set-Cookie per page). What the cookie held is kept as the serializer's text at open and
    compared at save; any difference (a flash appended in place included) is sent as before.
    The signature's age, which PERMANENT_SESSION_LIFETIME bounds, is then that of the last
    change; a permanent session with SESSION_REFRESH_EACH_REQUEST is still sent every time.

    A cookie is verified once per value (`CRM_REQUEST_FRAME=lean`): a value whose signature
    checked is kept with its signing time and the serializer's text of its data (at most
    COOKIES_KEPT values per app, keyed with the secret keys), so the same cookie again costs
    the age check itsdangerous makes (0 <= age <= PERMANENT_SESSION_LIFETIME, else the full
    check, which refuses it) and the text's parse, not the signer, base64 and the HMAC."""

    COOKIES_KEPT = 4096

    def __init__(self) -> None:
        self.verified: dict[tuple[Any, ...], tuple[int, str]] = {}

    def open_session(self, app: Flask, request: Any) -> Any:
        if app.config.get("CRM_REQUEST_FRAME", "lean") != "lean" or not app.secret_key:
            session = super().open_session(app, request)
            if session:
                session.crm_loaded = self.serializer.dumps(dict(session))
            return session
        value = request.cookies.get(self.get_cookie_name(app))
        if not value:
            return self.session_class()
        key = (value, app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        max_age = int(app.permanent_session_lifetime.total_seconds())
        known = self.verified.get(key)
        if known is not None and 0 <= int(time.time()) - known[0] <= max_age:
            session = self.session_class(self.serializer.loads(known[1]))
            if session:
                session.crm_loaded = known[1]
            return session
        signer = self.get_signing_serializer(app)
        try:  # what Flask's open_session does, keeping the signing time
            data, signed = signer.loads(value, max_age=max_age, return_timestamp=True)  # type: ignore[union-attr]
        except BadSignature:
            return self.session_class()
        session = self.session_class(data)
        text = self.serializer.dumps(dict(session))
        if session:
            session.crm_loaded = text
        if len(self.verified) >= self.COOKIES_KEPT:
            self.verified.clear()  # (one atomic step: another request thread may be reading it)
        self.verified[key] = (int(signed.timestamp()), text)
        return session

    def should_set_cookie(self, app: Flask, session: Any) -> bool:
        if session.permanent and app.config["SESSION_REFRESH_EACH_REQUEST"]:
            return True
        loaded = getattr(session, "crm_loaded", None)
        return bool(session.modified) and (loaded is None or self.serializer.dumps(dict(session)) != loaded)

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure
