"""FAB's `rison` decorator with the JSON Schema validator built once.

FAB calls `jsonschema.validate(instance, schema)` per request, which first
checks the schema itself against its meta-schema: 8 ms of a 27 ms API list
(bench/). Same parsing, same 400 messages, validator compiled at import.

A list screen's script and API clients send the same few `q` strings again and again: one
that parsed and validated is remembered (per decorated endpoint, at most ARGS_KEPT strings
of at most ARG_KEPT_CHARS), and each request gets its own copy of the parsed value. The API
list's own route (app/web/apilist.py) asks the same memory (`crm_known_rison` on the view).
"""

from __future__ import annotations

import functools
import json
import urllib.parse
from collections.abc import Callable
from typing import Any

import jsonschema
import prison
from flask import current_app, request

from .jsonbody import bad_text_path

API_URI_RIS_KEY = "q"
ARGS_KEPT = 256
ARG_KEPT_CHARS = 2000


def _copy(value: Any) -> Any:
    """A parsed rison value (dicts, lists, scalars) copied: a request may change its own."""
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def checked_rison(schema: dict[str, Any]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    validator = jsonschema.validators.validator_for(schema)(schema)

    def decorate(f: Callable[..., Any]) -> Callable[..., Any]:
        checked: dict[str, Any] = {}  # q text -> its parsed value, for q that prison parsed and that validated

        def wraps(self: Any, *args: Any, **kwargs: Any) -> Any:
            value = request.args.get(API_URI_RIS_KEY)
            kwargs["rison"] = {}
            known = checked.get(value) if value else None
            if known is not None:
                kwargs["rison"] = _copy(known)
                return f(self, *args, **kwargs)
            parsed = False
            if value:
                try:
                    kwargs["rison"] = prison.loads(value)
                    parsed = True
                except (prison.decoder.ParserException, ValueError, TypeError, RecursionError, IndexError, KeyError):
                    # prison raises more than its own error on bad text ('1e', '((((', '(page:')
                    if not current_app.config.get("FAB_API_ALLOW_JSON_QS", True):
                        return self.response_400(message="Not a valid rison argument")
                    try:
                        kwargs["rison"] = json.loads(urllib.parse.parse_qs(f"q={value}")["q"][0])
                    except (ValueError, KeyError, RecursionError):
                        return self.response_400(message="Not a valid rison/json argument")
            found = bad_text_path(kwargs["rison"])
            if found:  # JSON's \ud800 and \u0000 escapes reach text no database can store
                return self.response_400(message=f"Not a valid argument: '{found[0]}' holds {found[1]}")
            error = next(iter(validator.iter_errors(kwargs["rison"])), None)
            if error is not None:
                first = str(error).split("\n", 1)[0]
                return self.response_400(message=f"Not a valid rison schema {first}")
            if parsed and len(value or "") <= ARG_KEPT_CHARS:
                if len(checked) >= ARGS_KEPT:
                    checked.clear()  # (one atomic step: another request thread may be reading it)
                checked[value] = _copy(kwargs["rison"])
            return f(self, *args, **kwargs)

        def known(value: str) -> Any:
            """The parsed copy of a `q` text that parsed and validated before, else None."""
            found = checked.get(value)
            return None if found is None else _copy(found)

        wrapped = functools.update_wrapper(wraps, f)
        wrapped.crm_known_rison = known  # type: ignore[attr-defined]  # FAB's outer decorators copy it up
        return wrapped

    return decorate
