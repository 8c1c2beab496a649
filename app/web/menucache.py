"""The menu and the CRUD buttons' permissions, worked out once per role set and app.

FAB renders the navbar menu on every page, asking the security manager about each item
(a fifth of a list page's CPU). What it shows depends only on the user's roles, the UI
language and the app's views, so the HTML is kept in the access cache
(app/security/authcache.py): a role or permission change clears it with the rest, and an
app built for another metadata version has its own.

The same holds for FAB's `is_item_visible` template filter (may this user add, show, edit,
delete on this view: a permission check each, four per list page) and its `get_actions_on_list`
(a check per list action): their answers are kept under the same key, so they clear with the menu.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, g, render_template
from markupsafe import Markup

from .labels import current_lang


def role_key() -> tuple[tuple[int, ...], bool]:
    """What a page part shown by permission depends on: the user's role ids, signed in or not
    (worked out once per request and user: a list page asks it for each button and action)."""
    user: Any = getattr(g, "user", None)
    kept = g.get("_crm_role_key")
    if kept is not None and kept[0] is user:
        return kept[1]  # type: ignore[no-any-return]
    sm = current_app.extensions["crm"].appbuilder.sm
    signed_in = user is not None and getattr(user, "is_authenticated", False)
    roles = sm.get_user_roles(user) if signed_in else [sm.public_role_ref()]
    key = tuple(sorted(r.id for r in roles if r is not None)), signed_in
    g._crm_role_key = (user, key)
    return key


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

    def get_actions_on_list(actions: Any, modelview_name: str) -> dict[str, Any]:
        """FAB's filter of the list's actions (those the user may run on several records), its
        permission checks answered by the cached `is_item_visible` as the buttons' are."""
        return {key: action for key, action in actions.items()
                if is_item_visible(action.name, modelview_name) and action.multiple}

    app.jinja_env.filters["is_item_visible"] = is_item_visible
    app.jinja_env.filters["get_actions_on_list"] = get_actions_on_list
