"""The points and tag actions: add or take points from a number field (a lead's score) and
add or remove one value of a multichoice field (a tag). Both become a `set` of the new
value when planned, so they run, log and dry-run like any set.

    - points: {field: score, add: 10}           # or remove: 5; an expression: add: "if(amount > 100000, 20, 5)"
    - tag: {field: tags, add: vip}              # or remove: cold

Codes: CRM-E074 the field is unknown, not writable or of the wrong type (points: integer,
decimal, money, percent; tag: multichoice); CRM-E075 not exactly one of add/remove, an
amount that is not a number, a tag that is not a choice of the field.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from app.expr import NULL, NUMBER
from app.metadata.definitions import Key
from app.metadata.problems import did_you_mean
from app.metadata.shapes import check_mapping
from app.metadata.spec import FieldSpec
from app.metadata.yamlsource import LocMap

from .engine import value_of
from .spec import ActionSpec

NUMBER_TYPES = ("integer", "decimal", "money", "percent")
ADJUST_KEYS = (Key("field", "identifier", "The field to change.", required=True),
               Key("add", "scalar", "points: how many to add (an expression); tag: the value to add."),
               Key("remove", "scalar", "points: how many to take away; tag: the value to remove."))
EXAMPLES = {"points": "points: {field: score, add: 10}", "tag": "tag: {field: tags, add: vip}"}


@dataclass(frozen=True)
class Adjust:
    field: str
    add: bool  # False: remove
    value: str  # points: an expression; tag: the choice value


def check_adjust(checker: Any, kind: str, node: Any, entity: str, line: int) -> ActionSpec | None:
    """A points or tag action, checked against the entity's fields."""
    where = f"{kind} action"
    values = check_mapping(node, ADJUST_KEYS, checker.sink, where, line)
    at = node.line_of if isinstance(node, LocMap) else (lambda key: line)
    if "field" not in values:
        return None
    spec = checker.entities[entity]
    name = values["field"]
    f = spec.field_map.get(name)
    wanted = NUMBER_TYPES if kind == "points" else ("multichoice",)
    if f is None or f.type not in wanted or not f.editable:
        what = (f"unknown field '{name}' of {entity}" if f is None else
                f"{entity}.{name}, of type {f.type}" if f.type not in wanted else f"{entity}.{name}, which is read-only")
        fitting = [g.name for g in spec.fields if g.type in wanted and g.editable]
        checker.sink.add("CRM-E074", at("field"), f"{where} names {what}; {kind} needs a writable "
                         f"{' or '.join(wanted)} field", did_you_mean(str(name), fitting) or EXAMPLES[kind])
        return None
    ways = [k for k in ("add", "remove") if k in values]
    if len(ways) != 1:
        checker.sink.add("CRM-E075", line, f"{where} on {name} needs exactly one of add, remove", EXAMPLES[kind])
        return None
    way, raw = ways[0], values[ways[0]]
    if kind == "points":
        got = checker.expression(raw, entity, at(way), f"{where} {way}")
        if got is None:
            return None
        if got not in (NUMBER, NULL):
            checker.sink.add("CRM-E075", at(way), f"{where} {way} is a {got}, not a number of points",
                             "a number or a number expression: 10, if(amount > 100000, 20, 5)")
            return None
    elif str(raw) not in {c.value for c in f.choices}:
        checker.sink.add("CRM-E075", at(way), f"{where}: '{raw}' is not a choice of {entity}.{name}",
                         did_you_mean(str(raw), [c.value for c in f.choices]) or
                         f"choices: {', '.join(c.value for c in f.choices)}")
        return None
    return ActionSpec(kind, line, entity=entity, detail=Adjust(str(name), way == "add", str(raw)))


def clamp(f: FieldSpec, value: Any) -> Any:
    """Keep points inside the field's min and max (a score of 0-100 stays 0-100)."""
    if f.min is not None and value < Decimal(str(f.min)):
        value = Decimal(str(f.min))
    if f.max is not None and value > Decimal(str(f.max)):
        value = Decimal(str(f.max))
    return int(value) if f.type == "integer" else value


def adjusted(f: FieldSpec, how: Adjust, current: Any, state: dict[str, Any], timezone: str, kind: str) -> Any:
    """The field's new value after the action (None: unchanged)."""
    if kind == "points":
        amount = value_of(how.value, state, timezone)
        if amount is None:
            return None
        total = Decimal(str(current or 0)) + (Decimal(str(amount)) if how.add else -Decimal(str(amount)))
        new = clamp(f, total)
        return None if current is not None and Decimal(str(new)) == Decimal(str(current)) else new
    tags = list(current or [])
    if how.add and how.value not in tags:
        return [*tags, how.value]
    if not how.add and how.value in tags:
        return [t for t in tags if t != how.value]
    return None


def plan_adjust(ctx: Any, entity: Any, action: ActionSpec, state: dict[str, Any], timezone: str) -> dict[str, Any]:
    """A set of the new value (no values: nothing changes, e.g. the tag is there already). The current
    value is the record's as the rule's earlier actions left it (tag, then untag, in one rule)."""
    how: Adjust = action.detail  # type: ignore[assignment]
    f = entity.field(how.field)
    record = ctx.session.get(ctx.models.model(entity.name), state["id"]) if state.get("id") else None
    current = getattr(record, f.column_name, None) if record is not None else state.get(f.name)
    new = adjusted(f, how, current, state, timezone, action.kind)
    return {"action": "set", "via": action.kind, "entity": entity.name,
            "values": {} if new is None else {how.field: new}}
