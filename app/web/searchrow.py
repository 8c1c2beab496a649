"""The list screen's search row kept per shape, the request's parts filled in (like the widget).

The row above a list (quick search, board and export links, the pool and import buttons, the
saved views menu, the entity's description, the filter bar in its accordion) is fixed by the
language, the role set and the view, except for the search text, the query string, the user's
saved views and the filter bar's active filters. Under the kept layout (`CRM_LIST_LAYOUT=cached`)
it is rendered once per shape — the layout's key (listlayout.layout_key), the view, whether there
is a search text, a query string, saved views and an active filter, and the buttons the user gets
— with `crm_mark`s (listwidget.mark) where those parts go, and each page fills them: the search
text (escaped, and URL-encoded for the board link), the query string, the saved views menu
(crm/list_views_menu.html, rendered per request), the filter bar (searchbar.py, itself kept), the
nonce and CSRF token. `fab` renders crm/list_search.html whole (tests/test_list_layout.py and
tests/test_list_rows.py compare the pages byte for byte).
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, g, request
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape

from .display import html_text
from .listlayout import Layout, kept_text, layout_key, marks_in_g, request_value

TEMPLATE = "crm/list_search.html"
VIEWS_MENU = "crm/list_views_menu.html"


@pass_context
def kept_search_row(context: Context) -> Markup:
    """What `{% include 'crm/list_search.html' %}` gives, from the kept row when there is one."""
    return search_row(context.get_all())


def search_row(values: dict[str, Any]) -> Markup:
    """`kept_search_row` for the template's variables `values`."""
    env = current_app.jinja_env
    key = layout_key(TEMPLATE)
    if key is None:
        return Markup(env.get_template(TEMPLATE).render(values))
    query, config = values.get("crm_query"), values.get("crm_filter_config")
    key = (*key, values.get("crm_route"), bool(query), bool(request.query_string), bool(values.get("crm_views")),
           bool(config and config.get("active")), values.get("crm_can_export"), values.get("crm_can_import"),
           str(values.get("crm_pool") or ""))

    def marked() -> Layout:
        g.crm_widget_fixed = {}  # listwidget.mark notes fixed values there; the row has none
        with marks_in_g():
            html = env.get_template(TEMPLATE).render({**values, "crm_marking": True})
        g.pop("crm_widget_fixed", None)
        return Layout(html)

    row: Layout = kept_text("crm_search_rows", key, marked)

    def part(name: str) -> str:
        if name in ("nonce", "csrf"):
            return request_value(name)
        if name == "query":
            return str(escape(query))
        if name == "queryurl":
            return str(escape(env.filters["urlencode"](query)))
        if name == "qs":
            return str(escape(request.query_string.decode()))
        if name == "views":
            return views_menu(key, values)
        if name == "search":
            return str(values["widgets"].get("search")())
        raise KeyError(name)

    return Markup(row.fill(part))


def views_menu(key: tuple[Any, ...], values: dict[str, Any]) -> str:
    """crm/list_views_menu.html from a copy kept per search row key and view (its words, roles and
    links are the language's and the view's), the reader's saved views filled in: the active
    view's name, the menu's items and the delete item, as the template's loops write them."""
    env = current_app.jinja_env
    v = values["crm_views"]
    key = (*key, v.get("standard"))

    def marked() -> tuple[Layout, dict[str, tuple[Any, ...]]]:
        g.crm_widget_fixed = {}
        html = env.get_template(VIEWS_MENU).render({**values, "crm_marking": True})
        return Layout(html), g.pop("crm_widget_fixed")

    menu, fixed = kept_text("crm_views_menus", key, marked)
    active, views = v.get("active"), v.get("views") or ()

    def part(name: str) -> str:
        if name == "viewactive":
            return "".join(f': <strong id="crm-view-active">{html_text(item["name"])}</strong>'
                           for item in views if item["id"] == active)
        if name == "viewitems":
            return "".join(f'\n        <li><a href="{html_text(item["href"])}" class="crm-view-link" '
                           f'data-view="{html_text(item["id"])}">{html_text(item["name"])}'
                           f'{" ★" if item["default"] else ""}</a></li>\n        ' for item in views)
        if name == "viewdelete":
            if not (active and v.get("active_mine")):
                return ""
            return (f'<li><a href="#" id="crm-view-delete" data-view="{html_text(active)}">'
                    f'{html_text(fixed[name][0])}</a></li>')
        raise KeyError(name)

    return menu.fill(part)


def install_search_row(app: Flask) -> None:
    app.jinja_env.globals["crm_search_row"] = kept_search_row
