"""The list screen's page: its layout kept per role set and language, only the list made per request.

FAB draws a list page through three layout templates (init, base, baselayout: the html head and
its asset links, the navbar with the menu, the user menu and the language switch, the footer, the
scripts) around the list, for HTML that changes only with the app (its metadata version), the
language, the user's roles and whether one is signed in. Here that layout is rendered once per
such key, with marks where a request's own values go, and kept (bounded, per app); a request
fills the marks in:

- the CSP nonce and the CSRF token, the language switch's `next` path, the user's display name
  and the notification bell (from functions the templates call: `crm_next_path`, `crm_user_name`,
  `crm_bell`, so FAB's way and this one read the same templates);
- the page's title (crm/page_title.html: the layout is kept per template, not per entity), the
  flash messages, the content (search row, filter bar, list widget) and the list's scripts,
  rendered per request (crm/list_content.html: FAB's content block, crm/list_scripts.html).

Never stale: the key carries the access cache's generation (app/security/authcache.py: any write
to roles, grants, users' roles or teams bumps it, in every process through Redis), so a cached
menu or button is never older than the access cache's own answers, and with that cache off
(`CRM_ACCESS_CACHE_SECONDS=0`) nothing is kept. A new metadata version is a new app with its own
layouts. `CRM_LIST_LAYOUT=fab` renders FAB's way (the two are compared in
tests/test_list_layout.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from flask import (
    Flask,
    before_render_template,
    current_app,
    g,
    get_flashed_messages,
    request,
    template_rendered,
)
from jinja2.utils import htmlsafe_json_dumps
from markupsafe import Markup, escape

from .labels import current_lang
from .menucache import role_key

MARK = "\ue000{}\ue001"  # private-use characters: no escaping touches them, no text has them
_MARKED = re.compile("\ue000([a-z]+)\ue001")
MAX_LAYOUTS = 256  # role sets x languages x list templates; past it the kept ones are dropped
NONCE_KEY = "crm_csp_nonce"  # where app/security/headers.py keeps the request's nonce
_MISSING = object()
_MARKING = "crm_marks_in_g"  # set while a render puts marks where the nonce and CSRF token go


def next_path() -> str:
    """Where the language switch returns to: this page, with its query."""
    return request.full_path if request.query_string else request.path


def user_name() -> str:
    return str(g.user.get_full_name())


def bell(count: Callable[[], int], label: str) -> Markup:
    """The notification bell with this user's unread count (crm/bell.html)."""
    return Markup(current_app.jinja_env.get_template("crm/bell.html").module.bell(count(), label))  # type: ignore[attr-defined]


class Layout:
    """A rendered page with marks: the text between them and the name of each mark."""

    def __init__(self, html: str) -> None:
        pieces = _MARKED.split(html)
        self.texts, self.names = pieces[0::2], pieces[1::2]

    def fill(self, value: Callable[[str], str]) -> str:
        out = [self.texts[0]]
        for name, text in zip(self.names, self.texts[1:], strict=True):
            out.append(value(name))
            out.append(text)
        return "".join(out)


def _mark(name: str) -> Markup:
    return Markup(MARK.format(name))


@contextmanager
def marks_in_g() -> Iterator[None]:
    """The nonce and CSRF token marks where every template reads them (`g`: imported macros see
    no context), for one render; the request's own values are put back after it."""
    csrf_key = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    saved = {key: g.get(key, _MISSING) for key in (NONCE_KEY, csrf_key)}
    saved[_MARKING] = g.get(_MARKING, _MISSING)
    setattr(g, NONCE_KEY, MARK.format("nonce"))
    setattr(g, csrf_key, MARK.format("csrf"))
    setattr(g, _MARKING, True)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is _MISSING:
                g.pop(key, None)
            else:
                setattr(g, key, value)


