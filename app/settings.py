"""Settings: defaults < config.py < environment < overrides.

Used by the app factory and by `flask crm validate`, which must work even
when the metadata is broken and no app can be built.
"""

from __future__ import annotations

import os
import runpy
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

DEFAULTS: dict[str, Any] = {
    "SQLALCHEMY_DATABASE_URI": f"sqlite:///{ROOT / 'instance' / 'metacrm.db'}",
    "SQLALCHEMY_TRACK_MODIFICATIONS": False,
    "CRM_METADATA_DIR": str(ROOT / "metadata"),
    "CRM_AUTO_CREATE_SCHEMA": True,
    # auto: create an empty database and apply non-destructive changes at start-up (dev);
    # check: refuse to start while changes are pending (production; run `crm apply`); off.
    "CRM_SCHEMA_MODE": "auto",
    # CRM_MIGRATIONS_DIR: unset, it is <CRM_METADATA_DIR>/migrations (see migrations_dir below)
    "CRM_API_PREFIX": "/api/v1",
    # Metadata versions (app/metaversions/): the files of the version in force are written
    # here to be loaded; every process checks this often whether the version changed.
    "CRM_METADATA_CACHE_DIR": str(ROOT / "instance" / "metadata_versions"),
    "CRM_METADATA_POLL_SECONDS": 2,
    # Never used to serve: outside debug/testing the app refuses it (app/security/secret.py).
    "SECRET_KEY": "dev-only-secret-change-me",
    # Read when SECRET_KEY is not set; `flask crm secret-key` (run by `make run`) writes it.
    "CRM_SECRET_KEY_FILE": str(ROOT / "instance" / "secret_key"),
    "REDIS_URL": "",
    # Background jobs (app/jobs/): files they read and write (uploads, error reports, exports),
    # shared by the web processes and every `flask crm worker`; seconds an rq job may run;
    # seconds without progress after which a running job counts as lost (retry resumes it).
    "CRM_FILES_DIR": str(ROOT / "instance" / "files"),
    "CRM_JOB_TIMEOUT": 6 * 3600,
    "CRM_JOB_STALE_SECONDS": 120,
    # Imports (docs/import.md): largest file, rows in a preview; exports above this many rows run as jobs.
    "CRM_IMPORT_MAX_BYTES": 50 * 1024 * 1024,
    "CRM_IMPORT_PREVIEW_ROWS": 20,
    "CRM_IMPORT_WRITE": "direct",  # direct: new records without the ORM (app/imports/direct.py); orm: through it
    "CRM_IMPORT_READ": "columns",  # columns: a batch's plain cells read a column at a time (app/imports/columns.py); cells: one by one
    "CRM_IMPORT_OVERLAP": "on",  # PostgreSQL create imports: a batch written (own connection) while the next is judged
    "CRM_IMPORT_READ_AHEAD": "on",  # with the overlap: a batch's key query and ids read (own connection) while the one before is judged
    "CRM_IMPORT_BATCH_MIN_ROWS": 200,  # rows: the least a batch holds once its size adapts to the clock
    "CRM_IMPORT_SYNCHRONOUS_COMMIT": "off",  # PostgreSQL: an import batch's commit does not wait for its WAL flush
    "CRM_IMPORT_ANALYZE_ROWS": 20_000,  # PostgreSQL: ANALYZE the table each time an import doubles this many new rows
    "CRM_EXPORT_JOB_ROWS": 10_000,
    # Bulk work on lists (docs/metadata.md#bulk-work): above this many records it runs as a job;
    # "all matching the filter" takes at most CRM_BULK_MAX_ROWS records (more: narrow the filter).
    "CRM_BULK_JOB_ROWS": 200,
    "CRM_BULK_MAX_ROWS": 50_000,
    # Lists count at most this many records ("10,000+" past it; the API's count_exact is false);
    # 0: always count exactly (a full count(*) per page on big tables). app/web/counting.py.
    "CRM_LIST_COUNT_CAP": 10_000,
    # core: the API list reads its page as plain rows and writes the JSON itself (app/web/listread.py);
    # orm: through ORM records and the marshmallow schema (the reference path; same JSON).
    "CRM_API_LIST_READ": "core",
    # lean: the API list GET answered by a route of our own (app/web/apilist.py), a session cookie
    # verified once per value (app/security/headers.py); fab: FAB's route and Flask's session (same answers).
    "CRM_REQUEST_FRAME": "lean",
    # PostgreSQL cancels a web process's statement after this many milliseconds (a filter that scans
    # a big table answers 503 naming it, never a multi-second request); `flask crm` commands, rq
    # workers and jobs run without it; 0: no timeout. SQLite: ignored. app/web/readtimeout.py.
    "CRM_WEB_STATEMENT_TIMEOUT_MS": 5000,
    # Seconds a user's roles, grants and team members are kept in memory (app/security/authcache.py);
    # a change through this process (or any, with REDIS_URL) clears them at once. 0: no cache.
    "CRM_ACCESS_CACHE_SECONDS": 60,
    # `cached`: the list screen's layout (head, navbar, menu, footer, scripts) rendered once per role
    # set, language and access generation, the list per request (app/web/listlayout.py); `fab`: the
    # whole page through FAB's templates on every request (the same HTML, kept for comparison).
    "CRM_LIST_LAYOUT": "cached",
    # core: the list screen reads its page as plain rows through the API list's reader and draws
    # the cells from them (app/web/listrows.py); orm: through ORM records (the same HTML).
    "CRM_LIST_READ": "core",
    # The collation text sorts in for readers of a language, "language=collation, ..." (app/i18n/collation.py):
    # zh in pinyin order (PostgreSQL's ICU; SQLite: common characters, by their GB18030 code). "": none.
    "CRM_TEXT_COLLATION": "zh=zh-x-icu",
    # Seconds a chart's answer is kept (app/web/chartcache.py), per chart, role scope, language and
    # metadata version; a write to a table the chart read makes it stale at once. 0: no cache.
    "CRM_CHART_CACHE_SECONDS": 60,
    # HTML/JSON answers this big or bigger are gzipped for clients that accept it (0: never).
    "CRM_GZIP_MIN_BYTES": 1024,
    # Stop the clock (an ISO instant, e.g. 2026-06-01T16:30:00+00:00) for demos and tests: app/clock.py.
    "CRM_FROZEN_NOW": "",
    # Uploads and job files (error reports, exports) older than this many days are removed by the
    # automations tick and `flask crm files clean` (app/jobs/cleanup.py); 0 keeps them.
    "CRM_FILES_KEEP_DAYS": 7,
    # FAB: permissions are synced by `flask crm sync`, never per worker at boot.
    "FAB_UPDATE_PERMS": False,
    "FAB_API_SWAGGER_UI": True,
    "FAB_ADD_OPENAPI_VIEWS": False,  # app/web/openapi.py serves a cached document instead
    "FAB_API_MAX_PAGE_SIZE": 100,
    "FAB_ADD_SECURITY_API": False,
    "AUTH_TYPE": 1,  # AUTH_DB
    "AUTH_ROLE_ADMIN": "Admin",
    "AUTH_ROLE_PUBLIC": "Public",
    "WTF_CSRF_ENABLED": True,
    # Brute force: FAB limits POSTs to the login form (and we the API login) per client address.
    # Storage: REDIS_URL when set (shared by every worker), else this process's memory.
    "AUTH_RATE_LIMITED": True,
    "AUTH_RATE_LIMIT": "10 per minute",
    "RATELIMIT_ENABLED": True,
    # Password policy on user creation and every change (app/security/passwords.py).
    "FAB_PASSWORD_COMPLEXITY_ENABLED": True,
    # Session cookie: never sent by cross-site subrequests or POSTs; Secure is added per
    # request when served over https (app/security/headers.py).
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "WTF_CSRF_TIME_LIMIT": None,
    # Automations and the outbox (app/automations/): auto = deliver events after each commit
    # (a background job or thread); off = only `flask crm outbox run` delivers them.
    "CRM_OUTBOX_DISPATCH": "auto",
    "CRM_OUTBOX_CLAIM_TIMEOUT": 300,  # seconds before an event a dead worker claimed is taken again
    "CRM_OUTBOX_MAX_WAIT": 120,  # a worker waits this long for a retry that is due soon
    "CRM_AUTOMATION_MAX_DEPTH": 5,  # loop guard: automations triggered by automations, this deep at most
    "CRM_DELIVERY_ATTEMPTS": 5,  # e-mail / webhook tries before it is marked failed
    "CRM_DELIVERY_BACKOFF": 30,  # seconds before the first retry; doubled each time
    "CRM_SMTP_HOST": "",
    "CRM_SMTP_PORT": 25,
    "CRM_SMTP_TLS": False,
    "CRM_SMTP_USER": "",
    "CRM_SMTP_PASSWORD": "",
    "CRM_MAIL_FROM": "crm@localhost",
    "CRM_WEBHOOK_SECRET": "",  # HMAC-SHA256 key of the X-CRM-Signature header
    "CRM_WEBHOOK_TIMEOUT": 10,
    # Reverse proxies in front of the app (nginx: 1). Their X-Forwarded-For/-Proto/-Host are
    # believed only this many hops deep, so the login limit counts the real client address
    # and cookies are Secure behind https; 0 ignores the headers (a client could forge them).
    "CRM_TRUSTED_PROXIES": 0,
    # Operations (app/ops/, docs/deploy.md). The address users reach the CRM at (https://crm.example.com),
    # for links made outside a request; /metrics: a bearer token, or caller addresses/networks;
    # rq workers /health requires (0: counted, not required); one JSON line per request on stderr.
    "CRM_BASE_URL": "",
    "CRM_METRICS_TOKEN": "",
    "CRM_METRICS_ALLOW": "127.0.0.1,::1",
    "CRM_HEALTH_MIN_WORKERS": 0,
    "CRM_REQUEST_LOG": "on",
}

