"""What the report builder page shows: the choices a viewer has, and the report they built.

Only what the viewer may see is offered: entities they read, fields not
hidden from them, link fields of entities they read. The page renders
values as text (choice labels, link titles) and the grouped table as a
plotly chart drawn by reports.js.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from plotly.utils import PlotlyJSONEncoder

from app.charts.figures import figure
from app.charts.result import ChartResult, Point
from app.i18n import _t, translate
from app.metadata.definitions import DATE_BUCKETS
from app.metadata.spec import ChartSpec, CrmSpec, EntitySpec, Text
from app.security.access import Access

from .report_definition import (
    DATES,
    NOT_COLUMNS,
    NOT_FILTERS,
    NOT_GROUPS,
    NUMERIC,
    REPORT_KINDS,
    REPORT_OPS,
    ReportDefinition,
    args_from_definition,
)
from .report_export import text
from .report_query import Table
from .report_store import SavedReport, may_change

RELATIVE_CHOICES = ("today", "yesterday", "this_week", "last_week", "this_month", "last_month", "this_quarter",
                    "last_quarter", "this_year", "last_year", "last_7_days", "last_30_days", "last_90_days",
                    "next_30_days")



UI = {
    "title": _t("Reports"), "entity": _t("Entity"), "choose": _t("Choose…"),
    "columns": _t("Columns"), "filters": _t("Filters"), "add_filter": _t("Add filter"),
    "field": _t("Field"), "op": _t("Operator"), "value": _t("Value"),
    "group": _t("Group by"), "none": _t("(none)"), "measure": _t("Measure"),
    "kind": _t("Chart"), "run": _t("Run report"), "save": _t("Save"),
    "save_as": _t("Save as new"), "name": _t("Report name"),
    "share": _t("Share with roles"), "private": _t("Private unless a role is ticked."),
    "saved": _t("Saved reports"), "no_saved": _t("No saved reports yet."),
    "delete": _t("Delete"), "export_csv": _t("Export CSV"),
    "export_xlsx": _t("Export Excel"), "rows": _t("rows"),
    "first_rows": _t("Showing the first {n} of {total} rows."),
    "no_rows": _t("No records match."), "share_link": _t("Link to this report"),
    "shared": _t("shared"), "mine": _t("mine"), "remove": _t("Remove"),
    "relative_hint": _t("dates: 2026-01-31, or this_month, last_30_days…"),
    "list_hint": _t("in, not in, between: values separated by commas"),
}
OPS = {"eq": "=", "ne": "≠", "in": "in", "not_in": "not in", "gt": ">", "gte": "≥", "lt": "<", "lte": "≤",
       "between": "between", "empty": "empty", "relative": "in range"}
KINDS = {"bar": _t("Bar"), "line": _t("Line"), "pie": _t("Pie"), "table": _t("Table")}
FUNCS = {"sum": _t("Sum of {f}"), "avg": _t("Average {f}"), "min": _t("Min {f}"),
         "max": _t("Max {f}")}
BUCKETS = {"day": _t("day"), "week": _t("week"), "month": _t("month"),
           "quarter": _t("quarter"), "year": _t("year")}


def _visible(entity: EntitySpec, access: Access) -> list[Any]:
    hidden = access.hidden_fields(entity)
    return [f for f in entity.fields if f.name not in hidden]


def field_choices(spec: CrmSpec, entity: EntitySpec, access: Access, lang: str) -> dict[str, list[tuple[str, str]]]:
    """(value, label) options of each builder control, limited to what the viewer may see."""
    own = _visible(entity, access)
    columns = [(f.name, f.label.get(lang)) for f in own if f.type not in NOT_COLUMNS]
    for link in own:
        if link.type != "link" or access.scope(link.target, "read") == "no":
            continue
        target = spec.entity(link.target)
        columns += [(f"{link.name}.{f.name}", f"{link.label.get(lang)} / {f.label.get(lang)}")
                    for f in _visible(target, access) if f.type not in ("link", "user", "links")]
    groups = []
    for f in own:
        if f.type in DATES:
            groups += [(f"{f.name}:{b}", f"{f.label.get(lang)} ({BUCKETS[b].get(lang)})") for b in DATE_BUCKETS]
        elif f.type not in NOT_GROUPS:
            groups.append((f.name, f.label.get(lang)))
    measures = [("count", translate("Count", lang))]
    for f in own:
        if f.type in NUMERIC and not f.system:
            measures += [(f"{func}({f.name})", label.get(lang).format(f=f.label.get(lang)))
                         for func, label in FUNCS.items()]
    filters = [(f.name, f.label.get(lang)) for f in own if f.type not in NOT_FILTERS]
    return {"columns": columns, "groups": groups, "measures": measures, "filters": filters}


def _filter_rows(definition: ReportDefinition | None) -> list[dict[str, str]]:
    rows = []
    for c in definition.filters if definition else ():
        value = c.value
        if isinstance(value, tuple):
            value = ",".join(str(v) for v in value)
        elif isinstance(value, bool):
            value = "true" if value else "false"
        rows.append({"field": c.path, "op": c.op, "value": str(value)})
    return rows or [{"field": "", "op": "eq", "value": ""}]


def _chart(definition: ReportDefinition | None, table: Table | None, spec: CrmSpec, lang: str) -> Any:
    """The plotly figure of a grouped report, drawn like dashboard charts (choice colours included)."""
    if definition is None or table is None or not definition.grouped or definition.kind == "table":
        return None
    group = definition.group
    assert group is not None
    entity = spec.entity(definition.entity)
    head = entity.field(group.path) if group.path in entity.field_map else None
    colors = {c.value: c.color for c in head.choices if c.color} if head is not None else {}
    points = [Point(key, label, float(value) if isinstance(value, Decimal) else value,
                    extra=(("color", colors[key]),) if key in colors else ())
              for key, (label, value) in zip(table.keys, table.rows, strict=True)]
    chart = ChartSpec("report", Text.of("report"), definition.kind, definition.entity, definition.measure, group)
    drawn = figure(ChartResult(chart, table.columns[1].heading, points), lang)
    # plotly's own encoder turns its numpy/date values into JSON; back to plain data for the template
    return json.loads(json.dumps(drawn, cls=PlotlyJSONEncoder)) if drawn is not None else None


def page_context(spec: CrmSpec, access: Access, definition: ReportDefinition | None, report: SavedReport | None,
                 table: Table | None, total: int | None, saved: list[SavedReport], lang: str,
                 entity_name: str) -> dict[str, Any]:
    entities = [(e.name, e.plural.get(lang)) for e in spec.entities if access.scope(e.name, "read") != "no"]
    entity = spec.entity(entity_name) if entity_name in dict(entities) else None
    choices = field_choices(spec, entity, access, lang) if entity is not None else {}
    rows = []
    if table is not None:
        rows = [[text(c, v, lang) if v is not None else "" for c, v in zip(table.columns, row, strict=True)]
                for row in table.rows]
    query = urlencode(args_from_definition(definition)) if definition is not None else ""
    export_base = f"/crm/reports/{report.id}/export" if report is not None else "/crm/reports/export"
    return {
        "ui": {k: v.get(lang) for k, v in UI.items()},
        "title": UI["title"].get(lang),
        "lang": lang,
        "entities": entities,
        "entity": entity,
        "choices": choices,
        "ops": [(op, OPS[op]) for op in REPORT_OPS],
        "kinds": [(k, KINDS[k].get(lang)) for k in REPORT_KINDS],
        "relative_choices": RELATIVE_CHOICES,
        "definition": definition,
        "selected_columns": set(definition.columns) if definition else {c for c, _ in choices.get("columns", [])[:5]},
        "filter_rows": _filter_rows(definition),
        "headings": [c.heading for c in table.columns] if table is not None else [],
        "rows": rows,
        "total": total,
        "page_rows": len(rows),
        "chart": _chart(definition, table, spec, lang),
        "notes": list(definition.notes) if definition else [],
        "definition_json": definition.to_json() if definition else None,
        "share_url": f"/crm/reports/?{query}" if query else "",
        "export_csv": f"{export_base}.csv" + (f"?{query}" if report is None and query else ""),
        "export_xlsx": f"{export_base}.xlsx" + (f"?{query}" if report is None and query else ""),
        "can_export": definition is not None and access.scope(definition.entity, "export") != "no",
        "report": report,
        "can_change": report is not None and may_change(report, access),
        "saved": [dict(r.to_json(access), entity_label=spec.entity(r.entity).plural.get(lang)
                       if r.entity in spec.entity_map else r.entity) for r in saved],
        "roles": [(r.name, r.label.get(lang)) for r in spec.roles],
    }
