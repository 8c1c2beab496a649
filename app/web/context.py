"""The record context of the current request: session, models, language, plugins."""

from __future__ import annotations

from typing import Any

from flask import current_app

from app.records.commands import RecordContext
from app.security.access import current_access

from .labels import current_lang


def request_record_context(session: Any) -> RecordContext:
    state = current_app.extensions["crm"]
    return RecordContext(session, state.models, current_lang(), hooks=state.plugins.hook,
                         access=current_access())
