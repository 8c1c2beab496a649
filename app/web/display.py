"""How values look on lists and record pages (FAB formatters_columns)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from markupsafe import Markup, escape

from app.fieldtypes import field_type
from app.metadata.spec import CrmSpec, EntitySpec, FieldSpec

from .linktitles import may_read, restricted_markup


def view_url(entity: str, pk: Any) -> str:
    return f"/crm/{entity}/show/{pk}"


def record_link(entity: str, item: Any) -> Markup:
    """A linked record as a link to its page (restricted when the user may not read it)."""
    if not may_read(item):  # the id stays, the title and the way to it do not
        return restricted_markup(item)
    return Markup(f'<a href="{escape(view_url(entity, item.id))}">{escape(str(item))}</a>')  # on every row


def formatter_for(f: FieldSpec, spec: CrmSpec) -> Callable[[Any], Any] | None:
    """How a field's values look: its field type decides (app/fieldtypes/); None: as FAB shows them."""
    return field_type(f.type).formatter(f, spec)


def formatters(entity: EntitySpec, spec: CrmSpec) -> dict[str, Callable[[Any], Any]]:
    """A formatter for every field: a type without its own shows the value as it is, and an
    empty value as nothing (FAB's templates printed Python's None: "None" in a blank company)."""
    return {f.name: formatter_for(f, spec) or _as_is for f in entity.fields}


def _as_is(value: Any) -> Any:
    return "" if value is None else value


def json_value(f: FieldSpec, value: Any) -> Any:
    """A field value as the API returns it."""
    return field_type(f.type).json_value(f, value)
