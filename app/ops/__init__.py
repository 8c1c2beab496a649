"""Operations: what a deployment needs around the CRM (health, metrics, request logs,
backup, restore, upgrade). Nothing here changes what the CRM does for its users."""

from __future__ import annotations

from flask import Flask


def install_ops(app: Flask) -> None:
    """Request ids and JSON request logs, request metrics, /health and /metrics, static files
cached for a year under content-hashed URLs."""
    from .health import health
    from .metrics import install_request_metrics, metrics
    from .requestlog import install_request_log
    from .static import install_static_cache

    install_request_log(app)
    install_request_metrics(app)
    app.register_blueprint(health)
    app.register_blueprint(metrics)
    install_static_cache(app)
