"""Read an uploaded CSV or XLSX file into a header and numbered rows of text.

pandas reads both. CSV bytes are UTF-8 (with or without BOM) or, failing that,
GB18030 (a superset of GBK, as Chinese Excel saves); CRLF and quoted fields with
line breaks are read as one record; 4-byte characters come through exact. Rows are
numbered as a spreadsheet shows them (the header is row 1, blank lines count), so
an error names the row the user sees. Bad files raise `BadFile` (a 4xx), before
any job starts. pandas (with numpy, ~60 MB of a process) is imported when a file is
read, not when the app is built: a web worker that never reads an upload never loads it.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .messages import text

if TYPE_CHECKING:
    import pandas as pd

EXTENSIONS = {".csv": "csv", ".txt": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx"}
ZIP_MAGIC = b"PK\x03\x04"
CHUNK_ROWS = 2000
SPARE_COLUMNS = 64  # cells a CSV row may have past its header (the row is then rejected, not the file)


class BadFile(ValueError):
    """A file that cannot be imported; `status` is the HTTP answer (400, 413)."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class SourceFile:
    path: Path
    kind: str  # csv | xlsx
    encoding: str | None = None  # csv: utf-8-sig | gb18030


def file_kind(filename: str, head: bytes, lang: str | None = None) -> str:
    """csv or xlsx, from the name and the first bytes; BadFile for anything else."""
    kind = EXTENSIONS.get(Path(filename or "").suffix.lower())
    if kind is None:
        raise BadFile(text("not_table", lang, name=filename or "?"))
    if kind == "xlsx" and not head.startswith(ZIP_MAGIC):
        raise BadFile(text("not_xlsx", lang, name=filename))
    if kind == "csv" and (b"\x00" in head or head.startswith(ZIP_MAGIC)):
        raise BadFile(text("not_csv", lang, name=filename))
    return kind


def csv_encoding(path: Path) -> str:
    """utf-8-sig when the whole file decodes as UTF-8, else gb18030 (GBK files decode there)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with path.open("rb") as stream:
            while block := stream.read(1 << 20):
                decoder.decode(block)
            decoder.decode(b"", final=True)
        return "utf-8-sig"
    except UnicodeDecodeError:
        return "gb18030"


def open_source(path: Path, filename: str, max_bytes: int, lang: str | None = None) -> SourceFile:
    """Check an uploaded file: kind, size, encoding, a header and at least one row."""
    size = path.stat().st_size
    if size == 0:
        raise BadFile(text("empty", lang))
    if size > max_bytes:
        raise BadFile(text("too_big", lang, mb=max_bytes // (1 << 20) or 1), status=413)
    with path.open("rb") as stream:
        head = stream.read(4096)
    kind = file_kind(filename, head, lang)
    source = SourceFile(path, kind, csv_encoding(path) if kind == "csv" else None)
    header = headers(source, lang)
    if not any(header):
        raise BadFile(text("no_header", lang))
    if looks_like_data(header):
        raise BadFile(text("header_is_data", lang, cells=", ".join(header[:3])))
    if next(iter_rows(source, limit=1), None) is None:
        raise BadFile(text("no_rows", lang))
    return source


def looks_like_data(header: list[str]) -> bool:
    """A first row of numbers, dates or e-mail addresses is data: the file has no header."""
    cells = [c for c in header if c]
    return bool(cells) and all(_data_like(c) for c in cells)


def _data_like(cell: str) -> bool:
    if "@" in cell and "." in cell.split("@")[-1]:
        return True
    try:
        float(cell.replace(",", ""))
        return True
    except ValueError:
        pass
    try:
        dt.date.fromisoformat(cell[:10])
        return True
    except ValueError:
        return False


def _pandas() -> Any:
    import pandas

    return pandas


def _frames(source: SourceFile, width: int, limit: int | None = None) -> Iterator[pd.DataFrame]:
    """The file as data frames of text (object) cells, header excluded, blank lines kept.
    CSV rows may be up to SPARE_COLUMNS cells wider than the header: reported, not fatal."""
    pd = _pandas()
    try:
        if source.kind == "xlsx":
            frame = pd.read_excel(source.path, sheet_name=0, header=None, dtype=object, nrows=limit and limit + 1,
                                  engine="openpyxl")
            yield frame.iloc[1:]
            return
        reader = pd.read_csv(source.path, header=None, names=range(width + SPARE_COLUMNS), dtype=str,
                             keep_default_na=False, na_filter=False,
                             skip_blank_lines=False, encoding=source.encoding, chunksize=CHUNK_ROWS,
                             nrows=limit and limit + 1, on_bad_lines="error")
        first = True
        for chunk in reader:
            yield chunk.iloc[1:] if first else chunk
            first = False
    except (pd.errors.ParserError, ValueError, KeyError, OSError) as exc:
        raise BadFile(text("unreadable", None, reason=str(exc).splitlines()[0][:300])) from None


def headers(source: SourceFile, lang: str | None = None) -> list[str]:
    """The column names of the first row, trimmed."""
    pd = _pandas()
    try:
        if source.kind == "xlsx":
            frame = pd.read_excel(source.path, sheet_name=0, header=None, dtype=object, nrows=1, engine="openpyxl")
        else:
            frame = pd.read_csv(source.path, header=None, dtype=str, keep_default_na=False, nrows=1,
                                encoding=source.encoding)
    except (pd.errors.EmptyDataError, pd.errors.ParserError, ValueError, OSError) as exc:
        raise BadFile(text("unreadable", lang, reason=str(exc).splitlines()[0][:300])) from None
    if frame.empty:
        return []
    return [cell_text(v).strip() for v in frame.iloc[0].tolist()]


def iter_rows(source: SourceFile, limit: int | None = None) -> Iterator[tuple[int, list[Any]]]:
    """(row number as a spreadsheet shows it, cells) for each non-blank row; cells are text,
    or datetime/number for XLSX cells so that dates keep their type. A row with cells past the
    header's last column comes with them (longer than the header: the importer rejects it)."""
    width = len(headers(source))
    for frame in _frames(source, width, limit):
        rows = _text_rows(frame, width) if source.kind != "xlsx" else _typed_rows(frame, width)
        for row in rows:
            yield row
            if limit is not None:
                limit -= 1
                if limit <= 0:
                    return


