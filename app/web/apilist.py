"""The API list's GET served by a route of our own, in front of FAB's (issue 18).

FAB's `get_list` runs through a stack of wrappers on every request: `protect` (the
permission name worked out again, then `is_item_public` and `has_access`), `safe`, our
`checked_rison`, five `merge_response_func`s, then `set_response_key_mappings` and the
hidden-label strip over the answer. Once the app is built, each record API's `get_list`
endpoint is served by `lean_list_view` instead, which answers the common request itself:

- the access decision is `protect`'s for a browser session, from the same (cached) calls:
  the resource public, or `has_access` for the signed-in user;
- `q` is the parsed copy `checked_rison` kept for that text;
- the answer is `list_body` (the same method FAB's route runs; given `q`'s text, it runs a
  read kept for the same text and reader again: app/web/listkeep.py) joined with FAB's label,
  column and title keys made once per (`keys`, language, hidden fields): `list_frame`;
- an exception is answered as `safe` answers it.

Everything else goes to FAB's own view, unchanged, which then decides and answers as it
always did: no login or no permission (401/403, with FAB's log line), a bearer token or API
key, a `q` not seen before or not valid (parsed, validated and kept there, or a 400), and
every request when `CRM_REQUEST_FRAME=fab`. The OpenAPI document is made from the API
classes, not from the URL map, so it does not change. `tests/test_api_listroute.py` compares
the two routes' answers byte for byte.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, request
from flask_appbuilder.api import get_error_msg
from flask_appbuilder.api import log as fab_api_log
from flask_appbuilder.const import PERMISSION_PREFIX
from werkzeug.exceptions import BadRequest

from .api import RecordApi


def install_list_routes(app: Flask) -> int:
    """Serve every record API's list GET by `lean_list_view`; how many were replaced."""
    appbuilder = app.appbuilder  # type: ignore[attr-defined]
    replaced = 0
    for api in appbuilder.baseviews:
        if not isinstance(api, RecordApi) or api.blueprint is None:
            continue
        endpoint = f"{api.blueprint.name}.get_list"
        original = app.view_functions.get(endpoint)
        if original is None or getattr(api.get_list, "crm_known_rison", None) is None:
            continue
        app.view_functions[endpoint] = lean_list_view(api, original)
        replaced += 1
    return replaced


def lean_list_view(api: RecordApi, original: Callable[..., Any]) -> Callable[..., Any]:
    """The list GET of `api`, answered here when a browser session may read it, else by FAB's view."""
    name = api.method_permission_name.get("get_list") if api.method_permission_name else None
    permission = f"{PERMISSION_PREFIX}{name or api.get_list._permission_name}"
    resource = api.class_permission_name
    known = api.get_list.crm_known_rison
    if permission not in api.base_permissions:
        return original  # FAB answers 403 to everyone: nothing to speed up

    def get_list(**kwargs: Any) -> Any:
        config = current_app.config
        if kwargs or config.get("CRM_REQUEST_FRAME", "lean") != "lean" or config.get("FAB_API_KEY_ENABLED") \
                or "Authorization" in request.headers:
            return original(**kwargs)
        value = request.args.get("q")
        args = known(value) if value else {}
        if args is None:  # a `q` not seen yet: FAB's view parses, validates and keeps it (or says 400)
            return original(**kwargs)
        sm = current_app.appbuilder.sm  # type: ignore[attr-defined]
        if not (sm.is_item_public(permission, resource) or sm.has_access(permission, resource)):
            return original(**kwargs)  # FAB's view refuses (401 or 403) and logs it
        try:
            body = api.list_body(args, value or "")
            if not isinstance(body, dict):
                return body
            body.update(api.list_frame(args))
            return api.response(200, **body)
        except BadRequest as exc:  # as FAB's `safe`
            return api.response_400(message=str(exc))
        except Exception as exc:
            fab_api_log.exception(exc)
            return api.response_500(message=get_error_msg())

    return functools.update_wrapper(get_list, original)
