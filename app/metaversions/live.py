"""Every process follows the metadata version in force: a WSGI dispatcher that swaps apps.

`install(app)` puts a `LiveDispatcher` in front of `app.wsgi_app` (so `run.py`'s `app` stays a
Flask app for `flask --app run.py` and `gunicorn run:app`). At most every
CRM_METADATA_POLL_SECONDS a request runs one one-row SELECT; when the version changed, a
background thread builds the new app (never a request), and new requests go to it once it
is ready; while it builds, new requests wait for it rather than run on the version known to
be old. Requests in flight finish on the old one, whose engine is disposed when the last of
them is done. A request the old app answered with a 500 (its schema moved under it: a renamed
column) or a 400/404/422 (a field or entity it does not know) while a newer version was in
force is run again on the new app, waiting for the build: nobody sees the switch.
"""

from __future__ import annotations

import io
import logging
import threading
import time
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from werkzeug.wsgi import ClosingIterator

from app.models.autocommit import autocommit_connection

from . import store
from .build import build_app

log = logging.getLogger(__name__)
REPLAY_MAX_BYTES = 4 * 1024 * 1024  # bodies up to this size are kept to run the request again
BUILD_WAIT_SECONDS = 60.0
# answers the old models give to a request meant for the new ones: a column gone (500), a field
# or entity unknown to them (400, 404, 422); run again when a newer version is in force
REPLAYED_STATUSES = frozenset({"500", "400", "404", "422"})
RETRY_FAILED_BUILD_SECONDS = 30.0
_dispatchers: weakref.WeakSet[LiveDispatcher] = weakref.WeakSet()


@dataclass
class Served:
    """One app the dispatcher serves (or served) and the requests it has in flight."""

    app: Flask
    handler: Callable[..., Iterable[bytes]]
    version: int | None
    engine: Any = None
    in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        with self.app.app_context():
            self.engine = self.app.extensions["crm"].db.engine


