"""Roll back metadata revisions: run their downgrade(), with the data that still fits.

Before each revision's downgrade, its `rollback_checks` are run on the database as it
then is: a column or table the downgrade drops must hold no data (else refused unless
`allow_destructive`, with the counts), a column whose type goes back must hold only
values the old type takes, a column made required again must have no empty rows (those
two are refused whatever the flag: the data does not fit). All revisions are undone in
one transaction: a refused or failed rollback leaves the database as it was.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command

from app.models import ModelSet
from app.models.bootstrap import record_version

from .apply import (
    alembic_config,
    database_revisions,
    is_metadata_revision,
    migration_transaction,
    script_directory,
)


class RollbackRefused(Exception):
    def __init__(self, reasons: list[str]):
        self.reasons = reasons
        super().__init__("; ".join(reasons))


@dataclass
class RolledBack:
    undone: list[str]  # revisions undone, newest first
    target: str | None  # the metadata revision now in force (None: none)
    digest: str | None  # the metadata digest it was written from: restore that metadata
    notes: list[str]  # data given up with allow_destructive


class _DryRun(Exception):
    """Raised inside the migration transaction to roll a dry run back."""


def rollback(engine: sa.Engine, models: ModelSet, versions: Path, to: str | None = None,
             allow_destructive: bool = False, dry_run: bool = False,
             inspect: Callable[[sa.Connection], Any] | None = None) -> RolledBack:
    """Undo metadata revisions. `inspect` is called on the database as the downgrade left it
    (in the same transaction); `dry_run` then rolls everything back (checks and plan only)."""
    script = script_directory(versions)
    with engine.connect() as conn:
        current = [r for r in database_revisions(conn, script) if is_metadata_revision(script, r)]
    if not current:
        raise RollbackRefused(["the database has no metadata revision to roll back"])
    path = _path(script, current[0], to)
    target = _down(script.get_revision(path[-1])) if path else current[0]
    notes: list[str] = []
    cfg = alembic_config(versions)
    try:
        with migration_transaction(engine) as conn:
            cfg.attributes["connection"] = conn
            for revision in path:
                rev = script.get_revision(revision)
                refused, destructive = check(conn, getattr(rev.module, "rollback_checks", []))
                if refused or (destructive and not allow_destructive):
                    reasons = refused + ([f"{d} (needs --allow-destructive)" for d in destructive]
                                         if not allow_destructive else [])
                    raise RollbackRefused([f"revision {revision}: {r}" for r in reasons])
                notes += [f"revision {revision}: {d}" for d in destructive]
                command.downgrade(cfg, _down(rev) or "metadata@base")
            if inspect is not None:
                inspect(conn)
            if dry_run:
                raise _DryRun()
    except _DryRun:
        return RolledBack(path, target, None, notes)
    digest = getattr(script.get_revision(target).module, "metadata_digest", None) if target else None
    record_version(engine, models, note=f"rollback to {target or 'base'}", revision=target,
                   digest=digest or "none")
    _set_aside(script, path, versions)
    return RolledBack(path, target, digest, notes)


def _set_aside(script: Any, undone: list[str], versions: Path) -> None:
    """Undone revisions leave the history (into rolled_back/ beside it, for reference):
    else the next apply or start-up would run them again."""
    aside = versions.parent / "rolled_back"
    for revision in undone:
        path = Path(script.get_revision(revision).path)
        if path.parent == versions:
            aside.mkdir(exist_ok=True)
            path.rename(aside / path.name)


def _down(rev: Any) -> str | None:
    """The revision before: metadata revisions form one line (never a merge)."""
    down = rev.down_revision
    return down if down is None or isinstance(down, str) else str(down[0])


def _path(script: Any, head: str, to: str | None) -> list[str]:
    """Revisions to undo from `head` back to `to` (exclusive), newest first."""
    chain = [r.revision for r in script.iterate_revisions(head, "base") if is_metadata_revision(script, r.revision)]
    if to is None:
        return chain[:1]
    if to == "base":
        return chain
    matches = [r for r in chain if r.startswith(to)]
    if len(matches) != 1:
        known = ", ".join(chain) or "none"
        raise RollbackRefused([f"'{to}' is not a metadata revision the database has run "
                               f"(it has, newest first: {known}; or 'base')"])
    return chain[:chain.index(matches[0])]


def check(conn: sa.Connection, checks: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
    """(refused: data that cannot go back, destructive: data the downgrade would drop)."""
    refused: list[str] = []
    destructive: list[str] = []
    for c in checks:
        table, column = c["table"], c.get("column")
        if c["check"] == "empty_table":
            rows = _count(conn, table)
            if rows:
                destructive.append(f"drops table {table} with {rows} rows")
        elif c["check"] == "empty_column":
            where = f'"{column}" IS NOT NULL'
            if c.get("default") is not None:
                where += f' AND "{column}" <> {c["default"]}'
            rows = _count(conn, table, where)
            if rows:
                destructive.append(f"drops column {table}.{column} with {rows} values"
                                   + (" other than its default" if c.get("default") is not None else ""))
        elif c["check"] == "no_empty":
            rows = _count(conn, table, f'"{column}" IS NULL')
            if rows:
                refused.append(f"{table}.{column} becomes required again but {rows} rows have no value")
        elif c["check"] == "fits":
            bad = [pk for pk, value in conn.execute(sa.text(
                f'SELECT id, "{column}" FROM "{table}" WHERE "{column}" IS NOT NULL ORDER BY id'))
                if not fits(value, c)]
            if bad:
                ids = ", ".join(map(str, bad[:10])) + (" ..." if len(bad) > 10 else "")
                refused.append(f"{len(bad)} values of {table}.{column} do not fit its old type "
                               f"{_type_name(c)} (ids {ids})")
    return refused, destructive


def fits(value: Any, c: dict[str, Any]) -> bool:
    """Does a value go back into the old column type (as the downgrade converts it)?"""
    if isinstance(value, str) and value.startswith("[") and c["kind"] != "tags":
        try:  # a tag list going back to one value: at most one tag
            tags = json.loads(value)
        except ValueError:
            tags = None
        if isinstance(tags, list):
            if len(tags) > 1:
                return False
            value = tags[0] if tags else None
            if value is None:
                return True
    kind = c["kind"]
    if kind == "text":
        return c.get("length") is None or len(str(value)) <= c["length"]
    if kind in ("integer", "decimal"):
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            return False
        if kind == "integer":
            return number == number.to_integral_value()
        scale, digits = c["scale"], c["precision"] - c["scale"]
        return number == round(number, scale) and abs(number) < Decimal(10) ** digits
    return True


def _type_name(c: dict[str, Any]) -> str:
    if c["kind"] == "text":
        return f"text of at most {c['length']} characters" if c.get("length") else "text"
    if c["kind"] == "decimal":
        return f"decimal({c['precision']}, {c['scale']})"
    return c["kind"]


def _count(conn: sa.Connection, table: str, where: str = "") -> int:
    query = f'SELECT count(*) FROM "{table}"' + (f" WHERE {where}" if where else "")
    return int(conn.execute(sa.text(query)).scalar() or 0)
