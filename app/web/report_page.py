"""What the report builder page shows: the choices a viewer has, and the report they built.

Only what the viewer may see is offered: entities they read, fields not
hidden from them, link fields of entities they read. The page renders
values as text (choice labels, link titles) and the grouped table as a
plotly chart drawn by reports.js.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from app.charts.figures import figure, figure_json
from app.charts.result import ChartResult, Point
from app.i18n import _t
from app.metadata.definitions import DATE_BUCKETS
from app.metadata.spec import ChartSpec, CrmSpec, EntitySpec, Text
from app.security.access import Access

from .filterops import RANGE_LABELS, RELATIVE
from .paging import is_record_id
from .report_definition import (
    DATES,
    NOT_COLUMNS,
    NOT_FILTERS,
    NOT_GROUPS,
    NUMERIC,
    REPORT_KINDS,
    ReportDefinition,
    args_from_definition,
    default_columns,
)
from .report_filters import ALL_OPS, OPS_BY_KIND, kind_of, op_label
from .report_query import Table
from .report_shown import shown, total_row
from .report_store import SavedReport, may_change

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
    "relative_hint": _t("Choose values from the lists; several values of “is any of” are kept together."),
    "list_hint": _t("Typed values may be labels: a choice's name, a date as 2026-01-31."),
    "total": _t("Total"), "count": _t("Count"), "yes": _t("Yes"), "no": _t("No"),
    "from": _t("from"), "to": _t("to"), "search": _t("Search…"),
}
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
    measures = [("count", UI["count"].get(lang))]
    for f in own:
        if f.type in NUMERIC and not f.system:
            measures += [(f"{func}({f.name})", label.get(lang).format(f=f.label.get(lang)))
                         for func, label in FUNCS.items()]
    filters = [(f.name, f.label.get(lang)) for f in own if f.type not in NOT_FILTERS]
    return {"columns": columns, "groups": groups, "measures": measures, "filters": filters}


def filter_config(spec: CrmSpec, entity: EntitySpec | None, lang: str, api_prefix: str) -> dict[str, Any]:
    """What reports.js needs to draw each filter row's operator and value controls: per field its
    kind, operators in the user's words, choice labels, and the picker URL of a link."""
    if entity is None:
        return {}
    fields = {}
    for f in entity.fields:
        if f.type in NOT_FILTERS:
            continue
        kind = kind_of(f)
        item: dict[str, Any] = {"kind": kind, "type": f.type,
                                "ops": [[op, op_label(op, kind, lang)] for op in OPS_BY_KIND[kind]]}
        if f.type == "choice":
            item["choices"] = [[c.value, c.label.get(lang) or c.value] for c in f.choices]
        elif f.type == "link":
            item["url"] = f"{api_prefix}/{f.target}/picker"
        elif f.type == "user":
            item["url"] = f"{api_prefix}/user/picker?field={entity.name}.{f.name}"
        fields[f.name] = item
    return {"fields": fields, "ranges": [[r, RANGE_LABELS[r].get(lang)] for r in RELATIVE],
            "yes": UI["yes"].get(lang), "no": UI["no"].get(lang), "from": UI["from"].get(lang),
            "to": UI["to"].get(lang)}


def _plain(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ",".join(_plain(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return "" if value is None else str(value)


def filter_rows(entity: EntitySpec | None, filters: list[dict[str, Any]], titles: Any,
                errors: dict[int, str]) -> list[dict[str, Any]]:
    """The filter rows to draw again (a run, or the same entries with a message on the faulty row);
    links carry the titles of their ids, so the picker shows names, never ids."""
    rows = []
    for index, item in enumerate(filters):
        path, value = str(item.get("field") or ""), item.get("value")
        f = entity.field_map.get(path) if entity is not None else None
        shown_titles: dict[str, str] = {}
        if f is not None and f.type in ("link", "user"):
            ids = [int(v) for v in (value if isinstance(value, (list, tuple)) else [value])
                   if is_record_id(v)]
            shown_titles = {str(k): v for k, v in titles(f, ids).items()}
        rows.append({"field": path, "op": str(item.get("op") or "eq"), "value": _plain(value),
                     "titles": shown_titles, "error": errors.get(index, "")})
    return rows or [{"field": "", "op": "eq", "value": "", "titles": {}, "error": ""}]


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
    return json.loads(figure_json(drawn)) if drawn is not None else None


def page_context(spec: CrmSpec, access: Access, definition: ReportDefinition | None, report: SavedReport | None,
                 table: Table | None, totals: dict[str, Any] | None, saved: list[SavedReport], lang: str,
                 entity_name: str, raw: dict[str, Any] | None = None, titles: Any = None,
                 errors: dict[str, Any] | None = None, api_prefix: str = "/api/v1") -> dict[str, Any]:
    """Everything the template shows; `raw` is what the user sent when it could not run (kept, with
    `errors` next to the control at fault: {"filters": {row: message}, "columns": message})."""
    entities = [(e.name, e.plural.get(lang)) for e in spec.entities if access.scope(e.name, "read") != "no"]
    entity = spec.entity(entity_name) if entity_name in dict(entities) else None
    choices = field_choices(spec, entity, access, lang) if entity is not None else {}
    errors = errors or {}
    rows, footer = [], []
    if table is not None:
        rows = [[shown(c, v, spec, lang) for c, v in zip(table.columns, row, strict=True)] for row in table.rows]
        footer = total_row(table, totals, definition, spec, lang, UI["total"].get(lang)) if totals else []
    query = urlencode(args_from_definition(definition)) if definition is not None else ""
    export_base = f"/crm/reports/{report.id}/export" if report is not None else "/crm/reports/export"
    source = definition.to_json() if definition is not None else raw or {}
    if definition is not None:
        selected = set(definition.columns)
    elif raw and raw.get("columns") is not None and errors:
        selected = set(raw.get("columns") or ())
    else:
        selected = set(default_columns(spec, entity, access)) if entity is not None else set()
    return {
        "ui": {k: v.get(lang) for k, v in UI.items()},
        "title": report.name if report is not None else UI["title"].get(lang),  # the tab names a saved report
        "lang": lang,
        "entities": entities,
        "entity": entity,
        "choices": choices,
        "ops": [(op, op_label(op, "", lang)) for op in ALL_OPS],
        "kinds": [(k, KINDS[k].get(lang)) for k in REPORT_KINDS],
        "filter_config": filter_config(spec, entity, lang, api_prefix),
        "definition": definition,
        "selected_columns": selected,
        "columns_error": errors.get("columns", ""),
        "filter_rows": filter_rows(entity, list(source.get("filters") or []), titles or (lambda f, ids: {}),
                                   errors.get("filters", {})),
        "headings": [c.heading for c in table.columns] if table is not None else [],
        "numeric": [c.field is not None and c.field.type in NUMERIC or c.path.startswith("count")
                    for c in table.columns] if table is not None else [],
        "rows": rows,
        "footer": footer,
        "total": totals["count"] if totals else None,
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
