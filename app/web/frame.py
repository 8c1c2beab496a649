"""The request frame: the app's before- and after-request hooks run as one hook of each kind.

Every request ran six before-request and seven after-request hooks (request log, page-argument
check, CSRF twice, rate limiter, FAB's `g.user`; security headers, request log, metrics,
static cache, gzip, Flask-Login's remember cookie, the rate limiter's headers), each through
Flask's `ensure_sync` (an `inspect` check per hook per request). Once the app is built they are
folded into one of each, calling the same functions in Flask's order (before: as registered,
stopping at the first answer; after: reversed, each handed the previous one's response), so
every answer, an error's included, goes through all of them as before.

Per-endpoint decisions are made once: Flask-Limiter's check (and its response headers) are
skipped for an endpoint no rate limit can apply to — FAB limits the login views only — decided
from the limiter's own resolution of that endpoint's limits; any application, default or meta
limit, in-memory fallback, or limit the limiter does not expose this way keeps it on every request.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, request


def fuse_request_hooks(app: Flask) -> None:
    """Fold the app-wide hooks registered so far into one before- and one after-request hook."""
    befores = list(app.before_request_funcs.get(None, []))
    afters = list(app.after_request_funcs.get(None, []))
    if any(inspect.iscoroutinefunction(f) for f in befores + afters):
        return  # an async hook needs Flask's ensure_sync: leave them as they are
    limiter = next(iter(app.extensions.get("limiter", ())), None)
    free = LimitFree(app, limiter)
    before_steps = tuple((f, _is_limiter_check(f, limiter)) for f in befores)
    after_steps = tuple((f, _is_limiter_headers(f, limiter)) for f in reversed(afters))

    def before_request() -> Any:
        skip = free(request.endpoint)
        for hook, limiter_step in before_steps:
            if skip and limiter_step:
                continue
            answer = hook()
            if answer is not None:
                return answer
        return None

    def after_request(response: Response) -> Response:
        skip = free(request.endpoint)
        for hook, limiter_step in after_steps:
            if skip and limiter_step:
                continue
            response = hook(response)
        return response

    app.before_request_funcs[None] = [before_request]
    app.after_request_funcs[None] = [after_request]


def _is_limiter_check(hook: Callable[..., Any], limiter: Any) -> bool:
    return limiter is not None and getattr(hook, "__self__", None) is limiter \
        and getattr(hook, "__name__", "") == "_check_request_limit"


def _is_limiter_headers(hook: Callable[..., Any], limiter: Any) -> bool:
    return limiter is not None and isinstance(hook, functools.partial) and bool(hook.args) \
        and hook.args[0] is limiter


class LimitFree:
    """Whether no rate limit can apply to an endpoint, decided once per endpoint."""

    def __init__(self, app: Flask, limiter: Any):
        self.app, self.limiter = app, limiter
        self.decided: dict[str | None, bool] = {}
        manager = getattr(limiter, "limit_manager", None)
        marked = getattr(limiter, "_marked_for_limiting", None)
        # limits that apply to every endpoint, or attributes this version does not have: never skip
        self.never = (limiter is None or manager is None or marked is None
                      or bool(getattr(limiter, "_meta_limits", True))
                      or bool(getattr(limiter, "_in_memory_fallback_enabled", True))
                      or bool(getattr(manager, "_application_limits", True))
                      or bool(getattr(manager, "_default_limits", True)))

    def __call__(self, endpoint: str | None) -> bool:
        found = self.decided.get(endpoint)
        if found is None:
            found = self.decided[endpoint] = not self.never and self._free(endpoint)
        return found

    def _free(self, endpoint: str | None) -> bool:
        if not endpoint:
            return True  # the limiter checks nothing but meta limits without an endpoint
        from flask_limiter.util import get_qualified_name

        manager = self.limiter.limit_manager
        view = self.app.view_functions.get(endpoint)
        name = get_qualified_name(view) if view else ""
        if name in self.limiter._marked_for_limiting or manager.has_hints(endpoint):
            return False
        blueprint = endpoint.rpartition(".")[0] or None
        defaults, decorated = manager.resolve_limits(self.app, endpoint, blueprint, name, True, False)
        return not defaults and not decorated
