"""Parse and check dashboards.yaml: dashboards, their charts, and who sees them.

A chart names an entity, a measure, a grouping (field, link.field or a date
bucket), an optional series, filters and a kind; or a built-in analysis.
Everything a chart refers to is checked here, so a bad chart stops startup
with its file and line instead of failing when someone opens the page.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from .definitions import (
    ANALYSES,
    CHART_KEYS,
    CHART_KINDS,
    CHART_SORTS,
    DASHBOARD_FILE_KEYS,
    DASHBOARD_KEYS,
    DATE_BUCKETS,
    FILTER_OPS,
    MEASURES,
    PERIOD_KEYS,
    RELATIVE_RANGES,
)
from .problems import Problem, ProblemSink, did_you_mean
from .shapes import check_identifier, check_label, check_mapping, is_identifier, line_of, type_name
from .spec import ChartSpec, Condition, DashboardSpec, EntitySpec, FieldSpec, Grouping, Measure, Period, Text

NUMERIC = ("integer", "decimal", "money", "percent")
DATES = ("date", "datetime")
GROUPABLE = ("string", "choice", "boolean", "link", "user", "integer", "percent", "email", "phone", "url",
             "autonumber", *DATES)
USER_FIELDS = ("username", "first_name", "last_name")
MEASURE_RE = re.compile(r"^\s*([a-z_]+)\s*(?:\(\s*([a-z][a-z0-9_]*)\s*\))?\s*$")
RELATIVE_N_DAYS = re.compile(r"^(last|next)_(\d{1,4})_days$")
# Kinds whose chart needs a grouping (unless an analysis shapes the data itself).
NEEDS_GROUP = ("bar", "stacked_bar", "line", "area", "pie", "funnel", "pivot")
ONE_SERIES = ("pie", "funnel", "kpi")


def is_relative_range(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    match = RELATIVE_N_DAYS.match(value)
    return value in RELATIVE_RANGES or (match is not None and 1 <= int(match.group(2)) <= 3660)


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
    roles = []
    raw_roles = values.get("roles") or []
    for j, role in enumerate(raw_roles):
        if not isinstance(role, str) or role not in role_names:
            sink.add("CRM-E027", line_of(raw_roles, j, line), f"{where} names unknown role '{role}'",
                     did_you_mean(str(role), role_names) or f"roles: {', '.join(sorted(role_names))}")
        else:
            roles.append(role)
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
        sink.add("CRM-E027", line_of(item, "charts", line), f"{where} has no charts")
    label = Text.of(values.get("label"), name.replace("_", " ").capitalize())
    return DashboardSpec(name, label, tuple(charts), tuple(roles), Text.of(values.get("description")), line)


class _ChartCheck:
    """Checks one chart's references against its entity; `ok` turns false on any problem."""

    def __init__(self, sink: ProblemSink, entities: dict[str, EntitySpec], entity: EntitySpec, where: str):
        self.sink, self.entities, self.entity, self.where = sink, entities, entity, where
        self.ok = True

    def fail(self, line: int, message: str, hint: str = "") -> None:
        self.sink.add("CRM-E027", line, f"{self.where}: {message}", hint)
        self.ok = False

    def field_at(self, path: str, line: int, what: str) -> FieldSpec | None:
        """The field a path names (a link's field for link.field), or None after reporting."""
        head, _, tail = path.partition(".")
        f = self.entity.field_map.get(head)
        if f is None:
            self.fail(line, f"{what} '{path}': {self.entity.name} has no field '{head}'",
                      did_you_mean(head, self.entity.field_map))
            return None
        if not tail:
            return f
        if "." in tail:
            self.fail(line, f"{what} '{path}' goes more than one link deep", "paths are link.field, one level")
            return None
        if f.type == "user":
            if tail not in USER_FIELDS:
                self.fail(line, f"{what} '{path}': users have no field '{tail}'", f"use {', '.join(USER_FIELDS)}")
                return None
            return FieldSpec(tail, "string", Text.of(tail))
        if f.type != "link":
            self.fail(line, f"{what} '{path}': '{head}' is a {f.type} field, not a link")
            return None
        target = self.entities[f.target]
        if tail not in target.field_map:
            self.fail(line, f"{what} '{path}': {target.name} has no field '{tail}'",
                      did_you_mean(tail, target.field_map))
            return None
        return target.field(tail)

    def grouping(self, raw: str, line: int, what: str) -> Grouping | None:
        path, _, bucket = raw.partition(":")
        path, bucket = path.strip(), bucket.strip()
        f = self.field_at(path, line, what)
        if f is None:
            return None
        if f.type not in GROUPABLE:
            self.fail(line, f"{what} '{path}' is a {f.type} field, which cannot group a chart",
                      "group by a choice, link, user, boolean, text-like or date field; "
                      "amounts belong in the measure")
            return None
        if f.type in DATES and not bucket:
            self.fail(line, f"{what} '{path}' is a date: say how to bucket it",
                      f"e.g. {path}:month; buckets: {', '.join(DATE_BUCKETS)}")
            return None
        if bucket and f.type not in DATES:
            self.fail(line, f"{what} '{raw}': only date fields take a bucket")
            return None
        if bucket and bucket not in DATE_BUCKETS:
            self.fail(line, f"{what} '{raw}': unknown date bucket '{bucket}'",
                      did_you_mean(bucket, DATE_BUCKETS) or f"buckets: {', '.join(DATE_BUCKETS)}")
            return None
        return Grouping(path, bucket or None)

    def measure(self, raw: str, line: int) -> Measure | None:
        match = MEASURE_RE.match(raw)
        if not match or (match.group(1) == "count") != (match.group(2) is None):
            self.fail(line, f"measure '{raw}' is not count or func(field)",
                      "e.g. count, sum(amount), avg(amount), min(close_date), max(amount)")
            return None
        func, name = match.groups()
        if func not in MEASURES:
            self.fail(line, f"measure '{raw}': unknown function '{func}'",
                      did_you_mean(func, MEASURES) or f"functions: {', '.join(MEASURES)}")
            return None
        if name is None:
            return Measure()
        f = self.field_at(name, line, "measure field")
        if f is None:
            return None
        allowed = NUMERIC + DATES if func in ("min", "max") else NUMERIC
        if f.type not in allowed:
            self.fail(line, f"measure '{raw}': {name} is a {f.type} field; {func} needs a number"
                      + (" or a date" if func in ("min", "max") else ""))
            return None
        return Measure(func, name)

    def filters(self, raw: Any, line: int) -> tuple[Condition, ...]:
        result: list[Condition] = []
        for path, condition in raw.items():
            key_line = line_of(raw, path, line)
            f = self.field_at(str(path), key_line, "filter")
            if f is None:
                continue
            if isinstance(condition, dict):
                if not condition:
                    self.fail(key_line, f"filter '{path}' has no condition")
                for op, value in condition.items():
                    cond = self.condition(str(path), f, str(op), value, key_line)
                    if cond is not None:
                        result.append(cond)
            elif isinstance(condition, list):
                cond = self.condition(str(path), f, "in", condition, key_line)
                if cond is not None:
                    result.append(cond)
            elif condition is None:
                result.append(Condition(str(path), "empty", True))
            elif f.type in DATES and is_relative_range(condition):
                result.append(Condition(str(path), "relative", condition))
            else:
                cond = self.condition(str(path), f, "eq", condition, key_line)
                if cond is not None:
                    result.append(cond)
        return tuple(result)

    def condition(self, path: str, f: FieldSpec, op: str, value: Any, line: int) -> Condition | None:
        if op not in FILTER_OPS:
            self.fail(line, f"filter '{path}': unknown operator '{op}'",
                      did_you_mean(op, FILTER_OPS) or f"operators: {', '.join(FILTER_OPS)}")
            return None
        if op == "empty":
            if not isinstance(value, bool):
                self.fail(line, f"filter '{path}': empty takes true or false, got {type_name(value)}")
                return None
            return Condition(path, op, value)
        if op in ("in", "not_in", "between"):
            if not isinstance(value, list) or not value or (op == "between" and len(value) != 2):
                want = "a list of two values [from, to]" if op == "between" else "a non-empty list"
                self.fail(line, f"filter '{path}': {op} takes {want}, got {type_name(value)}")
                return None
            values = value
        elif isinstance(value, (list, dict)):
            self.fail(line, f"filter '{path}': {op} takes one value, got {type_name(value)}")
            return None
        else:
            values = [value]
        if f.type in ("multichoice", "links", "text"):
            self.fail(line, f"filter '{path}' is a {f.type} field, which charts cannot filter on")
            return None
        if f.type == "choice":
            known = [c.value for c in f.choices]
            for v in values:
                if str(v) not in known:
                    self.fail(line, f"filter '{path}': '{v}' is not one of its choices",
                              did_you_mean(str(v), known) or f"choices: {', '.join(known)}")
                    return None
        if f.type in DATES and op == "eq" and is_relative_range(value):
            return Condition(path, "relative", value)
        if f.type in DATES and any(isinstance(v, str) and RELATIVE_N_DAYS.match(v) for v in values):
            self.fail(line, f"filter '{path}': relative ranges stand alone (close_date: this_month)")
            return None
        return Condition(path, op, tuple(values) if op in ("in", "not_in", "between") else value)


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
    if kind is None or entity_name is None:
        return None
    if kind not in CHART_KINDS:
        sink.add("CRM-E027", at("kind"), f"{where}: unknown kind '{kind}'",
                 did_you_mean(str(kind), CHART_KINDS) or f"kinds: {', '.join(CHART_KINDS)}")
        return None
    if entity_name not in entities:
        sink.add("CRM-E027", at("entity"), f"{where}: unknown entity '{entity_name}'",
                 did_you_mean(str(entity_name), entities) or f"entities: {', '.join(sorted(entities))}")
        return None
    entity = entities[entity_name]
    check = _ChartCheck(sink, entities, entity, where)
    measure = check.measure(values["measure"], at("measure")) if "measure" in values else Measure()
    group = check.grouping(values["group"], at("group"), "group") if "group" in values else None
    series = check.grouping(values["series"], at("series"), "series") if "series" in values else None
    filters = check.filters(values.get("filters") or {}, at("filters"))
    period = _period(values.get("period"), at("period"), check)
    analysis = values.get("analysis")
    pipeline = _pipeline(values, entity, check, at)
    params = _params(values, entity, entities, check, at)
    if analysis is None:
        if kind in NEEDS_GROUP and "group" not in values:
            check.fail(line, f"a {kind} chart needs a group", "e.g. group: stage, or group: close_date:month")
        if kind in ONE_SERIES and "series" in values:
            check.fail(at("series"), f"a {kind} chart has one series; remove series")
        if kind == "kpi" and "group" in values:
            check.fail(at("group"), "a kpi chart is one number; remove group (use period to compare)")
        if kind == "pivot" and "series" not in values:
            check.fail(line, "a pivot needs a series: its columns")
    if period is not None and kind != "kpi":
        check.fail(at("period"), "period is for kpi charts; filter other charts by a relative date instead")
    sort = values.get("sort")
    if sort is not None and sort not in CHART_SORTS:
        check.fail(at("sort"), f"unknown sort '{sort}'", f"sorts: {', '.join(CHART_SORTS)}")
    top = values.get("top")
    if top is not None and top < 1:
        check.fail(at("top"), f"top must be 1 or more, got {top}")
    width = values.get("width", 6)
    if not 1 <= width <= 12:
        check.fail(at("width"), f"width is in twelfths of the page: 1 to 12, got {width}")
    if not check.ok:
        return None
    return ChartSpec(name, Text.of(values.get("title"), name.replace("_", " ").capitalize()), kind, entity.name,
                     measure or Measure(), group, series, filters, period, sort, top, width, analysis,
                     pipeline, params, line)


