"""Run a chart for a viewer: a built-in analysis or a plain aggregate.

The one entry point the dashboard pages, the API and the report builder
call. Errors are not caught here: a chart that cannot run raises (the
metadata checker keeps starter charts from doing so), and the caller
decides how to answer.
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

from flask import current_app

from app.i18n.collation import text_key
from app.metadata.spec import ChartSpec
from app.security.access import access_for

from .query import aggregate
from .result import ChartContext, ChartResult


def run_chart(chart: ChartSpec, ctx: ChartContext) -> ChartResult:
    if chart.analysis:
        from .analyses import run_analysis  # noqa: PLC0415  (analyses import the engine, not the reverse)
        return run_analysis(chart, ctx)
    return aggregate(chart, ctx)


def chart_context(app_or_state: Any, user: Any, lang: str = "en", now: dt.datetime | None = None) -> ChartContext:
    """A ChartContext for a FAB user (None: anonymous) on a Flask app or its CrmState.

    Needs an app context (the session is Flask-SQLAlchemy's).
    """
    extensions = getattr(app_or_state, "extensions", None)
    state = extensions["crm"] if extensions is not None else app_or_state
    access = access_for(user, SimpleNamespace(extensions={"crm": state}))
    label_key = text_key(current_app.config, lang)
    if now is None:
        return ChartContext(state.spec, state.models, state.db.session, access, lang, label_key=label_key)
    return ChartContext(state.spec, state.models, state.db.session, access, lang, now, label_key)
