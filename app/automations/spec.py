"""Automation rules as loaded from metadata/automations.yaml (checked; see loader.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.metadata.spec import Text

CHANGE_TRIGGERS = ("created", "updated", "field_changed", "stage_changed", "deleted")
TIME_TRIGGERS = ("schedule", "date", "inactive")  # run by `flask crm automations tick`
TRIGGERS = CHANGE_TRIGGERS + TIME_TRIGGERS
ACTIONS = ("set", "create", "email", "webhook", "assign", "notify")
ASSIGN_MODES = ("user", "round_robin", "least_loaded")


@dataclass(frozen=True)
class ActionSpec:
    """One thing a rule does. Values are expressions of app/expr, on the record and the change."""

    kind: str  # set | create | email | webhook | assign
    line: int = 0
    entity: str | None = None  # create: the entity of the new record
    values: tuple[tuple[str, str], ...] = ()  # set/create: field -> expression; webhook: key -> expression
    to: str | None = None  # email: an expression giving the address
    subject: Text = Text(())  # email: zh/en templates with {{ expression }} placeholders
    body: Text = Text(())
    lang: str | None = None  # email: the template's language (default: the CRM's first)
    url: str | None = None  # webhook
    mode: str | None = None  # assign: user | round_robin | least_loaded
    target: str | None = None  # assign: the login (user) or the role (round_robin, least_loaded)
    open: str | None = None  # assign least_loaded: which records count as open (a condition)
    notify: Any = None  # notify: a NotifySpec (notify.py): who is told what


@dataclass(frozen=True)
class AutomationSpec:
    name: str
    label: Text
    entity: str
    trigger: str
    line: int = 0
    source: Path = field(default=Path("."), compare=False)
    field: str | None = None  # field_changed: the field
    to_value: object = None  # field_changed: the value it must change to (None: any change)
    from_stages: tuple[str, ...] = ()  # stage_changed: from one of these (empty: any)
    to_stages: tuple[str, ...] = ()  # stage_changed: to one of these (empty: any)
    condition: str | None = None  # an expression; the rule fires when it is true
    actions: tuple[ActionSpec, ...] = ()
    enabled: bool = True
    cron: str | None = None  # schedule: the five cron fields
    time_field: str | None = None  # date: the date field; inactive: the datetime field (changed_on)
    offset_days: int = 0  # date: days after (negative: before) the field's date; inactive: the days
