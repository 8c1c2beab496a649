"""FAB's SQLAInterface, with the relationships a page shows loaded up front.

Relationships are lazy in the models (loading a maker must not load its
owner, creator and changer); each view names the ones its columns show and
they are fetched with one SELECT ... IN per relationship, whatever the page
size (no N+1).
"""

from __future__ import annotations

from typing import Any

from flask_appbuilder.models.sqla.interface import SQLAInterface
from sqlalchemy.orm import selectinload


class CrmInterface(SQLAInterface):
    def __init__(self, obj: Any, eager: list[str] | None = None, session: Any = None):
        super().__init__(obj, session=session)
        self.eager = list(eager or [])

    def apply_all(self, query: Any, *args: Any, **kwargs: Any) -> Any:
        query = super().apply_all(query, *args, **kwargs)
        if self.eager:
            query = query.options(*[selectinload(getattr(self.obj, name)) for name in self.eager])
        return query


def eager_for(entity: Any, columns: list[str]) -> list[str]:
    """Relationship names among the given columns (dotted paths count by their head)."""
    names = []
    for column in columns:
        head = column.split(".", 1)[0]
        f = entity.field_map.get(head)
        if f is not None and f.type in ("link", "links", "user") and head not in names:
            names.append(head)
    return names
