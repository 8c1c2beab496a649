"""FAB's filter bar with its per-column inputs rendered once, not on every list request.

FAB's SearchWidget renders, on every list page, the input of every filterable column (the
templates its JavaScript clones when a filter is added) and the translated names of every
filter operator: a fifth of a list page's rendering, for HTML that changes only with the
app (metadata version), the language and the columns this user may filter on. Those are
cached per that key; the active filters and the CSP nonce stay per request.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_appbuilder._compat import as_unicode
from flask_appbuilder.widgets import RenderTemplateWidget, SearchWidget

from .labels import current_lang

MAX_KEYS = 512  # apps x languages x column sets: a bound, not a size anyone reaches
_parts: dict[tuple[Any, ...], tuple[dict[str, str], dict[str, Any], dict[str, list[str]]]] = {}


class CachedSearchWidget(SearchWidget):
    """SearchWidget whose labels, inputs and operator names come from a per-version cache."""

    def __call__(self, **kwargs: Any) -> Any:
        args = self.template_args
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        columns = tuple(args["include_cols"])
        key = (id(app), app.extensions.get("crm_version"), args.get("route_base"), current_lang(), columns)
        parts = _parts.get(key)
        if parts is None:
            form, by_column = args["form"], self.filters.get_search_filters()
            parts = ({c: as_unicode(form[c].label.text) for c in columns},
                     {c: form[c]() for c in columns},
                     {c: [as_unicode(flt.name) for flt in by_column[c]] for c in columns})
            if len(_parts) >= MAX_KEYS:
                _parts.clear()
            _parts[key] = parts
        kwargs["label_columns"], kwargs["form_fields"], kwargs["search_filters"] = parts
        kwargs["active_filters"] = self.filters.get_filters_values_tojson()
        return RenderTemplateWidget.__call__(self, **kwargs)
