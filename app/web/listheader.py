"""A list widget's per-request controls drawn in Python: the pager, the page-size menu, the sort header.

They change with the page, the count and the query string, so they cannot be kept like the
widget's static parts (listlayout.kept_fragment); through Jinja they were a good part of the
widget's CPU (macro calls, a filter call and an escape per link, the loop machinery). These
functions write the same text as the templates they stand for — FAB's `render_set_page_size`
(appbuilder/general/lib.html) and `begin_loop_header` block (appbuilder/general/widgets/list.html),
our open pager (`crm_pager` in crm/widgets/list.html) — to the whitespace, with the links from
the same template filters (listlinks.py). They are used with the kept layout
(`CRM_LIST_LAYOUT=cached`); under `fab` the templates render as before, and
tests/test_list_layout.py and tests/test_list_rows.py compare the two pages byte for byte.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from flask import Flask, current_app, request
from markupsafe import Markup, escape

from .listlayout import list_layout_cached

_ORDER_ICONS = {2: "fa-chevron-up", 1: "fa-chevron-down", 0: "fa-arrows-v"}


def _filter(name: str) -> Callable[..., str]:
    return current_app.jinja_env.filters[name]  # type: ignore[no-any-return]


def _pages(count: Any, page_size: int) -> int:
    """Jinja's `(count / page_size)|round(0, 'ceil')|int`."""
    return int(math.ceil(count / page_size))


def page_size_menu(page: Any, page_size: int, count: Any, modelview_name: str, label: str) -> Markup:
    """FAB's `lib.render_set_page_size` (`label`: the template's `_('Page size')`)."""
    out = ["\n"]
    if not page:
        out.append("  ")
        page = 0
    out.append("\n\n")
    if _pages(count, page_size) > 1:
        link = _filter("link_page_size")
        out.append('\n<div class="btn-group">\n    <button type="button" class="btn btn-default btn-sm dropdown-toggle" '
                   f'data-toggle="dropdown">\n    {label}<span class="caret"></span>\n    </button>\n'
                   '    <ul class="dropdown-menu" role="menu">\n        ')
        for size in range(25, 125, 25):
            out.append("\n        ")
            if page * size <= count:
                active = ' class="active"' if size == page_size else ""
                out.append(f'\n            \n                <li{active}><a href="{escape(link(size, modelview_name))}">'
                           f"{size}</a></li>\n            \n        ")
            out.append("\n        ")
        out.append("\n    </ul>\n</div>\n")
    out.append("\n")
    return Markup("".join(out))


def open_pager(page: Any, page_size: int, count: Any, modelview_name: str) -> Markup:
    """`crm_pager` (crm/widgets/list.html): the pager of a capped count, with no last page."""
    page = page or 0
    known = _pages(count, page_size)
    link = _filter("link_page")
    out = ['\n    \n    \n    <ul class="pagination pagination-sm crm-pager-open" style="display:inherit;">\n    ']
    if page > 0:
        out.append(f'<li><a href="{escape(link(0, modelview_name))}">&laquo;</a></li>\n    '
                   f'<li><a href="{escape(link(page - 1, modelview_name))}">&lt;</a></li>\n    ')
    else:
        out.append('<li class="disabled"><a href="#">&laquo;</a></li><li class="disabled"><a href="#">&lt;</a></li>')
    out.append("\n    ")
    for p in range(max(page - 3, 0), min(page + 4, known)):
        out.append("\n        ")
        if p == page:
            out.append(f'<li class="active"><a href="#">{p + 1}</a></li>\n        ')
        else:
            out.append(f'<li><a href="{escape(link(p, modelview_name))}">{p + 1}</a></li>')
        out.append("\n    ")
    out.append("\n    ")
    if page + 1 < known:
        out.append(f'<li><a href="{escape(link(page + 1, modelview_name))}" rel="next">&gt;</a></li>\n    ')
    else:
        out.append('<li class="disabled"><a href="#">&gt;</a></li>')
    out.append("\n    </ul>\n")
    return Markup("".join(out))


def sort_header(include_columns: Sequence[str], order_columns: Sequence[str], label_columns: dict[str, Any],
                modelview_name: str, actions: Any, buttons: bool) -> Markup:
    """FAB's `begin_loop_header` block: the table head with a sort link per orderable column."""
    out = ["\n        <thead>\n        <tr>\n        "]
    if actions:
        out.append('\n        <th class="action_checkboxes">\n            <input id="check_all" '
                   'class="action_check_all" name="check_all" type="checkbox">\n        </th>\n        ')
    out.append("\n\n        ")
    if buttons:
        out.append('\n            <th class="col-md-1 col-lg-1 col-sm-1" ></th>\n        ')
    out.append("\n\n        ")
    link = _filter("link_order")
    args = request.args
    sorted_on, direction = args.get("_oc_" + modelview_name), args.get("_od_" + modelview_name)
    for item in include_columns:
        out.append("\n            ")
        label = escape(label_columns.get(item))
        if item in order_columns:
            res = (2 if direction == "asc" else 1) if sorted_on == item else 0
            out.append(f"\n                \n                    \n                    <th><a href="
                       f"{escape(link(item, modelview_name))}>{label}\n                    "
                       f'<i class="fa {_ORDER_ICONS[res]} pull-right"></i></a></th>\n                \n            ')
        else:
            out.append(f"\n                <th>{label}</th>\n            ")
        out.append("\n        ")
    out.append("\n        </tr>\n        </thead>\n    ")
    return Markup("".join(out))


def install_list_header(app: Flask) -> None:
    """The functions crm/widgets/list.html and base_list.html call under the kept layout."""
    app.jinja_env.globals.update(crm_list_drawn=list_layout_cached, crm_page_size_menu=page_size_menu,
                                 crm_open_pager=open_pager, crm_sort_header=sort_header)
