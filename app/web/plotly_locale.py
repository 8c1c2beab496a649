"""plotly.js speaks English in its mode bar (Zoom, Pan, Download plot as a PNG); its `locales`
config takes a dictionary, which we fill from our catalogs for the page's language."""

from __future__ import annotations

from typing import Any

from flask import Flask

from app.i18n import _t

from .labels import current_lang

MODEBAR = (
    _t("Autoscale"), _t("Download plot as a PNG"), _t("Download plot"), _t("Pan"), _t("Reset axes"),
    _t("Share chart..."), _t("Zoom"), _t("Zoom in"), _t("Zoom out"), _t("Box Select"), _t("Lasso Select"),
    _t("Reset view"), _t("Toggle Spike Lines"), _t("Show closest data on hover"), _t("Compare data on hover"),
    _t("Toggle show closest data on hover"), _t("Double-click to zoom back out"), _t("Produced with Plotly.js"),
)


def plotly_locale() -> dict[str, Any]:
    """{"locale": "zh", "dictionary": {English: translation}} for plotly's config."""
    lang = current_lang()
    return {"locale": lang, "dictionary": {m.msgid: m.get(lang) for m in MODEBAR}}


def install_plotly_locale(app: Flask) -> None:
    app.add_template_global(plotly_locale, "crm_plotly_locale")
