"""An empty import file for an entity: the columns a user may fill, headed by their labels.

A consultant or sales admin starting a migration asks "what columns does it want?". Headed in
the user's language, the template's columns map themselves on upload (`auto_mapping` matches a
field's labels in any language). CSV is UTF-8 with a BOM, so Excel opens Chinese headers;
XLSX marks the required columns bold and offers a choice field's labels as a dropdown (the
import takes a choice's value or any of its labels).
"""

from __future__ import annotations

import csv
import io
from typing import Any

from app.metadata.spec import EntitySpec, FieldSpec

from .mapping import ImportPlan, MappingRefused, check_plan, importable, required_fields

MAX_LIST_CHARS = 255  # Excel's limit for a dropdown given as a list
DROPDOWN_ROWS = 10_000


def template_fields(entity: EntitySpec, spec: Any, access: Any) -> list[FieldSpec]:
    """The columns a create import by this user accepts (asked of `check_plan` itself, so the
    template and the mapping never disagree), in the entity's order. Autonumbers are left out: a
    blank one is numbered (a file bringing its own numbers still maps them)."""
    fields = [f for f in importable(entity) if f.type != "autonumber"]
    names = tuple(f.name for f in fields)
    try:
        check_plan(ImportPlan(entity.name, "create", names, {n: n for n in names}, (), {}), entity, spec, access)
    except MappingRefused as refused:
        return [f for f in fields if f.name not in refused.errors]
    return fields


def template_csv(fields: list[FieldSpec], lang: str | None) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow([f.label.get(lang) for f in fields])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def template_xlsx(entity: EntitySpec, fields: list[FieldSpec], lang: str | None, sheet: str) -> bytes:
    import xlsxwriter  # on the first XLSX template: 42 modules a worker otherwise never uses

    required = {f.name for f in required_fields(entity)}
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False,
                                        "strings_to_urls": False, "strings_to_numbers": False})
    bold, plain = book.add_format({"bold": True}), book.add_format({})
    worksheet = book.add_worksheet(sheet)
    for column, f in enumerate(fields):
        label = f.label.get(lang)
        worksheet.write_string(0, column, label, bold if f.name in required else plain)
        worksheet.set_column(column, column, max(12, min(40, 2 * len(label) + 2)))
        labels = [c.label.get(lang) for c in f.choices] if f.type == "choice" else []
        if labels and len(",".join(labels)) <= MAX_LIST_CHARS and not any("," in x for x in labels):
            worksheet.data_validation(1, column, DROPDOWN_ROWS, column,
                                      {"validate": "list", "source": labels, "error_type": "warning"})
    worksheet.freeze_panes(1, 0)
    book.close()
    return buffer.getvalue()
