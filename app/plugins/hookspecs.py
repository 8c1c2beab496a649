"""Every plugin contract in one place, grouped by phase.

Hook names follow the one lifecycle vocabulary used by commands and views:
before_insert, validate, on_update, on_delete (on_stage_change comes with
pipelines). A plugin implements any of them with `@hookimpl`.
"""

from __future__ import annotations

from typing import Any

import pluggy

PROJECT = "metacrm"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


# -- start-up ---------------------------------------------------------------
@hookspec
def crm_app_built(app: Any, appbuilder: Any, spec: Any) -> None:
    """The app and every generated view exist: add views, APIs or blueprints."""


# -- record lifecycle (called by the record commands, on every write path) ---
@hookspec
def crm_validate(entity: Any, values: dict[str, Any], record: Any, lang: str | None) -> dict[str, list[str]] | None:
    """Extra checks before a create or update; return {field: [messages]} to refuse it.

    `record` is None on create. `values` holds only the fields being written.
    """


@hookspec
def crm_before_insert(entity: Any, record: Any, session: Any) -> None:
    """A new record is about to be inserted (in the same transaction)."""


@hookspec
def crm_on_update(entity: Any, record: Any, changes: dict[str, Any], session: Any) -> None:
    """A record was changed and committed; `changes` maps field to new value.

    Delivered after the commit from the outbox (`crm_event`), by the outbox worker: a
    change is never lost between the commit and the hook, and a failing hook is logged
    in the run log (`crm_delivery`) without touching the change.
    """


@hookspec
def crm_on_delete(entity: Any, record: Any, session: Any) -> None:
    """A record was deleted and the delete committed (delivered from the outbox, like
    crm_on_update); `record` is rebuilt from its last values and is in no session."""


# -- field types (called once at start-up, before the metadata is read) ------
@hookspec
def crm_field_types() -> list[Any]:
    """Extra field types: a list of `app.fieldtypes.FieldType` instances (one per type name).

    Each owns its column, parsing, validation, form field, API field, JSON Schema
    fragment, display, filter value, demo value and conversions (see app/fieldtypes/base.py);
    entities then use it as `type: <name>`. A name of a built-in type, one given twice, or
    an option the metadata does not know stops start-up (CRM-E053..E055).
    """
