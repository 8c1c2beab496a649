"""Check what automation rules refer to: entities, triggers, stages, fields, expressions.

Codes: CRM-E057 unknown entity or trigger; CRM-E058 unknown field; CRM-E059 unknown
stage or choice value; CRM-E060 a condition that is not true/false; CRM-E061 unknown
action, or a write to a field that cannot take it (read-only, computed, wrong type);
CRM-E062 bad e-mail (recipient, template, language); CRM-E063 bad webhook; CRM-E064 a
rule defined twice; CRM-E065 a bad assign action (no way given, unknown role, an
`open` that is not a condition); CRM-E066 a cron that does not parse; CRM-E067 a date or
inactive trigger on a field that is not a date, or without a whole number of days). An expression's own errors keep CRM-E031 (syntax), E032 (unknown
field), E033 (type mismatch).
"""

from __future__ import annotations

import re
from typing import Any

from app.expr import BOOL, DATE, DATETIME, FIELD_TYPE_MAP, NULL, TEXT, ExprError, check, parse
from app.metadata.problems import ProblemSink, did_you_mean
from app.metadata.shapes import check_identifier, type_name
from app.metadata.spec import EntitySpec, Text
from app.metadata.yamlsource import LocMap

from .cron import CronError, parse_cron
from .scope import automation_scope
from .spec import ASSIGN_MODES, TIME_TRIGGERS, TRIGGERS, ActionSpec

PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}", re.S)
TIME_EXAMPLES = {"schedule": "schedule: {cron: '0 9 * * 1-5'}", "date": "date: {field: close_date, offset_days: -30}",
                 "inactive": "inactive: {days: 7, field: changed_on}"}
CREATE_EXTRA = ("owner",)  # a created record may name its owner (a task for the deal's owner)


def fits(got: str, wanted: str) -> bool:
    return got == NULL or got == wanted or {got, wanted} == {DATE, DATETIME}


