"""The data part of a backup, per database: dump, load, count rows, tell empty from not.

PostgreSQL: `pg_dump --format=custom` inside an exported snapshot whose transaction also
counts the rows, so the counts describe exactly the dumped data while the app keeps
writing; `pg_restore --single-transaction` loads all of it or nothing. SQLite: the online
backup API copies a consistent image while the app runs; rows are counted in the copy."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url


class DumpError(Exception):
    """A dump or load that failed, with the tool's own words."""


def dialect(url: str) -> str:
    return make_url(url).get_backend_name()


def sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise DumpError("an in-memory SQLite database cannot be backed up or restored")
    return Path(database)


def table_names(url: str) -> list[str]:
    """The tables of the database (PostgreSQL: of its current schema)."""
    if dialect(url) == "sqlite":
        path = sqlite_path(url)
        if not path.exists():
            return []
        with sqlite3.connect(path) as conn:
            return [r[0] for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(sa.text(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename")).scalars())
    finally:
        engine.dispose()


def count_rows(conn: sa.Connection | sqlite3.Connection, tables: list[str]) -> dict[str, int]:
    counts = {}
    for name in tables:
        quoted = '"' + name.replace('"', '""') + '"'
        sql = f"SELECT count(*) FROM {quoted}"
        row = conn.execute(sa.text(sql) if isinstance(conn, sa.Connection) else sql).fetchone()  # type: ignore[call-overload]
        counts[name] = int(row[0])
    return counts


def dump_sqlite(url: str, target: Path) -> dict[str, int]:
    """Online backup into `target`; the row counts of that copy."""
    source = sqlite3.connect(sqlite_path(url))
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)
        tables = [r[0] for r in copy.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        return count_rows(copy, tables)
    finally:
        copy.close()
        source.close()


def load_sqlite(dump: Path, url: str) -> None:
    """Copy the archived image into the (empty) target file with the same backup API."""
    path = sqlite_path(url)
    path.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(dump)
    target = sqlite3.connect(path)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()


def libpq(url: str) -> tuple[str, dict[str, str]]:
    """A libpq URI without the password (which goes in PGPASSWORD, not in `ps` output)."""
    parsed: URL = make_url(url)
    env = {**os.environ}
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def dump_postgresql(url: str, target: Path) -> dict[str, int]:
    """pg_dump of one snapshot, and the row counts read in that same snapshot."""
    check_tool_version("pg_dump", url)
    engine = sa.create_engine(url, isolation_level="REPEATABLE READ")
    try:
        with engine.connect() as conn:
            snapshot = conn.execute(sa.text("SELECT pg_export_snapshot()")).scalar_one()
            tables = list(conn.execute(sa.text(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename")).scalars())
            counts = count_rows(conn, tables)
            uri, env = libpq(url)
            run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--snapshot={snapshot}",
                 "--file", str(target), "--dbname", uri], env)
            conn.rollback()
    finally:
        engine.dispose()
    return counts


def load_postgresql(dump: Path, url: str) -> None:
    check_tool_version("pg_restore", url)
    uri, env = libpq(url)
    run(["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
         "--dbname", uri, str(dump)], env)


def run(args: list[str], env: dict[str, str]) -> None:
    try:
        done = subprocess.run(args, env=env, capture_output=True, text=True)
    except FileNotFoundError:
        raise DumpError(f"{args[0]} not found: install the PostgreSQL client tools (postgresql-client)") from None
    if done.returncode != 0:
        raise DumpError(f"{args[0]} failed (exit {done.returncode}): {done.stderr.strip()}")


def check_tool_version(tool: str, url: str) -> None:
    """pg_dump/pg_restore older than the server cannot read it: say so before trying."""
    try:
        out = subprocess.run([tool, "--version"], capture_output=True, text=True, check=True).stdout
    except (FileNotFoundError, subprocess.CalledProcessError):
        raise DumpError(f"{tool} not found: install the PostgreSQL client tools (postgresql-client)") from None
    found = re.search(r"\)\s+(\d+)", out)  # "pg_dump (PostgreSQL) 15.20 (Debian ...)"
    if found is None:
        raise DumpError(f"cannot read the version of {tool}: {out.strip()!r}")
    tool_major = int(found.group(1))
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            server = int(conn.execute(sa.text("SHOW server_version_num")).scalar_one())
    finally:
        engine.dispose()
    if tool_major < server // 10000:
        raise DumpError(f"{tool} {tool_major} is older than the PostgreSQL server ({server // 10000}): "
                        f"install postgresql-client-{server // 10000}")
