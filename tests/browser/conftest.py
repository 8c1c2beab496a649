"""Browser fixtures: the real app served over HTTP, driven by headless Chromium.

`live_server` builds the app with real CSRF (as in production), loads a little
demo data and serves it from a background thread on a free local port. Each test
gets its own app and database; the demo database is built once per worker and
copied for each test on SQLite (a file copy instead of migrations and inserts).
One Chromium serves the whole session, a fresh context (cookies, storage) per page.
`page` is a logged-in admin page (it starts blank: go where the test starts)
whose every request to a host other than
127.0.0.1/localhost is aborted and recorded: the product must work offline,
so any CDN or third-party request fails the test at teardown. Server errors
(HTTP 5xx), uncaught JavaScript errors and Content-Security-Policy violations
seen by the page fail the test too, so a header change cannot silently break
a screen.

Scripts run late on a loaded machine (CI): a test that acts on a control whose behaviour a
script at the end of the page attaches must wait for that script (the navigation's `load`,
or a mark the script sets), not for an element of the page. `CRM_BROWSER_SLOW_SCRIPTS=<seconds>`
shakes such races out: the live server answers every JavaScript file (a path ending `.js`:
/static/, /crm-static/, /crm/assets/) that many seconds late, on every page (the guard's routing
turns Chromium's cache off). A `domcontentloaded` wait covers those scripts (they are
synchronous) but not what they do in a jQuery ready handler: jQuery 3 runs those in a task after
DOMContentLoaded. `CRM_BROWSER_SLOW_READY=<seconds>` runs every such handler that much later
(an init script wraps jQuery's ready), so a test that clicks before them fails. Both off by default.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from werkzeug.serving import make_server

from tests.conftest import ADMIN_PASSWORD, csrf_token

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
# A bound, not a race: every wait returns as soon as its condition holds. It is long because CI
# machines are loaded (a login took over 10 s while the PostgreSQL suite ran beside other work).
TIMEOUT_MS = 60_000


DEMO_SIZE = 20


@pytest.fixture(scope="session")
def demo_snapshot(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Where this worker keeps the demo database once built (SQLite): the file and its revisions."""
    return {"folder": tmp_path_factory.mktemp("demo-snapshot"), "day": None}


@pytest.fixture
def live_app(make_app: Callable[..., Any], database_url: str, tmp_path: Path,
             demo_snapshot: dict[str, Any]) -> Any:
    """The starter CRM with real CSRF and demo data: built and filled once per worker, copied per test."""
    from app.demo.loader import load_demo

    folder: Path = demo_snapshot["folder"]
    target = sqlite_file(database_url)
    revisions = tmp_path / "migrations"  # make_app's CRM_MIGRATIONS_DIR
    if target is not None and demo_snapshot["day"] == dt.date.today():
        shutil.copyfile(folder / "crm.db", target)
        shutil.copytree(folder / "migrations", revisions, dirs_exist_ok=True)
        return make_app(WTF_CSRF_ENABLED=True)  # its schema check reads one row: nothing to build
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        state = app.extensions["crm"]
        load_demo(state.db.session, state.models, size=DEMO_SIZE)
        state.db.session.remove()
    if target is not None:
        with sqlite3.connect(target) as source, sqlite3.connect(folder / "crm.db") as copy:
            source.backup(copy)
        shutil.copytree(revisions, folder / "migrations", dirs_exist_ok=True)
        demo_snapshot["day"] = dt.date.today()  # the demo's dates are relative to its day
    return app


def sqlite_file(url: str) -> Path | None:
    return Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite:///") else None


SLOW_SCRIPTS_ENV = "CRM_BROWSER_SLOW_SCRIPTS"
SLOW_READY_ENV = "CRM_BROWSER_SLOW_READY"


def seconds_from(name: str) -> float:
    """A slowdown's seconds from the environment (unset or empty: 0, no slowdown)."""
    text = os.environ.get(name, "").strip()
    seconds = float(text) if text else 0.0
    if seconds < 0:
        raise ValueError(f"{name} must be 0 or more seconds, not {text!r}")
    return seconds