class RuleChecker:
    def __init__(self, entities: dict[str, EntitySpec], sink: ProblemSink, languages: tuple[str, ...],
                 roles: frozenset[str] | set[str] | None = None):
        self.entities = entities
        self.sink = sink
        self.languages = languages
        self.roles = roles  # None: not known here (roles are checked when the app starts)

    def name(self, value: Any, line: int) -> bool:
        return check_identifier(value, self.sink, line, "automation name")

    def entity(self, name: Any, line: int, where: str) -> bool:
        if name in self.entities:
            return True
        self.sink.add("CRM-E057", line, f"{where} names unknown entity '{name}'",
                      did_you_mean(str(name), self.entities) or f"entities: {', '.join(self.entities)}")
        return False

    def expression(self, text: Any, entity: str, line: int, where: str) -> str | None:
        """The type of `text` on `entity` (with old./new.), or None after reporting why not."""
        if not isinstance(text, str | int | float) or isinstance(text, bool) or str(text).strip() == "":
            self.sink.add("CRM-E003", line, f"{where} must be an expression (text), got {type_name(text)}")
            return None
        try:
            return check(parse(str(text)), automation_scope(self.entities, entity))
        except ExprError as exc:
            hint = exc.hint
            if exc.code == "CRM-E032" and not hint and "'" in exc.message:
                hint = did_you_mean(exc.message.split("'")[1].split(".")[-1], self.entities[entity].field_map)
            self.sink.add(exc.code, line, f"{where} column {exc.pos}: {exc.message}", hint)
            return None

    def condition(self, text: Any, entity: str, line: int, where: str) -> bool:
        got = self.expression(text, entity, line, f"{where} if")
        if got is None:
            return False
        if got not in (BOOL, NULL):
            self.sink.add("CRM-E060", line, f"{where} if is a {got}, not a condition",
                          "compare it: new.stage = 'won', amount > 100000, is_empty(old.owner)")
            return False
        return True

    def trigger(self, item: LocMap, values: dict[str, Any], where: str) -> dict[str, Any] | None:
        trigger = values["trigger"]
        spec = self.entities[values["entity"]]
        if trigger not in TRIGGERS:
            self.sink.add("CRM-E057", item.line_of("trigger"), f"{where} has unknown trigger '{trigger}'",
                          did_you_mean(str(trigger), TRIGGERS) or f"triggers: {', '.join(TRIGGERS)}")
            return None
        result: dict[str, Any] = {"trigger": trigger}
        if trigger == "field_changed":
            name = values.get("field")
            f = spec.field_map.get(name) if isinstance(name, str) else None
            if f is None:
                self.sink.add("CRM-E058", item.line_of("field") if "field" in item else item.line_of("trigger"),
                              f"{where}: field_changed names {'no field' if name is None else repr(name)}"
                              f" of {spec.name}", did_you_mean(str(name), spec.field_map) or "add field: <name>")
                return None
            result["field"] = name
            if "to" in values:
                if f.choices and str(values["to"]) not in {c.value for c in f.choices}:
                    self.sink.add("CRM-E059", item.line_of("to"), f"{where}: '{values['to']}' is not a choice of "
                                  f"{name}", did_you_mean(str(values["to"]), [c.value for c in f.choices]))
                    return None
                result["to_value"] = values["to"]
        elif trigger == "stage_changed":
            if not spec.pipelines:
                self.sink.add("CRM-E059", item.line_of("trigger"), f"{where}: {spec.name} has no pipeline")
                return None
            stages = {s.name for p in spec.pipelines for s in p.stages}
            for key in ("from", "to"):
                names = values.get(key)
                names = [] if names is None else names if isinstance(names, list) else [names]
                for stage in names:
                    if stage not in stages:
                        self.sink.add("CRM-E059", item.line_of(key), f"{where}: {key} names unknown stage '{stage}'",
                                      did_you_mean(str(stage), stages) or f"stages: {', '.join(sorted(stages))}")
                        return None
                result[f"{key}_stages"] = tuple(str(s) for s in names)
        elif trigger in TIME_TRIGGERS:
            return self.time_trigger(item, values, where, result)
        else:
            for key in ("field", "from", "to"):
                if key in item:
                    self.sink.add("CRM-E057", item.line_of(key), f"{where}: '{key}' does not go with trigger "
                                  f"{trigger}", "field and to go with field_changed; from and to with stage_changed")
                    return None
        for key in TIME_TRIGGERS:
            if key in item and key != trigger:
                self.sink.add("CRM-E057", item.line_of(key), f"{where}: '{key}' does not go with trigger {trigger}",
                              f"write trigger: {key}")
                return None
        return result

    def time_trigger(self, item: LocMap, values: dict[str, Any], where: str,
                     result: dict[str, Any]) -> dict[str, Any] | None:
        """schedule {cron} (CRM-E066); date {field, offset_days}, inactive {days, field} (CRM-E067)."""
        trigger, spec = values["trigger"], self.entities[values["entity"]]
        for key in ("field", "from", "to", *(k for k in TIME_TRIGGERS if k != trigger)):
            if key in item:
                self.sink.add("CRM-E057", item.line_of(key), f"{where}: '{key}' does not go with trigger {trigger}")
                return None
        details = values.get(trigger)
        at = item.line_of(trigger) if trigger in item else item.line_of("trigger")
        if not isinstance(details, dict):
            self.sink.add("CRM-E007", at, f"{where}: trigger {trigger} needs '{trigger}:'", TIME_EXAMPLES[trigger])
            return None
        line = details.line_of if isinstance(details, LocMap) else (lambda key: at)
        allowed = {"schedule": ("cron",), "date": ("field", "offset_days"), "inactive": ("days", "field")}[trigger]
        for key in details:
            if key not in allowed:
                self.sink.add("CRM-E002", line(key), f"unknown key '{key}' in {where} {trigger}",
                              f"keys: {', '.join(allowed)}")
                return None
        if trigger == "schedule":
            try:
                result["cron"] = parse_cron(details.get("cron", "")).text
            except CronError as exc:
                self.sink.add("CRM-E066", line("cron") if "cron" in details else at, f"{where} schedule cron {exc}",
                              "e.g. '0 9 * * 1-5' (09:00 on weekdays)")
                return None
            return result
        default = "changed_on" if trigger == "inactive" else None
        name = details.get("field", default)
        f = spec.field_map.get(name) if isinstance(name, str) else None
        wanted = ("date", "datetime")
        if f is None or f.type not in wanted:
            what = "names no field" if name is None else (f"names unknown field '{name}'" if f is None
                                                         else f"field '{name}' is a {f.type}, not a date")
            self.sink.add("CRM-E067", line("field") if "field" in details else at, f"{where} {trigger} {what} of "
                          f"{spec.name}", did_you_mean(str(name), [g.name for g in spec.fields if g.type in wanted])
                          or TIME_EXAMPLES[trigger])
            return None
        number_key = "offset_days" if trigger == "date" else "days"
        number = details.get(number_key, 0 if trigger == "date" else None)
        if not isinstance(number, int) or isinstance(number, bool) or (trigger == "inactive" and number < 1):
            self.sink.add("CRM-E067", line(number_key) if number_key in details else at,
                          f"{where} {trigger} {number_key} must be a whole number"
                          f"{' of at least 1' if trigger == 'inactive' else ''}, got {number!r}", TIME_EXAMPLES[trigger])
            return None
        result.update(time_field=name, offset_days=number)
        return result

    def writes(self, node: Any, entity: str, line: int, where: str, creating: bool,
               source: str | None = None) -> tuple[tuple[str, str], ...] | None:
        """field -> expression pairs a set/create writes: each field writable, each value of its type.
        Expressions read the triggering record (`source`), whatever entity is written."""
        spec = self.entities[entity]
        ok, pairs = True, []
        for name, text in node.items():
            at = node.line_of(name) if isinstance(node, LocMap) else line
            f = spec.field_map.get(name)
            if f is None:
                self.sink.add("CRM-E058", at, f"{where} names unknown field '{name}' of {entity}",
                              did_you_mean(str(name), spec.field_map))
                ok = False
                continue
            if not (f.editable or (creating and name in CREATE_EXTRA)) or f.type == "links":
                self.sink.add("CRM-E061", at, f"{where} cannot write {entity}.{name}",
                              "system, read-only, computed and links fields are not written by automations")
                ok = False
                continue
            got = self.expression(text, source or entity, at, f"{where} {name}")
            wanted = FIELD_TYPE_MAP.get(f.type, TEXT)
            if got is None:
                ok = False
            elif not fits(got, wanted):
                self.sink.add("CRM-E061", at, f"{where} writes a {got} to {entity}.{name}, a {f.type} field",
                              f"give a {wanted} expression")
                ok = False
            elif f.choices and isinstance(text, str) and _literal(text) is not None \
                    and _literal(text) not in {c.value for c in f.choices}:
                self.sink.add("CRM-E059", at, f"{where}: {_literal(text)!r} is not a choice of {entity}.{name}",
                              did_you_mean(str(_literal(text)), [c.value for c in f.choices]))
                ok = False
            else:
                pairs.append((str(name), str(text)))
        return tuple(pairs) if ok else None

    def template(self, value: Any, entity: str, line: int, where: str) -> bool:
        texts = value.values() if isinstance(value, dict) else [value]
        ok = True
        for text in texts:
            for match in PLACEHOLDER.finditer(str(text)):
                if self.expression(match.group(1).strip(), entity, line, f"{where} {{{{{match.group(1).strip()}}}}}") \
                        is None:
                    ok = False
        return ok

    def email(self, values: dict[str, Any], node: Any, entity: str, line: int, where: str) -> ActionSpec | None:
        if not {"to", "subject", "body"} <= set(values):
            return None
        at = node.line_of if isinstance(node, LocMap) else (lambda key: line)
        ok = True
        got = self.expression(values["to"], entity, at("to"), f"{where} email to")
        if got is not None and got not in (TEXT, NULL):
            self.sink.add("CRM-E062", at("to"), f"{where} email to is a {got}, not an address",
                          "e.g. owner.email, or email for the record's own e-mail field")
            ok = False
        ok = got is not None and ok
        for key in ("subject", "body"):
            ok = self.template(values[key], entity, at(key), f"{where} email {key}") and ok
        lang = values.get("lang")
        if lang is not None and lang not in self.languages:
            self.sink.add("CRM-E062", at("lang"), f"{where} email lang '{lang}' is not a language of crm.yaml",
                          f"languages: {', '.join(self.languages)}")
            ok = False
        if not ok:
            return None
        return ActionSpec("email", line, to=str(values["to"]), subject=Text.of(values["subject"]),
                          body=Text.of(values["body"]), lang=lang)

    def webhook(self, values: dict[str, Any], node: Any, entity: str, line: int, where: str) -> ActionSpec | None:
        if "url" not in values:
            return None
        at = node.line_of if isinstance(node, LocMap) else (lambda key: line)
        url = str(values["url"])
        ok = True
        if not re.match(r"^https?://[^\s/]+", url):
            self.sink.add("CRM-E063", at("url"), f"{where} webhook url '{url}' is not an http(s) URL",
                          "e.g. https://erp.example.com/hooks/crm")
            ok = False
        body = values.get("body") or {}
        pairs = []
        for key, text in body.items():
            line_key = body.line_of(key) if isinstance(body, LocMap) else at("body")
            if self.expression(text, entity, line_key, f"{where} webhook body {key}") is None:
                ok = False
            else:
                pairs.append((str(key), str(text)))
        return ActionSpec("webhook", line, url=url, values=tuple(pairs)) if ok else None

    def assign(self, values: dict[str, Any], node: Any, entity: str, line: int, where: str) -> ActionSpec | None:
        return check_assign(self, values, node, entity, line, where)


