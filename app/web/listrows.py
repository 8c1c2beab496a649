"""A list page's rows built in one pass, not through FAB's list widget cell by cell.

FAB's list template loops over rows and columns in Jinja, resolving names, looking up each
column's formatter and escaping each cell through the runtime (a third of a list page's
CPU). The rows here are the same HTML — row checkbox, show/edit/delete buttons where this
user may, each cell through the field type's formatter (links to linked records, money and
moments in the user's language and zone, choice labels) — joined in Python, so
the per-row work is the formatters alone.
The hidden fields are already out of `columns` (app/web/fieldrules.py).

The page's records are read as plain rows (`read_page_rows`) through the API list's reader
(app/web/listread.py: one SELECT of the shown columns, each link's id, title and a may-read
flag, statements kept per request shape), with the row's version and may-update/may-delete
flags (the row scopes as SQL, what `allowed_ids` decides for ORM records) beside them: no ORM
record is built. Value columns go through their formatters as before; a link column is drawn
by `display.link_html` from its id, title and flag (what `record_link` draws from the linked
record), a user column is its name as the user row's `str` gives it. A page with a column
this does not cover (a dotted path, a to-many link, a column that is not mapped, a plugin's
formatter on a link) is read through the ORM; so is every page with `CRM_LIST_READ=orm`
(tests/test_list_rows.py compares the two pages byte for byte).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import current_app
from markupsafe import Markup, escape

from app.metadata.spec import EntitySpec

from .counting import ListCount
from .display import RecordLink, as_is, link_html
from .listread import PAGES_KEPT, Plan, Step, allowed_flag, link_step, read_rows


@dataclass
class PageRows:
    """One page's rows: the records' values per column, their ids, who may change which."""

    columns: Sequence[str]
    formatters: dict[str, Callable[[Any], Any]]
    route: str
    pks: Sequence[Any]
    values: Sequence[dict[str, Any]]
    rights: dict[Any, tuple[bool, bool]]  # id: (may update, may delete), by row rules
    versions: dict[Any, Any]

    def render(self, link_suffix: str, labels: Sequence[str], can_show: bool, can_edit: bool, can_delete: bool,
               checkboxes: Any) -> Markup:
        """The <tr>s. The template gives what it works out once per page: the filters' link suffix,
        the buttons' titles (show, edit, delete) in the page's language, the entity permissions."""
        cells = [(column, self.formatters.get(column)) for column in self.columns]
        route, suffix = escape(self.route), escape(link_suffix)
        show, edit, delete = (escape(label) for label in labels)
        out: list[str] = []
        add = out.append
        for pk, item in zip(self.pks, self.values, strict=True):
            key = escape(pk)
            may_edit, may_delete = self.rights.get(pk, (False, False))
            add("<tr>")
            if checkboxes:
                add(f'<td><input id="{key}" class="action_check" name="rowid" value="{key}" type="checkbox" '
                    f'aria-label="{key}"></td>')
            add('<td><center><div class="btn-group btn-group-xs" style="display: flex;">')
            if can_show:
                add(f'<a href="{route}/show/{key}{suffix}" class="btn btn-sm btn-default" title="{show}">'
                    f'<span class="sr-only">{show}</span><i class="fa fa-search"></i></a>')
            if can_edit and may_edit:
                add(f'<a href="{route}/edit/{key}{suffix}" class="btn btn-sm btn-default" title="{edit}">'
                    f'<span class="sr-only">{edit}</span><i class="fa fa-edit"></i></a>')
            if can_delete and may_delete:
                add(f'<a href="#" id="btn-delete-{route}/delete/{key}" data-delete="{route}/delete/{key}'
                    f'?version={escape(self.versions.get(pk, ""))}" class="btn btn-sm btn-default crm-delete" '
                    f'title="{delete}"><span class="sr-only">{delete}</span><i class="fa fa-trash"></i></a>')
            add("</div></center></td>")
            for column, formatter in cells:
                value = item[column]
                add(f"<td>{escape(formatter(value) if formatter else value)}</td>")
            add("</tr>\n")
        return Markup("".join(out))


def list_read_rows() -> bool:
    """`CRM_LIST_READ`: `core` (default) reads list pages as plain rows, `orm` through records."""
    return current_app.config.get("CRM_LIST_READ", "core") != "orm"


def html_plan(datamodel: Any, entity: EntitySpec, columns: Sequence[str],
              formatters: dict[str, Callable[[Any], Any]]) -> Plan | None:
    """The plain-rows plan of a list showing `columns`, or None when one is not covered; kept
    on the datamodel per column set (a chosen column set is a few per entity)."""
    kept: dict[tuple[str, ...], Plan | None] = datamodel.__dict__.setdefault("_crm_html_plans", {})
    key = tuple(columns)
    if key not in kept:
        steps = _html_steps(entity, columns, sa.inspect(datamodel.obj), formatters)
        if len(kept) >= PAGES_KEPT:
            kept.clear()
        kept[key] = Plan(datamodel.obj, steps) if steps is not None else None
    return kept[key]


def _html_steps(entity: EntitySpec, columns: Sequence[str], mapper: Any,
                formatters: dict[str, Callable[[Any], Any]]) -> list[Step] | None:
    steps: list[Step] = []
    for name in columns:
        f = entity.field_map.get(name)
        if name in mapper.relationships:
            ours = f is not None and (f.type == "link" and isinstance(formatters.get(name), RecordLink)
                                      or f.type == "user" and formatters.get(name) is as_is)
            step = link_step(mapper, name) if ours else None
            if step is None:
                return None
            steps.append(step)
        elif name in mapper.column_attrs and "." not in name:
            steps.append((name, "value", None))
        else:
            return None
    return steps


def read_page_rows(datamodel: Any, entity: EntitySpec, columns: Sequence[str],
                   formatters: dict[str, Callable[[Any], Any]], route: str, filters: Any, order_column: str,
                   order_direction: str, page: int, page_size: int, access: Any) -> tuple[ListCount, PageRows] | None:
    """A list page's count and rows read as plain rows, or None: read it through the ORM."""
    plan = html_plan(datamodel, entity, columns, formatters)
    if plan is None:
        return None
    model = plan.model
    extras = {"crm_may_update": allowed_flag(access, entity.name, "update", model),
              "crm_may_delete": allowed_flag(access, entity.name, "delete", model)}
    if "version" in sa.inspect(model).column_attrs:
        extras["version"] = model.version
    read = read_rows(datamodel, plan, filters, order_column, order_direction, page, page_size, access,
                     extras=extras)
    if read is None:
        return None
    count, rows, statements = read
    at = statements.values_at
    cells = [(name, kind, data) for name, kind, data in statements.readers]
    targets = {name: f.to or "" for name in columns if (f := entity.field_map.get(name)) is not None}
    values = []
    for row in rows:
        item: dict[str, Any] = {}
        for name, kind, data in cells:
            if kind == "value":
                item[name] = row[data[0]]
                continue
            i, target_entity = data
            pk = row[i]
            if pk is None:
                item[name] = ""
            elif target_entity is None:  # a user: as `UserRefBase.__str__`
                item[name] = str(f"{row[i + 1] or ''} {row[i + 2] or ''}".strip() or row[i + 3])
            else:  # as `RecordBase.__str__`
                title = row[i + 1]
                item[name] = link_html(targets[name], pk, str(title) if title not in (None, "") else f"#{pk}",
                                       bool(row[i + 2]))
        values.append(item)
    pks = [row[0] for row in rows]
    version = at.get("version")
    shown = {name: formatter for name, formatter in formatters.items()
             if name not in plan.links}  # links and users: drawn above
    return count, PageRows(columns=columns, formatters=shown, route=route, pks=pks, values=values,
                           rights={row[0]: (bool(row[at["crm_may_update"]]), bool(row[at["crm_may_delete"]]))
                                   for row in rows},
                           versions={row[0]: row[version] for row in rows} if version is not None else {})