ENV_KEYS = ("SQLALCHEMY_DATABASE_URI", "CRM_METADATA_DIR", "CRM_AUTO_CREATE_SCHEMA", "SECRET_KEY", "CRM_MIGRATIONS_DIR",
            "CRM_SCHEMA_MODE", "CRM_SECRET_KEY_FILE", "CRM_METADATA_CACHE_DIR", "CRM_METADATA_POLL_SECONDS",
            "REDIS_URL", "CRM_CONFIG", "CRM_FILES_DIR", "CRM_SMTP_HOST", "CRM_SMTP_PORT", "CRM_SMTP_USER",
            "CRM_SMTP_PASSWORD", "CRM_MAIL_FROM", "CRM_WEBHOOK_SECRET", "CRM_OUTBOX_DISPATCH", "CRM_TRUSTED_PROXIES",
            "CRM_SMTP_TLS", "CRM_PLUGINS_DIR", "CRM_BASE_URL", "CRM_METRICS_TOKEN", "CRM_METRICS_ALLOW",
            "CRM_HEALTH_MIN_WORKERS", "CRM_REQUEST_LOG", "CRM_JOB_TIMEOUT", "CRM_JOB_STALE_SECONDS",
            "CRM_LIST_COUNT_CAP", "CRM_ACCESS_CACHE_SECONDS", "CRM_CHART_CACHE_SECONDS", "CRM_LIST_LAYOUT",
            "CRM_GZIP_MIN_BYTES", "CRM_FILES_KEEP_DAYS", "CRM_WEB_STATEMENT_TIMEOUT_MS", "CRM_API_LIST_READ",
            "CRM_REQUEST_FRAME", "CRM_LIST_READ", "CRM_IMPORT_BATCH_MIN_ROWS", "CRM_TEXT_COLLATION")
