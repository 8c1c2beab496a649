"""Two server processes follow one version (issue 16, done means): two gunicorn instances on
the same database, each with its own migrations folder; `crm apply` run as a third process
renames a field and adds one; a client polling both sees the new field from each within
5 s of the apply, and no 5xx at any time."""

from __future__ import annotations

import http.cookiejar
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.metaversions import store
from tests.conftest import ADMIN_PASSWORD, ROOT, write_tree
from tests.receivers import closed_port
from tests.test_metadata_live import RENAMED
from tests.test_metadata_versions import DEAL

pytest.importorskip("gunicorn")


class Browser:
    """A logged-in HTTP client of one server (cookies kept)."""

    def __init__(self, port: int):
        self.base = f"http://127.0.0.1:{port}"
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def call(self, path: str, data: dict | None = None, as_json: bool = False) -> tuple[int, bytes]:
        body, headers = None, {}
        if data is not None:
            body = json.dumps(data).encode() if as_json else urllib.parse.urlencode(data).encode()
            headers["Content-Type"] = "application/json" if as_json else "application/x-www-form-urlencoded"
        request = urllib.request.Request(self.base + path, data=body, headers=headers)
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def login(self) -> None:
        status, _ = self.call("/login/", {"username": "admin", "password": ADMIN_PASSWORD})
        assert status == 200, status  # redirected to the home page


def _config(tmp: Path, name: str, settings: dict) -> Path:
    path = tmp / f"{name}_config.py"
    path.write_text("".join(f"{k} = {v!r}\n" for k, v in settings.items()), encoding="utf-8")
    return path


def _env(config: Path) -> dict[str, str]:
    env = {**os.environ, "CRM_CONFIG": str(config), "PYTHONPATH": str(ROOT)}
    for key in ("SQLALCHEMY_DATABASE_URI", "CRM_METADATA_DIR", "CRM_MIGRATIONS_DIR", "CRM_METADATA_CACHE_DIR"):
        env.pop(key, None)  # the config file decides
    return env


def _serve(config: Path, port: int, log: Path) -> subprocess.Popen:
    args = [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}",
            "--timeout", "120", "run:app"]
    return subprocess.Popen(args, cwd=str(ROOT), env=_env(config), stdout=log.open("wb"), stderr=subprocess.STDOUT)


def _wait_up(browser: Browser, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        assert server.poll() is None, log.read_text(errors="replace")
        try:
            if browser.call("/login/")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise AssertionError("server did not start: " + log.read_text(errors="replace"))


@pytest.mark.serial  # four gunicorn workers and a 5 s bound: not beside another test worker
def test_a_change_applied_by_one_process_is_served_by_two_servers_within_5_s(make_app, tmp_path):
    meta = write_tree(tmp_path / "meta", {"deal": DEAL})
    app = make_app(meta)  # the database, the first version, the admin
    common = {"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"], "CRM_METADATA_DIR": str(meta),
              "CRM_PLUGINS_DIR": app.config["CRM_PLUGINS_DIR"], "SECRET_KEY": app.config["SECRET_KEY"],
              "WTF_CSRF_ENABLED": False, "CRM_SCHEMA_MODE": "check", "CRM_METADATA_POLL_SECONDS": 1,
              "CRM_OUTBOX_DISPATCH": "off", "AUTH_RATE_LIMITED": False}
    shared_versions = Path(app.config["CRM_MIGRATIONS_DIR"])
    configs, servers, browsers, logs = {}, [], [], []
    for name in ("a", "b"):
        versions = tmp_path / name / "versions"
        shutil.copytree(shared_versions, versions)  # each host its own copy, from git
        configs[name] = _config(tmp_path, name, {**common, "CRM_MIGRATIONS_DIR": str(versions),
                                                 "CRM_METADATA_CACHE_DIR": str(tmp_path / name / "cache")})
        port, log = closed_port(), tmp_path / f"{name}.log"
        servers.append(_serve(configs[name], port, log))
        browsers.append(Browser(port))
        logs.append(log)
    try:
        for browser, server, log in zip(browsers, servers, logs, strict=True):
            _wait_up(browser, server, log)
            browser.login()
        status, body = browsers[0].call("/api/v1/deal/", {"name": "华为", "note": "老备注"}, as_json=True)
        assert status == 201, body
        statuses: list[tuple[int, int]] = []
        seen: dict[int, float] = {}
        stop = threading.Event()

        def poll(index: int) -> None:
            while not stop.is_set():
                status, body = browsers[index].call("/api/v1/deal/1")
                statuses.append((index, status))
                if status == 200 and "remark" in json.loads(body)["result"] and index not in seen:
                    seen[index] = time.monotonic()
        appeared: list[float] = []
        engine = sa.create_engine(common["SQLALCHEMY_DATABASE_URI"])

        def watch() -> None:  # when the new version comes in force in the database
            first = None
            while not stop.is_set() and not appeared:
                with engine.connect() as conn:
                    latest = store.current_id(conn)
                first = latest if first is None else first
                if latest != first:
                    appeared.append(time.monotonic())
                time.sleep(0.05)
        pollers = [threading.Thread(target=poll, args=(i,), daemon=True) for i in (0, 1)]
        pollers.append(threading.Thread(target=watch, daemon=True))
        for poller in pollers:
            poller.start()
        (meta / "entities" / "deal.yaml").write_text(RENAMED, encoding="utf-8")
        applied = subprocess.run([sys.executable, "-m", "flask", "--app", "run.py", "crm", "apply"], cwd=str(ROOT),
                                 env=_env(configs["a"]), capture_output=True, text=True, timeout=300)
        done = time.monotonic()
        assert applied.returncode == 0, applied.stdout + applied.stderr
        while len(seen) < 2 and time.monotonic() < done + 30:
            time.sleep(0.05)
        stop.set()
        for poller in pollers:
            poller.join(timeout=60)
        assert [s for s in statuses if s[1] >= 500] == [], [log.read_text(errors="replace") for log in logs]
        assert len(seen) == 2, (seen, statuses[-5:])
        engine.dispose()
        assert appeared, "the version did not change"
        delays = {index: round(when - appeared[0], 2) for index, when in seen.items()}
        print("served the new version after (s):", delays, "requests:", len(statuses))
        assert all(delay <= 5 for delay in delays.values()), delays
        status, body = browsers[1].call("/api/v1/deal/", {"name": "新", "remark": "新评语", "budget": "9.50"},
                                        as_json=True)
        assert status == 201, body
        assert list((tmp_path / "b" / "versions").glob("*.py")) != []  # B got A's revision from the version
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=30)
