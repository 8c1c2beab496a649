"""A list page's own links (pages, page sizes, sort columns) built from one base URL per request.

FAB's `link_page`, `link_page_size` and `link_order` template filters copy the request's
arguments and run Werkzeug's router for each link: some twenty per list page, a twentieth
of its CPU. Each link is the page's own path with the query changed in one place, so the
path is built once per request and each link only encodes its query, as Werkzeug does
(`werkzeug.urls._urlencode`: the same safe characters, the same order). A query argument
named like a path argument (FAB lets it replace the path's) goes to FAB's own filter.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from flask import Flask, request, url_for

SAFE = "!$'()*,/:;?@"  # werkzeug.urls._urlencode's


def _base_path() -> str:
    """The page's path, once per request (kept in its WSGI environ: `g` can outlive a request)."""
    path = request.environ.get("crm.list_path")
    if path is None:
        path = request.environ["crm.list_path"] = url_for(request.endpoint or "", **(request.view_args or {}))
    return str(path)


def _link(args: dict[str, Any]) -> str:
    query = urlencode([(k, v) for k, v in args.items() if v is not None], safe=SAFE)
    return f"{_base_path()}?{query}" if query else _base_path()


def _args() -> dict[str, Any] | None:
    """The request's arguments (the first of each, as FAB's `to_dict()`), or None for FAB's way."""
    args = request.args.to_dict()
    return None if request.view_args and set(request.view_args) & set(args) else args


def list_link_filters(fab: dict[str, Callable[..., str]]) -> dict[str, Callable[..., str]]:
    """The three filters, each falling back on FAB's own (`fab`, by name) when it must."""

    def setting(name: str, prefix: str) -> Callable[..., str]:
        """`link_page` / `link_page_size`: the page's query with one argument set."""
        def link(value: Any, modelview_name: str) -> str:
            args = _args()
            if args is None:
                return fab[name](value, modelview_name)
            args[prefix + modelview_name] = value
            return _link(args)
        return link

    def link_order(column: str, modelview_name: str) -> str:
        args = _args()
        if args is None:
            return fab["link_order"](column, modelview_name)
        ascending = ("_oc_" + modelview_name) in args and args.get("_od_" + modelview_name) == "asc"
        args["_oc_" + modelview_name], args["_od_" + modelview_name] = column, "desc" if ascending else "asc"
        return _link(args)

    return {"link_page": setting("link_page", "page_"), "link_page_size": setting("link_page_size", "psize_"),
            "link_order": link_order}


def install_list_links(app: Flask) -> None:
    """Replace FAB's three link filters (after AppBuilder registered them)."""
    filters = app.jinja_env.filters
    filters.update(list_link_filters({name: filters[name] for name in ("link_page", "link_page_size", "link_order")}))
