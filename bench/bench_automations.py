"""Automations: what a rule costs a write, and events per second through the outbox worker.

    .venv/bin/python bench/bench_automations.py                 # SQLite in a temp dir, 300 writes
    .venv/bin/python bench/bench_automations.py --db postgresql+psycopg2://postgres@127.0.0.1/crm_bench_auto

For 0, 10 and 50 rules on `deal` (each `trigger: updated` with a condition, half of them
true: a `set` of a field no rule watches), it times `--writes` API updates (p50/p99 ms:
the write itself, whose only extra is the outbox row, since rules run after the commit)
and then `drain` over the events they left (events per second, rules judged and run).
**The --db database is emptied first.**
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from app import create_app  # noqa: E402
from app.automations.process import drain  # noqa: E402
from app.security.sync import sync_permissions  # noqa: E402
from app.security.users import ensure_admin  # noqa: E402

PASSWORD = "bench-admin-1"
DEAL = """
label: {en: Deal, zh: 商机}
fields:
  name: {type: string, required: true}
  amount: {type: money}
  note: {type: string}
  touched: {type: string}
"""


def rules(count: int) -> str:
    items = []
    for i in range(count):
        condition = "amount >= 0" if i % 2 == 0 else "amount < 0"
        items.append(textwrap.dedent(f"""\
          - name: rule_{i}
            label: {{en: Rule {i}, zh: 规则 {i}}}
            entity: deal
            trigger: updated
            if: "{condition} and new.note != old.note"
            do: [{{set: {{touched: "concat('rule {i} ', note)"}}}}]
        """))
    return "rules:\n" + "".join(textwrap.indent(item, "  ") for item in items) if items else "rules: []\n"


def build(tmp: Path, db: str | None, count: int) -> Any:
    meta = tmp / f"meta{count}"
    (meta / "entities").mkdir(parents=True)
    (meta / "crm.yaml").write_text("name: Bench\nlanguages: [en, zh]\n", encoding="utf-8")
    (meta / "entities" / "deal.yaml").write_text(DEAL, encoding="utf-8")
    (meta / "automations.yaml").write_text(rules(count), encoding="utf-8")
    if db:
        from bench_engine import prepare_database

        prepare_database(db)
    url = db or f"sqlite:///{tmp / f'bench{count}.db'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "CRM_METADATA_DIR": str(meta), "TESTING": True,
                      "CRM_MIGRATIONS_DIR": str(tmp / f"mig{count}"), "CRM_OUTBOX_DISPATCH": "off",
                      "SECRET_KEY": "bench-secret-0123456789-0123456789-0123456789", "WTF_CSRF_ENABLED": False,
                      "AUTH_RATE_LIMITED": False, "RATELIMIT_ENABLED": False,
                      "CRM_WEB_STATEMENT_TIMEOUT_MS": 0})  # bulk loads through this app
    with app.app_context():
        sync_permissions(app.extensions["crm"].appbuilder)
        ensure_admin(app.extensions["crm"].appbuilder, PASSWORD)
    return app


def measure(app: Any, writes: int) -> dict[str, float]:
    client = app.test_client()
    assert client.post("/login/", data={"username": "admin", "password": PASSWORD}).status_code == 302
    pk = client.post("/api/v1/deal/", json={"name": "基准", "amount": "100"}).json["id"]
    drain(app)
    times = []
    for i in range(writes):
        start = time.perf_counter()
        answer = client.put(f"/api/v1/deal/{pk}", json={"note": f"第 {i} 次"})
        times.append((time.perf_counter() - start) * 1000)
        assert answer.status_code == 200, answer.json
    start = time.perf_counter()
    totals = drain(app)
    seconds = time.perf_counter() - start
    times.sort()
    return {"p50": statistics.median(times), "p99": times[min(len(times) - 1, int(len(times) * 0.99))],
            "events": totals["events"], "per_second": totals["events"] / seconds if seconds else 0.0,
            "fired": totals["fired"], "skipped": totals["skipped"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", default=None, help="PostgreSQL URL (emptied); default SQLite in a temp dir")
    parser.add_argument("--writes", type=int, default=300)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    print(f"{'rules':>5} {'write p50 ms':>12} {'write p99 ms':>12} {'events':>7} {'events/s':>9} "
          f"{'fired':>6} {'skipped':>7}")
    with tempfile.TemporaryDirectory() as folder:
        for count in (0, 10, 50):
            app = build(Path(folder), args.db, count)
            r = measure(app, args.writes)
            print(f"{count:>5} {r['p50']:>12.1f} {r['p99']:>12.1f} {r['events']:>7} {r['per_second']:>9.1f} "
                  f"{r['fired']:>6} {r['skipped']:>7}")
            with app.app_context():
                app.extensions["crm"].db.engine.dispose()


if __name__ == "__main__":
    main()
