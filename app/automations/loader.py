"""Read metadata/automations.yaml into AutomationSpecs; every mistake is a located problem.

The file is optional. Shape problems use the loader's generic codes (unknown key
CRM-E002, wrong type CRM-E003, missing key CRM-E007); what a rule refers to is
checked in checks.py (CRM-E057..E064; an expression's own errors keep CRM-E031..E033).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.metadata.definitions import Key
from app.metadata.problems import Problem, ProblemSink
from app.metadata.shapes import check_label, check_mapping, line_of
from app.metadata.spec import EntitySpec, Text
from app.metadata.yamlsource import LocMap

from .checks import RuleChecker
from .notify import check_notify
from .spec import ACTIONS, ActionSpec, AutomationSpec

FILE_KEYS = (Key("rules", "rules", "The automation rules, each {name, label, entity, trigger, …, do}."),
             Key("reminders", "rules", "Task reminders and My tasks, one entry per entity: {entity, due, assignee, …}."))
RULE_KEYS = (
    Key("name", "identifier", "Stable key of the rule (run log, dry run).", required=True),
    Key("label", "label", "What the rule does, in each language.", required=True),
    Key("entity", "identifier", "The entity whose changes trigger the rule.", required=True),
    Key("trigger", "text", "created, updated, field_changed, stage_changed or deleted.", required=True),
    Key("field", "identifier", "field_changed: the field that must change."),
    Key("to", "scalar", "field_changed: the value it changes to; stage_changed: the stage (or list) moved to."),
    Key("from", "scalar", "stage_changed: the stage (or list) moved from."),
    Key("schedule", "mapping", "schedule: {cron: '0 9 * * 1-5'}, when the rule runs on every record."),
    Key("date", "mapping", "date: {field, offset_days}: once per record when that day comes."),
    Key("inactive", "mapping", "inactive: {days, field}: once per record untouched for that many days."),
    Key("if", "text", "A condition (expression) on the record and the change (old.x, new.x)."),
    Key("enabled", "bool", "false keeps the rule in the file without running it."),
    Key("do", "rules", "The actions, in order: set, create, email, webhook, assign, notify.", required=True),
)
ACTION_KEYS = {
    "set": (Key("set", "mapping", "Fields of the record to set: field -> expression.", required=True),),
    "create": (Key("create", "identifier", "The entity of the record to create.", required=True),
               Key("values", "mapping", "Its fields: field -> expression.", required=True)),
    "email": (Key("email", "mapping", "to, subject, body, lang.", required=True),),
    "webhook": (Key("webhook", "mapping", "url, body.", required=True),),
    "assign": (Key("assign", "mapping", "user, round_robin or least_loaded: who becomes the owner.", required=True),),
    "notify": (Key("notify", "mapping", "fields, users, roles, message: tell users in the app.", required=True),),
}
EMAIL_KEYS = (Key("to", "text", "An expression giving the address, e.g. owner.email.", required=True),
              Key("subject", "label", "The subject template ({{ expression }} placeholders).", required=True),
              Key("body", "label", "The body template ({{ expression }} placeholders).", required=True),
              Key("lang", "text", "The language of the template to send; default the CRM's first."))
WEBHOOK_KEYS = (Key("url", "text", "http(s) URL the JSON is posted to.", required=True),
                Key("body", "mapping", "The JSON body: key -> expression."))
ASSIGN_KEYS = (Key("user", "text", "The login of the user who becomes the owner."),
               Key("round_robin", "mapping", "{role}: the active users of the role in turn."),
               Key("least_loaded", "mapping", "{role, open}: the user of the role owning the fewest open records."))


def parse_automations(node: Any, path: Path, problems: list[Problem], entities: dict[str, EntitySpec],
                      languages: tuple[str, ...], roles: frozenset[str] | set[str] | None = None,
                      ) -> tuple[AutomationSpec, ...]:
    if node is None:
        return ()
    sink = ProblemSink(path, problems)
    values = check_mapping(node, FILE_KEYS, sink, "automations.yaml", 1)
    raw_rules = values.get("rules") or []
    checker = RuleChecker(entities, sink, languages, roles)
    found: list[AutomationSpec] = []
    seen: set[str] = set()
    for index, item in enumerate(raw_rules):
        line = line_of(raw_rules, index, 1)
        rule = _rule(item, line, sink, checker, languages, path)
        if rule is None:
            continue
        if rule.name in seen:
            sink.add("CRM-E064", line, f"automation '{rule.name}' is defined twice", "give each rule its own name")
            continue
        seen.add(rule.name)
        found.append(rule)
    return tuple(found)


def _rule(item: Any, line: int, sink: ProblemSink, checker: RuleChecker, languages: tuple[str, ...],
          path: Path) -> AutomationSpec | None:
    values = check_mapping(item, RULE_KEYS, sink, "automation rule", line)
    if not {"name", "label", "entity", "trigger", "do"} <= set(values):
        return None
    where = f"automation '{values['name']}'"
    check_label(values["label"], sink, item.line_of("label"), where, languages)
    ok = checker.name(values["name"], item.line_of("name"))
    if not checker.entity(values["entity"], item.line_of("entity"), where):
        return None
    entity = values["entity"]
    trigger = checker.trigger(item, values, where)
    condition = values.get("if")
    if condition is not None and not checker.condition(condition, entity, item.line_of("if"), where):
        ok = False
    actions = []
    for index, raw in enumerate(values["do"]):
        action = _action(raw, line_of(values["do"], index, item.line_of("do")), sink, checker, entity, where)
        ok = ok and action is not None
        if action is not None:
            actions.append(action)
    if trigger is None or not ok:
        return None
    return AutomationSpec(
        name=values["name"], label=Text.of(values["label"]), entity=entity, trigger=trigger["trigger"],
        line=line, source=path, field=trigger.get("field"), to_value=trigger.get("to_value"),
        from_stages=trigger.get("from_stages", ()), to_stages=trigger.get("to_stages", ()),
        condition=condition, actions=tuple(actions), enabled=values.get("enabled", True),
        cron=trigger.get("cron"), time_field=trigger.get("time_field"), offset_days=trigger.get("offset_days", 0))


def _action(raw: Any, line: int, sink: ProblemSink, checker: RuleChecker, entity: str,
            where: str) -> ActionSpec | None:
    kind = next((k for k in ACTIONS if isinstance(raw, LocMap) and k in raw), None)
    if kind is None:
        found = ", ".join(str(k) for k in raw) if isinstance(raw, dict) else str(raw)
        sink.add("CRM-E061", line, f"{where}: unknown action '{found}'", f"actions: {', '.join(ACTIONS)}")
        return None
    values = check_mapping(raw, ACTION_KEYS[kind], sink, f"{where} {kind} action", line)
    if len(values) != len(ACTION_KEYS[kind]):
        return None
    if kind == "set":
        pairs = checker.writes(values["set"], entity, raw.line_of("set"), f"{where} set", creating=False)
        return None if pairs is None else ActionSpec("set", line, entity=entity, values=pairs)
    if kind == "create":
        if not checker.entity(values["create"], raw.line_of("create"), f"{where} create"):
            return None
        pairs = checker.writes(values["values"], values["create"], raw.line_of("values"), f"{where} create",
                               creating=True, source=entity)
        return None if pairs is None else ActionSpec("create", line, entity=values["create"], values=pairs)
    if kind == "email":
        mail = check_mapping(values["email"], EMAIL_KEYS, sink, f"{where} email", raw.line_of("email"))
        return checker.email(mail, values["email"], entity, line, where)
    if kind == "notify":
        told = check_notify(checker, values["notify"], entity, raw.line_of("notify"), where)
        return None if told is None else ActionSpec("notify", line, entity=entity, notify=told)
    if kind == "assign":
        who = check_mapping(values["assign"], ASSIGN_KEYS, sink, f"{where} assign", raw.line_of("assign"))
        return checker.assign(who, values["assign"], entity, line, where)
    hook = check_mapping(values["webhook"], WEBHOOK_KEYS, sink, f"{where} webhook", raw.line_of("webhook"))
    return checker.webhook(hook, values["webhook"], entity, line, where)
