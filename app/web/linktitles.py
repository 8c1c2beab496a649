"""Titles of linked records as this user may see them.

A link to a record the user may not read keeps its id but not its title
("(restricted)" / "（无权查看）"): a lead converted into a deal shows the
deal to a role without deal access as restricted, on the API, screens,
exports and pickers. The stored link is never changed by this: a form shows
the id and posts it back unchanged, and the record commands accept an
unchanged link the user cannot read.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from markupsafe import Markup

from app.security.access import current_access
from app.security.scoped import RESTRICTED, Records, restricted_title

from .labels import current_lang


def _records(item: Any) -> Records | None:
    entity = getattr(type(item), "__entity__", None)
    if entity is None:  # users and other non-record rows have no row scope
        return None
    return Records(current_access(), current_app.extensions["crm"].models, entity.name)


def may_read(item: Any) -> bool:
    records = _records(item)
    return records is None or records.allows(item)


def link_title(item: Any) -> str:
    """What the API shows as a link's `title`: the title, or "(restricted)" (the id is beside it)."""
    return str(item) if may_read(item) else RESTRICTED.get(current_lang())


def link_text(item: Any) -> str:
    """A link as text alone (exports, pickers): the title, or `#12 (restricted)`."""
    return str(item) if may_read(item) else restricted_title(item.id, current_lang())


def restricted_markup(pk: Any) -> Markup:
    """A link to record `pk` the user may not read, on screens: `#12 (restricted)`, no way to it."""
    return Markup('<span class="crm-restricted text-muted">{}</span>').format(restricted_title(pk, current_lang()))


def picker_titles(entity: str | None, ids: list[Any]) -> dict[Any, str]:
    """Titles of the ids a form shows again, restricted where the user may not read them."""
    state = current_app.extensions["crm"]
    return Records(current_access(), state.models, entity or "").titles(state.db.session, ids, current_lang())
