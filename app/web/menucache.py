"""The menu and the CRUD buttons' permissions, worked out once per role set and app.

FAB renders the navbar menu on every page, asking the security manager about each item
(a fifth of a list page's CPU). What it shows depends only on the user's roles, the UI
language and the app's views, so the HTML is kept in the access cache
(app/security/authcache.py): a role or permission change clears it with the rest, and an
app built for another metadata version has its own.

The same holds for FAB's `is_item_visible` template filter (may this user add, show, edit,
delete on this view: a permission check each, four per list page): its answers are kept
under the same key, so they clear with the menu.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, g, render_template
from markupsafe import Markup

from .labels import current_lang


def role_key() -> tuple[tuple[int, ...], bool]:
    """What a page part shown by permission depends on: the user's role ids, signed in or not."""
    sm = current_app.extensions["crm"].appbuilder.sm
    user: Any = getattr(g, "user", None)
    signed_in = user is not None and getattr(user, "is_authenticated", False)
    roles = sm.get_user_roles(user) if signed_in else [sm.public_role_ref()]
    return tuple(sorted(r.id for r in roles if r is not None)), signed_in


def cached_menu() -> Markup:
    state = current_app.extensions["crm"]
    key = ("menu", *role_key(), current_lang())
    return state.auth_cache.get(key, lambda: Markup(  # type: ignore[no-any-return]
        render_template("appbuilder/navbar_menu.html", menu=state.appbuilder.menu)))


def install_menu_cache(app: Flask) -> None:
    app.jinja_env.globals["crm_cached_menu"] = cached_menu


def install_item_visible_cache(app: Flask) -> None:
    """FAB's `is_item_visible` filter, answered from the access cache (after AppBuilder added it)."""
    check = app.jinja_env.filters["is_item_visible"]

    def is_item_visible(permission: str, item: str) -> bool:
        if getattr(g, "_api_key_user", False):  # an API key's user: FAB's own check, uncached
            return bool(check(permission, item))
        key = ("item-visible", *role_key(), permission, item)
        return current_app.extensions["crm"].auth_cache.get(  # type: ignore[no-any-return]
            key, lambda: bool(check(permission, item)))

    app.jinja_env.filters["is_item_visible"] = is_item_visible