class LiveDispatcher:
    def __init__(self, app: Flask, poll_seconds: float | None = None):
        self.base = app
        self.poll = float(app.config.get("CRM_METADATA_POLL_SECONDS", 2) if poll_seconds is None else poll_seconds)
        self.served = Served(app, app.wsgi_app, app.extensions.get("crm_version"))
        self._lock = threading.Lock()
        self._ready = threading.Condition(self._lock)
        self._next_check = 0.0
        self._building: int | None = None  # the version being built
        self._failed: tuple[int, float] | None = None  # (version, when): a build that failed
        self.swaps = 0
        self.closed = False  # set by close(): the Redis listener ends

    def close(self) -> None:
        """Stop listening for announcements (the poll goes on while requests come)."""
        self.closed = True

    # -- the version check -----------------------------------------------------------------

    def version_in_force(self) -> int | None:
        try:
            with autocommit_connection(self.served.engine) as conn:  # one round trip, no BEGIN/ROLLBACK
                return store.current_id(conn)
        except Exception:  # a database blip: keep serving what we have
            log.exception("metadata version check failed")
            return self.served.version

    def check(self, force: bool = False) -> int | None:
        """At most every `poll` seconds (or now, with `force`): start building the version in
        force when it is not the one served. Returns the version in force when it was read."""
        now = time.monotonic()
        if not force and now < self._next_check:
            return None
        self._next_check = now + self.poll
        latest = self.version_in_force()
        if latest is not None and latest != self.served.version:
            self._start_build(latest)
        return latest

    def _start_build(self, version: int) -> None:
        with self._lock:
            if self._building is not None:
                return
            if self._failed and self._failed[0] == version and time.monotonic() - self._failed[1] < \
                    RETRY_FAILED_BUILD_SECONDS:
                return
            self._building = version
        threading.Thread(target=self._build, args=(version,), name=f"crm-build-v{version}", daemon=True).start()

    def _build(self, version: int) -> None:
        started = time.monotonic()
        try:
            app = build_app(self.base)
            served = Served(app, app.wsgi_app, app.extensions.get("crm_version"))
        except Exception:
            log.exception("building the app for metadata version %s failed; still serving version %s",
                          version, self.served.version)
            with self._lock:
                self._failed, self._building = (version, time.monotonic()), None
                self._ready.notify_all()
            return
        with self._lock:
            old, self.served = self.served, served
            self._building = None
            self.swaps += 1
            self._ready.notify_all()
        log.info("metadata version %s in force: app built in %.2f s", served.version, time.monotonic() - started)
        self._retire(old)
        self._next_check = 0.0  # the version may have moved again while building

    def _retire(self, old: Served) -> None:
        """Dispose of the old app's engine once its last request is done."""
        def wait_and_dispose() -> None:
            while old.in_flight:
                time.sleep(0.2)
            if old.app is self.base:
                return  # run.py's app: its CLI and config stay usable
            with old.app.app_context():
                old.app.extensions["crm"].db.session.remove()
            old.engine.dispose()
        threading.Thread(target=wait_and_dispose, name="crm-retire", daemon=True).start()

    def wait_for(self, version: int, timeout: float = BUILD_WAIT_SECONDS) -> bool:
        """Block until `version` (or newer) is served; False when its build failed or timed out."""
        deadline = time.monotonic() + timeout
        while True:
            self._start_build(version)  # nothing when a build runs, or this one failed just now
            with self._lock:
                if (self.served.version or 0) >= version:
                    return True
                remaining = deadline - time.monotonic()
                failed = self._building is None and self._failed is not None and self._failed[0] == version
                if failed or remaining <= 0:
                    return False
                self._ready.wait(min(remaining, 0.5))

    # -- WSGI --------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        self.check()
        building = self._building
        if building is not None and (self.served.version or 0) < building:
            self.wait_for(building)  # a newer version is known: not served on the old one
        body = _keep_body(environ)
        served = self.served
        if body is None:
            return self._run(served, environ, start_response)
        captured: list[Any] = []

        def capture(status: str, headers: list[Any], exc_info: Any = None) -> Callable[..., Any]:
            captured[:] = [status, headers, exc_info]
            return lambda data: None  # the legacy write(): our apps never use it

        try:
            result = self._run(served, environ, capture)
        except Exception:  # propagated (TESTING, PROPAGATE_EXCEPTIONS): the same rule as a 500
            if not self._moved_past(served):
                raise
            return self._again(served, body, environ, start_response)
        if captured and captured[0][:3] in REPLAYED_STATUSES and self._moved_past(served):
            if hasattr(result, "close"):
                result.close()
            return self._again(served, body, environ, start_response)
        start_response(*captured)
        return result

    def _again(self, failed: Served, body: bytes, environ: dict[str, Any],
               start_response: Callable[..., Any]) -> Iterable[bytes]:
        log.warning("a request on metadata version %s failed after version %s came in force: run again on it",
                    failed.version, self.served.version)
        environ["wsgi.input"] = io.BytesIO(body)
        return self._run(self.served, environ, start_response)

    def _moved_past(self, served: Served) -> bool:
        latest = self.version_in_force()
        if latest is None or latest == served.version:
            return False
        return self.wait_for(latest) and self.served is not served

    def _run(self, served: Served, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        with served.lock:
            served.in_flight += 1

        def done() -> None:
            with served.lock:
                served.in_flight -= 1
        try:
            result = served.handler(environ, start_response)
        except BaseException:
            done()
            raise
        return ClosingIterator(result, [done])


def _keep_body(environ: dict[str, Any]) -> bytes | None:
    """Read a small request body so the request can run twice (None: too big to keep)."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    if length > REPLAY_MAX_BYTES or environ.get("HTTP_TRANSFER_ENCODING", "").lower() == "chunked":
        return None
    body = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(body)
    return body


CHANNEL = "crm:metadata-version"


def install(app: Flask, poll_seconds: float | None = None) -> LiveDispatcher:
    """Serve `app`'s requests through a dispatcher that follows the version in force. With
    REDIS_URL, a new version is also announced: the build starts without waiting for a request."""
    dispatcher = LiveDispatcher(app, poll_seconds)
    app.wsgi_app = dispatcher  # type: ignore[method-assign]
    _dispatchers.add(dispatcher)
    if app.config.get("REDIS_URL"):
        threading.Thread(target=_listen, args=(weakref.ref(dispatcher), app.config["REDIS_URL"]),
                         name="crm-version-listener", daemon=True).start()
    return dispatcher


def announce(app: Flask, version_id: int) -> None:
    """Tell every listening process that `version_id` is in force (best effort: the poll is the rule)."""
    url = app.config.get("REDIS_URL")
    if not url:
        return
    try:
        from redis import Redis

        Redis.from_url(url).publish(CHANNEL, str(version_id))
    except Exception:
        log.warning("could not announce metadata version %s on Redis; processes find it by polling", version_id)


def _listen(ref: weakref.ReferenceType[LiveDispatcher], url: str) -> None:
    """Build as soon as a version is announced; ends with its dispatcher (closed or gone)."""
    from redis import Redis

    def alive() -> LiveDispatcher | None:
        dispatcher = ref()
        return dispatcher if dispatcher is not None and not dispatcher.closed else None
    while alive():
        try:
            pubsub = Redis.from_url(url).pubsub(ignore_subscribe_messages=True)
            pubsub.subscribe(CHANNEL)
            while (dispatcher := alive()) is not None:
                if pubsub.get_message(timeout=1.0):
                    dispatcher.check(force=True)
                del dispatcher
            pubsub.close()
        except Exception:  # Redis gone: the per-request poll still works; try again later
            log.warning("metadata version listener lost Redis; retrying in 5 s")
            time.sleep(5)


def follow(app: Flask) -> Flask:
    """The app to run background work in: `app` when it serves the version in force, else
    the app a dispatcher of this process serves for it, else a new one (built here: callers
    are off the request path)."""
    with app.app_context():
        engine = app.extensions["crm"].db.engine
    with engine.connect() as conn:
        latest = store.current_id(conn)
    if latest is None or latest == app.extensions.get("crm_version"):
        return app
    for dispatcher in list(_dispatchers):
        served = dispatcher.served
        if served.version == latest and served.engine.url == engine.url and \
                served.app.config["CRM_METADATA_DIR"] == app.config["CRM_METADATA_DIR"]:
            return served.app  # this process's web app on that version: no second build
    return build_app(app)


def serves(app: Flask) -> bool:
    """Is `app` the one a dispatcher of this process serves?"""
    return any(d.served.app is app for d in _dispatchers)