def _period(raw: Any, line: int, check: _ChartCheck) -> Period | None:
    if raw is None:
        return None
    values = check_mapping(raw, PERIOD_KEYS, check.sink, f"{check.where} period", line)
    if "field" not in values or "range" not in values:
        check.ok = False
        return None
    f = check.field_at(values["field"], line, "period field")
    if f is None:
        return None
    if f.type not in DATES:
        check.fail(line, f"period field '{values['field']}' is a {f.type} field, not a date")
        return None
    if not is_relative_range(values["range"]):
        check.fail(line, f"period range '{values['range']}' is not a relative date range",
                   did_you_mean(str(values["range"]), RELATIVE_RANGES)
                   or f"ranges: {', '.join(RELATIVE_RANGES)}, last_N_days, next_N_days")
        return None
    return Period(values["field"], values["range"])


def _pipeline(values: dict, entity: EntitySpec, check: _ChartCheck, at: Any) -> str | None:
    analysis = values.get("analysis")
    if analysis is None:
        for key in ("pipeline", "params"):
            if key in values:
                check.fail(at(key), f"'{key}' is only for analyses", "add analysis: ..., or remove it")
        return None
    spec = ANALYSES.get(analysis)
    if spec is None:
        check.fail(at("analysis"), f"unknown analysis '{analysis}'",
                   did_you_mean(str(analysis), ANALYSES) or f"analyses: {', '.join(ANALYSES)}")
        return None
    if values.get("kind") not in spec.kinds:
        check.fail(at("kind"), f"analysis {analysis} draws {', '.join(spec.kinds)}, not {values.get('kind')}")
    if not spec.needs_pipeline:
        if "pipeline" in values:
            check.fail(at("pipeline"), f"analysis {analysis} takes no pipeline")
        return None
    if not entity.pipelines:
        check.fail(at("entity"), f"analysis {analysis} needs a pipeline entity; {entity.name} has no pipeline")
        return None
    name = values.get("pipeline", entity.pipelines[0].name)
    names = [p.name for p in entity.pipelines]
    if name not in names:
        check.fail(at("pipeline"), f"{entity.name} has no pipeline '{name}'",
                   did_you_mean(str(name), names) or f"pipelines: {', '.join(names)}")
        return None
    return str(name)