BOOL_KEYS = ("CRM_AUTO_CREATE_SCHEMA", "CRM_SMTP_TLS")


def load_settings(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    settings = dict(DEFAULTS)
    config_path = Path(os.environ.get("CRM_CONFIG", ROOT / "config.py"))
    if config_path.is_file():
        values = runpy.run_path(str(config_path))
        settings.update({k: v for k, v in values.items() if k.isupper()})
    for key in ENV_KEYS:
        if key in os.environ:
            value: Any = os.environ[key]
            if key in BOOL_KEYS:
                value = value.lower() in ("1", "true", "yes", "on")
            settings[key] = value
    settings.update(overrides or {})
    for key in ("CRM_TRUSTED_PROXIES", "CRM_HEALTH_MIN_WORKERS", "CRM_LIST_COUNT_CAP", "CRM_GZIP_MIN_BYTES",
                "CRM_WEB_STATEMENT_TIMEOUT_MS", "CRM_IMPORT_BATCH_MIN_ROWS"):
        settings[key] = int(settings.get(key) or 0)
    settings["CRM_ACCESS_CACHE_SECONDS"] = float(settings.get("CRM_ACCESS_CACHE_SECONDS") or 0)
    settings["CRM_CHART_CACHE_SECONDS"] = float(settings.get("CRM_CHART_CACHE_SECONDS") or 0)
    if settings.get("CRM_BASE_URL"):  # url_for(_external=True) outside a request builds https links
        settings.setdefault("PREFERRED_URL_SCHEME", str(settings["CRM_BASE_URL"]).split(":", 1)[0])
    settings.setdefault("RATELIMIT_STORAGE_URI", settings.get("REDIS_URL") or "memory://")
    if not settings.get("CRM_MIGRATIONS_DIR"):
        settings["CRM_MIGRATIONS_DIR"] = str(migrations_dir(Path(settings["CRM_METADATA_DIR"])))
    return settings


LEGACY_MIGRATIONS = ROOT / "migrations" / "versions"
STARTER_METADATA = (ROOT / "metadata").resolve()
STARTER_MIGRATIONS = ROOT / "instance" / "migrations"


def migrations_dir(metadata_dir: Path, legacy: Path = LEGACY_MIGRATIONS) -> Path:
    """Where the metadata's revisions live when CRM_MIGRATIONS_DIR is not set, next to what made
    them (docs/schema-changes.md#where-revisions-live): `migrations/` inside a company's metadata
    folder, so its history never mixes with the starter's; for the starter shipped in the checkout,
    instance/migrations beside the database it built (git-ignored: `make run` leaves the checkout
    clean). A deployment whose revisions are in the checkout's migrations/versions/ (the old
    default) keeps that folder while the new one holds none."""
    own = STARTER_MIGRATIONS if metadata_dir.resolve() == STARTER_METADATA else metadata_dir / "migrations"
    if not _revisions_in(own) and _revisions_in(legacy):
        return legacy
    return own


def _revisions_in(folder: Path) -> bool:
    return folder.is_dir() and any(p.name != "__init__.py" for p in folder.glob("*.py"))
