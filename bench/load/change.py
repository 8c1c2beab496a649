"""The load test's metadata change, made the way a business admin makes it: through the Settings
editor's API on ONE instance, then timed until EVERY instance serves it.

    python bench/load/change.py --apply-to http://10.200.1.2:8000 \
        --poll http://10.200.1.2:8000 --poll http://10.200.2.2:8000 --out /tmp/change.json

As admin (password CRM_ADMIN_PASSWORD): `GET /api/v1/settings/files` (the files in force and their
version id), one optional string field with a Chinese label added to `entities/<entity>.yaml`,
`POST /api/v1/settings/files` with `dry_run` (the plan), then the same with the base version id
(the save: schema change applied, new version recorded and announced). From the save's answer,
each instance is polled (a new connection per request, so every gunicorn process of it can
answer) on `GET /api/v1/<entity>/_info`: the delay is when the new field is in its form
columns, `first_new_s`, and `settled_s` is the last time an old answer was seen (0 when none
after the first new one): after it, every answer had the field. The target is <= 5 s.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from typing import Any

import requests
from driver import emit  # bench/load/driver.py: run as a script, its folder is on sys.path

WINDOW_SECONDS = 30.0  # poll this long at most; keep polling 5 s after the first new answer
POLL_EVERY = 0.1


def token(base: str, password: str) -> dict[str, str]:
    answer = requests.post(f"{base}/api/v1/security/login", timeout=30,
                           json={"username": "admin", "password": password, "provider": "db"})
    answer.raise_for_status()
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def add_field(text: str, key: str) -> str:
    """The entity file with one field added first under `fields:` (the rest of the text kept)."""
    marker = "\nfields:\n"
    if marker not in text:
        raise SystemExit("no top-level 'fields:' in the entity file")
    field = (f"  {key}:\n    type: string\n    max_length: 60\n"
             f"    label: {{en: Load test region, zh: 压测区域}}\n")
    return text.replace(marker, marker + field, 1)


def has_field(base: str, headers: dict[str, str], entity: str, key: str) -> bool | None:
    """True/False from a fresh connection; None when the request failed (counted apart)."""
    try:
        answer = requests.get(f"{base}/api/v1/{entity}/_info?q=(keys:!(add_columns))", headers=headers,
                              timeout=10)
    except requests.RequestException:
        return None
    if answer.status_code != 200:
        return None
    return any(column.get("name") == key for column in answer.json().get("add_columns", []))


class Watch(threading.Thread):
    """Polls one instance from the save on; first new answer, last old one, failures."""

    def __init__(self, base: str, headers: dict[str, str], entity: str, key: str, since: float):
        super().__init__(daemon=True)
        self.base, self.headers, self.entity, self.key, self.since = base, headers, entity, key, since
        self.first_new: float | None = None
        self.last_old: float | None = None
        self.polls = self.failed = 0

    def run(self) -> None:
        end = self.since + WINDOW_SECONDS
        while time.monotonic() < end:
            seen, at = has_field(self.base, self.headers, self.entity, self.key), time.monotonic() - self.since
            self.polls += 1
            if seen is None:
                self.failed += 1
            elif seen:
                if self.first_new is None:
                    self.first_new, end = at, min(end, time.monotonic() + 5.0)
            else:
                self.last_old = at
            time.sleep(POLL_EVERY)

    def result(self) -> dict[str, Any]:
        settled = self.last_old if self.first_new is not None and (self.last_old or 0) > self.first_new \
            else self.first_new
        return {"instance": self.base, "first_new_s": _round(self.first_new), "settled_s": _round(settled),
                "polls": self.polls, "failed_polls": self.failed,
                "within_5s": settled is not None and settled <= 5.0}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def serving(base: str) -> Any:
    try:
        return requests.get(f"{base}/health", timeout=10).json()["checks"]["metadata"].get("serving")
    except (requests.RequestException, ValueError, KeyError):
        return None


def change(apply_to: str, polls: list[str], entity: str, password: str) -> dict[str, Any]:
    admin = token(apply_to, password)
    current = requests.get(f"{apply_to}/api/v1/settings/files", headers=admin, timeout=30).json()
    path = f"entities/{entity}.yaml"
    key = f"load_region_{int(time.time()) % 100000}"
    files = dict(current["files"], **{path: add_field(current["files"][path], key)})
    body = {"files": files, "base_id": current["version_id"], "message": f"load test: add {key} (压测区域)"}
    plan = requests.post(f"{apply_to}/api/v1/settings/files", headers=admin, timeout=120,
                         json={**body, "dry_run": True})
    if plan.status_code != 200:
        raise SystemExit(f"plan refused: {plan.status_code} {plan.text[:2000]}")
    watchers_headers = [token(base, password) for base in polls]
    started = time.monotonic()
    saved = requests.post(f"{apply_to}/api/v1/settings/files", headers=admin, timeout=120, json=body)
    answered = time.monotonic()
    if saved.status_code != 200:
        raise SystemExit(f"save refused: {saved.status_code} {saved.text[:2000]}")
    watches = [Watch(base, headers, entity, key, answered) for base, headers in zip(polls, watchers_headers,
                                                                                     strict=True)]
    for watch in watches:
        watch.start()
    for watch in watches:
        watch.join()
    return {"field": key, "entity": entity, "base_version": current["version_id"],
            "version": saved.json().get("version_id"), "plan_changes": plan.json().get("changes"),
            "save_seconds": round(answered - started, 2), "instances": [w.result() for w in watches],
            "serving_after": {base: serving(base) for base in polls}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--apply-to", required=True, help="the instance whose editor API gets the change")
    parser.add_argument("--poll", action="append", required=True, help="an instance to time (repeat)")
    parser.add_argument("--entity", default="opportunity")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    password = os.environ.get("CRM_ADMIN_PASSWORD")
    if not password:
        sys.exit("set CRM_ADMIN_PASSWORD (the admin's password)")
    emit(change(args.apply_to, args.poll, args.entity, password), args.out)


if __name__ == "__main__":
    main()
