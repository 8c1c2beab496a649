"""How values look on lists and record pages (FAB formatters_columns)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from markupsafe import Markup, escape

from app.fieldtypes import field_type
from app.metadata.spec import CrmSpec, EntitySpec, FieldSpec

from .linktitles import may_read, restricted_markup


def html_text(value: Any) -> str:
    """`str(escape(value))`, the same text, without making a Markup of every plain string: a list
    page escapes a few hundred values (app/web/listrows.py). Escaped only when it needs it
    (markupsafe's replacements: & < > ' ")."""
    if type(value) is not str:
        html = getattr(value, "__html__", None)
        if html is not None:
            return str(html())
        value = str(value)
    if "&" in value or "<" in value or ">" in value or "'" in value or '"' in value:
        return str(escape(value))
    return value


def view_url(entity: str, pk: Any) -> str:
    return f"/crm/{entity}/show/{pk}"


def record_link(entity: str, item: Any) -> Markup:
    """A linked record as a link to its page (restricted when the user may not read it)."""
    return link_html(entity, item.id, str(item), may_read(item))


def link_html(entity: str, pk: Any, title: str, readable: bool) -> Markup:
    """A link to record `pk` titled `title`; when the user may not read it the id stays, the title
    and the way to it do not. The list's plain rows (app/web/listrows.py) call it with their own
    columns, the ORM path through `record_link`."""
    if not readable:
        return restricted_markup(pk)
    return Markup(f'<a href="{escape(view_url(entity, pk))}">{escape(title)}</a>')  # on every row


class RecordLink:
    """A link field's formatter (a linked record -> its link); a class so that the list's plain
    rows can tell a link column they may render from their own columns (`link_html`) from a
    formatter of another kind (a plugin's), which needs the record."""

    def __init__(self, entity: str) -> None:
        self.entity = entity

    def __call__(self, item: Any) -> Any:
        return "" if item is None else record_link(self.entity, item)


def formatter_for(f: FieldSpec, spec: CrmSpec) -> Callable[[Any], Any] | None:
    """How a field's values look: its field type decides (app/fieldtypes/); None: as FAB shows them."""
    return field_type(f.type).formatter(f, spec)


def formatters(entity: EntitySpec, spec: CrmSpec) -> dict[str, Callable[[Any], Any]]:
    """A formatter for every field: a type without its own shows the value as it is, and an
    empty value as nothing (FAB's templates printed Python's None: "None" in a blank company)."""
    return {f.name: formatter_for(f, spec) or as_is for f in entity.fields}


def as_is(value: Any) -> Any:
    return "" if value is None else value


def json_value(f: FieldSpec, value: Any) -> Any:
    """A field value as the API returns it."""
    return field_type(f.type).json_value(f, value)
