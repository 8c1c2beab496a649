"""gunicorn settings for MetaCRM: `gunicorn -c gunicorn.conf.py run:app` (docs/deploy.md).

Every value can be changed from the environment (GUNICORN_*), so one file serves every host.

Preload is OFF on purpose: building the app opens database and Redis connections (schema
check, permissions, metadata version), and pooled connections must never be shared across
fork(); each worker also rebuilds its app by itself when a new metadata version comes into
force, so a preloaded copy would be thrown away anyway. The price is each worker building
its app at boot (about half a second for the starter metadata), in parallel.
"""

import multiprocessing
import os
import shutil
import tempfile

_cores = multiprocessing.cpu_count()

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# CPU-bound Python (templates, forms) with short waits on PostgreSQL: a few processes per core,
# two threads each so a slow client or a long export does not hold a whole process.
workers = int(os.environ.get("GUNICORN_WORKERS", 2 * _cores + 1))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", 2))
preload_app = False
# A request taking longer than this is a bug or belongs in a background job (exports above
# CRM_EXPORT_JOB_ROWS and imports already are); the worker is restarted.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 60))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", 30))
keepalive = 5  # behind a reverse proxy that keeps connections open
# Recycle workers now and then: bounded memory whatever a long life accumulates.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", 2000))
max_requests_jitter = 200
# The app writes one JSON line per request (app/ops/requestlog.py): no second access log.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
proc_name = "metacrm"

# /metrics under several workers: each writes its counters into this folder and whichever
# worker answers sums them (prometheus_client's multiprocess mode). Emptied at start.
_metrics_dir = os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR",
                                     os.path.join(tempfile.gettempdir(), f"metacrm-metrics-{os.getpid()}"))


def on_starting(server):  # noqa: ANN001, ANN201 - gunicorn's hook signature
    shutil.rmtree(_metrics_dir, ignore_errors=True)
    os.makedirs(_metrics_dir, exist_ok=True)


def child_exit(server, worker):  # noqa: ANN001, ANN201
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
