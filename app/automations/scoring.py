"""Lead scoring: points per condition and grade bands, declared in automations.yaml and
recomputed by the worker after every create and update (the import too: it writes
through the same commands), written as the automation `<name>` in the history.

    scoring:
      - name: lead_score
        label: {en: Lead score, zh: 线索评分}
        entity: lead
        field: score                    # a number field the total is written to
        grade: grade                    # optional: a choice field for the band
        points:
          - {if: "source = 'web'", points: 10}
          - {if: "not is_empty(mobile)", points: 20}
        grades:                         # the first band whose min the total reaches
          - {grade: A, min: 80}
          - {grade: B, min: 50}
          - {grade: C, min: 0}

The total is kept within the field's min/max. Problems are CRM-E076.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from app.expr import compiled
from app.metadata.definitions import Key
from app.metadata.problems import did_you_mean
from app.metadata.shapes import check_mapping, line_of
from app.metadata.spec import Text
from app.metadata.yamlsource import LocMap

from .adjust import NUMBER_TYPES, clamp
from .section import section_head
from .spec import SAVED, ActionSpec, AutomationSpec

KEYS = (Key("name", "identifier", "Stable key: the automation shown in the history and the run log.", required=True),
        Key("label", "label", "What the scoring is, in each language.", required=True),
        Key("entity", "identifier", "The entity scored.", required=True),
        Key("field", "identifier", "The number field the total is written to.", required=True),
        Key("grade", "identifier", "A choice field the grade band is written to."),
        Key("points", "rules", "{if, points}: points given when the condition holds.", required=True),
        Key("grades", "rules", "{grade, min}: bands, the first reached wins."))
POINT_KEYS = (Key("if", "text", "A condition on the record.", required=True),
              Key("points", "number", "Points given (negative: taken) when it holds.", required=True))
GRADE_KEYS = (Key("grade", "scalar", "A choice of the grade field.", required=True),
              Key("min", "number", "The least total for this grade.", required=True))


@dataclass(frozen=True)
class Scoring:
    field: str
    grade: str | None
    points: tuple[tuple[str, Decimal], ...]  # condition -> points
    grades: tuple[tuple[str, Decimal], ...]  # grade -> min, highest min first


def _bad(checker: Any, line: int, message: str, hint: str = "") -> None:
    checker.sink.add("CRM-E076", line, message, hint)


def parse_scoring(checker: Any, item: Any, line: int, path: Any, languages: tuple[str, ...]) -> AutomationSpec | None:
    head = section_head(checker, item, line, KEYS, "scoring")
    if head is None:
        return None
    values, where, entity = head
    f = entity.field_map.get(values["field"])
    if f is None or f.type not in NUMBER_TYPES or not f.editable:
        _bad(checker, item.line_of("field"), f"{where} field '{values['field']}' is not a writable number field of "
             f"{entity.name}", did_you_mean(str(values["field"]), [g.name for g in entity.fields
                                                                    if g.type in NUMBER_TYPES and g.editable]))
        return None
    grade = values.get("grade")
    g = entity.field_map.get(grade) if grade is not None else None
    if grade is not None and (g is None or g.type != "choice" or not g.editable):
        _bad(checker, item.line_of("grade"), f"{where} grade '{grade}' is not a writable choice field of {entity.name}",
             did_you_mean(str(grade), [x.name for x in entity.fields if x.type == "choice"]))
        return None
    points = _points(checker, values["points"], entity.name, item.line_of("points"), where)
    grades = _grades(checker, values.get("grades") or [], g, item.line_of("grades") if "grades" in item else line,
                     where)
    if points is None or grades is None:
        return None
    if grades and grade is None:
        _bad(checker, item.line_of("grades"), f"{where} has grades but no grade field", "add grade: <choice field>")
        return None
    scoring = Scoring(f.name, grade, points, grades)
    return AutomationSpec(name=values["name"], label=Text.of(values["label"]), entity=entity.name, trigger=SAVED,
                          line=line, source=path, actions=(ActionSpec("score", line, entity=entity.name,
                                                                      detail=scoring),))


def _points(checker: Any, raw: list[Any], entity: str, line: int, where: str) -> tuple[Any, ...] | None:
    found = []
    for index, item in enumerate(raw):
        at = line_of(raw, index, line)
        values = check_mapping(item, POINT_KEYS, checker.sink, f"{where} points", at)
        if len(values) != 2:
            return None
        if not checker.condition(values["if"], entity, item.line_of("if"), f"{where} points"):
            return None
        found.append((str(values["if"]), Decimal(str(values["points"]))))
    if not found:
        _bad(checker, line, f"{where} gives no points", "points: [{if: \"source = 'web'\", points: 10}]")
        return None
    return tuple(found)


def _grades(checker: Any, raw: list[Any], g: Any, line: int, where: str) -> tuple[Any, ...] | None:
    found = []
    for index, item in enumerate(raw):
        at = line_of(raw, index, line)
        values = check_mapping(item, GRADE_KEYS, checker.sink, f"{where} grades", at)
        if len(values) != 2:
            return None
        if g is not None and str(values["grade"]) not in {c.value for c in g.choices}:
            _bad(checker, item.line_of("grade") if isinstance(item, LocMap) else at,
                 f"{where}: grade '{values['grade']}' is not a choice of {g.name}",
                 did_you_mean(str(values["grade"]), [c.value for c in g.choices]))
            return None
        found.append((str(values["grade"]), Decimal(str(values["min"]))))
    return tuple(sorted(found, key=lambda pair: pair[1], reverse=True))


def score(scoring: Scoring, entity: Any, state: dict[str, Any], timezone: str) -> tuple[Any, str | None]:
    """(total within the field's bounds, grade) for the record as `state` shows it."""
    total = sum((pts for text, pts in scoring.points
                 if compiled(text)(state, timezone) is True), Decimal(0))
    total = clamp(entity.field(scoring.field), total)
    grade = next((name for name, least in scoring.grades if Decimal(str(total)) >= least), None)
    return total, grade


def plan_score(entity: Any, action: ActionSpec, state: dict[str, Any], timezone: str) -> dict[str, Any]:
    """A set of the total and grade where they differ from the record's (none: nothing to write)."""
    scoring: Scoring = action.detail  # type: ignore[assignment]
    total, grade = score(scoring, entity, state, timezone)
    values: dict[str, Any] = {}
    current = state.get(scoring.field)
    if current is None or Decimal(str(current)) != Decimal(str(total)):
        values[scoring.field] = total
    if scoring.grade is not None and state.get(scoring.grade) != grade:
        values[scoring.grade] = grade
    return {"action": "set", "via": "score", "entity": entity.name, "values": values}