# What each analysis param must name: ("field", types) on the chart's entity, ("entity", None) or ("days", None).
PARAM_KINDS: dict[str, tuple[str, tuple[str, ...] | None]] = {
    "date": ("field", DATES), "customer": ("field", ("link",)), "cost": ("field", NUMERIC),
    "due": ("field", ("datetime", "date")), "activity": ("entity", None), "leads": ("entity", None),
    "deals": ("entity", None), "days": ("days", None),
}
PARAM_DEFAULTS = {"date": "close_date", "customer": "account", "cost": "actual_cost", "due": "sla_due",
                  "activity": "activity", "leads": "lead", "deals": "opportunity", "days": 90}


def _params(values: dict, entity: EntitySpec, entities: dict[str, EntitySpec], check: _ChartCheck,
            at: Any) -> tuple[tuple[str, Any], ...]:
    spec = ANALYSES.get(values.get("analysis") or "")
    if spec is None:
        return ()
    raw = values.get("params") or {}
    allowed = dict(spec.params)
    for key in raw:
        if key not in allowed:
            check.fail(line_of(raw, key, at("params")), f"analysis {spec.name} has no param '{key}'",
                       did_you_mean(str(key), allowed) or (f"params: {', '.join(allowed)}" if allowed
                                                           else "it takes none"))
    result: list[tuple[str, Any]] = []
    for key in allowed:
        value = raw.get(key, PARAM_DEFAULTS[key])
        line = line_of(raw, key, at("params") if key in raw else at("analysis"))
        kind, types = PARAM_KINDS[key]
        given = "" if key in raw else f" (the default; set params: {{{key}: ...}})"
        if kind == "days":
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                check.fail(line, f"param days must be a whole number of days, 1 or more, got {value!r}")
                continue
        elif kind == "field":
            f = entity.field_map.get(value) if is_identifier(value) else None
            if f is None or (types and f.type not in types):
                what = "no such field" if f is None else f"a {f.type} field"
                check.fail(line, f"param {key} '{value}' of {entity.name}: {what}{given}",
                           f"needs a {' or '.join(types or ())} field of {entity.name}")
                continue
        elif value not in entities:
            check.fail(line, f"param {key} names unknown entity '{value}'{given}",
                       did_you_mean(str(value), entities))
            continue
        result.append((key, value))
    if spec.name in ("churn_risk", "campaign_roi") and check.ok:
        _check_links_back(spec.name, dict(result), entity, entities, check, at("analysis"))
    return tuple(result)


def _check_links_back(name: str, params: dict, entity: EntitySpec, entities: dict[str, EntitySpec],
                      check: _ChartCheck, line: int) -> None:
    """The related entities an analysis joins must link to the chart's entity (and deals be a pipeline)."""
    keys = ("activity",) if name == "churn_risk" else ("leads", "deals")
    for key in keys:
        other = entities[params[key]]
        if not any(f.type == "link" and f.to == entity.name for f in other.fields):
            check.fail(line, f"analysis {name}: {other.name} has no link to {entity.name}")
    if name == "campaign_roi":
        deals = entities[params["deals"]]
        if not deals.pipelines or not deals.pipelines[0].amount_field:
            check.fail(line, f"analysis campaign_roi: {deals.name} needs a pipeline with an amount_field")
