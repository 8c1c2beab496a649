"""The user picker (`/api/v1/user/picker?q=`, a zh reader) with many users, for A/B runs of two trees.

    .venv/bin/python bench/bench_user_picker.py --tree /path/to/base --db URL --users 5000
    .venv/bin/python bench/bench_user_picker.py --tree $PWD --db URL --users 5000

The app of `--tree` (its `app` package first on sys.path) on `--db` (`sqlite` for a new file; a
PostgreSQL database gets `--users` users with Chinese names once, reused after), logged in as
admin reading zh. Printed: this process's CPU (`time.process_time`) and wall per call, after one
warm-up. Since branch `sortfollow` the picker orders by the shown name in the reader's collation
(all matching users sorted for the first page); before, by username (the unique index).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tree", required=True)
    parser.add_argument("--db", default="sqlite")
    parser.add_argument("--users", type=int, default=5000)
    parser.add_argument("--calls", type=int, default=50)
    args = parser.parse_args()
    sys.path.insert(0, str(Path(args.tree).resolve()))
    import sqlalchemy as sa

    from tests.conftest import STARTER, build_test_app, dispose_app, login

    tmp = Path(tempfile.mkdtemp())
    url = f"sqlite:///{tmp}/bench.db" if args.db == "sqlite" else args.db
    app = build_test_app(url, STARTER, tmp / "no-plugins")
    with app.app_context(), app.extensions["crm"].db.engine.begin() as conn:
        if conn.execute(sa.text("SELECT count(*) FROM ab_user")).scalar() < args.users:
            rng, han = random.Random(7), "阿百腾字张王李安赵钱孙周吴郑冯陈褚卫蒋沈韩杨朱秦尤许何吕施孔曹严华金魏陶姜"
            top = conn.execute(sa.text("SELECT max(id) FROM ab_user")).scalar()
            conn.execute(sa.text("INSERT INTO ab_user (id, first_name, last_name, username, email, active) "
                                 "VALUES (:id, :f, :l, :u, :e, true)"),
                         [{"id": top + 1 + i, "f": rng.choice(han), "l": "".join(rng.choices(han, k=2)),
                           "u": f"user{i}", "e": f"user{i}@example.cn"} for i in range(args.users)])
    zh = login(app.test_client())
    zh.post("/lang/zh")
    assert zh.get("/api/v1/user/picker?q=").status_code == 200
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(args.calls):
        assert zh.get("/api/v1/user/picker?q=").status_code == 200
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(f"{args.tree}: cpu {cpu / args.calls * 1000:.2f} ms/call, wall {wall / args.calls * 1000:.2f} ms/call")
    dispose_app(app)


if __name__ == "__main__":
    main()
