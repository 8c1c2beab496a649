"""The sales and service settings of automations.yaml, beside `rules:`: lead scoring,
SLA timers (with the business calendar), territories and the lead pool. Each becomes
ordinary rules (run, logged and dry-run like the rest); see scoring.py, sla.py,
territory.py and pool.py for the keys, and docs/metadata.md."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.metadata.definitions import Key
from app.metadata.shapes import line_of

from .pool import parse_pool
from .scoring import parse_scoring
from .sla import parse_calendar, parse_sla
from .spec import AutomationSpec
from .territory import Territory, parse_territory

SALES_KEYS = (
    Key("scoring", "rules", "Lead scoring: points per condition and grade bands (scoring.py)."),
    Key("sla", "rules", "SLA timers: a due time from the priority, warned and escalated (sla.py)."),
    Key("calendar", "mapping", "The business calendar SLA hours are counted in: hours, weekdays, holidays."),
    Key("territories", "rules", "Owners by a field's value, for assign: {territory: <name>}."),
    Key("pool", "rules", "The lead pool (公海): recycling after N days, claims with a daily limit."),
)


def parse_territories(values: dict[str, Any], checker: Any) -> dict[str, Territory]:
    found: dict[str, Territory] = {}
    raw = values.get("territories") or []
    checker.territory_names = {item.get("name") for item in raw if isinstance(item, dict)}  # broken ones too
    for index, item in enumerate(raw):
        territory = parse_territory(checker, item, line_of(raw, index, 1))
        if territory is not None:
            found[territory.name] = territory
    return found


def parse_sales(values: dict[str, Any], checker: Any, path: Path,
                parse_action: Callable[..., Any]) -> list[AutomationSpec]:
    """The rules scoring, SLA and the pool make (each checked; a bad one is left out, with its problem)."""
    made: list[AutomationSpec] = []
    for index, item in enumerate(values.get("scoring") or []):
        rule = parse_scoring(checker, item, line_of(values["scoring"], index, 1), path, checker.languages)
        made.extend([rule] if rule is not None else [])
    calendar = parse_calendar(checker, values.get("calendar"))
    for index, item in enumerate(values.get("sla") or []):
        made.extend(parse_sla(checker, item, line_of(values["sla"], index, 1), path, calendar, parse_action))
    for index, item in enumerate(values.get("pool") or []):
        rule = parse_pool(checker, item, line_of(values["pool"], index, 1), path)
        made.extend([rule] if rule is not None else [])
    return made