def scripts_late(app: Any, seconds: float) -> Callable[..., Any]:
    """`app` behind a WSGI layer that answers each `.js` path `seconds` late, as a loaded machine
    may. Around the whole app rather than a before_request on it: a live app that follows metadata
    versions (test_editor) serves from a newly built app after a save, which has no such hook.
    The server is threaded, so a late script holds back nothing else."""
    def serve(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("PATH_INFO", "").endswith(".js"):
            time.sleep(seconds)
        return app(environ, start_response)
    return serve


# Runs before the page's own scripts: when jQuery arrives, each ready handler given to it
# ($(fn), $(document).ready(fn)) runs that many milliseconds late, in the order given.
LATE_READY = """(() => {
  let kept;
  Object.defineProperty(window, "jQuery", {
    configurable: true,
    get() { return kept; },
    set(jq) {
      kept = jq;
      if (jq && jq.fn && jq.fn.ready && !jq.fn.crmLate) {
        const ready = jq.fn.ready;
        jq.fn.ready = function (fn) {
          return ready.call(this, function () {
            const self = this, args = arguments;
            setTimeout(() => fn.apply(self, args), %d);
          });
        };
        jq.fn.crmLate = true;
      }
    },
  });
})();"""


def wait_for_list_actions(page: Any) -> None:
    """Wait until a list's Actions menu works. FAB binds its items, and makes the
    `window.modelActions` they call, in jQuery ready handlers, which jQuery 3 runs in a task after
    DOMContentLoaded (so after a `domcontentloaded` wait, maybe not yet); a click before them only
    follows the item's href="#". modelActions is made last, so once it is there the items work."""
    page.wait_for_function("() => window.modelActions !== undefined")


# base URL -> app, for the servers live_server runs: a page logs in through that app's login view
SERVED: dict[str, Any] = {}


@pytest.fixture
def live_server(live_app: Any) -> Iterator[str]:
    seconds = seconds_from(SLOW_SCRIPTS_ENV)
    served = scripts_late(live_app, seconds) if seconds else live_app
    server = make_server("127.0.0.1", 0, served, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="crm-live-server", daemon=True)
    thread.start()
    base_url = f"http://127.0.0.1:{server.server_port}"
    SERVED[base_url] = live_app
    try:
        yield base_url
    finally:
        SERVED.pop(base_url, None)
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        assert not thread.is_alive(), "live server thread did not stop"


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


# URLs with a scheme whose host is not 127.0.0.1/localhost. Given to the route as a
# regex so that Chromium only hands those to Python; local requests go straight on.
EXTERNAL_URL = re.compile(r"^(?!(?:https?|wss?)://(?:127\.0\.0\.1|localhost)(?:[:/?#]|$))[a-z][a-z0-9+.-]*://",
                          re.IGNORECASE)


def is_external(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme.lower() in ("data", "blob", "about", "chrome", "chrome-extension", "devtools"):
        return False
    return bool(EXTERNAL_URL.match(url)) or parts.hostname not in LOCAL_HOSTS


class PageGuard:
    """What the page did that a test must not allow: off-box requests, 5xx answers, JS errors."""

    def __init__(self) -> None:
        self.external: list[str] = []
        self.server_errors: list[str] = []
        self.page_errors: list[str] = []
        self.csp_violations: list[str] = []

    def route(self, route: Any) -> None:
        url = route.request.url
        if is_external(url):
            self.external.append(url)
            route.abort("blockedbyclient")
        else:
            route.continue_()

    def request(self, request: Any) -> None:
        # Belt and braces: every off-box request the page makes is seen here too.
        if is_external(request.url):
            self.external.append(request.url)

    def response(self, response: Any) -> None:
        if response.status >= 500:
            self.server_errors.append(f"{response.status} {response.request.method} {response.url}")

    def console(self, message: Any) -> None:
        # Chromium reports a blocked script, style, frame or fetch on the console.
        if message.type == "error" and "Content Security Policy" in message.text:
            self.csp_violations.append(message.text)

    def problems(self) -> list[str]:
        found = []
        if self.external:
            found.append(f"requests left the machine (CDN?): {sorted(set(self.external))}")
        if self.server_errors:
            found.append(f"server errors: {self.server_errors}")
        if self.page_errors:
            found.append(f"JavaScript errors: {self.page_errors}")
        if self.csp_violations:
            found.append(f"Content-Security-Policy violations: {self.csp_violations}")
        return found


def login_admin(page: Any, base_url: str, username: str = "admin", password: str = ADMIN_PASSWORD) -> None:
    """Log in through the form, as a person does (the home page loads after it)."""
    page.goto(f"{base_url}/login/", wait_until="domcontentloaded")
    page.fill("#username", username)
    page.fill("#password", password)
    with page.expect_navigation(wait_until="domcontentloaded"):
        page.locator("form[name=login] input[type=submit]").click()
    assert "/login" not in page.url, f"login failed, still on {page.url}"


@pytest.fixture
def page_guard() -> PageGuard:
    return PageGuard()


_USER_AGENTS: dict[int, str] = {}


def user_agent(browser: Any) -> str:
    """The browser's User-Agent: the login is made with it, so the session is the browser's own."""
    if id(browser) not in _USER_AGENTS:
        context = browser.new_context()
        _USER_AGENTS[id(browser)] = context.new_page().evaluate("navigator.userAgent")
        context.close()
    return _USER_AGENTS[id(browser)]


def login_cookies(app: Any, base_url: str, agent: str, username: str, password: str) -> list[dict[str, Any]]:
    """Log in through the app's own login form (real CSRF, real password check) from 127.0.0.1 with
    the browser's User-Agent, and return the cookies the browser would have been given."""
    client = app.test_client()
    client.environ_base.update({"REMOTE_ADDR": "127.0.0.1", "HTTP_USER_AGENT": agent})
    token = csrf_token(client.get("/login/").get_data(as_text=True))
    answer = client.post("/login/", data={"username": username, "password": password, "csrf_token": token})
    assert answer.status_code == 302 and "/login" not in answer.headers["Location"], \
        f"login as {username} failed ({answer.status_code})"
    session = client.get_cookie("session")
    assert session is not None, "the login set no session cookie"
    return [{"name": session.key, "value": session.value, "url": base_url, "httpOnly": True, "sameSite": "Lax"}]


@contextmanager
def guarded_page(browser: Any, base_url: str, guard: PageGuard, username: str = "admin",
                 password: str = ADMIN_PASSWORD, form_login: bool = False) -> Iterator[Any]:
    """A logged-in page whose off-machine requests, 5xx answers and JS errors fail the test.

    On a live_server the login is posted to its app directly and the page starts blank
    (a login in the browser and the home page after it cost seconds per test); with
    `form_login`, or on any other server, the page logs in through the form
    (tests/browser/test_login.py)."""
    app = None if form_login else SERVED.get(base_url)
    context = browser.new_context(base_url=base_url, locale="en-US")
    context.set_default_timeout(TIMEOUT_MS)
    context.route(EXTERNAL_URL, guard.route)
    context.on("request", guard.request)
    context.on("response", guard.response)
    ready_late = seconds_from(SLOW_READY_ENV)
    if ready_late:
        context.add_init_script(LATE_READY % (ready_late * 1000))
    try:
        if app is not None:
            context.add_cookies(login_cookies(app, base_url, user_agent(browser), username, password))
        pg = context.new_page()
        pg.on("pageerror", lambda exc: guard.page_errors.append(str(exc)))
        pg.on("console", guard.console)
        if app is None:
            login_admin(pg, base_url, username, password)
        yield pg
    finally:
        context.close()
    problems = guard.problems()
    assert not problems, "\n".join(problems)


@pytest.fixture
def page(browser: Any, live_server: str, page_guard: PageGuard) -> Iterator[Any]:
    with guarded_page(browser, live_server, page_guard) as pg:
        yield pg
