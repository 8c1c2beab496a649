"""Optimistic locking for every write: an update or delete carries the version it was read at.

A write from a stale copy is refused with what changed since (StaleVersion, a 409),
naming only fields the user may see. A write with no version is accepted as
last-write-wins (API clients written before versions keep working); forms, the
board and conversion always send one. The ORM's `version_id_col` closes the race
between this check and the commit.
"""

from __future__ import annotations

import json
import re
from typing import Any

import sqlalchemy as sa

from .messages import msg

_ETAG = re.compile(r'^\s*(?:W/)?"?(\d{1,9})"?\s*$')


class VersionInvalid(Exception):
    """The version (body or If-Match) is not a version number: a 400 naming `version`."""


def parse_version(raw: Any) -> int | None:
    """The version a client sent: an int, its digits, or an ETag (`"3"`, `W/"3"`);
    None (no check) for nothing or `*`."""
    if raw is None or raw == "" or raw == "*":
        return None
    if isinstance(raw, bool):
        raise VersionInvalid(raw)
    if isinstance(raw, int):
        if raw < 0 or raw > 999_999_999:
            raise VersionInvalid(raw)
        return raw
    match = _ETAG.match(str(raw))
    if match is None:
        raise VersionInvalid(raw)
    return int(match.group(1))


def etag(record: Any) -> str:
    return f'"{record.version}"'


def changed_since(ctx: Any, entity: Any, record_id: int, version: int) -> list[str]:
    """Fields changed after `version` (by the change log), without those hidden from the user."""
    table = ctx.models.core["crm_record_change"]
    rows = ctx.session.scalars(sa.select(table.c.fields).where(
        table.c.entity == entity.name, table.c.record_id == record_id, table.c.version > version)
        .order_by(table.c.version))
    names: list[str] = []
    for text in rows:
        for name in json.loads(text):
            if name not in names and name in entity.field_map:
                names.append(name)
    access = ctx.access
    if access is not None:
        names = [n for n in names if access.field_mode(entity, n) != "hidden"]
    return names


def stale_message(ctx: Any, entity: Any, record: Any, expected: int) -> tuple[str, list[str]]:
    """What to tell the writer of a stale copy: the message (zh/en) and the fields changed since."""
    changed = changed_since(ctx, entity, record.id, expected)
    lang = ctx.lang
    labels = ", ".join(entity.field(n).label.get(lang) for n in changed) or msg("version_unknown_fields", lang)
    text = msg("version_stale", lang, entity=entity.label.get(lang), yours=expected, current=record.version,
               fields=labels)
    return text, changed
