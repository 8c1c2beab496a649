"""docs/schema/automations.schema.json accepts the starter's and the documented automations
and rejects what the checker would also refuse (unknown trigger, action, key)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml  # type: ignore[import-untyped]
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((ROOT / "docs" / "schema" / "automations.schema.json").read_text(encoding="utf-8"))
VALIDATOR = Draft202012Validator(SCHEMA)


def documented() -> list[dict]:
    text = (ROOT / "docs" / "metadata.md").read_text(encoding="utf-8")
    return [yaml.safe_load(block) for block in re.findall(r"```yaml\n(# metadata/automations\.yaml\n.*?)```", text, re.S)]


def test_schema_is_valid_draft_2020_12() -> None:
    Draft202012Validator.check_schema(SCHEMA)


def test_schema_accepts_the_starter_and_the_documented_example() -> None:
    starter = yaml.safe_load((ROOT / "metadata" / "automations.yaml").read_text(encoding="utf-8"))
    assert list(VALIDATOR.iter_errors(starter)) == []
    example = documented()[0]
    assert list(VALIDATOR.iter_errors(example)) == []


RULE = {"name": "r", "label": {"en": "R", "zh": "规则"}, "entity": "deal", "trigger": "created",
        "do": [{"set": {"notes": "'x'"}}]}


@pytest.mark.parametrize("change", [
    {"trigger": "changed"},
    {"do": [{"sms": {"to": "owner"}}]},
    {"do": [{"webhook": {"url": "ftp://x"}}]},
    {"do": [{"email": {"to": "owner.email", "subject": "s"}}]},
    {"trigger": "field_changed"},  # without field
    {"trigger": "created", "from": "open"},
    {"colour": "red"},
    {"label": {"fr": "Règle"}},
    {"trigger": "schedule"},  # without schedule
    {"trigger": "schedule", "schedule": {"cron": "0 9 * *"}},
    {"trigger": "inactive", "inactive": {"days": 0}},
    {"trigger": "created", "date": {"field": "close_date"}},
    {"do": [{"assign": {"user": "li", "round_robin": {"role": "Sales Rep"}}}]},
    {"do": [{"assign": {"round_robin": {"role": "Sales Rep", "open": "x"}}}]},
])
def test_schema_rejects_bad_rules(change: dict) -> None:
    assert list(VALIDATOR.iter_errors({"rules": [{**RULE, **change}]})), change


@pytest.mark.parametrize("change", [
    {"trigger": "schedule", "schedule": {"cron": "0 9 * * 1-5"}},
    {"trigger": "date", "date": {"field": "close_date", "offset_days": -30}},
    {"trigger": "inactive", "inactive": {"days": 7, "field": "changed_on"}},
    {"do": [{"assign": {"least_loaded": {"role": "Sales Rep", "open": "stage != 'won'"}}}]},
])
def test_schema_accepts_time_triggers_and_assign(change: dict) -> None:
    assert list(VALIDATOR.iter_errors({"rules": [{**RULE, **change}]})) == [], change
