"""What a report is: entity, columns, filters, optional grouping, measure and chart kind.

A definition arrives as a query string (a shareable URL), a JSON body or a
saved report, and is checked here against the metadata and the viewer's
access before any SQL runs. Ad-hoc definitions are strict: an unknown or
hidden field is a `ReportError` (400) naming it. A saved report opened by
someone else is lenient: what that viewer may not see is dropped, with a
note, and never shown.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from app.i18n import Phrase, _t, in_lang
from app.metadata.definitions import DATE_BUCKETS, MEASURES
from app.metadata.spec import Condition, CrmSpec, EntitySpec, FieldSpec, Grouping, Measure, Text
from app.security.access import Access

from .report_filters import ALL_OPS, DATES, MESSAGES, NUMERIC, FilterError, typed_condition

REPORT_KINDS = ("bar", "line", "pie", "table")
REPORT_OPS = ALL_OPS
USER_FIELDS = ("username", "first_name", "last_name")
NOT_COLUMNS = ("links",)  # many-to-many: no single value per row
NOT_FILTERS = ("links", "multichoice", "text")
NOT_GROUPS = ("links", "multichoice", "text", "decimal", "money")
MEASURE_RE = re.compile(r"^\s*([a-z_]+)\s*(?:\(\s*([a-z0-9_]+)\s*\))?\s*$")
MAX_COLUMNS = 50
MAX_FILTERS = 20


class ReportError(ValueError):
    """A definition that cannot run; the message names what is at fault (HTTP 400, or 403)."""

    def __init__(self, message: str, status: int = 400, index: int | None = None, detail: str = ""):
        super().__init__(message)
        self.message = message  # a Phrase: English as str (the API's wording), `get(lang)` for screens
        self.status = status
        self.index, self.detail = index, detail  # a filter row's fault: shown next to that row
        self.control = "filters" if index is not None else ""

    def get(self, lang: str | None) -> str:
        """The message in the viewer's language (English for text that is not a Phrase)."""
        return str(in_lang(self.message, lang))


@dataclass(frozen=True)
class ReportDefinition:
    entity: str
    columns: tuple[str, ...]
    filters: tuple[Condition, ...] = ()
    group: Grouping | None = None
    measure: Measure = Measure()
    kind: str = "table"
    notes: tuple[str, ...] = field(default=(), compare=False)  # what a lenient check left out

    @property
    def grouped(self) -> bool:
        return self.group is not None

    def to_json(self) -> dict[str, Any]:
        """The canonical form: what is saved, and what the API and JSON bodies take."""
        return {
            "entity": self.entity,
            "columns": list(self.columns),
            "filters": [{"field": c.path, "op": c.op, "value": [json_value(v) for v in c.value]
                         if isinstance(c.value, tuple) else json_value(c.value)} for c in self.filters],
            "group": str(self.group) if self.group else None,
            "measure": str(self.measure),
            "kind": self.kind,
        }


