"""Request bodies parsed strictly: malformed JSON is a 400, not a 422 or a 500.

Flask's `get_json(silent=True)` turns a broken body into None (which read
as "not an object", 422), accepts NaN and Infinity, and lets a lone UTF-16
surrogate ("\\ud800") through to the database driver, which cannot encode it (500).
A NUL character ("\\u0000") is refused the same way: PostgreSQL cannot store it in text.
"""

from __future__ import annotations

import json
import re
from typing import Any

from flask import request

SURROGATE = re.compile("[\ud800-\udfff]")  # one pass in C: text_fault runs on every argument of every request


class BadJson(ValueError):
    """The request body is not JSON the API can store; the message names where."""


def _no_constant(name: str) -> Any:
    raise BadJson(f"Malformed JSON: {name} is not a JSON number")


def text_fault(text: str | None) -> str | None:
    """What makes `text` unstorable as text on every database (None: nothing; a multipart part
    Werkzeug could not name arrives with the name None)."""
    if not isinstance(text, str):
        return None
    if "\x00" in text:
        return "a NUL (0x00) character"
    if SURROGATE.search(text):
        return "a lone UTF-16 surrogate"
    return None


def bad_text_path(value: Any, path: str = "") -> tuple[str, str] | None:
    """(path, fault) of the first string (keys included) that cannot be stored as text, or None."""
    if isinstance(value, str):
        fault = text_fault(value)
        return (path or "(body)", fault) if fault else None
    if isinstance(value, dict):
        for key, item in value.items():
            found = bad_text_path(key, path or "(body)") or bad_text_path(item, f"{path}.{key}".lstrip("."))
            if found:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = bad_text_path(item, f"{path}[{index}]")
            if found:
                return found
    return None


def json_body() -> Any:
    """The parsed body, or BadJson: not JSON, not UTF-8, NaN/Infinity, or a lone surrogate."""
    raw = request.get_data(cache=True)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadJson("Malformed JSON: the body is not UTF-8") from None
    if not text.strip():
        raise BadJson("Malformed JSON: the body is empty")
    try:
        value = json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise BadJson(f"Malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise BadJson("Malformed JSON: nested too deeply") from None
    found = bad_text_path(value)
    if found:
        raise BadJson(f"Malformed JSON: '{found[0]}' holds {found[1]}, not text")
    return value
