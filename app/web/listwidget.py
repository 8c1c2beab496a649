"""The list screen's widget kept as a skeleton: rendered once per shape, its per-request parts filled in.

The widget (crm/widgets/list.html over FAB's widgets/list.html and base_list.html) is mostly text
that changes only with the language, the role set, the view and its actions: the buttons shown,
the actions menu, the bulk controls, the scripts, the table's frame. Rendering it through Jinja on
every page (three template levels, a dozen macro and filter calls, the permission filters, the
loops) cost about as much as the page's rows. Here it is rendered once per *shape* — the layout's
key (language, role set, signed in, access generation: listlayout.layout_key), the view, its
actions, whether the page has rows and whether its count is exact — with marks where the request's
own parts go (`crm_mark` in the templates, only while `crm_marking` is set), and kept beside the
layouts; each page fills the marks:

- the pager (ours for a capped count, drawn in Python; FAB's macro for an exact one), the
  page-size menu and the sort header (app/web/listheader.py), the add link with the page's
  filters, the count, the "all N matching" box's label, the rows (listrows.PageRows);
- the nonce and CSRF token, as the layout's.

Values a mark needs that are fixed for the shape (the buttons' titles in the language, which
buttons the role has, the actions it may run) are taken while the skeleton is rendered and kept
with it. Only the list screen's own list uses it (a record page's related lists render as before);
`CRM_LIST_LAYOUT=fab` renders every part through Jinja, and tests/test_list_layout.py and
tests/test_list_rows.py compare the two pages byte for byte.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, g
from markupsafe import Markup, escape

from .labels import current_lang
from .listheader import open_pager, page_size_menu, sort_header
from .listlayout import MARK, Layout, kept_text, layout_key, list_layout_cached, marks_in_g, request_value

TEMPLATE = "crm/widgets/list.html"
_FAB_PAGER = ("{% import 'appbuilder/general/lib.html' as lib %}"
              "{{ lib.render_pagination(page, page_size, count, modelview_name) }}")


class Skeleton:
    """A widget rendered with marks, and the shape's fixed values its marks were given."""

    def __init__(self, layout: Layout, fixed: dict[str, tuple[Any, ...]]):
        self.layout, self.fixed = layout, fixed


def mark(name: str, *fixed: Any) -> Markup:
    """`crm_mark('rows', ...)`: where a per-request part goes; `fixed`, values the shape fixes."""
    g.crm_widget_fixed[name] = fixed
    return Markup(MARK.format(name))


def _capped(count: Any) -> bool:
    return hasattr(count, "exact") and not count.exact  # the template's `count.exact is defined and not ...`


def kept_widget(render: Any, args: dict[str, Any]) -> str | None:
    """The widget's HTML from its kept skeleton, or None: render it as it is (`fab`, no kept
    layout for this request: see listlayout.layout_key)."""
    key = layout_key(TEMPLATE) if list_layout_cached() else None
    if key is None:
        return None
    count = args["count"]
    key = (*key, args["modelview_name"], tuple(args.get("actions") or ()), count > 0, _capped(count))

    def marked() -> Skeleton:
        g.crm_widget_fixed = {}
        with marks_in_g():
            html = render({**args, "crm_marking": True})
        return Skeleton(Layout(html), g.pop("crm_widget_fixed"))

    skeleton: Skeleton = kept_text("crm_list_widgets", key, marked)
    return skeleton.layout.fill(lambda name: _part(name, args, skeleton.fixed.get(name, ())))


def _part(name: str, args: dict[str, Any], fixed: tuple[Any, ...]) -> str:
    page, page_size, count, view = args["page"], args["page_size"], args["count"], args["modelview_name"]
    if name in ("nonce", "csrf"):
        return request_value(name)
    if name == "rows":
        labels, can_show, can_edit, can_delete, actions = fixed
        suffix = current_app.jinja_env.filters["set_link_filters"]("", args["filters"])
        return str(args["crm_rows"].render(suffix, labels, can_show, can_edit, can_delete, actions))
    if name == "head":
        actions, buttons = fixed
        return str(sort_header(args["include_columns"], args["order_columns"], args["label_columns"], view,
                               actions, buttons))
    if name == "pager":
        return str(open_pager(page, page_size, count, view))
    if name == "fabpager":
        extensions = current_app.extensions
        if "crm_fab_pager" not in extensions:
            extensions["crm_fab_pager"] = current_app.jinja_env.from_string(_FAB_PAGER)
        return str(extensions["crm_fab_pager"].render(page=page, page_size=page_size, count=count,
                                                      modelview_name=view))
    if name == "size":
        return str(page_size_menu(page, page_size, count, view, fixed[0]))
    if name == "add":
        return str(escape(current_app.jinja_env.filters["set_link_filters"](fixed[0], args["filters"])))
    if name == "count":
        return str(escape(count.text(args.get("crm_lang") or current_lang()) if _capped(count) else count))
    if name == "bulkall":
        return str(escape(args["crm_bulk_all"]))
    raise KeyError(name)


def install_list_widget(app: Flask) -> None:
    """`crm_mark`, which the list templates call while a skeleton is rendered."""
    app.jinja_env.globals["crm_mark"] = mark
