"""The menu, rendered once per role set, language and app, not on every page.

FAB renders the navbar menu on every page, asking the security manager about each item
(a fifth of a list page's CPU). What it shows depends only on the user's roles, the UI
language and the app's views, so the HTML is kept in the access cache
(app/security/authcache.py): a role or permission change clears it with the rest, and an
app built for another metadata version has its own.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, g, render_template
from markupsafe import Markup

from .labels import current_lang


def cached_menu() -> Markup:
    state = current_app.extensions["crm"]
    sm = state.appbuilder.sm
    user: Any = getattr(g, "user", None)
    signed_in = user is not None and getattr(user, "is_authenticated", False)
    roles = sm.get_user_roles(user) if signed_in else [sm.public_role_ref()]
    key = ("menu", tuple(sorted(r.id for r in roles if r is not None)), signed_in, current_lang())
    return state.auth_cache.get(key, lambda: Markup(  # type: ignore[no-any-return]
        render_template("appbuilder/navbar_menu.html", menu=state.appbuilder.menu)))


def install_menu_cache(app: Flask) -> None:
    app.jinja_env.globals["crm_cached_menu"] = cached_menu
