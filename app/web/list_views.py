"""Saved list views and each user's list preferences (core tables crm_list_view, crm_list_pref).

A view is a name, the columns in order and the list's query string (filters, search,
sort), private to its owner or shared with roles. It is re-checked for whoever opens
it: columns the viewer may not read are dropped, and so are filters on them. A user's
preference per entity is a default view (opened when the list is opened bare) and the
columns the column chooser picked (the user's current columns when no view is open).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

import sqlalchemy as sa

from app.clock import utc_now
from app.i18n import _t
from app.metadata.spec import CrmSpec, EntitySpec
from app.security.access import Access

from .filtering import FilterError, typed_filter_value

MAX_NAME = 200
MAX_QUERY = 4000
FILTER_ARG = "_flt_"  # FAB's filter arguments: _flt_<operator index>_<column>
TEXT: dict[str, dict[str, str]] = {
    "name": _t("Give the view a name (at most 200 characters)."),
    "columns": _t("Choose columns among the fields you may read: {allowed}."),
    "roles": _t("Share with roles of this CRM: {allowed}."),
    "query": _t("The list's query string (at most 4000 characters)."),
    "view": _t("No such view."),
    "filter": _t("Filter {n}: {problem}"),
}


class ViewError(ValueError):
    """Bad input for a view, by field: the API answers 422 with these."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(json.dumps(errors, ensure_ascii=False))
        self.errors = errors


def say(key: str, lang: str | None, **params: Any) -> str:
    table = TEXT[key]
    return (table.get(lang or "en") or table["en"]).format(**params)


@dataclass(frozen=True)
class ListView:
    id: int
    entity: str
    name: str
    columns: tuple[str, ...]
    query: str
    shared_roles: tuple[str, ...]
    owner_id: int

    def to_json(self, viewer: Access, readable: list[str]) -> dict[str, Any]:
        return {"id": self.id, "entity": self.entity, "name": self.name,
                "columns": [c for c in self.columns if c in readable], "query": self.query,
                "shared_roles": list(self.shared_roles), "mine": self.owner_id == viewer.user_id,
                "can_change": may_change(self, viewer)}


def readable_columns(entity: EntitySpec, access: Access) -> list[str]:
    """Columns a list may show this user: every field but the id, many-to-many links and hidden ones."""
    hidden = access.hidden_fields(entity)
    return [f.name for f in entity.fields if f.type not in ("id", "links") and f.name not in hidden]


def checked_query(query: str, entity: EntitySpec, access: Access) -> str:
    """The query string without filters on fields the viewer may not read (nor view/page arguments)."""
    hidden = access.hidden_fields(entity)
    kept = []
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key == "view" or key.startswith("page_"):
            continue
        if key.startswith(FILTER_ARG):
            column = key[len(FILTER_ARG):].partition("_")[2]
            if column.partition(".")[0] in hidden:
                continue
        kept.append((key, value))
    return urlencode(kept)


def _loads(text: str | None, default: Any) -> Any:
    try:
        return json.loads(text) if text else default
    except ValueError:
        return default


def _view(row: Any) -> ListView:
    body = _loads(row.definition, {})
    roles = _loads(row.shared_roles, [])
    return ListView(row.id, row.entity, row.name, tuple(c for c in body.get("columns", []) if isinstance(c, str)),
                    str(body.get("query", "")), tuple(r for r in roles if isinstance(r, str)), row.owner_id)


def _may_see(view: ListView, viewer: Access) -> bool:
    return viewer.is_admin or view.owner_id == viewer.user_id or bool(set(view.shared_roles) & set(viewer.roles))


def may_change(view: ListView, viewer: Access) -> bool:
    return viewer.is_admin or (viewer.user_id is not None and view.owner_id == viewer.user_id)


def visible_views(session: Any, table: sa.Table, entity: str, viewer: Access) -> list[ListView]:
    """The viewer's own views of `entity` and those shared with one of their roles, by name."""
    stmt = sa.select(table).where(table.c.entity == entity).order_by(table.c.name, table.c.id)
    if not viewer.is_admin:
        shared = [table.c.shared_roles.like(f"%{json.dumps(role, ensure_ascii=False)}%") for role in viewer.roles]
        stmt = stmt.where(sa.or_(table.c.owner_id == viewer.user_id, *shared))
    return [v for v in map(_view, session.execute(stmt)) if _may_see(v, viewer)]


def find_view(session: Any, table: sa.Table, entity: str, view_id: Any, viewer: Access) -> ListView | None:
    try:
        number = int(view_id)
    except (TypeError, ValueError):
        return None
    if not 0 < number < 2**31:
        return None
    row = session.execute(sa.select(table).where(table.c.id == number, table.c.entity == entity)).first()
    view = _view(row) if row is not None else None
    return view if view is not None and _may_see(view, viewer) else None


