"""The error report of an import: its rejected rows as CSV, to fix and import again."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from app.web.export import neutralised


def error_report(session: Any, log: sa.Table, job_id: int, columns: list[str], path: Path) -> int:
    """The rejected rows as CSV (row, column, reason, then the row's own cells); returns how many."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = session.execute(sa.select(log.c.row, log.c.column, log.c.reason, log.c.data)
                           .where(log.c.job_id == job_id, log.c.outcome == "rejected").order_by(log.c.row))
    count = 0
    with path.open("w", encoding="utf-8-sig", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["row", "column", "reason", *columns])
        for row, column, reason, data in rows:
            cells = (json.loads(data) if data else {}).get("cells", [])
            writer.writerow([row, column or "", reason or "", *[neutralised(c, str(c)) for c in cells]])
            count += 1
    return count
