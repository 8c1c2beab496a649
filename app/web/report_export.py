"""A report as a file: CSV streamed as rows come, XLSX written row by row to a temp file.

Both take an iterator of rows, so memory stays bounded by one batch of rows
(CSV) or by xlsxwriter's constant_memory mode (XLSX), whatever the row count.
CSV starts with a UTF-8 BOM so Excel opens Chinese text; XLSX keeps numbers
and dates typed. Text is never turned into formulas or links: XLSX writes it as
strings, CSV prefixes a cell that would start a formula with ' (export.neutralised).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import tempfile
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from flask import Response, send_file, stream_with_context

from .export import cell, neutralised
from .report_query import Column

FLUSH_AT = 64_000
XLSX_MAX_ROWS = 1_048_576  # Excel's limit, the heading included
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _attachment(filename: str) -> str:
    ascii_name = filename.encode("ascii", "replace").decode().replace("?", "_").replace('"', "")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


def text(column: Column, value: Any, lang: str) -> str:
    """A value as users read it: choice labels, titles of links, ISO dates."""
    if isinstance(value, float):
        return f"{value:.6f}".rstrip("0").rstrip(".")
    f = column.field
    return cell(f if f is not None and f.type in ("choice", "multichoice", "boolean") else None, value, lang)


def csv_response(columns: list[Column], rows: Iterable[tuple[Any, ...]], filename: str, lang: str,
                 finish: Callable[[], None]) -> Response:
    """Stream rows as CSV; `finish` ends the transaction once the last row is sent (or the client left)."""
    def chunks() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        buffer.write("\ufeff")
        writer.writerow([c.heading for c in columns])
        try:
            for row in rows:
                writer.writerow([neutralised(v, text(c, v, lang)) for c, v in zip(columns, row, strict=True)])
                if buffer.tell() > FLUSH_AT:
                    yield buffer.getvalue()
                    buffer.seek(0)
                    buffer.truncate()
            yield buffer.getvalue()
        finally:
            finish()

    headers = {"Content-Disposition": _attachment(filename)}
    return Response(stream_with_context(chunks()), content_type="text/csv; charset=utf-8", headers=headers)


def xlsx_response(columns: list[Column], rows: Iterable[tuple[Any, ...]], filename: str, lang: str,
                  sheet: str) -> Response:
    """Write rows to an XLSX temp file in constant memory, then send it (the file goes when closed)."""
    handle = tempfile.TemporaryFile(suffix=".xlsx")
    import xlsxwriter  # on the first XLSX export: 42 modules a worker otherwise never uses

    book = xlsxwriter.Workbook(handle, {"constant_memory": True, "strings_to_formulas": False,
                                        "strings_to_urls": False, "strings_to_numbers": False,
                                        "tmpdir": tempfile.gettempdir()})
    worksheet = book.add_worksheet(_sheet_name(sheet))
    bold = book.add_format({"bold": True})
    date_format = book.add_format({"num_format": "yyyy-mm-dd"})
    moment_format = book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    worksheet.write_row(0, 0, [c.heading for c in columns], bold)
    line = 0
    for line, row in enumerate(rows, start=1):
        if line >= XLSX_MAX_ROWS:
            break
        for index, (column, value) in enumerate(zip(columns, row, strict=True)):
            _write(worksheet, line, index, column, value, lang, date_format, moment_format)
    book.close()
    handle.seek(0)
    return send_file(handle, mimetype=XLSX_MIME, as_attachment=True, download_name=filename, max_age=0)


def _write(worksheet: Any, line: int, index: int, column: Column, value: Any, lang: str,
           date_format: Any, moment_format: Any) -> None:
    if value is None:
        return
    kind = column.field.type if column.field is not None else None
    if isinstance(value, bool) or kind in ("choice", "multichoice", "boolean"):
        worksheet.write_string(line, index, text(column, value, lang))
    elif isinstance(value, (int, float, Decimal)):
        worksheet.write_number(line, index, float(value))
    elif isinstance(value, dt.datetime):
        worksheet.write_datetime(line, index, value, moment_format)
    elif isinstance(value, dt.date):
        worksheet.write_datetime(line, index, dt.datetime.combine(value, dt.time()), date_format)
    else:
        worksheet.write_string(line, index, text(column, value, lang))


def _sheet_name(name: str) -> str:
    """Excel sheet names: at most 31 characters, none of []:*?/\\."""
    cleaned = "".join("_" if ch in "[]:*?/\\" else ch for ch in name).strip("'") or "Report"
    return cleaned[:31]
