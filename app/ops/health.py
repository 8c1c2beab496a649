"""GET /health: is this process fit to serve? For load balancers and monitoring; no login.

200 with every check when all pass, 503 naming what failed. Checks: the database (one
round trip, which also reads the revisions and metadata version in force), Redis and the
rq workers when REDIS_URL is set, pending migrations, and whether this process serves the
metadata version in force. Workers are counted but required only when asked
(`?workers=N` or CRM_HEALTH_MIN_WORKERS): a load balancer should not pull every web host
because the worker hosts are down; monitoring asks for them. Stuck jobs (app/jobs/sweep.py)
likewise: counted always (read at most every 15 s), a failure only with `?jobs=1`.
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from .checks import database_check, jobs_check, metadata_check, migrations_check, redis_check
from .version import product_version

health = Blueprint("crm_health", __name__)


@health.route("/health")
def health_view():  # type: ignore[no-untyped-def]
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    min_workers = request.args.get("workers", type=int)
    if min_workers is None:
        min_workers = int(app.config.get("CRM_HEALTH_MIN_WORKERS") or 0)
    database, heads, recorded = database_check(app)
    redis, workers = redis_check(app, max(min_workers, 0))
    checks = {
        "database": database,
        "redis": redis,
        "workers": workers,
        "migrations": migrations_check(app, heads),
        "metadata": metadata_check(app, recorded, database.ok),
    }
    if database.ok:
        checks["jobs"] = jobs_check(app, request.args.get("jobs") == "1")
    problems = [c.problem for c in checks.values() if not c.ok]
    body = {"status": "fail" if problems else "ok", "version": product_version(),
            "checks": {name: c.as_json() for name, c in checks.items()}}
    if problems:
        body["problems"] = problems
    response = jsonify(body)
    response.status_code = 503 if problems else 200
    response.headers["Cache-Control"] = "no-store"
    return response
