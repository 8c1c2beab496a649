"""The notify action: a message in the app for the record's user fields (owner, assignee),
fixed logins and the users of roles, from a zh/en template with {{ expression }} placeholders.

Checked at load (CRM-E068 no recipient, E069 a field that is not a user field, E070 an
unknown role, E071 a login that is not text, E072 a message missing a language or naming
what the record has not); run in the rule's own transaction (a row per user in
`crm_notification`), so a rule that fails notifies no one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from app.expr import ExprError, check, parse
from app.metadata.definitions import Key
from app.metadata.problems import ProblemSink, did_you_mean
from app.metadata.shapes import check_mapping
from app.metadata.spec import EntitySpec, Text
from app.metadata.yamlsource import LocMap
from app.models.events import utcnow
from app.records.assignees import role_members

from .checks import PLACEHOLDER
from .scope import automation_scope

NOTIFY_KEYS = (Key("fields", "identifiers", "User fields of the record whose users are told: [owner, assignee]."),
               Key("users", "rolenames", "Logins of users who are always told."),
               Key("roles", "rolenames", "Roles whose active users are told."),
               Key("message", "label", "The message, zh/en, with {{ expression }} placeholders.", required=True))


@dataclass(frozen=True)
class NotifySpec:
    fields: tuple[str, ...] = ()
    users: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    message: Text = Text(())


def check_notify(checker: Any, raw: Any, entity: str, line: int, where: str) -> NotifySpec | None:
    """A notify action's recipients and message, or None after reporting what is wrong."""
    sink: ProblemSink = checker.sink
    values = check_mapping(raw, NOTIFY_KEYS, sink, f"{where} notify", line)
    at = raw.line_of if isinstance(raw, LocMap) else (lambda key: line)
    if "message" not in values:
        return None
    spec: EntitySpec = checker.entities[entity]
    fields, users, roles = (tuple(values.get(k) or ()) for k in ("fields", "users", "roles"))
    ok = True
    if not (fields or users or roles):
        sink.add("CRM-E068", line, f"{where} notify names no recipient",
                 "give fields: [owner], users: [<login>] or roles: [<role>]")
        ok = False
    user_fields = [f.name for f in spec.fields if f.type == "user"]
    for name in fields:
        if name not in user_fields:
            what = "is not a field" if name not in spec.field_map else f"is a {spec.field(name).type}, not a user field"
            sink.add("CRM-E069", at("fields"), f"{where} notify field '{name}' {what} of {entity}",
                     did_you_mean(str(name), user_fields) or f"user fields: {', '.join(user_fields)}")
            ok = False
    for role in roles:
        if checker.roles is not None and role not in checker.roles:
            sink.add("CRM-E070", at("roles"), f"{where} notify names unknown role '{role}'",
                     did_you_mean(str(role), checker.roles) or f"roles: {', '.join(sorted(checker.roles))}")
            ok = False
    for login in users:
        if not isinstance(login, str) or not login.strip():
            sink.add("CRM-E071", at("users"), f"{where} notify users has {login!r}, not a login",
                     "users: [wangfang, lina]")
            ok = False
    ok = _check_message(checker, values["message"], entity, at("message"), where) and ok
    if not ok:
        return None
    return NotifySpec(tuple(map(str, fields)), tuple(str(u).strip() for u in users), tuple(map(str, roles)),
                      Text.of(values["message"]))


def _check_message(checker: Any, message: Any, entity: str, line: int, where: str) -> bool:
    texts = message if isinstance(message, dict) else {lang: message for lang in checker.languages}
    missing = [lang for lang in checker.languages if not str(texts.get(lang) or "").strip()]
    if missing:
        checker.sink.add("CRM-E072", line, f"{where} notify message has no {', '.join(missing)} text",
                         "message: {en: 'Deal {{ name }} won', zh: '商机 {{ name }} 已赢单'}")
        return False
    ok, seen = True, set()
    for text in texts.values():
        for match in PLACEHOLDER.finditer(str(text)):
            inner = match.group(1).strip()
            if inner in seen:
                continue  # the same placeholder in another language: said once
            seen.add(inner)
            try:
                check(parse(inner), automation_scope(checker.entities, entity))
            except ExprError as exc:
                checker.sink.add("CRM-E072", line, f"{where} notify message {{{{{inner}}}}}: {exc.message}",
                                 exc.hint or did_you_mean(inner.split(".")[-1], checker.entities[entity].field_map))
                ok = False
    return ok


# -- run time ---------------------------------------------------------------------------

def _active(users: Any) -> Any:
    return sa.or_(users.active.is_(None), users.active.is_(True))


def recipients(ctx: Any, spec: NotifySpec, state: dict[str, Any]) -> list[tuple[int, str]]:
    """(user id, login) of everyone the action tells: active users, each once, by id."""
    users = ctx.models.user_model
    picked = sa.false()
    ids = [getattr(state.get(name), "id", state.get(name)) for name in spec.fields]
    ids = [i for i in ids if isinstance(i, int)]
    if ids:
        picked = sa.or_(picked, users.id.in_(ids))
    if spec.users:
        picked = sa.or_(picked, users.username.in_(spec.users))
    if spec.roles:
        picked = sa.or_(picked, users.id.in_(role_members(spec.roles)))
    rows = ctx.session.execute(sa.select(users.id, users.username).where(picked, _active(users))
                               .order_by(users.id)).all()
    found = {login for _, login in rows}
    unknown = [login for login in spec.users if login not in found]
    if unknown:
        raise LookupError(f"notify: no active user with login {', '.join(unknown)}")
    return [(int(i), str(login)) for i, login in rows]


def plan_notify(ctx: Any, spec: NotifySpec, state: dict[str, Any], timezone: str, render: Any) -> dict[str, Any]:
    """Who would be told what (the dry run shows it; carry_notify writes it)."""
    people = recipients(ctx, spec, state)
    return {"action": "notify", "to": [login for _, login in people], "user_ids": [i for i, _ in people],
            "record_id": state.get("id"),
            "message": {lang: render(text, state, timezone, lang) for lang, text in spec.message.values}}


def carry_notify(ctx: Any, rule: str, entity: str, planned: dict[str, Any]) -> str:
    """One crm_notification row per recipient, in the open transaction."""
    add_notifications(ctx.session, ctx.models.core["crm_notification"], planned["user_ids"], "notify", rule,
                      entity, planned.get("record_id"), planned["message"])
    return f"notified {', '.join(planned['to']) or 'no one'}"


def add_notifications(session: Any, table: sa.Table, user_ids: list[int], kind: str, rule: str | None,
                      entity: str | None, record_id: int | None, message: dict[str, str]) -> None:
    if not user_ids:
        return
    now, text = utcnow(), json.dumps(message, ensure_ascii=False)
    session.execute(sa.insert(table), [
        {"user_id": uid, "kind": kind, "rule": rule, "entity": entity, "record_id": record_id,
         "message": text, "created_on": now} for uid in user_ids])