def filter_problems(query: str, entity: EntitySpec, search_filters: dict[str, list[Any]],
                    lang: str | None) -> list[str]:
    """What is wrong with the query's filter rows (`amount gt abc`), each named by its row
    (1, 2, … in the query's order), read as the list screen reads them: the operator by its
    index among the column's filters, the values as `getlist` gives them, typed by the field."""
    rows: dict[str, list[str]] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key.startswith(FILTER_ARG):
            rows.setdefault(key, []).append(value)
    problems = []
    for n, (key, values) in enumerate(rows.items(), start=1):
        index, _, column = key[len(FILTER_ARG):].partition("_")
        available = search_filters.get(column, [])
        if not (index.isascii() and index.isdigit()) or int(index) >= len(available):
            continue  # the screen ignores it (an unknown column or operator): nothing to refuse
        try:
            typed_filter_value(entity, column, available[int(index)].arg_name, values)
        except FilterError as exc:
            problems.append(say("filter", lang, n=n, problem=exc.text(lang or "en")))
    return problems


def checked_view(body: dict[str, Any], entity: EntitySpec, spec: CrmSpec, access: Access,
                 lang: str | None, search_filters: dict[str, list[Any]] | None = None
                 ) -> tuple[str, list[str], str, list[str]]:
    """(name, columns, query, shared roles) from a request body, or ViewError by field; with the
    list's `search_filters`, a filter value the list could not read is an error of `query`."""
    errors: dict[str, list[str]] = {}
    name = body.get("name")
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > MAX_NAME:
        errors["name"] = [say("name", lang)]
    columns = checked_columns(body.get("columns"), entity, access, lang, errors)
    query = body.get("query", "")
    if not isinstance(query, str) or len(query) > MAX_QUERY:
        errors["query"] = [say("query", lang)]
        query = ""
    elif search_filters is not None:
        problems = filter_problems(query.lstrip("?"), entity, search_filters, lang)
        if problems:
            errors["query"] = problems
    roles = body.get("shared_roles", [])
    if not isinstance(roles, list) or not all(isinstance(r, str) and r in spec.role_map for r in roles):
        errors["shared_roles"] = [say("roles", lang, allowed=", ".join(spec.role_map))]
        roles = []
    if errors:
        raise ViewError(errors)
    return str(name).strip(), columns, checked_query(query.lstrip("?"), entity, access), sorted(set(roles))


def checked_columns(raw: Any, entity: EntitySpec, access: Access, lang: str | None,
                    errors: dict[str, list[str]]) -> list[str]:
    allowed = readable_columns(entity, access)
    if (not isinstance(raw, list) or not raw or not all(isinstance(c, str) and c in allowed for c in raw)
            or len(set(raw)) != len(raw)):
        errors["columns"] = [say("columns", lang, allowed=", ".join(allowed))]
        return []
    return list(raw)


def save_view(session: Any, table: sa.Table, entity: str, name: str, columns: list[str], query: str,
              roles: list[str], owner_id: int, view: ListView | None = None) -> int:
    values = {"entity": entity, "name": name, "shared_roles": json.dumps(roles, ensure_ascii=False),
              "definition": json.dumps({"columns": columns, "query": query}, ensure_ascii=False),
              "changed_on": utc_now()}
    if view is not None:
        session.execute(sa.update(table).where(table.c.id == view.id).values(**values))
        session.commit()
        return view.id
    result = session.execute(sa.insert(table).values(**values, owner_id=owner_id, created_on=values["changed_on"]))
    session.commit()
    return int(result.inserted_primary_key[0])


def delete_view(session: Any, table: sa.Table, view: ListView) -> None:
    session.execute(sa.delete(table).where(table.c.id == view.id))
    session.commit()


def read_pref(session: Any, table: sa.Table, user_id: int | None, entity: str) -> tuple[int | None, list[str]]:
    """(default view id, chosen columns) of a user for an entity."""
    if user_id is None:
        return None, []
    row = session.execute(sa.select(table.c.default_view_id, table.c.columns)
                          .where(table.c.user_id == user_id, table.c.entity == entity)).first()
    if row is None:
        return None, []
    columns = _loads(row.columns, [])
    return row.default_view_id, [c for c in columns if isinstance(c, str)] if isinstance(columns, list) else []


def write_pref(session: Any, table: sa.Table, user_id: int, entity: str, **changes: Any) -> None:
    """Set `default_view_id` and/or `columns` (a list, or None to go back to the list's own)."""
    values = dict(changes)
    if "columns" in values:
        values["columns"] = None if values["columns"] is None else json.dumps(values["columns"], ensure_ascii=False)
    where = (table.c.user_id == user_id) & (table.c.entity == entity)
    if session.execute(sa.select(table.c.user_id).where(where)).first() is None:
        session.execute(sa.insert(table).values(user_id=user_id, entity=entity, **values))
    else:
        session.execute(sa.update(table).where(where).values(**values))
    session.commit()
