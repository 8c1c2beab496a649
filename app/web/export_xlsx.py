"""A list's export as XLSX, written row by row in constant memory (xlsxwriter constant_memory).

The same query, scope and visible fields as the CSV export (export.py); numbers and
dates stay typed, everything else is written as the text users read (choice labels,
link titles) and never as a formula or a link. Below CRM_EXPORT_JOB_ROWS the file is
written to a temp file and sent; above it the export job writes it (export_job.py).
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Callable
from decimal import Decimal
from typing import IO, Any

from flask import Response, send_file
from sqlalchemy.orm import selectinload

from app.metadata.spec import EntitySpec, FieldSpec

from .export import BATCH, cell
from .labels import current_lang
from .report_export import XLSX_MAX_ROWS, XLSX_MIME, _sheet_name

TEXT_TYPES = ("choice", "multichoice", "boolean", "link", "links", "user", "autonumber", "string", "text",
              "email", "phone", "url")
PROGRESS_EVERY = 2000


def write_xlsx(query: Any, columns: list[FieldSpec], lang: str, target: str | IO[bytes], sheet: str,
               progress: Callable[[int], None] | None = None, stop: Callable[[], bool] | None = None) -> int:
    """Write `query` (an ORM query of the entity's model) to `target` as XLSX; the rows written
    (at most Excel's 1,048,575). `progress(rows)` is told every PROGRESS_EVERY rows; `stop()` ends early."""
    model = query.column_descriptions[0]["entity"]
    loads = [selectinload(getattr(model, f.name)) for f in columns if f.type in ("link", "links", "user")]
    import xlsxwriter  # on the first XLSX export: 42 modules a worker otherwise never uses

    book = xlsxwriter.Workbook(target, {"constant_memory": True, "strings_to_formulas": False,
                                        "strings_to_urls": False, "strings_to_numbers": False,
                                        "tmpdir": tempfile.gettempdir()})
    formats = {"date": book.add_format({"num_format": "yyyy-mm-dd"}),
               "moment": book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})}
    worksheet = book.add_worksheet(_sheet_name(sheet))
    worksheet.write_row(0, 0, ["id", *[f.label.get(lang) for f in columns]], book.add_format({"bold": True}))
    count = 0
    try:
        for count, item in enumerate(query.options(*loads).yield_per(BATCH), start=1):
            if count >= XLSX_MAX_ROWS:
                count -= 1
                break
            worksheet.write_number(count, 0, item.id)
            for index, f in enumerate(columns, start=1):
                _write(worksheet, count, index, f, getattr(item, f.name), lang, formats)
            if count % PROGRESS_EVERY == 0:
                if progress is not None:
                    progress(count)
                if stop is not None and stop():
                    break
    finally:  # the server-side cursor and its transaction end with the file
        query.session.rollback()
        book.close()
    if progress is not None:
        progress(count)
    return count


def _write(worksheet: Any, line: int, index: int, f: FieldSpec, value: Any, lang: str, formats: dict[str, Any]) -> None:
    if value is None or value == [] or value == "":
        return
    if f.type in TEXT_TYPES or isinstance(value, bool):
        worksheet.write_string(line, index, cell(f, value, lang))
    elif isinstance(value, (int, float, Decimal)):
        worksheet.write_number(line, index, float(value))
    elif isinstance(value, dt.datetime):
        worksheet.write_datetime(line, index, value, formats["moment"])
    elif isinstance(value, dt.date):
        worksheet.write_datetime(line, index, dt.datetime.combine(value, dt.time()), formats["date"])
    else:
        worksheet.write_string(line, index, cell(f, value, lang))


def xlsx_response(entity: EntitySpec, query: Any, columns: list[FieldSpec], filename: str) -> Response:
    """The export as an XLSX download (written to a temp file first: XLSX is a zip, not a stream)."""
    handle = tempfile.TemporaryFile(suffix=".xlsx")
    lang = current_lang()
    write_xlsx(query, columns, lang, handle, entity.plural.get(lang))
    handle.seek(0)
    return send_file(handle, mimetype=XLSX_MIME, as_attachment=True, download_name=filename, max_age=0)
