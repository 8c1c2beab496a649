"""user: a user of the CRM (optionally only users of some `roles`), picked by name."""

from __future__ import annotations

from typing import Any

from .base import COMMON
from .link import RefType


class UserType(RefType):
    name = "user"
    doc = "A user of the CRM."
    options = COMMON | {"roles"}
    example = "assignee: {type: user, default: current_user}"

    def picker_url(self, field: Any, context: Any) -> str:
        # the picker offers only the users the field may take (active, of its `roles`)
        return f"{context.api_prefix}/user/picker?field={context.entity}.{field.name}"

    def default_error(self, value: Any, choices: tuple[Any, ...], values: dict[str, Any]) -> str:
        return "is not valid for a user field; use current_user"


TYPE = UserType()
