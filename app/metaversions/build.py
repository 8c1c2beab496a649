"""Build another app like this one, on the version in force (live switch, permission sync)."""

from __future__ import annotations

from typing import Any

from flask import Flask

FOLLOW = {"CRM_METADATA_FOLLOW": "version"}


def build_overrides(app: Flask) -> dict[str, Any]:
    """The overrides `app` was built with, set to follow the version in force."""
    return {**app.extensions.get("crm_overrides", {}), **FOLLOW}


def build_app(app: Flask) -> Flask:
    from app import create_app

    return create_app(build_overrides(app))
