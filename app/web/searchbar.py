"""FAB's filter bar with its per-column inputs rendered once, not on every list request.

FAB's SearchWidget renders, on every list page, the input of every filterable column (the
templates its JavaScript clones when a filter is added) and the translated names of every
filter operator: a fifth of a list page's rendering, for HTML that changes only with the
app (metadata version), the language and the columns this user may filter on. Those are
cached per that key; the active filters and the CSP nonce stay per request. With the kept list
layout (`CRM_LIST_LAYOUT=cached`, app/web/listlayout.py) the bar's whole HTML is kept the same way,
with marks where the request's filters and nonce go.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_appbuilder._compat import as_unicode
from flask_appbuilder.widgets import RenderTemplateWidget, SearchWidget
from jinja2.utils import htmlsafe_json_dumps

from .labels import current_lang
from .listlayout import MARK, Layout, list_layout_cached, marks_in_g, request_value

MAX_KEYS = 512  # versions x languages x column sets: a bound, not a size anyone reaches
ACTIVE = "crm-mark-active-filters"  # rendered as a JSON string, then replaced by the request's filters
KEPT = "crm_search_bars"  # app.extensions: (the whole bars (CRM_LIST_LAYOUT=cached), their parts)
# kept on the app, not in module dicts keyed by id(app): a collected app's address can be a new
# app's, and a fresh database's first version number is every fresh database's


def _kept(app: Any) -> tuple[dict[tuple[Any, ...], Layout],
                             dict[tuple[Any, ...], tuple[dict[str, str], dict[str, Any], dict[str, list[str]]]]]:
    kept = app.extensions.get(KEPT)
    if kept is None:
        kept = app.extensions[KEPT] = ({}, {})
    return kept


class CachedSearchWidget(SearchWidget):
    """SearchWidget whose labels, inputs and operator names come from a per-version cache."""

    def __call__(self, **kwargs: Any) -> Any:
        args = self.template_args
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        columns = tuple(args["include_cols"])
        key = (app.extensions.get("crm_version"), args.get("route_base"), current_lang(), columns)
        bars, inputs = _kept(app)
        parts = inputs.get(key)
        if parts is None:
            form, by_column = args["form"], self.filters.get_search_filters()
            parts = ({c: as_unicode(form[c].label.text) for c in columns},
                     {c: form[c]() for c in columns},
                     {c: [as_unicode(flt.name) for flt in by_column[c]] for c in columns})
            if len(inputs) >= MAX_KEYS:
                inputs.clear()
            inputs[key] = parts
        kwargs["label_columns"], kwargs["form_fields"], kwargs["search_filters"] = parts
        active = self.filters.get_filters_values_tojson()
        if not list_layout_cached():
            return RenderTemplateWidget.__call__(self, **{**kwargs, "active_filters": active})
        html = bars.get(key)
        if html is None:  # the bar's HTML with marks for the request's filters and nonce
            with marks_in_g():
                marked = RenderTemplateWidget.__call__(self, **{**kwargs, "active_filters": ACTIVE})
            html = Layout(marked.replace(f'"{ACTIVE}"', MARK.format("active")))
            if len(bars) >= MAX_KEYS:
                bars.clear()
            bars[key] = html
        policies = app.jinja_env.policies  # what the template's `tojson` filter reads
        return html.fill(lambda name: str(htmlsafe_json_dumps(
            active, dumps=policies["json.dumps_function"], **policies["json.dumps_kwargs"]))
            if name == "active" else request_value(name))