def json_value(value: Any) -> Any:
    """A typed filter value back in its JSON form: decimals as exact strings, dates in ISO."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def raw_from_args(args: Any) -> dict[str, Any]:
    """A query string (what the builder's GET form sends) as the JSON form.

    columns=a,b (or repeated); filters as parallel lists ff (field), fo (op), fv (value)
    with list values comma-separated: ff=stage&fo=in&fv=won,lost.
    """
    columns = [c.strip() for value in args.getlist("columns") for c in value.split(",") if c.strip()]
    fields, ops, values = args.getlist("ff"), args.getlist("fo"), args.getlist("fv")
    filters = []
    for index, name in enumerate(fields):
        if not name.strip():
            continue  # an empty row of the form
        op = ops[index].strip() if index < len(ops) else "eq"
        value: Any = values[index] if index < len(values) else ""
        if op in ("in", "not_in", "between"):
            value = [v.strip() for v in value.split(",") if v.strip()]
        filters.append({"field": name.strip(), "op": op, "value": value})
    return {"entity": args.get("entity", "").strip(), "columns": columns, "filters": filters,
            "group": args.get("group", "").strip() or None, "measure": args.get("measure", "").strip() or "count",
            "kind": args.get("kind", "").strip() or "table"}


def args_from_definition(definition: ReportDefinition) -> list[tuple[str, str]]:
    """The query string of a definition: its shareable URL."""
    pairs = [("entity", definition.entity), ("columns", ",".join(definition.columns))]
    for c in definition.filters:
        value = ",".join(str(v) for v in c.value) if isinstance(c.value, tuple) else str(c.value).lower() \
            if isinstance(c.value, bool) else str(c.value)
        pairs += [("ff", c.path), ("fo", c.op), ("fv", value)]
    if definition.group:
        pairs += [("group", str(definition.group)), ("measure", str(definition.measure)), ("kind", definition.kind)]
    return pairs


# what a viewer of a shared report reads in place of a column, filter or grouping they may not see
LEFT_OUT = _t("Left out: you may not see {field}")
# the part of a definition a message is about (the English word is the API's wording)
PARTS = {"column": _t("column", "report part"), "filter": _t("filter", "report part"),
         "group": _t("group", "report part"), "measure": _t("measure", "report part")}


class _Check:
    """Resolves paths of one entity for one viewer; strict raises, lenient collects notes."""

    def __init__(self, spec: CrmSpec, entity: EntitySpec, access: Access, strict: bool, lang: str):
        self.spec, self.entity, self.access, self.strict, self.lang = spec, entity, access, strict, lang
        self.notes: list[str] = []

    def resolve(self, path: str, what: str) -> FieldSpec:
        """The field a path names (a link's field for link.field); ReportError when unknown."""
        part = PARTS.get(what, what)
        if not isinstance(path, str) or not path:
            raise ReportError(Phrase("{what}: a field name is required", what=part))
        head, _, tail = path.partition(".")
        f = self.entity.field_map.get(head)
        if f is None:
            raise ReportError(Phrase("{what} '{path}': {entity} has no field '{field}'",
                                     what=part, path=path, entity=self.entity.name, field=head))
        if not tail:
            return f
        if "." in tail:
            raise ReportError(Phrase("{what} '{path}': paths go one link deep (link.field)", what=part, path=path))
        if f.type == "user":
            if tail not in USER_FIELDS:
                raise ReportError(Phrase("{what} '{path}': users have no field '{field}' ({known})", what=part,
                                         path=path, field=tail, known=", ".join(USER_FIELDS)))
            return FieldSpec(tail, "string", Text.of(tail))
        if f.type != "link":
            raise ReportError(Phrase("{what} '{path}': '{field}' is a {type} field, not a link",
                                     what=part, path=path, field=head, type=f.type))
        target = self.spec.entity(f.target)
        g = target.field_map.get(tail)
        if g is None:
            raise ReportError(Phrase("{what} '{path}': {entity} has no field '{field}'",
                                     what=part, path=path, entity=target.name, field=tail))
        if g.type in ("link", "user", "links"):
            raise ReportError(Phrase("{what} '{path}': '{field}' is a {type} field; name one of its fields "
                                     "on {entity} instead", what=part, path=path, field=tail, type=g.type,
                                     entity=target.name))
        return g

    def hidden(self, path: str) -> bool:
        """May the viewer not see this path? (A linked entity they may not read counts as hidden.)"""
        if self.access.path_hidden(self.spec, self.entity, path):
            return True
        head, _, tail = path.partition(".")
        link = self.entity.field_map[head]
        return bool(tail) and link.type == "link" and self.access.scope(link.target, "read") == "no"

    def visible(self, path: str, what: str) -> bool:
        """False (with a note) when hidden and lenient; ReportError when hidden and strict."""
        if not self.hidden(path):
            return True
        if self.strict:
            raise ReportError(Phrase("{what} '{path}': you may not see this field",
                                     what=PARTS.get(what, what), path=path), 400)
        self.notes.append(LEFT_OUT.get(self.lang).format(field=self.label(path)))
        return False

    def label(self, path: str) -> str:
        """The path as the viewer reads it: the field's label, `Account / Industry` for a link's."""
        head, _, tail = path.partition(".")
        f = self.entity.field_map[head]
        if not tail:
            return f.label.get(self.lang)
        g = self.spec.entity(f.target).field_map.get(tail) if f.type == "link" else None
        return f"{f.label.get(self.lang)} / {g.label.get(self.lang) if g is not None else tail}"


def parse_definition(raw: Any, spec: CrmSpec, access: Access, strict: bool = True,
                     lang: str = "en") -> ReportDefinition:
    """A checked definition from its JSON form; ReportError (400/403) names what is wrong."""
    if not isinstance(raw, dict):
        raise ReportError(Phrase("the report definition must be a JSON object"))
    unknown = set(raw) - {"entity", "columns", "filters", "group", "measure", "kind"}
    if unknown:
        raise ReportError(Phrase("unknown report key(s): {keys}", keys=", ".join(sorted(map(str, unknown)))))
    name = raw.get("entity")
    if not name:
        raise ReportError(Phrase("entity: choose an entity"))
    if not isinstance(name, str) or name not in spec.entity_map:
        raise ReportError(Phrase("entity '{name}': no such entity", name=name))
    if access.scope(name, "read") == "no":
        raise ReportError(Phrase("entity '{name}': you may not read {name} records", name=name), 403)
    entity = spec.entity(name)
    check = _Check(spec, entity, access, strict, lang)
    columns = _columns(raw.get("columns"), check)
    filters = _filters(raw.get("filters"), check)
    group, measure, kind = _grouping(raw, check)
    if not columns and group is None:
        if strict:
            error = ReportError(Phrase("columns: choose at least one column you may see"))
            error.control, error.detail = "columns", MESSAGES["columns"].get(lang)
            raise error
        columns = ("id",)
    return ReportDefinition(entity.name, columns, filters, group, measure, kind, tuple(check.notes))


def default_columns(spec: CrmSpec, entity: EntitySpec, access: Access) -> list[str]:
    """What a new report on an entity shows: its list's columns the viewer may see."""
    hidden = access.hidden_fields(entity)
    columns = [c for c in entity.list.columns if "." not in c and c in entity.field_map and c not in hidden
               and entity.field(c).type not in NOT_COLUMNS]
    return columns or [f.name for f in entity.fields if f.name not in hidden and f.type not in NOT_COLUMNS][:5]


def _columns(raw: Any, check: _Check) -> tuple[str, ...]:
    if raw is None:
        raw = []
    if not isinstance(raw, list) or not all(isinstance(c, str) for c in raw):
        raise ReportError(Phrase("columns: a list of field names"))
    if len(raw) > MAX_COLUMNS:
        raise ReportError(Phrase("columns: at most {n}", n=MAX_COLUMNS))
    result = []
    for path in dict.fromkeys(raw):
        if path == "id":
            result.append(path)
            continue
        f = check.resolve(path, "column")
        if f.type in NOT_COLUMNS:
            raise ReportError(Phrase("column '{path}': a {type} field holds many records; it cannot be a column",
                                     path=path, type=f.type))
        if check.visible(path, "column"):
            result.append(path)
    return tuple(result)


def _filters(raw: Any, check: _Check) -> tuple[Condition, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(c, dict) for c in raw):
        raise ReportError(Phrase("filters: a list of {shape}", shape="{field, op, value}"))
    if len(raw) > MAX_FILTERS:
        raise ReportError(Phrase("filters: at most {n}", n=MAX_FILTERS))
    result = []
    for index, item in enumerate(raw):
        path, op, value = item.get("field"), item.get("op", "eq"), item.get("value")
        try:
            f = check.resolve(path, "filter")
        except ReportError as exc:
            raise ReportError(exc.message, 422, index, exc.get(check.lang)) from None
        if f.type in NOT_FILTERS:
            detail = MESSAGES["cannot_filter"].get(check.lang).format(type=f.type)
            raise ReportError(Phrase("filter '{path}': {problem}", path=path, problem=Phrase(
                "a {type} field cannot be filtered on", type=f.type)), 422, index, detail)
        if not check.visible(path, "filter"):
            # Rows picked by a value the viewer may not see would reveal it: show none.
            raise ReportError(Phrase("filter '{path}': this report filters on a field you may not see", path=path), 403)
        try:
            result.append(typed_condition(index, path, f, op, value, check.lang))
        except FilterError as exc:
            raise ReportError(str(exc), exc.status, exc.index, exc.detail) from None
    return tuple(result)


def _grouping(raw: dict, check: _Check) -> tuple[Grouping | None, Measure, str]:
    group_raw, measure_raw, kind = raw.get("group"), raw.get("measure") or "count", raw.get("kind") or "table"
    if kind not in REPORT_KINDS:
        raise ReportError(Phrase("kind '{kind}': unknown chart kind ({known})", kind=kind, known=", ".join(REPORT_KINDS)))
    if not group_raw:
        return None, Measure(), kind
    if not isinstance(group_raw, str):
        raise ReportError(Phrase("group: a field name, or date_field:bucket"))
    path, _, bucket = group_raw.partition(":")
    f = check.resolve(path.strip(), "group")
    if f.type in NOT_GROUPS:
        raise ReportError(Phrase("group '{path}': a {type} field cannot group a report", path=path, type=f.type))
    if f.type in DATES and bucket not in DATE_BUCKETS:
        raise ReportError(Phrase("group '{group}': a date groups by a bucket ({known}), e.g. {path}:month",
                                 group=group_raw, known=", ".join(DATE_BUCKETS), path=path))
    if bucket and f.type not in DATES:
        raise ReportError(Phrase("group '{group}': only date fields take a bucket", group=group_raw))
    measure = _measure(measure_raw, check)
    if not check.visible(path, "group"):
        return None, Measure(), "table"
    if measure is None:
        return None, Measure(), "table"
    return Grouping(path.strip(), bucket or None), measure, kind


def _measure(raw: Any, check: _Check) -> Measure | None:
    match = MEASURE_RE.match(raw) if isinstance(raw, str) else None
    if match is None or match.group(1) not in MEASURES or (match.group(1) == "count") != (match.group(2) is None):
        raise ReportError(Phrase("measure '{measure}': count, or sum/avg/min/max/median/count_distinct(field), "
                                 "e.g. sum(amount)", measure=raw))
    func, name = match.groups()
    if name is None:
        return Measure()
    f = check.entity.field_map.get(name)
    if f is None:
        raise ReportError(Phrase("measure '{measure}': {entity} has no field '{field}'",
                                 measure=raw, entity=check.entity.name, field=name))
    if func == "count_distinct":
        if f.is_many or f.type in ("text", "multichoice") or not f.has_column:
            raise ReportError(Phrase("measure '{measure}': the distinct values of a {type} field cannot be counted",
                                     measure=raw, type=f.type))
    elif f.type not in NUMERIC:
        raise ReportError(Phrase("measure '{measure}': {field} is a {type} field; {func} needs a number",
                                 measure=raw, field=name, type=f.type, func=func))
    if not check.visible(name, "measure"):
        return None
    return Measure(func, name)