def _literal(text: str) -> str | None:
    """The text of a quoted literal ('task'), or None for any other expression."""
    match = re.fullmatch(r"\s*'([^']*)'\s*", text)
    return match.group(1) if match else None


def _at(node: Any, line: int) -> Any:
    return node.line_of if isinstance(node, LocMap) else (lambda key: line)


def check_assign(checker: RuleChecker, values: dict[str, Any], node: Any, entity: str, line: int,
                 where: str) -> ActionSpec | None:
    """assign: exactly one of user / round_robin {role} / least_loaded {role, open}."""
    at = _at(node, line)
    modes = [m for m in ASSIGN_MODES if m in values]
    if len(modes) != 1:
        checker.sink.add("CRM-E065", line, f"{where} assign needs exactly one of {', '.join(ASSIGN_MODES)}"
                         f"{', got ' + ', '.join(modes) if modes else ''}",
                         "assign: {user: wangfang} or {round_robin: {role: Sales Rep}}")
        return None
    mode = modes[0]
    if mode == "territory":
        return territory_assign(checker, values["territory"], at("territory"), entity, line, where)
    if mode == "user":
        login = str(values["user"]).strip()
        if not login:
            checker.sink.add("CRM-E065", at("user"), f"{where} assign user is empty", "give a login, e.g. wangfang")
            return None
        return ActionSpec("assign", line, entity=entity, mode="user", target=login)
    inner, inner_at = values[mode], _at(values[mode], at(mode))
    role = inner.get("role")
    unknown = [k for k in inner if k not in ("role", "open") or (k == "open" and mode == "round_robin")]
    if unknown:
        checker.sink.add("CRM-E065", inner_at(unknown[0]), f"{where} assign {mode} has unknown key '{unknown[0]}'",
                         "round_robin takes role; least_loaded takes role and open")
        return None
    if not isinstance(role, str) or not role.strip():
        checker.sink.add("CRM-E065", at(mode), f"{where} assign {mode} names no role",
                         f"{mode}: {{role: Sales Rep}}")
        return None
    if checker.roles is not None and role not in checker.roles:
        checker.sink.add("CRM-E065", inner_at("role"), f"{where} assign {mode} names unknown role '{role}'",
                         did_you_mean(role, checker.roles) or f"roles: {', '.join(sorted(checker.roles))}")
        return None
    open_text = inner.get("open")
    if open_text is not None:
        got = checker.expression(open_text, entity, inner_at("open"), f"{where} assign least_loaded open")
        if got is None:
            return None
        if got not in (BOOL, NULL):
            checker.sink.add("CRM-E065", inner_at("open"), f"{where} assign least_loaded open is a {got}, "
                             "not a condition", "e.g. status != 'closed'")
            return None
    return ActionSpec("assign", line, entity=entity, mode=mode, target=role,
                      open=None if open_text is None else str(open_text))


def territory_assign(checker: RuleChecker, name: Any, at: int, entity: str, line: int, where: str) -> ActionSpec | None:
    """assign: {territory: <name>}: a territory of automations.yaml for this entity (CRM-E078)."""
    known = {t.name: t for t in getattr(checker, "territories", {}).values() if t.entity == entity}
    if name not in known and name in getattr(checker, "territory_names", ()):
        return None  # declared, but broken: its own problem says why
    if name not in known:
        checker.sink.add("CRM-E078", at, f"{where} assign names unknown territory '{name}' of {entity}",
                         did_you_mean(str(name), known) or "declare it under territories: in automations.yaml")
        return None
    return ActionSpec("assign", line, entity=entity, mode="territory", target=str(name), detail=known[name])
