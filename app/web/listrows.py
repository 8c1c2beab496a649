"""A list page's rows built in one pass, not through FAB's list widget cell by cell.

FAB's list template loops over rows and columns in Jinja, resolving names, looking up each
column's formatter and escaping each cell through the runtime (a third of a list page's
CPU). The rows here are the same HTML — row checkbox, show/edit/delete buttons where this
user may, each cell through the field type's formatter (links to linked records, money and
moments in the user's language and zone, choice labels) — joined in Python, so
the per-row work is the formatters alone.
The hidden fields are already out of `columns` (app/web/fieldrules.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape


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
