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

from app.fieldtypes.base import LangFormatter
from app.metadata.spec import EntitySpec

from .counting import ListCount
from .display import RecordLink, as_is, html_text, link_html, view_url
from .labels import current_lang
from .linktitles import restricted_markup
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


Cell = Callable[[Any], str]  # a row tuple -> its cell's HTML (escaped)


class _Later(Sequence):  # type: ignore[type-arg]
    """A list made on first use (FAB's `value_columns`: no template of ours reads it)."""

    def __init__(self, make: Callable[[], list[Any]]) -> None:
        self._make, self._list = make, None

    def _items(self) -> list[Any]:
        if self._list is None:
            self._list = self._make()
        return self._list

    def __getitem__(self, index: Any) -> Any:
        return self._items()[index]

    def __len__(self) -> int:
        return len(self._items())


class PlainRows:
    """A page read as plain rows (`read_page_rows`), drawn in one pass from the row tuples: each
    column's cell written by a function chosen once per plan, column set and language
    (`_cells`: the formatter bound to the page's language, the value escaped once, a link drawn
    from its id, title and may-read flag), no per-row dict nor per-cell Markup. The text is
    `PageRows.render`'s for the same values (tests/test_list_rows.py compares the page with the
    ORM path's, which draws through `PageRows`). `values` (FAB's `value_columns`) is made only
    when something asks for it."""

    def __init__(self, columns: Sequence[str], route: str, rows: Sequence[Any], cells: Sequence[Cell],
                 flags: tuple[int, int], version: int | None, values: Callable[[], list[dict[str, Any]]]):
        self.columns, self.route, self.rows, self.cells = columns, route, rows, cells
        self.pks = [row[0] for row in rows]
        self._flags, self._version, self._values = flags, version, values

    @property
    def values(self) -> Sequence[dict[str, Any]]:
        return _Later(self._values)

    @property
    def rights(self) -> dict[Any, tuple[bool, bool]]:
        update, delete = self._flags
        return {row[0]: (bool(row[update]), bool(row[delete])) for row in self.rows}

    @property
    def versions(self) -> dict[Any, Any]:
        at = self._version
        return {row[0]: row[at] for row in self.rows} if at is not None else {}

    def render(self, link_suffix: str, labels: Sequence[str], can_show: bool, can_edit: bool, can_delete: bool,
               checkboxes: Any) -> Markup:
        """`PageRows.render`'s <tr>s."""
        route, suffix = html_text(self.route), html_text(link_suffix)
        show, edit, delete = (html_text(label) for label in labels)
        show_a = f'<a href="{route}/show/'
        show_b = (f'{suffix}" class="btn btn-sm btn-default" title="{show}"><span class="sr-only">{show}</span>'
                  '<i class="fa fa-search"></i></a>')
        edit_a = f'<a href="{route}/edit/'
        edit_b = (f'{suffix}" class="btn btn-sm btn-default" title="{edit}"><span class="sr-only">{edit}</span>'
                  '<i class="fa fa-edit"></i></a>')
        delete_b = (f'" class="btn btn-sm btn-default crm-delete" title="{delete}"><span class="sr-only">{delete}'
                    '</span><i class="fa fa-trash"></i></a>')
        buttons = '<td><center><div class="btn-group btn-group-xs" style="display: flex;">'
        update_at, delete_at = self._flags
        version_at = self._version
        cells = self.cells
        out: list[str] = []
        add = out.append
        for row in self.rows:
            key = html_text(row[0])
            add("<tr>")
            if checkboxes:
                add(f'<td><input id="{key}" class="action_check" name="rowid" value="{key}" type="checkbox" '
                    f'aria-label="{key}"></td>')
            add(buttons)
            if can_show:
                add(show_a + key + show_b)
            if can_edit and row[update_at]:
                add(edit_a + key + edit_b)
            if can_delete and row[delete_at]:
                version = html_text(row[version_at]) if version_at is not None else ""
                add(f'<a href="#" id="btn-delete-{route}/delete/{key}" data-delete="{route}/delete/{key}'
                    f'?version={version}{delete_b}')
            add("</div></center></td>")
            if cells:
                add("<td>" + "</td><td>".join([cell(row) for cell in cells]) + "</td>")
            add("</tr>\n")
        return Markup("".join(out))


