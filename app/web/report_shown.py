"""A report's values as the page shows them: amounts in the CRM's currency, numbers with
thousands separators, and the totals row (exports keep plain values, see report_export)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from app.fieldtypes.registry import field_type
from app.i18n import _t, label_value
from app.metadata.spec import CrmSpec

from .report_export import text
from .report_query import Column, Table

RECORDS = _t("{n} records")


def shown(column: Column, value: Any, spec: CrmSpec, lang: str) -> str:
    """One cell: ¥1,280.00 for money, 12,345 for counts and numbers, labels and titles for the rest."""
    if value is None:
        return ""
    kind = column.field.type if column.field is not None else None
    if kind == "money" and isinstance(value, (int, float, Decimal)):
        return str(field_type("money").formatter(column.field, spec)(Decimal(str(value))))
    if isinstance(value, bool):
        return text(column, value, lang)
    if kind == "percent" and isinstance(value, (int, float, Decimal)):
        return f"{_number(value)} %"
    if isinstance(value, (int, float, Decimal)) and kind not in ("string", "autonumber", "choice"):
        return _number(value)
    return text(column, value, lang)


def _number(value: Any) -> str:
    if isinstance(value, float):
        value = round(value, 2)
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{value:,}"


def total_row(table: Table, totals: dict[str, Any], definition: Any, spec: CrmSpec, lang: str,
              label: str) -> list[str]:
    """The footer: the count of records and the sum of each money/number column (the overall measure
    when grouped), over every row the viewer may read, not only those on the page."""
    sums = totals.get("sums", {})
    cells = [shown(c, sums[c.path], spec, lang) if c.path in sums and sums[c.path] is not None else ""
             for c in table.columns]
    if definition is not None and definition.grouped:
        cells = [""] + [shown(table.columns[1], next(iter(sums.values()), None), spec, lang)]
    count = f"{totals['count']:,}"
    caption = f"{label} · {RECORDS.get(lang).format(n=count)}"
    cells[0] = label_value(caption, cells[0], lang) if cells[0] else caption  # zh: "：", no space
    return cells