def _typed_rows(frame: pd.DataFrame, width: int) -> Iterator[tuple[int, list[Any]]]:
    """An XLSX frame's non-blank rows, each cell converted (dates keep their type)."""
    for index, values in zip(frame.index, frame.itertuples(index=False, name=None), strict=True):
        yield from _kept(int(index), [_cell(v) for v in values], width)


def _kept(index: int, cells: list[Any], width: int) -> Iterator[tuple[int, list[Any]]]:
    """A row unless blank, cut after its last filled cell past the header (never shorter than it)."""
    if all(c == "" for c in cells):
        return
    last = max(i for i, c in enumerate(cells) if c != "")
    yield index + 1, cells[:max(width, last + 1)]


def _text_rows(frame: pd.DataFrame, width: int) -> Iterator[tuple[int, list[Any]]]:
    """A CSV chunk's non-blank rows (its cells are str). The chunk is read `SPARE_COLUMNS` cells
    wider than the header; in most files no row fills any of them, which one join of the spare
    cells tells (empty text), and then a row is its first `width` cells and blank when none is
    filled. A chunk with a spare cell filled goes row by row through `_kept`."""
    cells = frame.to_numpy(dtype=object)
    numbers = frame.index.tolist()
    if cells.shape[1] > width and "".join(cells[:, width:].ravel().tolist()):
        for index, row in zip(numbers, cells.tolist(), strict=True):
            yield from _kept(index, row, width)
        return
    for index, row in zip(numbers, cells[:, :width].tolist(), strict=True):
        if any(row):
            yield index + 1, row


def count_rows(source: SourceFile) -> int:
    """The rows `iter_rows` yields (the progress bar's total). A CSV is counted with the csv
    module (records with a non-blank cell, the header aside): reading it through pandas a second
    time cost about a tenth of an import's time."""
    if source.kind == "xlsx":
        return sum(1 for _ in iter_rows(source))
    try:
        with source.path.open(encoding=source.encoding, newline="") as stream:
            records = csv.reader(stream)
            next(records, None)
            return sum(1 for cells in records if any(cells))
    except (csv.Error, UnicodeDecodeError):  # a cell past the csv module's size limit, say
        return sum(1 for _ in iter_rows(source))


def _cell(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    pd = _pandas()
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if value is pd.NaT:
        return ""
    return value if isinstance(value, (dt.datetime, dt.date, int, float)) and not isinstance(value, bool) else (
        value if isinstance(value, bool) else str(value))


def cell_text(value: Any) -> str:
    """A cell as text (for headers and for fields that take text)."""
    if type(value) is str:  # a CSV cell (what `_cell` and the tests below would give back)
        return value
    value = _cell(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)
