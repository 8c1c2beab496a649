"""After the traffic: does every record change still reach the outbox's consumers once a worker
was killed (-9)? Waits (bounded) for the outbox to be empty and says how long it took, with the
jobs' states (a job the killed worker had taken stays 'queued': its rq job died with it).

    python bench/load/outbox.py postgresql+psycopg2://postgres@127.0.0.1/crm_load out.json [--wait 120]
"""

from __future__ import annotations

import argparse
import json
import time

import sqlalchemy as sa

PENDING = "SELECT count(*) FROM crm_event WHERE delivered_on IS NULL"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db")
    parser.add_argument("out")
    parser.add_argument("--wait", type=float, default=120)
    args = parser.parse_args()
    engine = sa.create_engine(args.db)
    started = time.monotonic()
    with engine.connect() as conn:
        total = conn.scalar(sa.text("SELECT count(*) FROM crm_event"))
        at_end = conn.scalar(sa.text(PENDING))
    left = at_end
    while left and time.monotonic() - started < args.wait:
        time.sleep(2)
        with engine.connect() as conn:
            left = conn.scalar(sa.text(PENDING))
    with engine.connect() as conn:
        jobs = {f"{kind} {state}": n for kind, state, n in conn.execute(sa.text(
            "SELECT kind, state, count(*) FROM crm_job GROUP BY kind, state ORDER BY kind, state"))}
    result = {"events": total, "undelivered_at_end": at_end, "undelivered_after_wait": left,
              "drained_after_s": round(time.monotonic() - started, 1) if not left else None, "jobs": jobs}
    print(json.dumps(result))
    with open(args.out, "w", encoding="utf-8") as handle:
        json.dump(result, handle)


if __name__ == "__main__":
    main()
