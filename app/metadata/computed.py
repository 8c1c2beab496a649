"""Check formula, lookup and rollup fields once every entity is known, and type them.

Each computed field is parsed (CRM-E031), its references resolved (CRM-E032),
its types checked (CRM-E033) and ordered after the computed fields it reads; a
cycle, or a lookup/rollup whose link does not fit, is CRM-E034. The result gives
each computed field the type of its value (money, string…), so lists, filters,
charts and exports treat it like any field of that type.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from app.expr import FIELD_TYPE_MAP, ExprError, check, fields_of, parse
from app.expr.nodes import Node

from .problems import Problem, ProblemSink, did_you_mean
from .spec import EntitySpec, FieldSpec

Key = tuple[str, str]
RETURNS_OF = {"number": "decimal", "text": "string", "bool": "boolean", "date": "date", "datetime": "datetime",
              "null": "string"}
USER_FIELDS = {"username": "text", "first_name": "text", "last_name": "text"}
NUMERIC = ("integer", "decimal", "money", "percent")


def scope_of(entities: dict[str, EntitySpec], entity: str) -> Callable[[tuple[str, ...]], str | None]:
    """Expression types of `entity`'s fields and of its links' fields (one link deep)."""

    def resolve(path: tuple[str, ...]) -> str | None:
        spec = entities[entity]
        field = spec.field_map.get(path[0])
        if field is None or field.type in ("links", "formula", "lookup", "rollup"):
            return None
        if len(path) == 1:
            return FIELD_TYPE_MAP.get(field.type)
        if len(path) != 2:
            return None
        if field.type == "user":
            return USER_FIELDS.get(path[1])
        if field.type != "link" or field.target not in entities:
            return None
        leaf = entities[field.target].field_map.get(path[1])
        if leaf is None or leaf.type in ("links", "formula", "lookup", "rollup"):
            return None
        return FIELD_TYPE_MAP.get(leaf.type)

    return resolve


class ComputedChecker:
    def __init__(self, entities: dict[str, EntitySpec], problems: list[Problem]):
        self.entities = dict(entities)
        self.problems = problems
        self.trees: dict[Key, list[tuple[Node, str]]] = {}
        self.failed: set[Key] = set()

    def sink(self, entity: str) -> ProblemSink:
        return ProblemSink(self.entities[entity].source, self.problems)

    def run(self) -> tuple[dict[str, EntitySpec], tuple[Key, ...]]:
        deps = {key: self.dependencies(key) for key in self.computed_keys()}
        order = self.order(deps)
        for key in order:
            if deps[key] & self.failed:
                self.failed.add(key)  # what it reads is already reported
            elif key not in self.failed:
                self.resolve(key)
        return self.entities, tuple(k for k in order if k not in self.failed)

    def computed_keys(self) -> list[Key]:
        return [(e.name, f.name) for e in self.entities.values() for f in e.fields if f.is_computed]

    def field(self, key: Key) -> FieldSpec:
        return self.entities[key[0]].field(key[1])

    def fail(self, key: Key, code: str, line: int, message: str, hint: str = "") -> None:
        self.failed.add(key)
        self.sink(key[0]).add(code, line, f"field '{key[1]}': {message}", hint)

    def parse(self, key: Key, text: str, option: str) -> Node | None:
        field = self.field(key)
        assert field.computed is not None
        try:
            return parse(str(text))
        except ExprError as exc:
            self.fail(key, exc.code, field.computed.line_of(option, field.line),
                      f"{option} column {exc.pos}: {exc.message}", exc.hint)
            return None

    def dependencies(self, key: Key) -> set[Key]:
        """Computed fields this one reads; unknown names are reported later, when typed."""
        field = self.field(key)
        computed = field.computed
        assert computed is not None
        refs: list[Key] = []
        if computed.kind == "formula":
            tree = self.parse(key, computed.expression or "", "expression")
            if tree is None:
                return set()
            self.trees[key] = [(tree, "expression")]
            refs = [self.reference(key[0], f.path) for f in fields_of(tree)]
        elif computed.kind == "lookup":
            link, _, leaf = str(computed.path).partition(".")
            refs = [self.reference(key[0], (link, leaf))]
        elif computed.to in self.entities:
            child = computed.to
            refs = [(child, computed.of)] if computed.of else []
            if computed.where:
                tree = self.parse(key, computed.where, "where")
                if tree is None:
                    return set()
                self.trees[key] = [(tree, "where")]
                refs += [self.reference(child, f.path) for f in fields_of(tree)]
        return {ref for ref in refs if ref[0] in self.entities
                and ref[1] in self.entities[ref[0]].field_map and self.field(ref).is_computed}

    def reference(self, entity: str, path: tuple[str, ...]) -> Key:
        field = self.entities[entity].field_map.get(path[0])
        if len(path) == 2 and field is not None and field.type == "link" and field.to:
            return (field.to, path[1])
        return (entity, path[0])

    def order(self, deps: dict[Key, set[Key]]) -> list[Key]:
        order: list[Key] = []
        state: dict[Key, str] = {}

        def visit(key: Key, trail: list[Key]) -> None:
            if state.get(key) == "done":
                return
            if state.get(key) == "open":
                cycle = trail[trail.index(key):] + [key]
                names = " → ".join(f"{e}.{f}" for e, f in cycle)
                for member in dict.fromkeys(cycle):
                    if member not in self.failed:
                        self.fail(member, "CRM-E034", self.field(member).line, f"computed fields depend on each "
                                  f"other: {names}", "break the cycle: one of them must use plain fields only")
                return
            state[key] = "open"
            for dep in sorted(deps.get(key, ())):
                visit(dep, [*trail, key])
            state[key] = "done"
            order.append(key)

        for key in deps:
            visit(key, [])
        return order

    def resolve(self, key: Key) -> None:
        field = self.field(key)
        assert field.computed is not None
        kind = field.computed.kind
        typed = {"formula": self.formula, "lookup": self.lookup, "rollup": self.rollup}[kind](key, field)
        if typed is None:
            self.failed.add(key)
            return
        entity = self.entities[key[0]]
        fields = tuple(typed if f.name == key[1] else f for f in entity.fields)
        self.entities[key[0]] = dataclasses.replace(entity, fields=fields)

    def typed(self, key: Key, tree: Node, option: str, entity: str) -> str | None:
        field = self.field(key)
        assert field.computed is not None
        try:
            return check(tree, scope_of(self.entities, entity))
        except ExprError as exc:
            hint = exc.hint
            if exc.code == "CRM-E032" and not hint:
                word = exc.message.split("'")[1] if "'" in exc.message else ""
                hint = did_you_mean(word, [f.name for f in self.entities[entity].fields])
            self.fail(key, exc.code, field.computed.line_of(option, field.line),
                      f"{option} column {exc.pos}: {exc.message}", hint)
            return None

    def formula(self, key: Key, field: FieldSpec) -> FieldSpec | None:
        assert field.computed is not None
        tree, option = self.trees[key][0]
        result = self.typed(key, tree, option, key[0])
        if result is None:
            return None
        returns = field.computed.returns or RETURNS_OF[result]
        if result != "null" and FIELD_TYPE_MAP[returns] != result:
            self.fail(key, "CRM-E033", field.computed.line_of("returns", field.line),
                      f"the expression gives {result}, not {returns}",
                      f"returns: {RETURNS_OF[result]}, or change the expression")
            return None
        scale = field.scale if returns in ("decimal", "money") or field.scale != 2 else 2
        return dataclasses.replace(field, type=returns, scale=scale)

    def lookup(self, key: Key, field: FieldSpec) -> FieldSpec | None:
        assert field.computed is not None
        line = field.computed.line_of("path", field.line)
        link_name, _, leaf_name = str(field.computed.path).partition(".")
        entity = self.entities[key[0]]
        link = entity.field_map.get(link_name)
        if link is None:
            self.fail(key, "CRM-E032", line, f"lookup path names unknown field '{link_name}'",
                      did_you_mean(link_name, entity.field_map))
            return None
        if link.type != "link" or link.to not in self.entities:
            self.fail(key, "CRM-E034", line, f"lookup path starts with '{link_name}', which is not a link field")
            return None
        target = self.entities[link.target]
        leaf = target.field_map.get(leaf_name)
        if leaf is None:
            self.fail(key, "CRM-E032", line, f"'{link.to}' has no field '{leaf_name}'",
                      did_you_mean(leaf_name, target.field_map))
            return None
        if leaf.type in ("link", "links", "user", "multichoice"):
            self.fail(key, "CRM-E034", line, f"a lookup cannot show the {leaf.type} field '{leaf_name}'",
                      "look up a plain field (text, number, date, choice)")
            return None
        return dataclasses.replace(field, type=leaf.type, choices=leaf.choices, scale=leaf.scale,
                                   max_length=leaf.max_length)

    def rollup(self, key: Key, field: FieldSpec) -> FieldSpec | None:
        computed = field.computed
        assert computed is not None
        child = self.entities.get(str(computed.to))
        if child is None:
            self.fail(key, "CRM-E032", computed.line_of("to", field.line), f"rollup of unknown entity '{computed.to}'",
                      did_you_mean(str(computed.to), self.entities))
            return None
        via = child.field_map.get(str(computed.via))
        if via is None or via.type != "link" or via.to != key[0]:
            self.fail(key, "CRM-E034", computed.line_of("via", field.line),
                      f"'{child.name}.{computed.via}' is not a link from {child.name} to {key[0]}",
                      did_you_mean(str(computed.via), [f.name for f in child.fields
                                                       if f.type == "link" and f.to == key[0]]))
            return None
        if key in self.trees and self.typed(key, self.trees[key][0][0], "where", child.name) not in ("bool", "null"):
            if key not in self.failed:
                self.fail(key, "CRM-E033", computed.line_of("where", field.line), "where must be a condition")
            return None
        if computed.function == "count":
            return dataclasses.replace(field, type="integer")
        of = child.field_map.get(str(computed.of))
        if of is None:
            self.fail(key, "CRM-E032", computed.line_of("of", field.line), f"'{child.name}' has no field "
                      f"'{computed.of}'", did_you_mean(str(computed.of), child.field_map))
            return None
        allowed = NUMERIC if computed.function in ("sum", "avg") else (*NUMERIC, "date", "datetime")
        if of.type not in allowed:
            self.fail(key, "CRM-E033", computed.line_of("of", field.line),
                      f"cannot {computed.function} the {of.type} field '{child.name}.{of.name}'",
                      f"{computed.function} takes {', '.join(allowed)} fields")
            return None
        result = "decimal" if computed.function == "avg" and of.type in ("integer", "percent") else of.type
        return dataclasses.replace(field, type=result, scale=of.scale)


def check_computed(entities: dict[str, EntitySpec],
                   problems: list[Problem]) -> tuple[dict[str, EntitySpec], tuple[Key, ...]]:
    """Typed entities and the order to build computed fields in (each after what it reads)."""
    return ComputedChecker(entities, problems).run()
