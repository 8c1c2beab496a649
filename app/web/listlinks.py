"""A list page's own links (pages, page sizes, sort columns) built from one base URL per request.

FAB's `link_page`, `link_page_size` and `link_order` template filters copy the request's
arguments and run Werkzeug's router for each link: some twenty per list page, a twentieth
of its CPU. Each link is the page's own path with the query changed in one place, so the
path and each of the request's arguments are encoded once per request, and each link only
encodes the one argument it sets, as Werkzeug does (`werkzeug.urls._urlencode`: the same safe
characters, the same order: an argument the request has keeps its place, a new one goes last).
A query argument named like a path argument (FAB lets it replace the path's) goes to FAB's own
filter.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
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


@lru_cache(maxsize=4096)
def _pair(key: str, value: str) -> str:
    """`key=value` as urlencode writes it (the same text for the same pair: kept, bounded)."""
    return urlencode([(key, value)], safe=SAFE)


def _encoded() -> dict[str, str] | None:
    """The request's arguments (the first of each, as FAB's `to_dict()`), each already encoded as
    `key=value`, once per request; None for FAB's way."""
    environ = request.environ
    if "crm.list_args" not in environ:
        args = request.args.to_dict()
        environ["crm.list_args"] = (None if request.view_args and set(request.view_args) & set(args)
                                    else {k: _pair(k, v) for k, v in args.items()})
    return environ["crm.list_args"]  # type: ignore[no-any-return]


def _link(encoded: dict[str, str], changes: dict[str, Any]) -> str:
    """The page's path with its query, `changes` set in it (a key it has keeps its place)."""
    pairs = dict(encoded)
    for key, value in changes.items():
        if value is None:  # as urlencode over FAB's arguments: a None is left out
            pairs.pop(key, None)
        else:
            pairs[key] = _pair(key, str(value))
    query = "&".join(pairs.values())
    return f"{_base_path()}?{query}" if query else _base_path()


def list_link_filters(fab: dict[str, Callable[..., str]]) -> dict[str, Callable[..., str]]:
    """The three filters, each falling back on FAB's own (`fab`, by name) when it must."""

    def setting(name: str, prefix: str) -> Callable[..., str]:
        """`link_page` / `link_page_size`: the page's query with one argument set."""
        def link(value: Any, modelview_name: str) -> str:
            encoded = _encoded()
            if encoded is None:
                return fab[name](value, modelview_name)
            return _link(encoded, {prefix + modelview_name: value})
        return link

    def link_order(column: str, modelview_name: str) -> str:
        encoded = _encoded()
        if encoded is None:
            return fab["link_order"](column, modelview_name)
        args = request.args
        ascending = ("_oc_" + modelview_name) in args and args.get("_od_" + modelview_name) == "asc"
        return _link(encoded, {"_oc_" + modelview_name: column, "_od_" + modelview_name: "desc" if ascending else "asc"})

    return {"link_page": setting("link_page", "page_"), "link_page_size": setting("link_page_size", "psize_"),
            "link_order": link_order}


def install_list_links(app: Flask) -> None:
    """Replace FAB's three link filters (after AppBuilder registered them)."""
    filters = app.jinja_env.filters
    filters.update(list_link_filters({name: filters[name] for name in ("link_page", "link_page_size", "link_order")}))
