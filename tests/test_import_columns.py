"""The column-at-a-time cell reading (app/imports/columns.py) against the cell-by-cell one.

A corpus of tricky cells for each plain type goes through `CellReader.value` (the one
definition: the field types' parsers and the import's extras) and through `read_rows`;
both must give the same value, of the same type and exponent, or the same error. The
fast readers must also take the common shapes themselves (else they would save nothing).
A whole file imported both ways: test_import_direct.py.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from app.imports.cells import CellReader
from app.imports.columns import MISS, fast_reader, read_rows
from app.imports.mapping import ImportPlan
from app.jobs.acting import record_context
from app.records.parse import FieldValueError
from tests.conftest import write_tree

ITEM = """
label: {en: Item, zh: 条目}
title: name
fields:
  name: {type: string, max_length: 20, label: {en: Name, zh: 名称}}
  email: {type: email, normalise: [email], label: {en: E-mail, zh: 邮箱}}
  shop: {type: link, to: shop, label: {en: Shop, zh: 店铺}}
  amount: {type: money, label: {en: Amount, zh: 金额}}
  weight: {type: decimal, scale: 3, label: {en: Weight, zh: 重量}}
  count: {type: integer, label: {en: Count, zh: 数量}}
  due: {type: date, label: {en: Due, zh: 到期}}
  active: {type: boolean, label: {en: Active, zh: 有效}}
  kind: {type: choice, label: {en: Kind, zh: 类型},
         choices: [{value: new, label: {en: New, zh: 新业务}}, {value: renewal, label: {en: Renewal, zh: 续约}},
                   {value: other, label: {en: new, zh: 其他}}]}
"""
SHOP = """
label: {en: Shop, zh: 店铺}
title: name
fields:
  name: {type: string, required: true, label: {en: Name, zh: 名称}}
"""
BLANKS = ["", " ", "\u3000", "\t"]
CORPUS: dict[str, list[Any]] = {
    "name": [*BLANKS, "甲", " 甲 乙 ", "𩸽😀", "x" * 25, "a\tb", "ＡＢＣ", "0012"],
    "email": [*BLANKS, "Zhang@Example.CN", " li@example.cn ", "not-an-email", "ｚ@example.cn"],
    "shop": [*BLANKS, "北京 𩸽 店", " 北京 𩸽 店 ", "上海店", "无此店", "双店", "1", "北京 𩸽 店;上海店"],
    "amount": [*BLANKS, "0", "12", "0012", "12.5", "12.50", "12.505", "¥12,345.60", "¥ 12,345.60", "￥3,500.00",
               "$12", "US$12", "-5", "¥-5", "1e3", "1E3", "12万", "1,28", "12,345", "1,234,567.891",
               "１２３", "¥１２", "RMB12", "rmb12", "元12", "12元", "9999999999999999.99", "99999999999999999",
               ".5", "12.", "+5", "¥+5", "NaN", "Infinity", "12.3.4", "人民币12"],
    "weight": [*BLANKS, "0", "1.5", "1.5555", "1.555", "-1.5", "1e2", "1,000", "１.5", "abc"],
    "count": [*BLANKS, "0", "12", " 12 ", "-3", "+3", "1_000", "１２", "12.0", "12.5", "9" * 19, "9" * 18, "abc"],
    "due": [*BLANKS, "2026/3/5", "2026-03-05", "2026.3.5", "2026年3月5日", "2026/02/30", "2026/13/1", "0000/1/1",
            "２０２６/3/5", "2026/3/5 10:30", "2026-03-05T10:30", "3/5/2026", "2026/3", "20260305", 46000, 46000.5,
            dt.datetime(2026, 3, 5, 10, 30), dt.date(2026, 3, 5), "abc"],
    "active": [*BLANKS, "是", "否", "yes", "No", "TRUE", " y ", "1", "0", "✓", "maybe", True],
    "kind": [*BLANKS, "new", "NEW", " 新业务 ", "续约", "Renewal", "其他", "other", "none"],
}
COMMON_SHAPES = {"name": "甲", "email": "li@example.cn", "shop": "上海店", "amount": "¥12,345.60",
                 "weight": "1.5", "count": "12", "due": "2026/3/5", "active": "是", "kind": "续约"}


@pytest.fixture
def reader(make_app: Any, tmp_path: Path) -> Any:
    app = make_app(write_tree(tmp_path / "meta", {"shop": SHOP, "item": ITEM}), CRM_FILES_DIR=str(tmp_path / "files"))
    with app.app_context():
        state = app.extensions["crm"]
        shop = state.models.model("shop")
        state.db.session.add_all([shop(name=n) for n in ("北京 𩸽 店", "上海店", "双店", "双店")])
        state.db.session.commit()
        ctx = record_context(app, None, "zh")
        entity = ctx.entity("item")
        columns = tuple(CORPUS)
        plan = ImportPlan("item", "create", columns, {c: c for c in columns})
        cells = CellReader(ctx, entity, plan, "zh")
        cells.prefetch_targets(entity.field("shop"), {"北京 𩸽 店", "上海店", "无此店", "双店", "1"})
        yield cells
        state.db.session.remove()


def _by_row_path(reader: CellReader, name: str, raw: Any) -> Any:
    values, errors = reader.read(_row(reader, name, raw))
    return ("error", errors[name]) if name in errors else ("value", values.get(name, "(none)"))


def _by_columns(reader: CellReader, name: str, raws: list[Any]) -> list[Any]:
    results = read_rows(reader, [_row(reader, name, raw) for raw in raws])
    return [("error", errors[name]) if name in errors else ("value", values.get(name, "(none)"))
            for values, errors in results]


def _row(reader: CellReader, name: str, raw: Any) -> list[Any]:
    cells: list[Any] = [""] * len(reader.plan.columns)
    cells[reader.columns[name]] = raw
    return cells


def _exact(result: Any) -> Any:
    """A result with the value's type and (Decimal) exponent made part of it."""
    kind, value = result
    return kind, type(value).__name__, repr(value), value.as_tuple() if isinstance(value, Decimal) else None


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_every_cell_of_the_corpus_reads_the_same_both_ways(reader: CellReader, name: str) -> None:
    raws = CORPUS[name]
    expected = [_exact(_by_row_path(reader, name, raw)) for raw in raws]
    assert [_exact(r) for r in _by_columns(reader, name, raws)] == expected
    assert any(kind == "error" for kind, *_ in expected) or name in ("name", "email", "active", "kind")  # errors included


@pytest.mark.parametrize("name", sorted(COMMON_SHAPES))
def test_the_common_shapes_are_read_by_the_fast_reader(reader: CellReader, name: str) -> None:
    fast = fast_reader(reader, reader.entity.field(name))
    assert fast is not None
    value = fast(COMMON_SHAPES[name])
    assert value is not MISS and _exact(("value", value)) == _exact(_by_row_path(reader, name, COMMON_SHAPES[name]))


def test_an_invalid_cell_is_never_taken_by_the_fast_reader(reader: CellReader) -> None:
    """Errors come from the row path only: every corpus cell the row path refuses is a MISS."""
    for name, raws in CORPUS.items():
        fast = fast_reader(reader, reader.entity.field(name))
        for raw in raws:
            if raw in ("", None):
                continue
            try:
                reader.value(reader.entity.field(name), raw)
            except FieldValueError:
                assert fast is None or fast(raw) is MISS, (name, raw)
