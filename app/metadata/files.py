"""Why a metadata path that exists is not a file we can read (CRM-E028).

A dangling or looping symbolic link, a folder named `deal.yaml` or a file the CRM's user
may not read would otherwise be skipped in silence (the entity just vanishes) or stop
start-up with a traceback; each is reported with what to do instead.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path


def unreadable_reason(path: Path) -> tuple[str, str] | None:
    """(what is wrong, hint) for a path that is there but cannot be read; None when it
    is a readable file or is not there at all (a missing file is CRM-E019's)."""
    try:
        link = path.is_symlink()
    except OSError:
        link = False
    try:
        info = path.stat()
    except OSError as exc:
        if not link:
            return None
        target = os.readlink(path)
        if exc.errno == errno.ELOOP:
            return (f"is a symbolic link loop (-> {target})", "point the link at a real file, or remove it")
        return (f"is a symbolic link to {target}, which does not exist",
                "restore the file it points to, or remove the link")
    if stat.S_ISDIR(info.st_mode):
        return ("is a folder, not a file", "metadata files are YAML files; rename or move the folder")
    if not stat.S_ISREG(info.st_mode):
        return ("is not a regular file", "metadata files are plain YAML files")
    if not os.access(path, os.R_OK):
        return ("cannot be read (permission denied)", "make it readable by the user running the CRM")
    return None
