"""Metadata files as data: a version is {relative posix path: text}.

Read a folder into that form, write it back (only what changed), materialise a version
into a cache folder named after its digest (the same files, the same folder, whatever
the database), show the difference as a unified diff, and tell whether a folder already
holds what a version changed.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path, PurePosixPath

SUFFIXES = (".yaml", ".yml")
Files = dict[str, str]
UNREADABLE = "\x00unreadable: "


def read_tree(root: Path) -> Files:
    """Every YAML file under `root` (hidden ones left out), by relative posix path."""
    files: Files = {}
    if not root.is_dir():
        return files
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if any(part.startswith(".") for part in rel.parts) or path.suffix not in SUFFIXES:
            continue
        try:
            files[rel.as_posix()] = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            # not a version's file: a marker keeps the set new, so the loader reports it (CRM-E028)
            files[rel.as_posix()] = f"{UNREADABLE}{exc}"
    return files


def files_digest(files: Files) -> str:
    """A digest of every file's path and text (automations.yaml included)."""
    payload = json.dumps(sorted(files.items()), ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]


def bad_path(name: str) -> str | None:
    """Why `name` cannot be a metadata file of a version (None: it can)."""
    path = PurePosixPath(name)
    if not name or path.is_absolute() or "\\" in name or any(p in ("..", "") or p.startswith(".")
                                                             for p in name.split("/")):
        return "must be a relative path inside the metadata folder (no '..', no hidden parts)"
    if path.suffix not in SUFFIXES:
        return "must be a YAML file (.yaml or .yml)"
    return None


def write_tree(root: Path, files: Files, previous: Files | None = None) -> list[str]:
    """Write `files` into `root`: changed files replaced whole (never half-written), files of
    `previous` that are gone removed. Returns the paths written or removed."""
    previous = read_tree(root) if previous is None else previous
    done: list[str] = []
    for name, text in files.items():
        if previous.get(name) == text:
            continue
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".crm-")
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.replace(tmp, target)
        done.append(name)
    for name in previous:
        if name not in files:
            (root / name).unlink(missing_ok=True)
            done.append(name)
    return done


def materialise(files: Files, cache: Path) -> Path:
    """The folder `cache/<digest>` holding exactly `files` (written once, atomically)."""
    folder = cache / files_digest(files)
    if folder.is_dir():
        return folder
    cache.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=cache, prefix=".tmp-"))
    write_tree(tmp, files, previous={})
    try:
        tmp.rename(folder)
    except OSError:  # another process materialised it first
        shutil.rmtree(tmp, ignore_errors=True)
    return folder


def unified_diff(old: Files, new: Files, old_label: str = "a", new_label: str = "b") -> dict[str, str]:
    """{path: unified diff} for every file that differs (added and removed files too)."""
    out: dict[str, str] = {}
    for name in sorted(set(old) | set(new)):
        before, after = old.get(name), new.get(name)
        if before == after:
            continue
        lines = difflib.unified_diff((before or "").splitlines(keepends=True),
                                     (after or "").splitlines(keepends=True),
                                     f"{old_label}/{name}" if before is not None else "/dev/null",
                                     f"{new_label}/{name}" if after is not None else "/dev/null")
        out[name] = "".join(lines)
    return out


def holds_changes(folder: Files, base: Files, changed: Files) -> bool:
    """Does `folder` hold what `changed` changed relative to `base`? Every block of lines
    `changed` added or rewrote must be in the folder's file, a file it removed must be gone.
    (The consultant may have edited more since: that is theirs.)"""
    for name in set(base) | set(changed):
        before, after = base.get(name), changed.get(name)
        if before == after:
            continue
        if after is None:
            if name in folder:
                return False
            continue
        mine = folder.get(name)
        if mine is None:
            return False
        old_lines, new_lines = (before or "").splitlines(), after.splitlines()
        matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
        for tag, _i1, _i2, j1, j2 in matcher.get_opcodes():
            if tag in ("insert", "replace") and "\n".join(new_lines[j1:j2]) not in mine:
                return False
    return True
