"""CPU per warm HTML list request of one tree's app, for A/B runs of two trees on one database.

    PYTHONPATH=$PWD .venv/bin/python bench/bench_pages.py --size 100000 --db URL   # load once
    for i in 1 2 3; do for t in /path/to/main $PWD; do
        .venv/bin/python bench/bench_list_cpu.py --tree $t --db URL; done; done      # alternate
    .venv/bin/python bench/bench_list_cpu.py --tree $PWD --db URL --layouts         # cached vs fab

The app of `--tree` (its `app` package first on sys.path) on the rows already loaded, no schema
work, signed in as admin and as a Sales Rep (`own` rows). Printed, per request: the process's
CPU (`time.process_time`) of 20 warm requests, median of --rounds, for the opportunity list's
page 1 and page 100 (25 rows, close_date desc), with the load average. `--layouts`: the same
app alternating `CRM_LIST_LAYOUT=cached` and `fab` request block by request block (one process:
the load-proof comparison of a setting).
"""

from __future__ import annotations

import argparse
import importlib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PER_ROUND = 20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tree", default=str(HERE.parent))
    parser.add_argument("--db", default="postgresql+psycopg2://postgres@127.0.0.1/crm_bench")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--layouts", action="store_true")
    args = parser.parse_args()
    sys.path[:0] = [args.tree, str(HERE)]
    create_app = importlib.import_module("app").create_app  # the tree's, before bench_engine puts its own first
    demo_password = importlib.import_module("app.demo.users").DEMO_PASSWORD
    freeze = importlib.import_module("app.ops.heap").freeze_built_heap
    from _rows import html_url  # noqa: PLC0415
    from bench_engine import dispose, settings  # noqa: PLC0415

    app = create_app({**settings(args.db, Path(args.tree) / "metadata", Path(tempfile.mkdtemp())),
                      "CRM_SCHEMA_MODE": "off"})
    clients = {}
    for name, password in (("admin", "bench-admin-1"), ("sales_rep", demo_password)):
        client = app.test_client()
        assert client.post("/login/", data={"username": name, "password": password}).status_code == 302
        clients[name] = client
    freeze()
    work = [(f"{name}, page {page + 1}", client, html_url(page)) for name, client in clients.items()
            for page in (0, 99)]
    sides = ("cached", "fab") if args.layouts else (app.config.get("CRM_LIST_LAYOUT", "cached"),)
    cpu: dict[tuple[str, str], list[float]] = {(label, side): [] for label, _, _ in work for side in sides}
    for _, client, url in work:  # warm: caches, statements, layouts
        for side in sides:
            app.config["CRM_LIST_LAYOUT"] = side
            for _ in range(3):
                assert client.get(url).status_code == 200
    for turn in range(args.rounds):
        for label, client, url in work:
            for side in sides if turn % 2 == 0 else sides[::-1]:
                app.config["CRM_LIST_LAYOUT"] = side
                start = time.process_time()
                for _ in range(PER_ROUND):
                    client.get(url)
                cpu[(label, side)].append((time.process_time() - start) * 1000 / PER_ROUND)
    print(f"{args.tree}: CPU per warm HTML list request, median of {args.rounds} x {PER_ROUND}, "
          f"load average {os.getloadavg()[0]:.1f}")
    for label, _, _ in work:
        print(f"  {label:<22}" + "".join(f"  {side} {statistics.median(cpu[(label, side)]):6.2f} ms" for side in sides))
    dispose(app)


if __name__ == "__main__":
    main()