def render_layout(template: str, context: dict[str, Any]) -> Layout:
    """The page with marks for what is per request."""
    marks = {"crm_slot": _mark, "crm_next_path": lambda: _mark("next"), "crm_user_name": lambda: _mark("user"),
             "crm_bell": lambda *_: _mark("bell")}
    with marks_in_g():
        return Layout(current_app.jinja_env.get_template(template).render({**context, **marks}))


def request_value(name: str) -> str:
    """A mark's value that every request has of its own: the nonce, the CSRF token. Worked out
    once per request (a list page fills a dozen of them), except while marks stand in them."""
    store = g._get_current_object().__dict__  # type: ignore[attr-defined]
    values = store.get("crm_request_values")
    if values is None or store.get(_MARKING):
        values = {}
        if not store.get(_MARKING):
            store["crm_request_values"] = values
    value = values.get(name)
    if value is None:
        globals_ = current_app.jinja_env.globals
        value = values[name] = str(escape(globals_["csp_nonce" if name == "nonce" else "csrf_token"]()))  # type: ignore[operator]
    return value


def layout_key(template: str) -> tuple[Any, ...] | None:
    """What the layout depends on, or None when it must not be kept (no access cache; an API key's
    user, whose permission checks bypass the access cache; debug mode, where templates are edited)."""
    auth_cache = current_app.extensions["crm"].auth_cache
    if not auth_cache.enabled or getattr(g, "_api_key_user", False) or current_app.debug:
        return None
    return (template, current_lang(), *role_key(), auth_cache.generation())  # the navbar's language is this one


