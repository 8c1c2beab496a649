"""The scoped query layer: every read of records goes through `Records`.

`Records(access, models, entity)` is one entity as one user may read it.
Its statements carry the user's row scope for the action asked (read for
pages, export for files); joins along a link apply the *target's* read
scope in the join condition, so a linked record out of scope contributes
NULLs (its values, its title) and never removes the row that links to it.
`access=None` means unrestricted (the CLI, demo data, system jobs).

Readers never build a row clause themselves: `app/security/scopes.py` holds
what each scope kind means, and only this module turns it into SQL
(tests/test_scoped_records.py guards that no other module does).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from app.i18n import _t

from .scopes import scope_clause

# What a link to a record the user may not read shows instead of its title (its id is kept).
RESTRICTED = _t("(restricted)")


def restricted_title(pk: Any, lang: str | None = None) -> str:
    """`#12 (restricted)`: where a link shows as text alone, the id stays and the title goes."""
    return f"#{pk} {RESTRICTED.get(lang)}"


class Records:
    """One entity's records as one user may read (or export, update...) them."""

    def __init__(self, access: Any, models: Any, entity: str):
        self.access, self.models, self.entity = access, models, entity
        self.model = models.model(entity)

    # -- the scope as SQL -------------------------------------------------------------
    def _clause(self, action: str, model: Any = None) -> Any:
        if self.access is None:
            return None
        return scope_clause(self.access, self.access.scope(self.entity, action), model or self.model)

    def where(self, stmt: Any, action: str = "read", model: Any = None) -> Any:
        """`stmt` (a Select or an ORM Query that reads `model`, default the entity's model,
        or an alias of it) limited to the user's `action` scope."""
        clause = self._clause(action, model)
        return stmt if clause is None else stmt.where(clause)

    def select(self, *columns: Any, action: str = "read") -> Any:
        """SELECT of `columns` (default: the records) from the entity, limited to the scope."""
        stmt = sa.select(*columns).select_from(self.model) if columns else sa.select(self.model)
        return self.where(stmt, action)

    def query(self, action: str = "read") -> Any:
        """SELECT of the records the user may `action`, for ORM reading (`session.scalars`)."""
        return self.select(action=action)

    def get(self, session: Any, pk: Any, action: str = "read") -> Any:
        """The record with id `pk` when it is in scope, else None (never a 'forbidden' that tells it exists)."""
        return session.scalars(self.where(sa.select(self.model).where(self.model.id == pk), action)).first()

    def readable_ids(self, session: Any, ids: Iterable[Any]) -> set[Any]:
        """Those of `ids` that exist and that the user may read (one query)."""
        wanted = {i for i in ids if i is not None}
        if not wanted:
            return set()
        return set(session.scalars(self.where(sa.select(self.model.id).where(self.model.id.in_(wanted)))))

    def titles(self, session: Any, ids: Iterable[Any], lang: str | None = None) -> dict[Any, str]:
        """Titles of linked records, one query: out-of-scope ones as restricted, never their title."""
        wanted = {i for i in ids if i is not None}
        if not wanted:
            return {}
        spec = self.models.spec.entity(self.entity)
        title = spec.field_map.get(spec.title_field)
        column = getattr(self.model, title.column_name) if title is not None and not title.is_many \
            and title.type not in ("link", "user") else self.model.id
        rows = dict(session.execute(self.where(sa.select(self.model.id, column).where(self.model.id.in_(wanted)))).all())
        return {pk: (str(rows[pk]) if rows[pk] not in (None, "") else f"#{pk}") if pk in rows
                else restricted_title(pk, lang) for pk in wanted}

    def allows(self, record: Any, action: str = "read") -> bool:
        """Is this loaded record in the user's `action` scope?"""
        return self.access is None or self.access.allows(self.entity, action, record)

    # -- joins along links ------------------------------------------------------------
    def on(self, foreign_key: Any, alias: Any) -> Any:
        """Join condition of a link to this entity (`alias` of its model): only readable targets."""
        clause = self._clause("read", alias)
        condition = foreign_key == alias.id
        return condition if clause is None else sa.and_(condition, clause)

    def outerjoin(self, stmt: Any, foreign_key: Any, alias: Any = None, name: str | None = None) -> tuple[Any, Any]:
        """`stmt` outer-joined to this entity by `foreign_key`: (statement, alias).

        Target rows out of the user's read scope do not join: their columns read NULL.
        """
        alias = alias if alias is not None else aliased(self.model, name=name)
        return stmt.outerjoin(alias, self.on(foreign_key, alias)), alias

    def link(self, link: str) -> Records:
        """The target entity of one of this entity's link fields, for the same user."""
        f = self.models.spec.entity(self.entity).field(link)
        return Records(self.access, self.models, f.to)
