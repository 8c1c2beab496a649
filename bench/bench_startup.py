"""App build time and a worker's memory (issue 18, items 4 and 5), in one short run.

    PYTHONPATH=$PWD .venv/bin/python bench/bench_startup.py      # ~1 min, SQLite files in a temp dir

1. create_app for the starter metadata and a generated 50 entities x 30 fields tree
   (bench_engine.generate_metadata): cold (creates the schema) and warm (schema in place, a
   worker's boot; median of 3, wall and CPU: on a shared machine wall time moves with the
   load, CPU time much less). Targets: starter <= 1 s, 50 x 30 <= 2 s.
2. A web worker's resident memory with the 50 x 30 app: a fresh process builds it, logs in and
   opens every entity's list page and API list once (templates compiled, caches warm), then
   reads VmRSS/VmHWM from /proc. Twice: first on an empty database (that process also creates
   the schema: Alembic's comparison and revisions), then on the applied schema, as a web worker
   boots in production (`crm apply` at deploy). Target: <= 200 MB for the worker.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from bench_engine import generate_metadata, time_builds  # noqa: E402

TARGETS = {"starter metadata": 1.0, "50 entities x 30 fields": 2.0}
RSS_TARGET_MB = 200

WORKER = """
import json, sys
sys.path[:0] = [{root!r}, {bench!r}]
from bench_engine import settings
from app import create_app
from app.security.sync import sync_permissions
from app.security.users import ensure_admin
from pathlib import Path
app = create_app(settings({db!r}, Path({meta!r}), Path({tmp!r})))
with app.app_context():
    state = app.extensions["crm"]
    sync_permissions(state.appbuilder)
    ensure_admin(state.appbuilder, "bench-admin-1")
    names = [e.name for e in state.spec.entities]
    state.db.session.remove()
client = app.test_client()
assert client.post("/login/", data={{"username": "admin", "password": "bench-admin-1"}}).status_code == 302
for name in names:
    assert client.get(f"/crm/{{name}}/list/").status_code == 200, name
    assert client.get(f"/api/v1/{{name}}/").status_code == 200, name
status = dict(line.split(":", 1) for line in open("/proc/self/status") if line.startswith("Vm"))
print(json.dumps({{k: int(v.split()[0]) // 1024 for k, v in status.items() if k in ("VmRSS", "VmHWM")}}))
"""


def worker_memory(meta: Path, tmp: Path) -> dict[str, int]:
    db = f"sqlite:///{tmp / 'rss.db'}"
    code = WORKER.format(root=str(ROOT), bench=str(ROOT / "bench"), db=db, meta=str(meta), tmp=str(tmp))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    tmp = Path(tempfile.mkdtemp())
    big = generate_metadata(tmp / "meta-50x30")
    print(f"# Start-up and memory, load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs\n")
    print("| App | Cold build | Warm build (wall) | Warm build (CPU) | Target | Result (wall / CPU) |")
    print("|---|---:|---:|---:|---|---|")
    for name, meta in (("starter metadata", ROOT / "metadata"), ("50 entities x 30 fields", big)):
        cold, wall, cpu = time_builds(meta, tmp)
        verdict = " / ".join("PASS" if t <= TARGETS[name] else "FAIL" for t in (wall, cpu))
        print(f"| {name} | {cold:.2f} s | {wall:.2f} s | {cpu:.2f} s | <= {TARGETS[name]:.0f} s warm | {verdict} |",
              flush=True)
    first = worker_memory(big, tmp)  # an empty rss.db: this process creates the schema
    worker = worker_memory(big, tmp)  # the schema in place: a web worker's boot
    verdict = " / ".join("PASS" if worker[k] <= RSS_TARGET_MB else "FAIL" for k in ("VmRSS", "VmHWM"))
    print(f"\nWith 50 entities x 30 fields, every list page and API list served once (RSS / peak):\n"
          f"- web worker, schema in place: {worker['VmRSS']} MB / {worker['VmHWM']} MB "
          f"(target <= {RSS_TARGET_MB} MB: {verdict})\n"
          f"- first start, creating the schema: {first['VmRSS']} MB / {first['VmHWM']} MB")


if __name__ == "__main__":
    main()
