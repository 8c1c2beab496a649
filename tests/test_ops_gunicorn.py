"""The shipped gunicorn.conf.py serves the app with several workers: /health answers, the
request log is JSON lines, /metrics sums the requests of every worker (multiprocess mode)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

from tests.conftest import dispose_app
from tests.jobs_support import ROOT, wait_for


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except OSError:
        return 0, b""


def test_gunicorn_config_serves_health_metrics_and_json_logs(app: Any, tmp_path: Path) -> None:
    settings = {k: str(app.config[k]) for k in ("SQLALCHEMY_DATABASE_URI", "CRM_METADATA_DIR",
                                                 "CRM_MIGRATIONS_DIR", "CRM_FILES_DIR")}
    dispose_app(app)
    port = free_port()
    env = {**os.environ, **settings, "SECRET_KEY": "s" * 48, "CRM_SCHEMA_MODE": "check",
           "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_WORKERS": "2", "PYTHONPATH": str(ROOT),
           "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"), "CRM_PLUGINS_DIR": str(tmp_path / "none")}
    log = (tmp_path / "gunicorn.log").open("w+")
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "run:app"],
                              cwd=str(ROOT), env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: get(base + "/health")[0] == 200, 90, "gunicorn to serve /health")
        for _ in range(20):
            assert get(base + "/health")[0] == 200
        status, body = get(base + "/metrics")
        assert status == 200
        served = sum(float(line.split()[-1]) for line in body.decode().splitlines()
                     if line.startswith('crm_http_requests_total{endpoint="/health",method="GET",status="200"}'))
        assert served >= 21  # every worker's requests, not one worker's
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(60)
    log.seek(0)
    lines = [json.loads(line) for line in log.read().splitlines() if line.startswith("{")]
    assert {line["path"] for line in lines} >= {"/health", "/metrics"}
    assert len({line["request_id"] for line in lines}) == len(lines)