def render_list_page(template: str, context: dict[str, Any]) -> str:
    """The list page: the kept layout with this request's parts, in the page's order (the flash
    messages are read before the content is rendered, as FAB's layout does)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    env = app.jinja_env
    app.update_template_context(context)
    page = env.get_template(template)  # Flask's signals name the page's template, as render_template's do
    before_render_template.send(app, _async_wrapper=app.ensure_sync, template=page, context=context)
    key = layout_key(template)
    layout = (kept_text("crm_list_layouts", key, lambda: render_layout(template, context)) if key is not None
              else render_layout(template, context))

    def value(name: str) -> str:
        if name in ("nonce", "csrf"):
            return request_value(name)
        if name == "next":
            return str(escape(next_path()))
        if name == "user":
            return str(escape(user_name()))
        if name == "bell":
            return bell(context["crm_unread"], context["crm_notifications_label"])
        if key is not None and name == "messages" and not get_flashed_messages(with_categories=True):
            # no message (the list is read once per request: the template reads the same): the
            # template's text for none, kept
            return kept_text("crm_list_no_flash", key, lambda: env.get_template(PARTS[name]).render(context))
        if key is not None and name == "title":
            return _kept_title(key, context)
        if key is not None and name == "content":
            return _kept_content(key, context)
        if key is not None and name == "scripts":
            return _kept_scripts(key, context)
        return env.get_template(PARTS[name]).render(context)

    html = layout.fill(value)
    template_rendered.send(app, _async_wrapper=app.ensure_sync, template=page, context=context)
    return html


def _kept_title(key: tuple[Any, ...], context: dict[str, Any]) -> str:
    """crm/page_title.html, kept per layout key and the names it reads (the page's, the app's)."""
    ui = context.get("ui")
    names = (str(context.get("crm_page_title") or ""), str(context.get("title") or ""),
             str(ui.get("title") or "") if isinstance(ui, Mapping) else None, str(context["appbuilder"].app_name))
    return kept_text("crm_list_titles", (*key, *names),  # type: ignore[no-any-return]
                     lambda: current_app.jinja_env.get_template(PARTS["title"]).render(context))


def _kept_content(key: tuple[Any, ...], context: dict[str, Any]) -> str:
    """crm/list_content.html from a kept copy (per layout key, view and title) with marks for the
    search row and the list widget, which are made per request as the template makes them."""
    from .searchrow import search_row

    env = current_app.jinja_env
    key = (*key, context.get("crm_route"), str(context.get("title")))

    def marked() -> Layout:
        return Layout(env.get_template(PARTS["content"]).render({
            **context, "crm_search_row": lambda: _mark("searchrow"), "widgets": {"list": lambda: _mark("widget")}}))

    def part(name: str) -> str:
        if name == "searchrow":
            return str(search_row(context))
        if name == "widget":
            return str(context["widgets"].get("list")())
        raise KeyError(name)

    return kept_text("crm_list_contents", key, marked).fill(part)


_VIEWS = "crm-mark-saved-views"  # rendered as a JSON string, then replaced by the reader's saved views


def _kept_scripts(key: tuple[Any, ...], context: dict[str, Any]) -> str:
    """crm/list_scripts.html from a kept copy (per layout key, view, whether filters are active and
    whether the reader has saved views: the filter bar's config is fixed per view and language)
    with marks for the nonce, the CSRF token and the reader's saved views (as the template's
    `tojson` writes them)."""
    env = current_app.jinja_env
    views = context.get("crm_views")
    config = context.get("crm_filter_config") or {}
    key = (*key, context.get("crm_route"), bool(config.get("active")), bool(views))

    def marked() -> Layout:
        with marks_in_g():
            html = env.get_template(PARTS["scripts"]).render({**context, "crm_views": _VIEWS if views else views})
        return Layout(html.replace(f'"{_VIEWS}"', MARK.format("views")))

    def part(name: str) -> str:
        if name == "views":
            policies = env.policies  # what the template's `tojson` filter reads
            return str(htmlsafe_json_dumps(views, dumps=policies["json.dumps_function"],
                                           **policies["json.dumps_kwargs"]))
        return request_value(name)

    return kept_text("crm_list_scripts", key, marked).fill(part)


def kept_fragment(name: str, *depends: Any, caller: Callable[[], str]) -> Markup:
    """A part of a list's widget that changes only with what the layout changes with (language,
    role set, access generation) and `depends` (the view, its actions): rendered once with marks
    for the nonce and the CSRF token, kept beside the layouts, filled per request. In a template:
    `{% call crm_kept('name', modelview_name) %}...{% endcall %}` (its body runs only when the
    part is not kept). Under `CRM_LIST_LAYOUT=fab`, or where no layout is kept, the body renders
    as it is: the two are compared in tests/test_list_layout.py."""
    key = layout_key(name) if list_layout_cached() else None
    if key is None:
        return Markup(caller())
    key = (*key, *(tuple(d) if isinstance(d, list) else d for d in depends))

    def marked() -> Layout:
        with marks_in_g():
            return Layout(str(caller()))

    return Markup(kept_text("crm_list_fragments", key, marked).fill(request_value))


def kept_text(store: str, key: Any, make: Callable[[], Any]) -> Any:
    """What is kept under `key` in the app's `store` (layouts, fragments, skeletons), else `make()`'s,
    then kept; past MAX_LAYOUTS entries the store is emptied (a bound, not a size anyone reaches)."""
    kept: dict[Any, Any] = current_app.extensions.setdefault(store, {})
    value = kept.get(key)
    if value is None:
        value = make()
        if len(kept) >= MAX_LAYOUTS:
            kept.clear()
        kept[key] = value
    return value


PARTS = {"title": "crm/page_title.html", "messages": "appbuilder/flash.html", "content": "crm/list_content.html", "scripts": "crm/list_scripts.html"}


def list_layout_cached() -> bool:
    return current_app.config.get("CRM_LIST_LAYOUT", "cached") != "fab"


def install_list_layout(app: Flask) -> None:
    """The functions the layout templates call for what changes per request (FAB's way uses them too)."""
    app.jinja_env.globals.update(crm_next_path=next_path, crm_user_name=user_name, crm_bell=bell,
                                 crm_kept=kept_fragment)
