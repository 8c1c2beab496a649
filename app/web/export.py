"""CSV export of a list, streamed: the user's export scope, filters and visible fields.

Rows are read in batches and written as they come, so a million-row export
never sits in memory. Values are written as users read them (labels of
choices, titles of links) in the user's language; UTF-8 with a BOM so that
Excel opens Chinese text correctly.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

from flask import Response, stream_with_context
from sqlalchemy.orm import selectinload

from app.fieldtypes import field_type
from app.metadata.spec import EntitySpec, FieldSpec

from .labels import current_lang

BATCH = 1000
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralised(value: Any, text: str) -> str:
    """`text` with a leading ' when a spreadsheet would run it as a formula (CSV injection).

    Numbers stay as they are (-5 is a number, not a formula); any text a user typed,
    a choice label or a link title starting with = + - @ tab or CR gets the prefix.
    """
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return text
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def cell(f: FieldSpec | None, value: Any, lang: str) -> str:
    if value is None:
        return ""
    if f is None:
        return str(value)
    return field_type(f.type).plain_text(f, value, lang)


def _safe_cell(f: FieldSpec, value: Any, lang: str) -> str:
    return neutralised(value, cell(f, value, lang))


def export_columns(entity: EntitySpec, hidden: set[str], names: list[str] | None = None) -> list[FieldSpec]:
    """The fields an export writes after the id: those the user may see, or the ones `names`
    asks for in that order (names already checked against what the user may see)."""
    visible = {f.name: f for f in entity.fields if f.name not in hidden}
    if not names:
        return list(visible.values())
    return [visible[name] for name in dict.fromkeys(names) if name != "id" and name in visible]


def csv_chunks(query: Any, columns: list[FieldSpec], lang: str,
               progress: Callable[[int], None] | None = None) -> Iterator[str]:
    """`query` (an ORM query of the entity's model) as CSV text, in pieces of about 64 kB;
    `progress(rows)` is told after each piece (export jobs report it)."""
    model = query.column_descriptions[0]["entity"]
    loads = [selectinload(getattr(model, f.name)) for f in columns if f.type in ("link", "links", "user")]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(["id", *[f.label.get(lang) for f in columns]])
    count = 0
    try:
        for item in query.options(*loads).yield_per(BATCH):
            writer.writerow([item.id, *[_safe_cell(f, getattr(item, f.name), lang) for f in columns]])
            count += 1
            if buffer.tell() > 64_000:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
                if progress is not None:
                    progress(count)
        yield buffer.getvalue()
        if progress is not None:
            progress(count)
    finally:  # the server-side cursor and its transaction end with the stream
        query.session.rollback()


def csv_response(entity: EntitySpec, query: Any, columns: list[FieldSpec], filename: str) -> Response:
    """Stream `query` (an ORM query of the entity's model) as CSV."""
    rows = csv_chunks(query, columns, current_lang())
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    return Response(stream_with_context(rows), content_type="text/csv; charset=utf-8", headers=headers)
