"""Scope kinds: what `all`, `team`, `own`, `no`, `via` mean as SQL and for one loaded record.

One rule per kind, in one registry, so a new kind is added here and every
reader follows. A scope string is one clause or several joined by ` or `
(`own or own(presales)`); a clause is `kind` or `kind(argument)`:
`own(field)` / `team(field)` test another user field than `owner`,
`via(link)` admits a record when the record its link points to is readable.
Only the scoped query layer (`app/security/scoped.py`) and `Access.allows`
ask these rules: screens, the API, reports and charts read through `Records`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Protocol

import sqlalchemy as sa

SCOPE_SYNTAX = re.compile(r"^(?P<kind>[a-z_]+)(?:\((?P<arg>[a-z_][a-z0-9_]*)\))?$")


class Viewer(Protocol):
    """What a rule needs of the user: who they are and whose records `team` covers."""

    user_id: int | None

    @property
    def team_user_ids(self) -> list[int]: ...

    def scope(self, entity: str, action: str) -> str: ...


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


OR_SEPARATOR = " or "
# The widest clause first: a combined scope is written in this order, and `all` absorbs the rest.
KIND_ORDER = {"all": 0, "team": 1, "own": 2, "via": 3, "no": 4}


def scope_parts(scope: str | Iterable[str]) -> list[str]:
    """The clauses of a scope: `own or own(presales)` (or a list of clauses) -> [own, own(presales)]."""
    raw = [scope] if isinstance(scope, str) else list(scope)
    return [p.strip() for item in raw for p in str(item).split(OR_SEPARATOR) if p.strip()]


def join_scopes(*scopes: str | Iterable[str]) -> str:
    """The OR of scopes, simplified: `all` absorbs everything, `no` drops out, `team(x)` covers `own(x)`."""
    parts = list(dict.fromkeys(p for s in scopes for p in scope_parts(s)))
    if "all" in parts:
        return "all"
    parts = [p for p in parts if p != "no"]
    teams = {p.removeprefix("team") for p in parts if p.startswith("team")}
    parts = [p for p in parts if not (p.startswith("own") and p.removeprefix("own") in teams)]
    parts.sort(key=lambda p: KIND_ORDER.get(p.split("(")[0], 9))
    return OR_SEPARATOR.join(parts) or "no"


def scope_rank(scope: str) -> int:
    """How wide a scope reads, for display order only (no 0, own/via 1, team 2, all 3)."""
    ranks = {"no": 0, "own": 1, "via": 1, "team": 2, "all": 3}
    return max((ranks.get(parse_scope(p)[0].kind, 0) for p in scope_parts(scope)), default=0)


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


# Links followed by `via` clauses being turned into SQL now: a cycle (checked at load, CRM-E041)
# reads as `no` rather than recursing for ever.
_FOLLOWING: ContextVar[tuple[str, ...]] = ContextVar("crm_via_following", default=())


def _via_clause(viewer: Viewer, model: Any, arg: str | None) -> Any:
    """`via(link)`: the record's link points to a record the viewer may read."""
    entity = getattr(model, "__entity__", None)
    if viewer.user_id is None or entity is None or not arg or arg not in entity.field_map:
        return sa.false()
    link = entity.field(arg)
    key = f"{entity.name}.{arg}"
    following = _FOLLOWING.get()
    if link.type != "link" or key in following:
        return sa.false()
    target = sa.inspect(model).mapper.relationships[arg].mapper.class_
    token = _FOLLOWING.set((*following, key))
    try:
        inner = scope_clause(viewer, viewer.scope(link.target, "read"), target)
    finally:
        _FOLLOWING.reset(token)
    column = getattr(model, link.column_name)
    if inner is None:
        return column.isnot(None)
    return column.in_(sa.select(target.id).where(inner))


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


register(ScopeRule("via", _via_clause))


def scope_clause(viewer: Viewer, scope: str, model: Any) -> Any:
    """SQL limiting `model` rows to `scope` for `viewer`; None when every row is in scope.

    Clauses joined by ` or ` admit a row when any of them does."""
    clauses = []
    for part in scope_parts(scope) or ["no"]:
        rule, arg = parse_scope(part)
        clause = rule.clause(viewer, model, arg)
        if clause is None:
            return None
        clauses.append(clause)
    return clauses[0] if len(clauses) == 1 else sa.or_(*clauses)


def scope_admits(viewer: Viewer, scope: str, record: Any) -> bool | None:
    """Is one loaded record in `scope`? None: a clause needs the database (`via`) to say."""
    undecided = False
    for part in scope_parts(scope) or ["no"]:
        rule, arg = parse_scope(part)
        if rule.admits is None:
            undecided = True
        elif rule.admits(viewer, record, arg):
            return True
    return None if undecided else False
