"""What automation expressions can name: the record's fields (one link deep, like rules),
its `id`, the user fields' e-mail, and the change: `old.<field>` and `new.<field>`."""

from __future__ import annotations

from collections.abc import Callable

from app.expr import NUMBER, TEXT
from app.metadata.computed import scope_of
from app.metadata.spec import EntitySpec

CHANGE_PREFIXES = ("old", "new")


def automation_scope(entities: dict[str, EntitySpec], entity: str) -> Callable[[tuple[str, ...]], str | None]:
    plain = scope_of(entities, entity)
    fields = entities[entity].field_map

    def resolve(path: tuple[str, ...]) -> str | None:
        if path == ("id",) and "id" not in fields:
            return NUMBER
        if path[0] in CHANGE_PREFIXES and path[0] not in fields and len(path) == 2:
            return plain(path[1:])
        if len(path) == 2 and path[1] == "email" and path[0] in fields and fields[path[0]].type == "user":
            return TEXT
        return plain(path)

    return resolve