def _value_cell(at: int, formatter: Callable[[Any], Any] | None, lang: str) -> Cell:
    """A value column's cell: `escape(formatter(value))` (the value itself without a formatter),
    the formatter bound to the page's language when it reads one."""
    if formatter is None:
        return lambda row: html_text(row[at])
    if formatter is as_is:
        return lambda row: "" if (value := row[at]) is None else html_text(value)
    if isinstance(formatter, LangFormatter):
        text = formatter.fmt
        return lambda row: html_text(text(row[at], lang))
    fmt = formatter
    return lambda row: html_text(fmt(row[at]))


def _link_cell(at: int, entity: str) -> Cell:
    """A link column's cell from its id, title and may-read flag: `display.link_html`'s text."""
    def cell(row: Any) -> str:
        pk = row[at]
        if pk is None:
            return ""
        if not row[at + 2]:
            return str(restricted_markup(pk))
        title = row[at + 1]
        return (f'<a href="{html_text(view_url(entity, pk))}">'
                f'{html_text(str(title) if title not in (None, "") else f"#{pk}")}</a>')
    return cell


def _user_cell(at: int) -> Cell:
    """A user column's cell: the name as `UserRefBase.__str__` gives it, escaped."""
    def cell(row: Any) -> str:
        if row[at] is None:
            return ""
        return html_text(str(f"{row[at + 1] or ''} {row[at + 2] or ''}".strip() or row[at + 3]))
    return cell


def _cells(statements: Any, columns: Sequence[str], entity: EntitySpec,
           formatters: dict[str, Callable[[Any], Any]], lang: str) -> list[Cell]:
    """Each shown column's cell writer, in the columns' order; kept on the page's statements per
    language and formatters (the view's, fixed for the app's life)."""
    kept: dict[Any, list[Cell]] = statements.__dict__.setdefault("crm_cells", {})
    key = (lang, tuple(columns), tuple(id(formatters.get(name)) for name in columns))
    cells = kept.get(key)
    if cells is None:
        readers = {name: (kind, data) for name, kind, data in statements.readers}
        cells = []
        for name in columns:
            kind, data = readers[name]
            if kind == "value":
                cells.append(_value_cell(data[0], formatters.get(name), lang))
            elif data[1] is None:
                cells.append(_user_cell(data[0]))
            else:
                f = entity.field_map.get(name)
                cells.append(_link_cell(data[0], (f.to or "") if f is not None else ""))
        if len(kept) >= PAGES_KEPT:
            kept.clear()
        kept[key] = cells
    return cells


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
    version = at.get("version")
    cells = _cells(statements, columns, entity, formatters, current_lang())

    def values() -> list[dict[str, Any]]:  # FAB's `value_columns`, as the dicts the ORM path gives
        return [_item(row, statements.readers, entity) for row in rows]

    return count, PlainRows(columns=columns, route=route, rows=rows, cells=cells,
                            flags=(at["crm_may_update"], at["crm_may_delete"]), version=version, values=values)


def _item(row: Any, readers: Sequence[Any], entity: EntitySpec) -> dict[str, Any]:
    """A row as the ORM path's dict: values, a link as its `link_html`, a user as its name."""
    item: dict[str, Any] = {}
    for name, kind, data in readers:
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
            f = entity.field_map.get(name)
            title = row[i + 1]
            item[name] = link_html((f.to or "") if f is not None else "", pk,
                                   str(title) if title not in (None, "") else f"#{pk}", bool(row[i + 2]))
    return item
