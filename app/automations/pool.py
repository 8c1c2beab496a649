"""The lead pool (公海): records nobody followed up within N days go back to a pool that
other reps may claim (claim.py), each rep at most `claim_limit` a day.

    pool:
      - name: lead_pool
        label: {en: Lead pool, zh: 线索公海}
        entity: lead
        flag: in_pool               # a boolean field: true while the record is in the pool
        claimed_on: claimed_on      # a datetime field: when it was last claimed (counts the daily limit)
        user: lead_pool             # the login that owns pool records (made, inactive, when first needed)
        after_days: 7               # days without a follow-up
        since: changed_on           # the datetime field a follow-up moves (default changed_on)
        if: "status in [new, contacted]"    # only these go back
        claim_limit: 5              # claims per rep per day (CRM time zone)
        roles: [Sales Rep, Sales Manager]   # who may claim (default: every role that may update it)

Owner is never empty, so a pool record is owned by the pool user: it leaves every rep's
"own" lists, and the pool page (`/crm/pool/<entity>/`, `GET /api/v1/<entity>/pool`)
shows it to those who may claim. The recycling is a rule `<name>` run by the tick
(trigger inactive), written as the automation in the history. Problems are CRM-E079.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from app.metadata.definitions import Key
from app.metadata.problems import did_you_mean
from app.metadata.spec import Text

from .section import section_head
from .spec import ActionSpec, AutomationSpec

KEYS = (Key("name", "identifier", "Stable key: the recycling rule shown in the history.", required=True),
        Key("label", "label", "The pool's name, in each language.", required=True),
        Key("entity", "identifier", "The entity pooled.", required=True),
        Key("flag", "identifier", "A boolean field, true while in the pool.", required=True),
        Key("claimed_on", "identifier", "A datetime field set when claimed.", required=True),
        Key("user", "text", "The login owning pool records.", required=True),
        Key("after_days", "integer", "Days without a follow-up before it goes back.", required=True),
        Key("since", "identifier", "The datetime field a follow-up moves; default changed_on."),
        Key("if", "text", "A condition: only records it holds for go back."),
        Key("claim_limit", "integer", "Claims per rep per day.", required=True),
        Key("roles", "rolenames", "Roles that may claim; default: those that may update the entity."))


@dataclass(frozen=True)
class Pool:
    name: str
    label: Text
    entity: str
    flag: str
    claimed_on: str
    user: str
    claim_limit: int
    roles: tuple[str, ...]


def _bad(checker: Any, line: int, message: str, hint: str = "") -> None:
    checker.sink.add("CRM-E079", line, message, hint)


def _typed(checker: Any, entity: Any, item: Any, key: str, name: Any, wanted: str, where: str) -> bool:
    f = entity.field_map.get(name)
    if f is not None and f.type == wanted and (key == "since" or f.editable):
        return True
    _bad(checker, item.line_of(key), f"{where} {key} '{name}' is not a {'writable ' if key != 'since' else ''}"
         f"{wanted} field of {entity.name}", did_you_mean(str(name), [g.name for g in entity.fields if g.type == wanted])
         or f"declare one for it, e.g. {key}: {{type: {wanted}}}")
    return False


def parse_pool(checker: Any, item: Any, line: int, path: Any) -> AutomationSpec | None:
    head = section_head(checker, item, line, KEYS, "pool")
    if head is None:
        return None
    values, where, entity = head
    since = values.get("since", "changed_on")
    if not (_typed(checker, entity, item, "flag", values["flag"], "boolean", where)
            and _typed(checker, entity, item, "claimed_on", values["claimed_on"], "datetime", where)
            and _typed(checker, entity, item, "since", since, "datetime", where)):
        return None
    for key in ("after_days", "claim_limit"):
        if values[key] < 1:
            _bad(checker, item.line_of(key), f"{where} {key} must be 1 or more, got {values[key]}")
            return None
    roles = tuple(str(r) for r in values.get("roles", []))
    unknown = [r for r in roles if checker.roles is not None and r not in checker.roles]
    if unknown:
        _bad(checker, item.line_of("roles"), f"{where} roles names unknown role '{unknown[0]}'",
             did_you_mean(unknown[0], checker.roles or ()) or "")
        return None
    if not str(values["user"]).strip():
        _bad(checker, item.line_of("user"), f"{where} user is empty", "user: lead_pool")
        return None
    condition = f"not coalesce({values['flag']}, false)"
    if "if" in values:
        if not checker.condition(values["if"], entity.name, item.line_of("if"), where):
            return None
        condition = f"({values['if']}) and {condition}"
    pool = Pool(values["name"], Text.of(values["label"]), entity.name, values["flag"], values["claimed_on"],
                str(values["user"]).strip(), values["claim_limit"], roles)
    return AutomationSpec(name=values["name"], label=pool.label, entity=entity.name, trigger="inactive", line=line,
                          source=path, condition=condition, time_field=since, offset_days=values["after_days"],
                          actions=(ActionSpec("pool", line, entity=entity.name, detail=pool),))


def pools(spec: Any) -> dict[str, Pool]:
    """entity -> its pool, from the rules the pools made."""
    return {a.detail.entity: a.detail for rule in spec.automations for a in rule.actions if a.kind == "pool"}


def plan_recycle(entity: Any, action: ActionSpec) -> dict[str, Any]:
    pool: Pool = action.detail  # type: ignore[assignment]
    return {"action": "set", "via": "pool", "entity": entity.name, "values": {pool.flag: True}, "owner": pool.user}


def pool_user(session: Any, user_model: Any, login: str) -> int:
    """The pool user's id, made (inactive: nobody logs in as it) the first time."""
    found = session.scalar(sa.select(user_model.id).where(user_model.username == login))
    if found is not None:
        return int(found)
    from flask import current_app  # FAB's own user class: it knows the id sequence (PostgreSQL)

    fab_user = current_app.extensions["crm"].appbuilder.sm.user_model
    user = fab_user(username=login, first_name="Pool", last_name="公海", email=f"{login}@pool.invalid", active=False)
    session.add(user)
    session.flush()
    return int(user.id)
