"""Effective access, explained: what a user may do on an entity or a record, and why.

Answers come from the same Access object that enforces the rules, so the
explainer cannot disagree with what screens and the API do (a test checks
every cell of the permission matrix against it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.metadata.spec import CrmSpec

from .access import ACTIONS, Access


@dataclass
class ActionAnswer:
    action: str
    scope: str
    allowed: bool | None  # for a record: is it in scope; for an entity: None
    reason: str


@dataclass
class EntityAnswer:
    entity: str
    actions: list[ActionAnswer]
    fields: list[tuple[str, str, str]] = field(default_factory=list)  # (field, mode, reason)
    record_id: int | None = None
    record_found: bool = True


def explain(access: Access, spec: CrmSpec, entity: str, record: Any = None,
            record_id: int | None = None) -> EntityAnswer:
    spec_entity = spec.entity(entity)
    answers = []
    for action in ACTIONS:
        decision = access.explain(entity, action)
        allowed = None
        reason = decision.rule
        if record is not None and action not in ("create", "import"):
            allowed = access.allows(entity, action, record)
            reason += "; " + _record_reason(access, decision.value, record, allowed)
        answers.append(ActionAnswer(action, decision.value, allowed, reason))
    fields = [(f.name, *_field(access, spec_entity, f.name)) for f in spec_entity.fields]
    return EntityAnswer(entity, answers, fields, record_id, record is not None or record_id is None)


def _field(access: Access, entity: Any, name: str) -> tuple[str, str]:
    decision = access.book.field_mode(access.roles, entity, name)
    return decision.value, decision.rule


def _record_reason(access: Access, scope: str, record: Any, allowed: bool) -> str:
    owner = getattr(record, "owner_id", None)
    if scope == "all":
        return "every record is in scope"
    if scope == "no":
        return "no record is in scope"
    if scope == "own":
        return "the user owns it" if allowed else f"owned by user #{owner}, not by the user"
    if scope == "team":
        return ("its owner is in one of the user's teams" if allowed
                else f"owner user #{owner} is in none of the user's teams")
    clauses = [_clause_reason(record, part) for part in scope.split(" or ")]
    return (f"a clause of '{scope}' admits it" if allowed else f"no clause of '{scope}' admits it") \
        + f" ({'; '.join(clauses)})"


def _clause_reason(record: Any, clause: str) -> str:
    """What one clause looks at on this record: `own(sales_engineer)`: sales_engineer is user #7."""
    kind, _, arg = clause.strip().rstrip(")").partition("(")
    if kind in ("own", "team"):
        name = arg or "owner"
        return f"{name} is user #{getattr(record, f'{name}_id', None)}"
    if kind == "via":
        target = getattr(record, f"{arg}_id", None)
        return f"{arg} is #{target}, read by its own scope" if target is not None else f"{arg} is empty"
    return clause


def format_answer(answer: EntityAnswer) -> list[str]:
    suffix = f" #{answer.record_id}" if answer.record_id is not None else ""
    lines = [f"{answer.entity}{suffix}"]
    if not answer.record_found:
        lines.append(f"  record #{answer.record_id} does not exist")
    for a in answer.actions:
        verdict = "" if a.allowed is None else (" ALLOWED" if a.allowed else " DENIED")
        lines.append(f"  {a.action:<7} {a.scope:<5}{verdict}  ({a.reason})")
    for name, mode, reason in answer.fields:
        lines.append(f"  field {name:<20} {mode:<6} ({reason})")
    return lines
