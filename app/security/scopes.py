"""Scope kinds: what `all`, `team`, `own`, `no` mean as SQL and for one loaded record.

One rule per kind, in one registry, so a new kind (issue 13: `own(field)`,
`via(link)`) is added here and every reader follows. A scope string is
`kind` or `kind(argument)`; the rule gets the argument. Only the scoped
query layer (`app/security/scoped.py`) and `Access.allows` ask these rules:
screens, the API, reports and charts read through `Records`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import sqlalchemy as sa

SCOPE_SYNTAX = re.compile(r"^(?P<kind>[a-z_]+)(?:\((?P<arg>[a-z_][a-z0-9_]*)\))?$")


class Viewer(Protocol):
    """What a rule needs of the user: who they are and whose records `team` covers."""

    user_id: int | None

    @property
    def team_user_ids(self) -> list[int]: ...


@dataclass(frozen=True)
class ScopeRule:
    """A scope kind: `clause` limits a model's rows (None: no limit); `admits` decides one record.

    `admits` may be None: the layer then asks the database with `clause` (one query),
    which is how a rule that reads through links (`via`) stays correct without a copy.
    """

    kind: str
    clause: Callable[[Viewer, Any, str | None], Any]
    admits: Callable[[Viewer, Any, str | None], bool] | None = None


RULES: dict[str, ScopeRule] = {}


def register(rule: ScopeRule) -> ScopeRule:
    RULES[rule.kind] = rule
    return rule


def parse_scope(scope: str) -> tuple[ScopeRule, str | None]:
    """The rule and argument of a scope string (`own`, `own(presales)`); unknown kinds read as `no`."""
    match = SCOPE_SYNTAX.match(scope or "")
    if match is None or match["kind"] not in RULES:
        return RULES["no"], None
    return RULES[match["kind"]], match["arg"]


def _user_column(model: Any, arg: str | None) -> str:
    """`owner_id`, or the column of the user field named in `own(field)` / `team(field)`."""
    if not arg:
        return "owner_id"
    entity = getattr(model, "__entity__", None)
    return entity.field(arg).column_name if entity is not None else f"{arg}_id"


def _owner(model: Any, arg: str | None) -> Any:
    return getattr(model, _user_column(model, arg))


def _owner_of(record: Any, arg: str | None) -> Any:
    return getattr(record, _user_column(type(record), arg), None)


register(ScopeRule("all", lambda viewer, model, arg: None, lambda viewer, record, arg: True))
register(ScopeRule("no", lambda viewer, model, arg: sa.false(), lambda viewer, record, arg: False))
register(ScopeRule(
    "own",
    lambda viewer, model, arg: sa.false() if viewer.user_id is None else _owner(model, arg) == viewer.user_id,
    lambda viewer, record, arg: viewer.user_id is not None and _owner_of(record, arg) == viewer.user_id))
register(ScopeRule(
    "team",
    lambda viewer, model, arg: sa.false() if viewer.user_id is None
    else _owner(model, arg).in_(viewer.team_user_ids),
    lambda viewer, record, arg: viewer.user_id is not None and _owner_of(record, arg) in viewer.team_user_ids))


def scope_clause(viewer: Viewer, scope: str, model: Any) -> Any:
    """SQL limiting `model` rows to `scope` for `viewer`; None when every row is in scope."""
    rule, arg = parse_scope(scope)
    return rule.clause(viewer, model, arg)
