"""Territories: who owns a record by the value of one of its fields (a region, a province),
used by the assign action `assign: {territory: <name>}`.

    territories:
      - name: lead_region
        label: {en: Sales regions, zh: 销售区域}
        entity: lead
        field: region
        areas:
          - {values: [north, northeast], users: [sales_rep]}
          - {values: [east, south], users: [sales_rep, sales_rep2]}   # in turn
          - {values: [west], role: Sales Manager}                     # the role's active users in turn
        otherwise: {role: Sales Rep}     # no area matches (or the field is empty); none: the rule fails, logged

Within an area the users take turns (a round-robin counter per area). Problems are CRM-E078.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from app.metadata.definitions import Key
from app.metadata.problems import did_you_mean
from app.metadata.shapes import check_mapping, line_of
from app.metadata.yamlsource import LocMap

from .section import section_head

KEYS = (Key("name", "identifier", "Stable key, named by `assign: {territory: <name>}`.", required=True),
        Key("label", "label", "What the territories are, in each language.", required=True),
        Key("entity", "identifier", "The entity assigned.", required=True),
        Key("field", "identifier", "The field whose value picks the area.", required=True),
        Key("areas", "rules", "{values, users | role}: who owns records with these values.", required=True),
        Key("otherwise", "mapping", "{users | role}: who owns the rest."))
AREA_KEYS = (Key("values", "identifiers", "Values of the field.", required=True),
             Key("users", "identifiers", "Logins, taking turns."),
             Key("role", "text", "A role whose active users take turns."))


@dataclass(frozen=True)
class Area:
    values: frozenset[str]
    users: tuple[str, ...] = ()
    role: str | None = None


@dataclass(frozen=True)
class Territory:
    name: str
    entity: str
    field: str
    areas: tuple[Area, ...]
    otherwise: Area | None

    def area_for(self, value: Any) -> tuple[int, Area] | None:
        for index, area in enumerate(self.areas):
            if value is not None and str(value) in area.values:
                return index, area
        return None if self.otherwise is None else (len(self.areas), self.otherwise)


def _bad(checker: Any, line: int, message: str, hint: str = "") -> None:
    checker.sink.add("CRM-E078", line, message, hint)


def parse_territory(checker: Any, item: Any, line: int) -> Territory | None:
    head = section_head(checker, item, line, KEYS, "territory")
    if head is None:
        return None
    values, where, entity = head
    f = entity.field_map.get(values["field"])
    if f is None or f.is_many:
        _bad(checker, item.line_of("field"), f"{where} field '{values['field']}' is not a field of {entity.name}",
             did_you_mean(str(values["field"]), entity.field_map))
        return None
    choices = {c.value for c in f.choices} if f.choices else None
    areas = []
    for index, raw in enumerate(values["areas"]):
        area = _area(checker, raw, line_of(values["areas"], index, item.line_of("areas")), where, choices, True)
        if area is None:
            return None
        areas.append(area)
    otherwise = None
    if "otherwise" in values:
        otherwise = _area(checker, values["otherwise"], item.line_of("otherwise"), f"{where} otherwise", None, False)
        if otherwise is None:
            return None
    return Territory(str(values["name"]), entity.name, f.name, tuple(areas), otherwise)


def _area(checker: Any, raw: Any, line: int, where: str, choices: set[str] | None, with_values: bool) -> Area | None:
    keys = AREA_KEYS if with_values else AREA_KEYS[1:]
    values = check_mapping(raw, keys, checker.sink, f"{where} area", line)
    at = raw.line_of if isinstance(raw, LocMap) else (lambda key: line)
    if with_values and "values" not in values:
        return None
    if ("users" in values) == ("role" in values) or values.get("users") == []:
        _bad(checker, line, f"{where} area needs users (a list of logins) or a role, not both",
             "{values: [east], users: [sales_rep]} or {values: [east], role: Sales Rep}")
        return None
    for value in values.get("values", []):
        if choices is not None and str(value) not in choices:
            _bad(checker, at("values"), f"{where}: '{value}' is not a choice of the field",
                 did_you_mean(str(value), choices) or f"choices: {', '.join(sorted(choices))}")
            return None
    role = values.get("role")
    if role is not None and checker.roles is not None and role not in checker.roles:
        _bad(checker, at("role"), f"{where} names unknown role '{role}'",
             did_you_mean(role, checker.roles) or f"roles: {', '.join(sorted(checker.roles))}")
        return None
    return Area(frozenset(str(v) for v in values.get("values", [])),
                tuple(str(u) for u in values.get("users", [])), role)


def territory_candidates(ctx: Any, territory: Territory, record: Any) -> tuple[str, list[int]]:
    """(counter key, user ids in turn) for the record's area; LookupError if none fits."""
    from .assign import AssignFailed, role_users

    entity = ctx.entity(territory.entity)
    value = getattr(record, entity.field(territory.field).column_name, None)
    found = territory.area_for(value)
    if found is None:
        raise AssignFailed(f"territory {territory.name}: no area for {territory.field} = {value!r}")
    index, area = found
    if area.role is not None:
        return f"{territory.name}:{index}", role_users(ctx, area.role)
    users = ctx.models.user_model
    rows = dict(ctx.session.execute(sa.select(users.username, users.id).where(
        users.username.in_(area.users), sa.or_(users.active.is_(None), users.active.is_(True)))).all())
    ids = [rows[login] for login in area.users if login in rows]
    if not ids:
        raise AssignFailed(f"territory {territory.name}: none of {', '.join(area.users)} is an active user")
    return f"{territory.name}:{index}", ids
