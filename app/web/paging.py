"""Numbers and text from URLs checked before they reach the database.

A record id or page number past what the database stores (PostgreSQL
`integer` ids, SQLite's 64-bit OFFSET) made the driver raise and the request
answer 500. Ids beyond the column's range cannot name a record: the URL does
not match (404). Pages and page sizes out of range are a 400 naming the argument,
and so is an argument holding text no database stores (a NUL on PostgreSQL): on a
screen the CRM's error page in the user's language, JSON (English) for the API.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask, jsonify, request
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter

from app.i18n import Phrase

from .errors import error_answer, wants_json
from .jsonbody import text_fault
from .labels import current_lang

MAX_ID = 2**31 - 1  # ids are `integer` columns on PostgreSQL
MAX_PAGE = 10_000_000
MAX_UI_PAGE_SIZE = 1000
MAX_OFFSET = 100_000  # rows a list pages through: OFFSET reads and drops every row before the page
UI_DEFAULT_PAGE_SIZE = 25
UI_PAGE_ARG = re.compile(r"^(page|psize)_")


class PageError(ValueError):
    """A page or page size argument the list cannot honour."""


class RecordIdConverter(IntegerConverter):
    """`<int:pk>` that matches only ids a record can have (1..2**31-1): others are a 404."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)

    def to_python(self, value: str) -> int:
        if len(value) > len(str(MAX_ID)):  # too long to be an id: no match, no big-int parsing
            from werkzeug.routing import ValidationError
            raise ValidationError()
        return int(super().to_python(value))


def is_record_id(value: Any) -> bool:
    """True when `value` (an int or URL text) can be a record id: 1..MAX_ID."""
    text = str(value).strip()
    return text.isascii() and text.isdigit() and len(text) <= len(str(MAX_ID)) and 0 < int(text) <= MAX_ID


def checked_page(page: Any, page_size: Any, max_page_size: int) -> tuple[int, int]:
    """(page, page_size) within bounds, or PageError naming the argument."""
    if isinstance(page, bool) or not isinstance(page, int) or not 0 <= page <= MAX_PAGE:
        raise PageError(f"page must be a whole number from 0 to {MAX_PAGE}")
    if isinstance(page_size, bool) or not isinstance(page_size, int) or not 1 <= page_size <= max_page_size:
        raise PageError(f"page_size must be a whole number from 1 to {max_page_size}")
    if page * page_size > MAX_OFFSET:
        raise PageError(too_deep(page_size))
    return page, page_size


def too_deep(page_size: int) -> Phrase:
    """A page past the first MAX_OFFSET rows: its OFFSET would read (and drop) them all, a
    full scan on a big table at the asker's will; filters and sorting reach any record."""
    return Phrase("page is past the first {rows} records a list pages through (at most page "
                  "{last} with {size} a page): filter or sort to reach the others",
                  rows=f"{MAX_OFFSET:,}", last=MAX_OFFSET // page_size, size=page_size)


def _ui_page_problem() -> Phrase | None:
    """FAB's screens read `page_<View>` and `psize_<View>` with a bare int(): check them first,
    then that the page is within the first MAX_OFFSET rows."""
    return _ui_arg_problem() or _ui_depth_problem()


def _ui_depth_problem() -> Phrase | None:
    for name, value in request.args.items():
        if name.startswith("page_"):
            size = int(request.args.get("psize_" + name[5:], UI_DEFAULT_PAGE_SIZE))
            if abs(int(value)) * size > MAX_OFFSET:
                return Phrase("{name}: {problem}", name=name, problem=too_deep(size))
    return None


def _ui_arg_problem() -> Phrase | None:
    for name, value in request.args.items():
        match = UI_PAGE_ARG.match(name)
        if not match:
            continue
        limit = MAX_PAGE if match.group(1) == "page" else MAX_UI_PAGE_SIZE
        low = 0 if match.group(1) == "page" else 1
        text = value.strip()
        if not (text.isascii() and text.lstrip("-").isdigit()) or len(text) > 9 \
                or not low <= int(text) <= limit:
            return Phrase("{name} must be a whole number from {low} to {limit}", name=name, low=low, limit=limit)
    return None


def _text_arg_problem() -> str | None:
    """A URL or form argument no database can store as text (PostgreSQL refuses NUL)."""
    sources = [request.args]
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        sources.append(request.form)
    for source in sources:
        for name, value in source.items(multi=True):
            fault = text_fault(name) or text_fault(value)
            if fault:
                return f"argument '{str(name)[:40]}' holds {fault}, not text"
    return None


def install_paging_guard(app: Flask) -> None:
    """Bounded `<int:...>` URL parts, a 404 for a `<pk>` no record can have, and a 400
    for bad screen page arguments and for arguments that are not storable text."""
    app.url_map.converters["int"] = RecordIdConverter

    @app.before_request
    def _check_page_args() -> Any:
        pk = (request.view_args or {}).get("pk")
        if pk is not None and not is_record_id(pk):  # FAB's screens and PUT/DELETE take <pk> as text
            return jsonify(message="Not found"), 404
        problem = _ui_page_problem() or _text_arg_problem()
        if problem is None:
            return None
        if wants_json():
            return jsonify(message=str(problem)), 400
        return error_answer(BadRequest(problem.get(current_lang()) if isinstance(problem, Phrase) else problem))
