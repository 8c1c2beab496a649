"""Prometheus metrics at /metrics (prometheus_client): requests, latency, jobs, outbox lag.

Request counters live in this process; under gunicorn set PROMETHEUS_MULTIPROC_DIR (the
shipped gunicorn.conf.py does) so every worker writes its figures there and any worker
answers for all. Job and outbox figures are read from the database at scrape time, so
they hold for the whole deployment whichever host answers.

/metrics is refused (403) unless the caller brings CRM_METRICS_TOKEN as a bearer token or
comes from an address in CRM_METRICS_ALLOW (default: this host only)."""

from __future__ import annotations

import datetime as dt
import hmac
import ipaddress
import os
import time
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Flask, Response, abort, current_app, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

REGISTRY = CollectorRegistry(auto_describe=True)
REQUESTS = Counter("crm_http_requests_total", "HTTP requests answered", ["method", "endpoint", "status"],
                   registry=REGISTRY)
LATENCY = Histogram("crm_http_request_duration_seconds", "Time to answer a request", ["method", "endpoint"],
                    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10), registry=REGISTRY)
metrics = Blueprint("crm_metrics", __name__)
JOB_STATES = ("queued", "running", "done", "failed", "cancelled")


def install_request_metrics(app: Flask) -> None:
    """Count every request by its route pattern (not its path: ids would explode the series).
    The labelled series are looked up once per label set (prometheus_client's `labels()` takes
    a lock and builds the key each call) and kept: their number is bounded by the routes."""
    counters: dict[tuple[str, str, int], Any] = {}
    latencies: dict[tuple[str, str], Any] = {}

    def observe(response: Response) -> Response:
        started = g.get("request_started")
        endpoint = request.url_rule.rule if request.url_rule is not None else "unmatched"
        method, status = request.method, response.status_code
        counter = counters.get((method, endpoint, status))
        if counter is None:
            counter = counters[(method, endpoint, status)] = REQUESTS.labels(method, endpoint, str(status))
        counter.inc()
        if started is not None:
            latency = latencies.get((method, endpoint))
            if latency is None:
                latency = latencies[(method, endpoint)] = LATENCY.labels(method, endpoint)
            latency.observe(time.perf_counter() - started)
        return response

    app.after_request(observe)


@metrics.route("/metrics")
def metrics_view():  # type: ignore[no-untyped-def]
    if not allowed(current_app.config, request.remote_addr, request.headers.get("Authorization", "")):
        abort(403)
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)  # every gunicorn worker's counters
    else:
        registry = REGISTRY
    body = generate_latest(registry) + generate_latest(_database_registry(current_app._get_current_object()))  # type: ignore[attr-defined]
    return Response(body, content_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})


def allowed(config: Any, remote: str | None, authorization: str) -> bool:
    """A matching bearer token, or (without one) a caller address in CRM_METRICS_ALLOW."""
    token = str(config.get("CRM_METRICS_TOKEN") or "")
    if token and authorization.startswith("Bearer "):
        return hmac.compare_digest(authorization[7:].strip().encode(), token.encode())
    networks = [n.strip() for n in str(config.get("CRM_METRICS_ALLOW", "127.0.0.1,::1")).split(",") if n.strip()]
    try:
        address = ipaddress.ip_address(remote or "")
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(n, strict=False) for n in networks)


def _database_registry(app: Flask) -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(DatabaseCollector(app))
    return registry


class DatabaseCollector:
    """Jobs by state and the outbox's undelivered events, read when scraped (two queries)."""

    def __init__(self, app: Flask):
        self.engine = app.extensions["crm"].db.engine

    def collect(self) -> Iterator[GaugeMetricFamily]:
        jobs = GaugeMetricFamily("crm_jobs", "Background jobs by state (crm_job)", labels=["state"])
        waiting = GaugeMetricFamily("crm_outbox_pending_events", "Record changes not yet delivered")
        lag = GaugeMetricFamily("crm_outbox_lag_seconds", "Age of the oldest undelivered record change")
        with self.engine.connect() as conn:
            counts = {state: 0 for state in JOB_STATES}  # zeros too: an alert on failed > 0 needs the series
            counts.update({state: n for state, n in conn.execute(sa.text("SELECT state, count(*) FROM crm_job "
                                                                           "GROUP BY state"))})
            for state, count in counts.items():
                jobs.add_metric([state], count)
            count, oldest = conn.execute(sa.text(
                "SELECT count(*), min(created_on) FROM crm_event WHERE delivered_on IS NULL")).one()
        waiting.add_metric([], count)
        lag.add_metric([], _age(oldest))
        yield from (jobs, waiting, lag)


def _age(oldest: Any) -> float:
    if oldest is None:
        return 0.0
    if isinstance(oldest, str):  # SQLite hands DateTime back as text through a raw query
        oldest = dt.datetime.fromisoformat(oldest)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    return max(0.0, (now - oldest).total_seconds())
