"""Text sorts in Chinese order, and a list sorted by a link, at scale (PostgreSQL).

    PYTHONPATH=$PWD .venv/bin/python bench/bench_sort.py --size 100000 --db postgresql+psycopg2://postgres@127.0.0.1/x
    PYTHONPATH=$PWD .venv/bin/python bench/bench_sort.py --size 1000000 --no-load --db ...   # reuse the rows

The --db database is created if missing and EMPTIED at start (not with --no-load). The starter
app gets demo data, the opportunities are replaced by --size rows (bench_dashboards.fill), then
opportunity and account names are made Chinese company names from a list of 40 (so the order
compares the first characters, as real names do) and VACUUM ANALYZEd. Printed, the median
of --repeat alternating runs of each pair and one EXPLAIN ANALYZE of each statement:

1. page 1 (26 rows) ORDER BY name, id: the database's collation against COLLATE "zh-x-icu",
   without an index on name, then with a plain index and with one on (name COLLATE "zh-x-icu");
2. page 1 and page 100 sorted by the account link's title: the correlated subquery per row
   (what app/web/linksort.py built before) against a LEFT JOIN of the account, as a user who may
   read every account and as one whose account scope is `own` (the title behind a CASE / in the
   join condition, as the app writes it).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from _rows import alternating_ms  # noqa: E402
from bench_dashboards import fill, starter_app  # noqa: E402
from bench_engine import dispose  # noqa: E402

NAMES = ("阿里巴巴 百度 腾讯 字节跳动 华为 小米 京东 美团 网易 拼多多 滴滴 快手 携程 新浪 搜狐 "
         "联想 海尔 格力 美的 比亚迪 吉利 长城 中兴 大疆 蔚来 理想 小鹏 顺丰 安踏 李宁 "
         "茅台 五粮液 伊利 蒙牛 海底捞 瑞幸 喜茶 招商 平安 工商").split()
ZH = 'COLLATE "zh-x-icu"'
PAGE = "LIMIT 26 OFFSET {offset}"


def chinese_names(engine: sa.Engine) -> None:
    names = "ARRAY[" + ",".join(f"'{n}'" for n in NAMES) + "]"
    with engine.begin() as conn:
        conn.exec_driver_sql(f"UPDATE opportunity SET name = ({names})[1 + (id * 7) %% {len(NAMES)}] || ' ' || id")
        conn.exec_driver_sql(f"UPDATE account SET name = ({names})[1 + (id * 3) %% {len(NAMES)}] || ' ' || id")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE opportunity")
        conn.exec_driver_sql("VACUUM ANALYZE account")


def name_sorts() -> dict[str, str]:
    return {"database collation (C.UTF-8)": f"SELECT id FROM opportunity ORDER BY name, id {PAGE}",
            'COLLATE "zh-x-icu"': f"SELECT id FROM opportunity ORDER BY name {ZH}, id {PAGE}"}


def link_sorts(rep: int) -> dict[str, str]:
    """The account title as the sort key, by subquery and by join, for scope all and own."""
    own = f"a.owner_id = {rep}"
    return {
        "all, subquery": "SELECT o.id FROM opportunity o ORDER BY (SELECT a.name FROM account a "
                         f"WHERE a.id = o.account_id) {ZH} NULLS FIRST, o.id {PAGE}",
        "all, join": "SELECT o.id FROM opportunity o LEFT JOIN account a ON a.id = o.account_id "
                     f"ORDER BY a.name {ZH} NULLS FIRST, o.id {PAGE}",
        "own, subquery": f"SELECT o.id FROM opportunity o ORDER BY (SELECT CASE WHEN {own} THEN a.name END "
                         f"FROM account a WHERE a.id = o.account_id) {ZH} NULLS FIRST, o.id {PAGE}",
        "own, join": f"SELECT o.id FROM opportunity o LEFT JOIN account a ON a.id = o.account_id AND {own} "
                     f"ORDER BY a.name {ZH} NULLS FIRST, o.id {PAGE}",
    }


def run(engine: sa.Engine, sql: str) -> None:
    with engine.connect() as conn:
        assert len(conn.exec_driver_sql(sql).fetchall()) == 26


def explain(engine: sa.Engine, sql: str) -> str:
    with engine.connect() as conn:
        plan = [r[0] for r in conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS OFF) " + sql)]
    return "\n      ".join(plan)


def compare(engine: sa.Engine, title: str, statements: dict[str, str], repeat: int, offset: int = 0,
            show_plans: bool = True) -> None:
    sqls = [s.format(offset=offset) for s in statements.values()]
    times = alternating_ms([lambda s=s: run(engine, s) for s in sqls], repeat)
    print(f"\n## {title} (offset {offset}), median of {repeat}, load average {os.getloadavg()[0]:.1f}")
    for (label, sql), ms in zip(statements.items(), times, strict=True):
        print(f"  {label:<32} {ms:9.1f} ms")
        if show_plans:
            print("      " + explain(engine, sql.format(offset=offset)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--db", default="postgresql+psycopg2://postgres@127.0.0.1/crm_bench")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--no-load", action="store_true", help="reuse the rows of an earlier run")
    args = parser.parse_args()
    engine = sa.create_engine(args.db)
    if not args.no_load:
        app = starter_app(args.db, "bench-admin-1")
        with app.app_context():
            owners = sorted(u.id for u in app.extensions["crm"].appbuilder.sm.get_all_users())
        started = time.perf_counter()
        fill(engine, args.size, owners)
        chinese_names(engine)
        print(f"# {args.size:,} opportunities loaded in {time.perf_counter() - started:.0f} s")
        dispose(app)
    with engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT count(*) FROM opportunity").scalar()
        rep = conn.exec_driver_sql("SELECT id FROM ab_user WHERE username = 'sales_rep'").scalar() or 0
    print(f"# Sorts: {rows:,} opportunities, PostgreSQL, load average {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} CPUs")
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP INDEX IF EXISTS bench_name_plain")
        conn.exec_driver_sql("DROP INDEX IF EXISTS bench_name_zh")
    compare(engine, "Sort by name, no index on name", name_sorts(), args.repeat)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE INDEX bench_name_plain ON opportunity (name)")
        conn.exec_driver_sql(f"CREATE INDEX bench_name_zh ON opportunity ((name {ZH}))")
    compare(engine, "Sort by name, plain index and (name COLLATE zh) index", name_sorts(), args.repeat)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP INDEX bench_name_plain")
        conn.exec_driver_sql("DROP INDEX bench_name_zh")
    compare(engine, "Sort by the account link's title", link_sorts(rep), args.repeat)
    compare(engine, "Sort by the account link's title", link_sorts(rep), args.repeat, offset=99 * 25,
            show_plans=False)
    engine.dispose()


if __name__ == "__main__":
    main()
