"""Schema-change benchmark: `crm plan` and `crm apply` of one added field on a big table.

On PostgreSQL: an entity `deal` filled with --rows rows (one INSERT ... SELECT over
generate_series), then two metadata changes, each planned and applied the way
`crm plan` / `crm apply` do (make_plan; apply_plan: plan again, write the revision,
run it through Alembic, record the version):

1. one optional field (ADD COLUMN, no default);
2. one required field with a default (ADD COLUMN ... DEFAULT 'smb' NOT NULL: since
   PostgreSQL 11 a constant default is stored once, not written into every row).

Next to each, the bare `ALTER TABLE ... ADD COLUMN` that does the same to the table
(on a column of another name, dropped after) and the ratio apply / bare.
The --db database is created if missing and EMPTIED (DROP SCHEMA public CASCADE).

    .venv/bin/python bench/bench_schema.py --rows 1000000
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_engine import prepare_database as reset  # noqa: E402

from app import create_app  # noqa: E402
from app.schema.apply import apply_plan  # noqa: E402
from app.schema.plan import make_plan  # noqa: E402
from tests.conftest import write_tree  # noqa: E402

DEAL = """
label: Deal
fields:
  name: {type: string, required: true, max_length: 100}
  amount: {type: money}
  stage: {type: choice, choices: [new, won, lost]}
"""
OPTIONAL = "  note: {type: string}\n"
REQUIRED = "  segment: {type: choice, choices: [smb, ent], required: true, default: smb}\n"


def app_for(url: str, meta: Path, work: Path):
    return create_app({"SQLALCHEMY_DATABASE_URI": url, "CRM_METADATA_DIR": str(meta),
                       "CRM_MIGRATIONS_DIR": str(work / "migrations" / "versions"),
                       "CRM_PLUGINS_DIR": str(work / "none"), "CRM_SCHEMA_MODE": "off",
                       "CRM_WEB_STATEMENT_TIMEOUT_MS": 0})  # schema work on 1M rows, as `crm apply` runs it


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return (time.perf_counter() - start) * 1000, result


def bare_ms(engine: sa.Engine, sql: str, column: str, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        with engine.begin() as conn:
            start = time.perf_counter()
            conn.exec_driver_sql(sql)
            samples.append((time.perf_counter() - start) * 1000)
        with engine.begin() as conn:
            conn.exec_driver_sql(f'ALTER TABLE deal DROP COLUMN "{column}"')
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--db", default="postgresql+psycopg2://postgres@127.0.0.1/crm_bench_schema")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each bare ALTER (median)")
    args = parser.parse_args()
    reset(args.db)
    work = Path(tempfile.mkdtemp(prefix="bench_schema_"))
    meta = write_tree(work / "meta", {"deal": DEAL})
    first = app_for(args.db, meta, work)
    with first.app_context():
        engine = first.extensions["crm"].db.engine
        state = first.extensions["crm"]
        apply_plan(engine, state.models, work / "migrations" / "versions")  # the table, through migrations
        load_ms, _ = timed(lambda: _fill(engine, args.rows))
    print(f"{args.rows:,} rows loaded in {load_ms / 1000:.1f} s (INSERT ... SELECT generate_series, VACUUM ANALYZE)")
    rows = []
    for label, extra, bare_sql, column in (
        ("Add one optional field", OPTIONAL, 'ALTER TABLE deal ADD COLUMN "bare" VARCHAR(255)', "bare"),
        ("Add one required field with a default", OPTIONAL + REQUIRED,
         "ALTER TABLE deal ADD COLUMN \"bare\" VARCHAR(64) DEFAULT 'smb' NOT NULL", "bare"),
    ):
        write_tree(meta, {"deal": DEAL + extra})
        app = app_for(args.db, meta, work)
        with app.app_context():
            state = app.extensions["crm"]
            with state.db.engine.connect() as conn:
                plan_ms, plan = timed(lambda: make_plan(conn, state.models))  # noqa: B023
            apply_ms, applied = timed(lambda: apply_plan(state.db.engine, state.models,  # noqa: B023
                                                         work / "migrations" / "versions"))
            assert applied.revision, plan.changes
            bare = bare_ms(state.db.engine, bare_sql, column, args.repeat)
            state.db.engine.dispose()
        rows.append((label, plan_ms, apply_ms, bare))
        print(f"{label}: plan {plan_ms:.0f} ms, apply {apply_ms:.0f} ms, bare ALTER {bare:.1f} ms")
    print(f"\nSchema changes, {args.rows:,} rows, PostgreSQL (`bench/bench_schema.py`):\n")
    print("| Change | crm plan | crm apply | Bare ALTER TABLE | Apply / bare |")
    print("|---|---:|---:|---:|---:|")
    for label, plan_ms, apply_ms, bare in rows:
        print(f"| {label} | {plan_ms:.0f} ms | {apply_ms:.0f} ms | {bare:.1f} ms | {apply_ms / bare:.0f}x |")


def _fill(engine: sa.Engine, rows: int) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO deal (name, amount, stage, created_on, changed_on) "
            f"SELECT 'deal ' || g, (g % 100000) * 1.5, (ARRAY['new','won','lost'])[1 + g % 3], now(), now() "
            f"FROM generate_series(1, {rows}) AS g"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE deal")


if __name__ == "__main__":
    main()
