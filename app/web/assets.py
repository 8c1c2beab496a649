"""Static assets: plotly.js served from the plotly wheel, the favicon at /favicon.ico (browsers
ask for it on every page whatever the page links), and static URLs built once.

No CDN: many users sit behind firewalls. The URL carries the plotly version,
so the file can be cached for a year and a new plotly is a new URL.

Every page names some thirty static files (`url_for('appbuilder.static', filename=...)` in
FAB's layout): building each through Werkzeug's router cost a tenth of a list page's CPU.
A static file's URL depends only on the endpoint, the file, the app's script root and the
file's content hash (app/ops/static.py: a stat of the file per URL), fixed while the app
runs, so templates get a `url_for` that keeps those (and builds every other URL as Flask
does). In debug mode, where files are edited under a running app, nothing is kept.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import plotly
from flask import Blueprint, Flask, current_app, has_request_context, request, send_file, url_for

from .plotly_locale import install_plotly_locale

PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
FAVICON = Path(__file__).parent / "static" / "crm" / "favicon.ico"
ONE_DAY = 24 * 3600
ONE_YEAR = 365 * 24 * 3600
assets = Blueprint("crm_assets", __name__)
STATIC_URLS_KEPT = 1000  # static files a template names; past this, built each time




def plotly_url() -> str:
    return f"/crm/assets/plotly-{plotly.__version__}.min.js"


@assets.route("/crm/assets/plotly-<version>.min.js")
def plotly_js(version: str):  # type: ignore[no-untyped-def]
    response = send_file(PLOTLY_JS, mimetype="text/javascript", max_age=ONE_YEAR, conditional=True)
    response.headers["Cache-Control"] = f"public, max-age={ONE_YEAR}, immutable"
    return response


@assets.route("/favicon.ico")
def favicon():  # type: ignore[no-untyped-def]
    return send_file(FAVICON, mimetype="image/vnd.microsoft.icon", max_age=ONE_DAY, conditional=True)


def template_url_for(endpoint: str, **values: Any) -> str:
    """Flask's url_for, with a static file's URL (absolute endpoint, `filename` only) kept per app."""
    if not (endpoint.endswith("static") and endpoint[:1] != "." and values.keys() == {"filename"}
            and has_request_context() and not current_app.debug):
        return url_for(endpoint, **values)
    kept: dict[tuple[str, str, str], str] = current_app.extensions["crm_static_urls"]
    key = (endpoint, values["filename"], request.script_root)
    url = kept.get(key)
    if url is None:
        url = url_for(endpoint, **values)
        if len(kept) < STATIC_URLS_KEPT:
            kept[key] = url
    return url


def register_assets(app: Flask) -> None:
    app.register_blueprint(assets)
    app.extensions["crm_static_urls"] = {}
    app.jinja_env.globals["url_for"] = template_url_for
    app.extensions["crm_plotly_url"] = plotly_url()
    install_plotly_locale(app)  # the mode bar's tooltips in the page's language
