"""Parse and check dashboards.yaml: dashboards, their charts, and who sees them.

A chart names an entity, a measure, a grouping (field, link.field or a date
bucket), an optional series, filters and a kind; or a built-in analysis.
Everything a chart refers to is checked at load (one chart's references in
chart_checks.py), so a bad chart stops startup with its file and line instead
of failing when someone opens the page. No YAML shape raises: each mistake is
a located problem.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .chart_checks import DATES, NUMERIC, RANGES_HINT, ChartCheck, is_relative_range
from .definitions import (
    ANALYSES,
    CHART_KEYS,
    CHART_KINDS,
    CHART_SORTS,
    CHART_TIES,
    DASHBOARD_FILE_KEYS,
    DASHBOARD_KEYS,
    PERIOD_KEYS,
    RELATIVE_RANGES,
)
from .problems import Problem, ProblemSink, did_you_mean
from .shapes import check_identifier, check_label, check_mapping, is_identifier, line_of, type_name
from .spec import ChartSpec, DashboardSpec, EntitySpec, Measure, Period, Text

__all__ = ["PARAM_DEFAULTS", "is_relative_range", "parse_dashboards"]

# Kinds whose chart needs a grouping (unless an analysis shapes the data itself).
NEEDS_GROUP = ("bar", "stacked_bar", "line", "area", "pie", "funnel", "pivot")
ONE_SERIES = ("pie", "funnel", "kpi")


def parse_dashboards(node: Any, path: Path, problems: list[Problem], entities: dict[str, EntitySpec],
                     role_names: set[str], languages: tuple[str, ...]) -> tuple[DashboardSpec, ...]:
    """All dashboards of dashboards.yaml (a missing file means none)."""
    if node is None:
        return ()
    sink = ProblemSink(path, problems)
    values = check_mapping(node, DASHBOARD_FILE_KEYS, sink, "dashboards.yaml", 1)
    items = values.get("dashboards") or []
    result: list[DashboardSpec] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        line = line_of(items, index, node.line_of("dashboards"))
        dashboard = _dashboard(item, line, sink, entities, role_names, languages)
        if dashboard is None:
            continue
        if dashboard.name in seen:
            sink.add("CRM-E004", line, f"dashboard '{dashboard.name}' is defined twice")
            continue
        seen.add(dashboard.name)
        result.append(dashboard)
    return tuple(result)


def _dashboard(item: Any, line: int, sink: ProblemSink, entities: dict[str, EntitySpec], role_names: set[str],
               languages: tuple[str, ...]) -> DashboardSpec | None:
    values = check_mapping(item, DASHBOARD_KEYS, sink, "dashboard", line)
    name = values.get("name")
    if name is None or not check_identifier(name, sink, line_of(item, "name", line), "dashboard name"):
        return None
    where = f"dashboard '{name}'"
    for key in ("label", "description"):
        if key in values:
            check_label(values[key], sink, line_of(item, key, line), where, languages)
    roles = _roles(values.get("roles") or [], line, sink, where, role_names)
    charts: list[ChartSpec] = []
    raw_charts = values.get("charts") or []
    names: set[str] = set()
    for j, raw in enumerate(raw_charts):
        chart_line = line_of(raw_charts, j, line_of(item, "charts", line))
        chart = _chart(raw, chart_line, sink, entities, where, languages)
        if chart is None:
            continue
        if chart.name in names:
            sink.add("CRM-E004", chart_line, f"{where} has two charts named '{chart.name}'")
            continue
        names.add(chart.name)
        charts.append(chart)
    if "charts" in values and not raw_charts:
        sink.add("CRM-E027", line_of(item, "charts", line), f"{where} has no charts",
                 "list at least one chart, or remove the dashboard")
    label = Text.of(values.get("label"), name.replace("_", " ").capitalize())
    return DashboardSpec(name, label, tuple(charts), tuple(roles), Text.of(values.get("description")), line)


def _roles(raw: list, line: int, sink: ProblemSink, where: str, role_names: set[str]) -> list[str]:
    roles: list[str] = []
    for j, role in enumerate(raw):
        role_line = line_of(raw, j, line)
        if not isinstance(role, str):
            sink.add("CRM-E003", role_line, f"roles entry of {where} must be a role name, got {type_name(role)}")
        elif role not in role_names:
            sink.add("CRM-E027", role_line, f"{where} names unknown role '{role}'",
                     did_you_mean(role, role_names) or f"roles: {', '.join(sorted(role_names))}")
        elif role in roles:
            sink.add("CRM-E004", role_line, f"{where} names role '{role}' twice")
        else:
            roles.append(role)
    return roles


def _chart(raw: Any, line: int, sink: ProblemSink, entities: dict[str, EntitySpec], dashboard: str,
           languages: tuple[str, ...]) -> ChartSpec | None:
    values = check_mapping(raw, CHART_KEYS, sink, f"chart of {dashboard}", line)
    name = values.get("name")
    if name is None or not check_identifier(name, sink, line_of(raw, "name", line), "chart name"):
        return None
    where = f"{dashboard}, chart '{name}'"
    at = lambda key: line_of(raw, key, line)  # noqa: E731
    if "title" in values:
        check_label(values["title"], sink, at("title"), where, languages)
    kind, entity_name = values.get("kind"), values.get("entity")
    if kind is not None and kind not in CHART_KINDS:
        sink.add("CRM-E027", at("kind"), f"{where}: unknown kind '{kind}'",
                 did_you_mean(kind, CHART_KINDS) or f"kinds: {', '.join(CHART_KINDS)}")
    if entity_name is not None and entity_name not in entities:
        sink.add("CRM-E027", at("entity"), f"{where}: unknown entity '{entity_name}'",
                 did_you_mean(entity_name, entities) or f"entities: {', '.join(sorted(entities))}")
    if kind not in CHART_KINDS or entity_name not in entities:
        return None
    entity = entities[entity_name]
    check = ChartCheck(sink, entities, entity, where)
    measure = check.measure(values["measure"], at("measure")) if "measure" in values else Measure()
    measures = _measures(raw, values, kind, check, at)
    if measures:
        measure = measures[0]
    group = check.grouping(values["group"], at("group"), "group") if "group" in values else None
    series = check.grouping(values["series"], at("series"), "series") if "series" in values else None
    filters = check.filters(values.get("filters") or {}, at("filters"))
    period = _period(values.get("period"), at("period"), check)
    pipeline, params = _analysis(values, entity, entities, check, at)
    _check_shape(raw, kind, check, at, line)
    if period is not None and kind != "kpi":
        check.fail(at("period"), "period is for kpi charts; filter other charts by a relative date instead",
                   f"e.g. filters: {{{period.field}: {period.range}}}")
    sort = values.get("sort")
    if sort is not None and sort not in CHART_SORTS:
        check.fail(at("sort"), f"unknown sort '{sort}'", did_you_mean(sort, CHART_SORTS)
                   or f"sorts: {', '.join(CHART_SORTS)}")
    top = values.get("top")
    if top is not None and top < 1:
        check.fail(at("top"), f"top must be 1 or more, got {top}")
    ties = values.get("ties")
    if ties is not None and ties not in CHART_TIES:
        check.fail(at("ties"), f"unknown ties '{ties}'", did_you_mean(str(ties), CHART_TIES)
                   or f"ties: {', '.join(CHART_TIES)}", code="CRM-E046")
    elif "ties" in raw and "top" not in raw:
        check.fail(at("ties"), "ties breaks ties in top, and this chart has no top",
                   "add top: N, or remove ties", code="CRM-E046")
    width = values.get("width", 6)
    if not 1 <= width <= 12:
        check.fail(at("width"), f"width is in twelfths of the page: 1 to 12, got {width}")
    if not check.ok:
        return None
    return ChartSpec(name, Text.of(values.get("title"), name.replace("_", " ").capitalize()), kind, entity.name,
                     measure or Measure(), group, series, filters, period, sort, top, width,
                     values.get("analysis"), pipeline, params, line, measures, ties)


# Kinds that draw several measures side by side (one series each).
MULTI_MEASURE_KINDS = ("bar", "line", "area")


def _measures(raw: Any, values: dict, kind: str, check: ChartCheck, at: Any) -> tuple[Measure, ...]:
    """`measures: [count, sum(amount)]`: checked one by one; CRM-E045 for what cannot combine."""
    if "measures" not in raw:
        return ()
    line = at("measures")
    items = values.get("measures")
    if items is None:  # mistyped: CRM-E003 already
        check.ok = False
        return ()
    result: list[Measure] = []
    for j, item in enumerate(items):
        item_line = line_of(items, j, line)
        if not isinstance(item, str):
            check.fail(item_line, f"measures entry must be a measure like sum(amount), got {type_name(item)}",
                       code="CRM-E045")
            continue
        m = check.measure(item, item_line)
        if m is None:
            continue
        if m in result:
            check.fail(item_line, f"measures repeat '{m}'", "remove one", code="CRM-E045")
            continue
        result.append(m)
    problems = [
        ("measure" in raw, "give measure or measures, not both", "move the measure into the measures list"),
        (len(items) < 2, "measures lists two or more measures", "for one, write measure: ..."),
        ("series" in raw, "several measures are the series: remove series", "or chart one measure by series"),
        ("analysis" in raw, "an analysis computes its own numbers: remove measures", ""),
        (kind not in MULTI_MEASURE_KINDS, f"a {kind} chart shows one measure",
         f"several measures go on {', '.join(MULTI_MEASURE_KINDS)} charts"),
    ]
    for bad, message, hint in problems:
        if bad:
            check.fail(line, message, hint, code="CRM-E045")
    return tuple(result)


def _check_shape(raw: Any, kind: str, check: ChartCheck, at: Any, line: int) -> None:
    """What a plain (not analysis) chart of `kind` needs and refuses: group, series, sort, top.

    Keys are looked up in the raw mapping, so a key already reported as mistyped
    (CRM-E003) is not also called missing.
    """
    if "analysis" in raw:
        return
    has_group, has_series = "group" in raw, "series" in raw
    if kind in NEEDS_GROUP and not has_group:
        check.fail(line, f"a {kind} chart needs a group", "e.g. group: stage, or group: close_date:month")
    if kind == "kpi" and has_group:
        check.fail(at("group"), "a kpi chart is one number; remove group (use period to compare)")
    if kind in ONE_SERIES and has_series:
        check.fail(at("series"), f"a {kind} chart has one series; remove series")
    elif has_series and not has_group and kind not in NEEDS_GROUP:
        check.fail(at("series"), "series splits each group: add a group")
    elif has_series and has_group and str(raw["series"]).strip() == str(raw["group"]).strip():
        check.fail(at("series"), f"series repeats the group '{raw['group']}'", "split by another field")
    if kind == "pivot" and not has_series:
        check.fail(line, "a pivot needs a series: its columns", "e.g. group: channel, series: priority")
    if not has_group and kind not in NEEDS_GROUP:
        for key in ("sort", "top"):
            if key in raw:
                check.fail(at(key), f"{key} orders the groups, and this chart has none",
                           "remove it, or add a group")


def _period(raw: Any, line: int, check: ChartCheck) -> Period | None:
    if raw is None:
        return None
    values = check_mapping(raw, PERIOD_KEYS, check.sink, f"{check.where} period", line)
    if "field" not in values or "range" not in values:
        check.ok = False
        return None
    field_line, range_line = line_of(raw, "field", line), line_of(raw, "range", line)
    f = check.field_at(values["field"], field_line, "period field")
    if f is None:
        return None
    if f.type not in DATES:
        check.fail(field_line, f"period field '{values['field']}' is a {f.type} field, not a date")
        return None
    if not is_relative_range(values["range"]):
        check.fail(range_line, f"period range '{values['range']}' is not a relative date range",
                   did_you_mean(values["range"], RELATIVE_RANGES) or RANGES_HINT)
        return None
    return Period(values["field"], values["range"])


def _analysis(values: dict, entity: EntitySpec, entities: dict[str, EntitySpec], check: ChartCheck,
              at: Any) -> tuple[str | None, tuple[tuple[str, Any], ...]]:
    """(pipeline, params) of an analysis chart; (None, ()) for a plain one."""
    analysis = values.get("analysis")
    if analysis is None:
        for key in ("pipeline", "params"):
            if key in values:
                check.fail(at(key), f"'{key}' is only for analyses", "add analysis: ..., or remove it")
        return None, ()
    spec = ANALYSES.get(analysis)
    if spec is None:
        check.fail(at("analysis"), f"unknown analysis '{analysis}'",
                   did_you_mean(analysis, ANALYSES) or f"analyses: {', '.join(ANALYSES)}")
        return None, ()
    if values["kind"] not in spec.kinds:
        check.fail(at("kind"), f"analysis {analysis} draws {', '.join(spec.kinds)}, not {values['kind']}")
    if not spec.needs_pipeline:
        if "pipeline" in values:
            check.fail(at("pipeline"), f"analysis {analysis} takes no pipeline")
        return None, _params(spec.name, values, entity, entities, check, at)
    if not entity.pipelines:
        check.fail(at("entity"), f"analysis {analysis} needs a pipeline entity; {entity.name} has no pipeline",
                   "choose an entity with pipelines: in its file")
        return None, ()
    name = values.get("pipeline", entity.pipelines[0].name)
    names = [p.name for p in entity.pipelines]
    if name not in names:
        check.fail(at("pipeline"), f"{entity.name} has no pipeline '{name}'",
                   did_you_mean(name, names) or f"pipelines: {', '.join(names)}")
        return None, ()
    return name, _params(spec.name, values, entity, entities, check, at)


# What each analysis param must name: ("field", types) on the chart's entity, ("entity", None) or ("days", None).
PARAM_KINDS: dict[str, tuple[str, tuple[str, ...] | None]] = {
    "date": ("field", DATES), "customer": ("field", ("link",)), "cost": ("field", NUMERIC),
    "due": ("field", ("datetime", "date")), "activity": ("entity", None), "leads": ("entity", None),
    "deals": ("entity", None), "days": ("days", None),
}
PARAM_DEFAULTS = {"date": "close_date", "customer": "account", "cost": "actual_cost", "due": "sla_due",
                  "activity": "activity", "leads": "lead", "deals": "opportunity", "days": 90}
MAX_DAYS = 3660


def _params(name: str, values: dict, entity: EntitySpec, entities: dict[str, EntitySpec], check: ChartCheck,
            at: Any) -> tuple[tuple[str, Any], ...]:
    """The analysis' params, each given or defaulted, checked against the chart's entity."""
    raw = values.get("params") or {}
    check.duplicates(raw, "params")
    allowed = dict(ANALYSES[name].params)
    for key in raw:
        if key not in allowed:
            check.fail(line_of(raw, key, at("params")), f"analysis {name} has no param '{key}'",
                       did_you_mean(str(key), allowed) or (f"params: {', '.join(allowed)}" if allowed
                                                           else "it takes none"))
    result: list[tuple[str, Any]] = []
    for key in allowed:
        value = raw.get(key, PARAM_DEFAULTS[key])
        line = line_of(raw, key, at("params") if key in raw else at("analysis"))
        if _param_ok(key, value, key in raw, line, entity, entities, check):
            result.append((key, value))
    if name in ("churn_risk", "campaign_roi") and len(result) == len(allowed):
        _check_links_back(name, dict(result), entity, entities, check, at("analysis"))
    return tuple(result)


def _param_ok(key: str, value: Any, given: bool, line: int, entity: EntitySpec, entities: dict[str, EntitySpec],
              check: ChartCheck) -> bool:
    kind, types = PARAM_KINDS[key]
    default = "" if given else f" (the default; set params: {{{key}: ...}})"
    if kind == "days":
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_DAYS:
            check.fail(line, f"param days must be a whole number of days from 1 to {MAX_DAYS}, "
                       f"got {type_name(value)}")
            return False
        return True
    if not isinstance(value, str):
        what = "a field" if kind == "field" else "an entity"
        check.fail(line, f"param {key} must be {what} name, got {type_name(value)}")
        return False
    if kind == "field":
        f = entity.field_map.get(value) if is_identifier(value) else None
        if f is None or (types and f.type not in types):
            what = "no such field" if f is None else f"a {f.type} field"
            check.fail(line, f"param {key} '{value}' of {entity.name}: {what}{default}",
                       f"needs a {' or '.join(types or ())} field of {entity.name}")
            return False
        return True
    if value not in entities:
        check.fail(line, f"param {key} names unknown entity '{value}'{default}",
                   did_you_mean(value, entities) or f"entities: {', '.join(sorted(entities))}")
        return False
    return True


def _check_links_back(name: str, params: dict, entity: EntitySpec, entities: dict[str, EntitySpec],
                      check: ChartCheck, line: int) -> None:
    """The related entities an analysis joins must link to the chart's entity (and deals be a pipeline)."""
    keys = ("activity",) if name == "churn_risk" else ("leads", "deals")
    for key in keys:
        other = entities[params[key]]
        if not any(f.type == "link" and f.to == entity.name for f in other.fields):
            check.fail(line, f"analysis {name}: {other.name} has no link to {entity.name}",
                       f"add a link field to: {entity.name} in {other.name}, or set params: {{{key}: ...}}")
    if name == "campaign_roi":
        deals = entities[params["deals"]]
        if not deals.pipelines or not deals.pipelines[0].amount_field:
            check.fail(line, f"analysis campaign_roi: {deals.name} needs a pipeline with an amount_field")
