"""The import's work done a column or a chunk at a time against the one-value definitions.

COPY text is made a column at a time (`_copy_lines`): it must equal the text `_copy_text`
makes a cell at a time, for columns of one type, of one type with empty cells, of mixed
types, with characters to escape and with a bind processor. A batch's key values go to
PostgreSQL as one array literal a column (`_array_literal`): PostgreSQL must read back the
very values. CSV chunks are read as arrays (`iter_rows`): a row filling cells past the
header keeps them up to its last filled one, blank rows are skipped, as before.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from app.imports.batch import _array_literal
from app.imports.direct import _copy_lines, _copy_text
from app.imports.files import SourceFile, iter_rows

POOL: list[Any] = [None, "", "a", "商机 𩸽", "x\ty", "b\\c", "l\nm", "\r", 0, 7, -3, True, False, 1.5,
                   Decimal("12.30"), Decimal("1E+3"), dt.date(2026, 3, 5), dt.datetime(2026, 1, 2, 3, 4, 5, 6),
                   dt.datetime(2026, 1, 2, tzinfo=dt.timezone(dt.timedelta(hours=8)))]
STAMP = dt.datetime(2026, 12, 5, 16, 1, 58)


def _cell_by_cell(keys: tuple[str, ...], processors: list[Any], rows: list[dict[str, Any]]) -> str:
    """The COPY text as the import made it a cell at a time."""
    def cell(value: Any, process: Any) -> str:
        return _copy_text(None if value is None or process is None else process(value)) if process else (
            _copy_text(value))
    return "".join("\t".join(cell(row[k], p) for k, p in zip(keys, processors, strict=True)) + "\n" for row in rows)


def _column(kind: str, rng: random.Random, rows: int) -> list[Any]:
    one = rng.choice(POOL[1:])
    if kind == "empty":
        return [None] * rows
    if kind == "one":
        return [one] * rows
    if kind == "one_or_empty":
        return [rng.choice([None, one]) for _ in range(rows)]
    if kind == "stamps":  # a batch's stamps: one object, or a few
        stamps = [STAMP, STAMP.replace(microsecond=5), None]
        return [rng.choice(stamps) for _ in range(rows)]
    if kind == "text":
        return [rng.choice(["a", "商", "q\\", "", "z\t", "\n"]) for _ in range(rows)]
    return [rng.choice(POOL) for _ in range(rows)]


def test_copy_text_a_column_at_a_time_is_the_text_cell_by_cell() -> None:
    rng = random.Random(14)
    kinds = ["empty", "one", "one_or_empty", "stamps", "text", "mixed"]
    for _ in range(2000):
        width, height = rng.randint(1, 6), rng.randint(1, 8)
        keys = tuple(f"c{i}" for i in range(width))
        columns = [_column(rng.choice(kinds), rng, height) for _ in keys]
        processors = [rng.choice([None, None, lambda v: json.dumps(v, default=str)]) for _ in keys]
        rows = [{k: column[i] for k, column in zip(keys, columns, strict=True)} for i in range(height)]
        assert _copy_lines(keys, processors, rows) == _cell_by_cell(keys, processors, rows), rows


def test_key_arrays_read_back_as_the_same_values(make_app: Any) -> None:
    app = make_app()
    with app.app_context():
        engine = app.extensions["crm"].db.engine
    if engine.dialect.name != "postgresql":
        pytest.skip("array literals are PostgreSQL's (SQLite keeps the tuple IN)")
    columns = [["a", "", 'q"x', "b\\c", "商机 𩸽", "{x,y}", " sp ", "NULL", "a'b", "tab\tnl\n", "😀"],
               [1, -5, 2**62, 0, -(2**63)], [Decimal("1E+1"), Decimal("2717506.19"), Decimal("-0"), Decimal("0.000001")],
               [dt.date(2026, 1, 2), dt.date(1, 1, 1)]]
    with engine.connect() as conn:
        for values in columns:
            literal = _array_literal(values)
            assert literal is not None
            base, text = literal
            stmt = sa.select(sa.cast(sa.bindparam("a", text, type_=sa.Text()), sa.dialects.postgresql.ARRAY(base)))
            assert conn.execute(stmt).scalar_one() == values
    for others in ([True, False], [1, "a"], [Decimal("NaN")], [2**64], [STAMP], []):
        assert _array_literal(others) is None  # sent as a list, as before


def test_csv_rows_past_the_header_and_blank_rows(tmp_path: Path) -> None:
    lines = ["a,b,c", "1,2,3", "", ",,", "4,,", "5,6,7,,", "8,9,10,,,x", ",,,,,,", "11", "12,13,14,"]
    lines += [f"{i},{i},{i}" for i in range(2100)]  # a second chunk without a spare cell filled
    lines += ["1,2,3,,,,y", ""]
    path = tmp_path / "wide.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rows = list(iter_rows(SourceFile(path, "csv", "utf-8-sig")))
    assert rows[:6] == [(2, ["1", "2", "3"]), (5, ["4", "", ""]), (6, ["5", "6", "7"]),
                        (7, ["8", "9", "10", "", "", "x"]), (9, ["11", "", ""]), (10, ["12", "13", "14"])]
    assert rows[6] == (11, ["0", "0", "0"]) and len(rows) == 6 + 2100 + 1
    assert rows[-1] == (2111, ["1", "2", "3", "", "", "", "y"])
    assert all(type(cell) is str for _, cells in rows for cell in cells)
    # a limit reads that many lines and one (the preview's), blank ones included: here one row
    assert list(iter_rows(SourceFile(path, "csv", "utf-8-sig"), limit=3)) == rows[:1]
