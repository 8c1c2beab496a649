"""Per-request filters: strict parsing, typed values, and the quick search.

FAB keeps one Filters object on the view singleton and mutates it per
request (concurrent requests can mix filters), silently drops unknown
operators (returning the whole table), and lets a badly typed value reach
the database. Here every request gets a fresh Filters, an unknown column or
operator is an error, and values are parsed like any other input.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_appbuilder.models.filters import BaseFilter, Filters
from flask_appbuilder.models.sqla import filters as sqla_filters
from flask_appbuilder.models.sqla.filters import get_field_setup_query

from app.fieldtypes import field_type
from app.i18n import translate
from app.metadata.spec import EntitySpec, FieldSpec
from app.records.parse import FieldValueError
from app.security.access import current_access
from app.security.scoped import Records

from .filterops import FilterValueError, field_filters, parse_value
from .labels import current_lang

MULTI_VALUE_OPS = ("in", "not_in")
TEXT_MATCH_OPS = ("sw", "ew", "ct", "nsw", "new", "nct")


class FilterError(ValueError):
    """A filter the request asked for that cannot be applied: str() the English (the API's),
    `text(lang)` the catalog's translation for a screen (labels in `shown` where they differ)."""

    def __init__(self, msgid: str, shown: dict[str, Any] | None = None, **params: Any):
        super().__init__(msgid.format(**params))
        self.msgid, self.shown = msgid, {**params, **(shown or {})}

    def text(self, lang: str) -> str:
        """What a screen says, in the user's language."""
        return translate(self.msgid, lang, **self.shown)


def filter_classes(filters: Filters, column: str) -> list[type[BaseFilter]]:
    return [f if isinstance(f, type) else type(f) for f in filters.get_search_filters().get(column, [])]


def add_checked_filter(filters: Filters, entity: EntitySpec, column: str, opr: str, value: Any) -> None:
    """Add one filter, or raise FilterError naming what is wrong."""
    available = filter_classes(filters, column)
    if not available:
        allowed = ", ".join(sorted(filters.get_search_filters()))
        raise FilterError("Filter column '{column}' cannot be filtered on; filterable: {allowed}",
                          column=column, allowed=allowed)
    match = next((f for f in available if f.arg_name == opr), None)
    if match is None:
        ops = ", ".join(f.arg_name for f in available)
        raise FilterError("Filter operation '{opr}' is not allowed on column '{column}'; allowed: {ops}",
                          opr=opr, column=column, ops=ops)
    filters.add_filter(column, match, typed_filter_value(entity, column, opr, value))


def typed_filter_value(entity: EntitySpec, column: str, opr: str, value: Any) -> Any:
    f = entity.field_map.get(column)
    if f is None or opr == "search":
        return value
    if field_filters(f) is not None:  # operators of our own (choice, tags, dates) type their values
        try:
            return parse_value(f, opr, value, current_lang())
        except FilterValueError as exc:
            lang = current_lang()
            raise FilterError("Filter value for '{column}': {reason}", column=column, reason=str(exc),
                              shown={"column": f.label.get(lang) or column, "reason": exc.text(lang)}) from None
    if opr in MULTI_VALUE_OPS:
        items = value if isinstance(value, list) else [value]
        return [_typed(f, item, column) for item in items]
    if opr in TEXT_MATCH_OPS:
        if isinstance(value, list) and len(value) == 1:  # a screen's _flt_ argument: FAB passes getlist()
            value = value[0]
        if not isinstance(value, str):
            raise FilterError("Filter value for '{column}' must be text", column=column)
        return value
    return _typed(f, value, column)


def _typed(f: FieldSpec, value: Any, column: str) -> Any:
    """The value as the column compares it: the field type parses it (a links filter looks for one id)."""
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    try:
        return field_type(f.type).filter_value(f, value, current_lang())
    except FieldValueError as exc:
        raise FilterError("Filter value '{value}' for '{column}': {reason}", value=value, column=column,
                          reason=str(exc)) from None


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_filter_for(entity: EntitySpec, models: Any) -> type[BaseFilter]:
    """A filter class that ORs a case-insensitive match over the entity's search paths."""
    paths = entity.list.search or (entity.title_field,)

    def apply(self: BaseFilter, query: Any, value: Any) -> Any:
        if isinstance(value, list):
            value = value[0] if value else ""
        text = str(value or "").strip()
        if not text:
            return query
        model = models.model(entity.name)
        pattern = f"%{_escape_like(text)}%"
        access = current_access()  # search looks only where the user may see
        seen = [p for p in paths if not access.path_hidden(models.spec, entity, p)]
        clauses = [_path_clause(entity, models, model, path, pattern, access, text) for path in seen]
        if not clauses:
            return query.filter(sa.false())
        return query.filter(sa.or_(*[c for c in clauses if c is not None]))

    return type(f"{entity.class_name}Search", (BaseFilter,), {
        "name": "Search", "arg_name": "search", "apply": apply})


def _matches(f: FieldSpec | None, column: Any, pattern: str, text: str) -> Any:
    """The column contains the text; a choice column also matches by its labels in the user's language."""
    clause = column.ilike(pattern, escape="\\")
    labelled = f.values_labelled(text, current_lang()) if f is not None and f.type == "choice" else []
    return sa.or_(clause, column.in_(labelled)) if labelled else clause


def _path_clause(entity: EntitySpec, models: Any, model: Any, path: str, pattern: str,
                 access: Any, text: str) -> Any:
    if "." not in path:
        f = entity.field_map.get(path)
        if f is None:
            return None
        return _matches(f, getattr(model, f.column_name), pattern, text)
    head, tail = path.split(".", 1)
    link = entity.field(head)
    target = models.user_model if link.type == "user" else models.model(link.to)
    target_column = getattr(target, tail)
    leaf = models.spec.entity(link.to).field_map.get(tail) if link.type == "link" else None
    inner = sa.select(target.id).where(_matches(leaf, target_column, pattern, text))
    if link.type == "link":  # matching through a record the user cannot read would reveal it
        inner = Records(access, models, link.to or "").where(inner)
    return getattr(model, link.column_name).in_(inner)


def _escaped_text_filter(base: type[BaseFilter], template: str, negate: bool) -> type[BaseFilter]:
    """FAB's text-match filter with % and _ in the value matched literally."""

    def apply(self: BaseFilter, query: Any, value: Any) -> Any:
        query, field = get_field_setup_query(query, self.model, self.column_name)
        clause = field.ilike(template.format(_escape_like(str(value))), escape="\\")
        return query.filter(~clause if negate else clause)

    return type(base.__name__, (base,), {"apply": apply})


ESCAPED_TEXT_FILTERS: dict[type[BaseFilter], type[BaseFilter]] = {
    base: _escaped_text_filter(base, template, negate) for base, template, negate in (
        (sqla_filters.FilterStartsWith, "{}%", False), (sqla_filters.FilterNotStartsWith, "{}%", True),
        (sqla_filters.FilterEndsWith, "%{}", False), (sqla_filters.FilterNotEndsWith, "%{}", True),
        (sqla_filters.FilterContains, "%{}%", False), (sqla_filters.FilterNotContains, "%{}%", True),
    )
}


class LinkedTo(sqla_filters.FilterRelationManyToManyEqual):
    """FAB's 'relation as many' filter (a contact's related list of campaigns) as an EXISTS on the
    link table. FAB's `contains()` put the link table in the FROM and its join in the WHERE, where
    a row scope of `false` (no campaign read) folded it away: a cartesian product in the SQL
    (only `WHERE false` kept it empty). It also loaded the related record first, and dropped the
    filter (the whole table) when that record was gone."""

    def apply(self, query: Any, value: Any) -> Any:
        query, field = get_field_setup_query(query, self.model, self.column_name)
        target = field.property.mapper.class_
        for item in value if isinstance(value, list) else [value]:
            query = query.filter(field.any(target.id == item))
        return query


LINK_FILTERS: dict[type[BaseFilter], type[BaseFilter]] = {sqla_filters.FilterRelationManyToManyEqual: LinkedTo}


class EscapingFilterConverter(sqla_filters.SQLAFilterConverter):
    """FAB's column → filters table with the LIKE filters escaping their value (`ct` of '50%'),
    the to-many relation filter as an EXISTS (`LinkedTo`), and a field's own operators where its
    type has them (app/web/filterops.py)."""

    def convert(self, col_name: str) -> Any:
        entity = getattr(self.datamodel.obj, "__entity__", None)
        ops = field_filters(entity.field_map.get(col_name)) if entity is not None else None
        if ops is not None:
            return [op(col_name, self.datamodel) for op in ops]
        return super().convert(col_name)

    conversion_table = tuple(
        (kind, [LINK_FILTERS.get(f, ESCAPED_TEXT_FILTERS.get(f, f)) for f in classes])
        for kind, classes in sqla_filters.SQLAFilterConverter.conversion_table
    )
