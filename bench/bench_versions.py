"""Metadata versions: what a new version costs a running process (issue 16, item 5).

For the starter metadata and a generated 50 entities x 30 fields tree, on a SQLite file
(or --db PostgreSQL, emptied at start):

1. create_app warm (the schema exists): what the live switch builds on its background thread;
2. apply_files of one added field: the dry run (the editor's plan) and the apply (check,
   plan, revision, upgrade, version row in the same transaction);
3. the per-request version check (one one-row SELECT), median;
4. the switch as a client sees it: from the new version in force to the first request
   answered by the new app (poll every 0.2 s), the requests in between answered by the old
   app meanwhile (never waiting for the build) and their slowest time.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from bench_engine import dispose, generate_metadata, prepare_database, settings  # noqa: E402

from app import create_app  # noqa: E402
from app.metaversions import store  # noqa: E402
from app.metaversions.apply import apply_files  # noqa: E402
from app.metaversions.live import install  # noqa: E402
from app.security.sync import sync_permissions  # noqa: E402
from app.security.users import ensure_admin  # noqa: E402

PASSWORD = "bench-admin-1"


def _settings(url: str, meta: Path, tmp: Path, **extra: Any) -> dict[str, Any]:
    return {**settings(url, meta, tmp), "CRM_METADATA_CACHE_DIR": str(tmp / "cache"), **extra}


def measure(name: str, meta: Path, url: str, tmp: Path, entity: str) -> dict[str, float]:
    app = create_app(_settings(url, meta, tmp, CRM_METADATA_POLL_SECONDS=0.2))
    with app.app_context():
        sync_permissions(app.extensions["crm"].appbuilder)
        ensure_admin(app.extensions["crm"].appbuilder, PASSWORD)
        engine = app.extensions["crm"].db.engine
    walls, cpus = [], []
    for _ in range(3):
        start, cpu = time.perf_counter(), time.process_time()
        dispose(create_app(_settings(url, meta, tmp, CRM_METADATA_FOLLOW="version")))
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    checks = []
    for _ in range(200):
        start = time.perf_counter()
        with engine.connect() as conn:
            store.current_id(conn)
        checks.append(time.perf_counter() - start)
    base = store.current(engine)
    path = f"entities/{entity}.yaml"
    files = {**base.files, path: base.files[path].replace("\nfields:\n", "\nfields:\n  bench_extra: {type: string}\n", 1)}
    start, cpu = time.perf_counter(), time.process_time()
    plan = apply_files(app, files, base_id=base.id, author="bench", message="plan", dry_run=True)
    dry, dry_cpu = time.perf_counter() - start, time.process_time() - cpu
    assert plan.ok and plan.changes, plan
    live = install(app)
    client = app.test_client()
    client.post("/login/", data={"username": "admin", "password": PASSWORD})
    assert client.get(f"/api/v1/{entity}/?q=(page_size:1)").status_code == 200
    start = time.perf_counter()
    result = apply_files(app, files, base_id=base.id, author="bench", message="apply", write_back=False)
    applied = time.perf_counter() - start
    assert result.ok and result.version_id, result
    in_force, old_answers, slowest = time.perf_counter(), 0, 0.0
    while live.served.version != result.version_id:
        t0 = time.perf_counter()
        assert client.get(f"/api/v1/{entity}/?q=(page_size:1)").status_code == 200
        slowest = max(slowest, time.perf_counter() - t0)
        old_answers += 1
    switch = time.perf_counter() - in_force
    assert client.get(f"/api/v1/{entity}/?q=(columns:!(bench_extra),page_size:1)").status_code == 200
    dispose(live.served.app)
    dispose(app)
    return {"build": statistics.median(walls), "build_cpu": statistics.median(cpus), "dry_cpu": dry_cpu,
            "check_ms": statistics.median(checks) * 1000, "dry": dry,
            "apply": applied, "switch": switch, "old_answers": old_answers, "slowest_ms": slowest * 1000}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", default="", help="PostgreSQL URL (emptied at start!); default: SQLite files")
    args = parser.parse_args()
    logging.getLogger("flask_appbuilder").setLevel(logging.ERROR)
    tmp = Path(tempfile.mkdtemp(prefix="crm-bench-versions-"))
    trees = {"starter": (ROOT / "metadata", "lead"),
             "50 entities x 30 fields": (generate_metadata(tmp / "meta-50x30"), "ent50")}
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print("| metadata | app build (warm, median of 3) | version check | plan (dry run) | apply | "
          "switch seen by a client | requests served by the old app meanwhile (slowest) |")
    print("|---|---|---|---|---|---|---|")
    for i, (name, (meta, entity)) in enumerate(trees.items()):
        if args.db:
            prepare_database(args.db)
            url = args.db
        else:
            url = f"sqlite:///{tmp / f'versions-{i}.db'}"
        r = measure(name, meta, url, tmp / f"run-{i}", entity)
        print(f"| {name} | {r['build']:.2f} s ({r['build_cpu']:.2f} s CPU) | {r['check_ms']:.2f} ms | "
              f"{r['dry']:.2f} s ({r['dry_cpu']:.2f} s CPU) | {r['apply']:.2f} s | "
              f"{r['switch']:.2f} s | {r['old_answers']:.0f} ({r['slowest_ms']:.0f} ms) |")


if __name__ == "__main__":
    main()
