"""The sorts of bench_sort.py through the app, for A/B runs of two trees on one database.

    PYTHONPATH=$PWD .venv/bin/python bench/bench_sort.py --size 1000000 --db URL     # load once
    .venv/bin/python bench/bench_sort_app.py --tree /path/to/base --db URL            # then alternate
    .venv/bin/python bench/bench_sort_app.py --tree $PWD --db URL

The app of `--tree` (its `app` package first on sys.path) on the rows bench_sort.py loaded, no
schema work (CRM_SCHEMA_MODE=off), logged in as admin. Printed, median of --repeat of each
(after a warm-up; the requests alternate), wall and this process's CPU: the HTML list of
opportunities sorted by account (a link: its title per row) and the JSON list sorted by name as
a zh reader (a text sort: COLLATE "zh-x-icu" where the tree has it), page 1, 25 rows.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import tempfile
import time
from pathlib import Path
from statistics import median
from typing import Any
from urllib.parse import quote

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tree", default=str(HERE.parent))
    parser.add_argument("--db", default="postgresql+psycopg2://postgres@127.0.0.1/crm_bench")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    sys.path[:0] = [args.tree, str(HERE)]
    create_app = importlib.import_module("app").create_app  # the tree's, before bench_engine puts its own first
    from bench_engine import dispose, settings  # noqa: PLC0415

    tmp = Path(tempfile.mkdtemp())
    app = create_app({**settings(args.db, Path(args.tree) / "metadata", tmp), "CRM_SCHEMA_MODE": "off"})
    admin, zh = app.test_client(), app.test_client()
    for client in (admin, zh):
        assert client.post("/login/", data={"username": "admin", "password": "bench-admin-1"}).status_code == 302
    zh.post("/lang/zh")
    view = "OpportunityView"
    q = quote("(order_column:name,order_direction:asc,page:0,page_size:25)")
    work: list[tuple[str, Any, str]] = [
        ("HTML list by account (link title)", admin, f"/crm/opportunity/list/?_oc_{view}=account&_od_{view}=asc"),
        ("JSON list by name, zh reader", zh, f"/api/v1/opportunity/?q={q}"),
    ]
    wall: list[list[float]] = [[] for _ in work]
    cpu: list[list[float]] = [[] for _ in work]
    for _, client, url in work:  # warm-up
        assert client.get(url).status_code == 200
    for _ in range(args.repeat):
        for (_, client, url), w, c in zip(work, wall, cpu, strict=True):
            start, start_cpu = time.perf_counter(), time.process_time()
            assert client.get(url).status_code == 200
            w.append((time.perf_counter() - start) * 1000)
            c.append((time.process_time() - start_cpu) * 1000)
    import app as package  # noqa: PLC0415
    print(f"# tree {Path(package.__file__).parent.parent}, median of {args.repeat}, load average {os.getloadavg()[0]:.1f}")
    for (label, _, _), w, c in zip(work, wall, cpu, strict=True):
        print(f"  {label:<36} wall {median(w):8.1f} ms   CPU {median(c):6.1f} ms")
    dispose(app)


if __name__ == "__main__":
    main()
