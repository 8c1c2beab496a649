"""Static assets served from installed packages: plotly.js from the plotly wheel; and the
favicon at /favicon.ico, where browsers ask for it on every page whatever the page links.

No CDN: many users sit behind firewalls. The URL carries the plotly version,
so the file can be cached for a year and a new plotly is a new URL.
"""

from __future__ import annotations

from pathlib import Path

import plotly
from flask import Blueprint, Flask, send_file

from .plotly_locale import install_plotly_locale

PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
FAVICON = Path(__file__).parent / "static" / "crm" / "favicon.ico"
ONE_DAY = 24 * 3600
ONE_YEAR = 365 * 24 * 3600
assets = Blueprint("crm_assets", __name__)




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


def register_assets(app: Flask) -> None:
    app.register_blueprint(assets)
    app.extensions["crm_plotly_url"] = plotly_url()
    install_plotly_locale(app)  # the mode bar's tooltips in the page's language
