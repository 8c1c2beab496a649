"""Mixed traffic against one or more MetaCRM instances, bounded in time; figures as JSON.

    python bench/load/driver.py --base http://10.200.1.2:8000 --base http://10.200.2.2:8000 \
        --seconds 180 --users 8 --out /tmp/load.json

Each virtual user (a thread) logs in once per instance (session for pages, JWT for the API;
demo users, password demo1234) and loops over a weighted mix: list pages, record pages, API
lists, dashboards, record creation, board moves. Requests go round-robin over the instances
as a load balancer would. At the end every record the API acknowledged (201) is read back:
a missing one is a lost write. Reported: requests/s, p50/p99 per kind, status counts, 5xx,
lost writes. Standard library and `requests` only.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import re
import statistics
import threading
import time
from collections import Counter, defaultdict
from typing import Any

import requests

PASSWORD = "demo1234"
USERS = ("sales_rep", "sales_rep2", "sales_manager")  # may create and move; executive reads the writes back
MIX = (("list_html", 25), ("show_html", 20), ("api_list", 20), ("dashboard", 10), ("create", 15), ("move", 10))
STAGES = ("prospecting", "needs_analysis")


class Client:
    """One user's session and token on one instance."""

    def __init__(self, base: str, username: str):
        self.base, self.username = base, username
        self.http = requests.Session()
        page = self.http.get(f"{base}/login/", timeout=30).text
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(
            r'value="([^"]+)"[^>]*name="csrf_token"', page)
        self.http.post(f"{base}/login/", data={"username": username, "password": PASSWORD,
                                               "csrf_token": token.group(1) if token else ""}, timeout=30)
        answer = requests.post(f"{base}/api/v1/security/login", timeout=30,
                               json={"username": username, "password": PASSWORD, "provider": "db"}).json()
        self.api = {"Authorization": f"Bearer {answer['access_token']}"}


class Run:
    def __init__(self, bases: list[str], seconds: float, users: int):
        self.bases, self.seconds, self.users = bases, seconds, users
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.status: Counter[str] = Counter()
        self.errors: list[str] = []
        self.created: list[int] = []
        self.lock = threading.Lock()
        self.turn = itertools.count()
        self.clients: dict[tuple[str, str], Client] = {}

    def client(self, base: str, name: str) -> Client:
        """One login per user and instance (the login limit counts 10 a minute per address)."""
        with self.lock:
            if (base, name) not in self.clients:
                self.clients[base, name] = Client(base, name)
            return self.clients[base, name]

    def record(self, kind: str, started: float, response: requests.Response | None, error: str = "") -> None:
        with self.lock:
            self.latency[kind].append(time.perf_counter() - started)
            code = str(response.status_code) if response is not None else "error"
            self.status[code] += 1
            if (response is not None and response.status_code >= 500) or error:
                self.errors.append(f"{kind} {code} {error or response.text[:200]}")  # type: ignore[union-attr]

    def user(self, number: int, deadline: float) -> None:
        name = USERS[number % len(USERS)]
        clients = [self.client(base, name) for base in self.bases]
        rng = random.Random(number)
        mine: list[int] = []
        kinds, weights = zip(*MIX, strict=True)
        while time.monotonic() < deadline:
            client = clients[next(self.turn) % len(clients)]
            kind = rng.choices(kinds, weights)[0]
            started = time.perf_counter()
            try:
                response = self.request(client, kind, rng, mine)
            except requests.RequestException as exc:
                self.record(kind, started, None, type(exc).__name__)
                continue
            self.record(kind, started, response)

    def request(self, c: Client, kind: str, rng: random.Random, mine: list[int]) -> requests.Response:
        if kind == "list_html":
            return c.http.get(f"{c.base}/crm/opportunity/list/?page_oppo={rng.randint(0, 3)}", timeout=60)
        if kind == "show_html":
            return c.http.get(f"{c.base}/crm/account/show/{rng.randint(1, 50)}", timeout=60)
        if kind == "api_list":
            return c.http.get(f"{c.base}/api/v1/opportunity/?q=(page:{rng.randint(0, 3)},page_size:25)",
                              headers=c.api, timeout=60)
        if kind == "dashboard":
            return c.http.get(f"{c.base}/", timeout=60)
        if kind == "move" and mine:
            return c.http.post(f"{c.base}/api/v1/opportunity/{rng.choice(mine)}/move", headers=c.api, timeout=60,
                               json={"stage": rng.choice(STAGES)})
        response = c.http.post(f"{c.base}/api/v1/opportunity/", headers=c.api, timeout=60, json={
            "name": f"load {c.username} {time.time_ns()}", "account": rng.randint(1, 20),
            "amount": str(rng.randint(1, 900) * 1000), "close_date": "2027-06-30"})
        if response.status_code == 201:
            mine.append(int(response.json()["id"]))
            with self.lock:
                self.created.append(mine[-1])
        return response

    def lost_writes(self) -> list[int]:
        reader = self.client(self.bases[0], "executive")
        return [pk for pk in self.created
                if reader.http.get(f"{reader.base}/api/v1/opportunity/{pk}", headers=reader.api,
                                   timeout=60).status_code != 200]

    def go(self) -> dict[str, Any]:
        deadline = time.monotonic() + self.seconds
        threads = [threading.Thread(target=self.user, args=(n, deadline)) for n in range(self.users)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
        total = sum(self.status.values())
        every = sorted(x for values in self.latency.values() for x in values)
        return {"seconds": round(elapsed, 1), "requests": total, "rps": round(total / elapsed, 1),
                "p50_ms": pct(every, 50), "p99_ms": pct(every, 99),
                "by_kind": {k: {"n": len(v), "p50_ms": pct(sorted(v), 50), "p99_ms": pct(sorted(v), 99)}
                            for k, v in sorted(self.latency.items())},
                "status": dict(self.status), "server_errors": sum(n for c, n in self.status.items()
                                                                  if c.startswith("5") or c == "error"),
                "writes": len(self.created), "lost_writes": self.lost_writes(), "errors": self.errors[:20]}


def pct(values: list[float], p: int) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return round(values[0] * 1000, 1)
    return round(statistics.quantiles(values, n=100, method="inclusive")[p - 1] * 1000, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", action="append", required=True, help="instance URL (repeat for several)")
    parser.add_argument("--seconds", type=float, default=180)
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    emit(Run(args.base, args.seconds, args.users).go(), args.out)


def emit(result: dict[str, Any], out: str | None) -> None:
    """Print the figures as JSON and write them to `out` too (Chinese kept readable)."""
    text = json.dumps(result, indent=2, ensure_ascii=False)
    print(text)
    if out:
        with open(out, "w", encoding="utf-8") as handle:
            handle.write(text)


if __name__ == "__main__":
    main()
