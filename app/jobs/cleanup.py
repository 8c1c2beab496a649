"""Old files go: uploads, error reports and export files older than CRM_FILES_KEEP_DAYS.

Everything under CRM_FILES_DIR is a file a job needs only for a while: an upload waits
for its mapping and its import, an error report or an export for its download. The
automations tick (every minute, `flask crm automations tick` or its job) and `flask crm
files clean` remove those last modified more than CRM_FILES_KEEP_DAYS days ago (default
7; 0 keeps everything), never a file a queued or running job names (its upload, its note,
the file it writes), whatever its age.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from flask import Flask

DEFAULT_KEEP_DAYS = 7


def keep_days(app: Flask) -> float:
    value = app.config.get("CRM_FILES_KEEP_DAYS")
    return DEFAULT_KEEP_DAYS if value in (None, "") else float(value)


def _named(job: Any) -> set[str]:
    """The files (relative to CRM_FILES_DIR) a job names: its payload's file, its upload's note, its results."""
    names = set()
    upload = (job.payload or {}).get("file")
    if isinstance(upload, str):
        names |= {upload, str(Path(upload).with_suffix(".json"))}
    for relative in ((job.result or {}).get("files") or {}).values():
        names.add(str(relative))
    return names


def in_use(app: Flask) -> set[Path]:
    """Files of queued and running jobs (absolute, resolved); a running export or import also
    writes `exports/job-<id>-*` and `imports/job-<id>-*`, kept by their job id."""
    from . import job_store

    root = Path(app.config["CRM_FILES_DIR"]).resolve()
    kept: set[Path] = set()
    with app.app_context():
        jobs = job_store(app).in_states("queued", "running")
    for job in jobs:
        kept |= {(root / name).resolve() for name in _named(job)}
        for folder in ("exports", "imports"):
            kept |= set((root / folder).glob(f"job-{job.id}-*"))
    return {p.resolve() for p in kept}


def clean_files(app: Flask, now: float | None = None) -> dict[str, int]:
    """Remove the files past their keeping time; {"removed": n, "kept_in_use": m}."""
    days = keep_days(app)
    root = Path(app.config["CRM_FILES_DIR"])
    if days <= 0 or not root.is_dir():
        return {"removed": 0, "kept_in_use": 0}
    cutoff = (now if now is not None else time.time()) - days * 86400
    busy = in_use(app)
    removed = kept = 0
    for folder, _, files in os.walk(root):
        for name in files:
            path = Path(folder) / name
            try:
                if path.stat().st_mtime >= cutoff:
                    continue
                if path.resolve() in busy:
                    kept += 1
                    continue
                path.unlink()
                removed += 1
            except FileNotFoundError:  # another worker took it first
                continue
    return {"removed": removed, "kept_in_use": kept}

