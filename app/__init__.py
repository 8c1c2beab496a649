"""MetaCRM: metadata in, CRM out.

`create_app()` does all the work inside the call (nothing is registered at
import time), so each test, worker or CLI step gets a fresh, complete app.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Flask
from flask_appbuilder import AppBuilder
from flask_appbuilder.utils.legacy import get_sqla_class
from werkzeug.middleware.proxy_fix import ProxyFix

from app.automations import dispatch as outbox_dispatch
from app.charts.measures import register_sqlite_functions
from app.events.outbox import install_session_signal
from app.i18n import CATALOG_DIR, language_name
from app.i18n.collation import install_collations
from app.metadata.problems import MetadataError
from app.metadata.spec import CrmSpec
from app.metaversions.startup import load_source_spec, metadata_source, record_source
from app.models import ModelSet, build_models
from app.models.statement_timeout import SETTING as TIMEOUT
from app.models.statement_timeout import bound_engine_options, unbounded
from app.ops import install_ops
from app.plugins.manager import PluginHost, load_plugins
from app.schema.startup import SchemaPending, ensure_schema, run_by_crm_command
from app.security.access import RoleBook
from app.security.authcache import AuthCache, Generations
from app.security.csrf import install_csrf
from app.security.fablog import quiet_fab_warnings
from app.security.headers import install_security_headers
from app.security.manager import CrmSecurityManager
from app.security.passwords import check_password_policy
from app.security.secret import InsecureSecretKey, require_strong_secret, resolve_secret_key
from app.security.userrows import user_row_cache
from app.settings import load_settings
from app.web.apilist import install_list_routes
from app.web.assets import register_assets
from app.web.chartcache import install_chart_cache
from app.web.compress import install_compression
from app.web.conditions import install_conditions_url
from app.web.errors import install_error_pages
from app.web.frame import fuse_request_hooks
from app.web.home import HomeView
from app.web.labels import install_label_colon, lazy
from app.web.listheader import install_list_header
from app.web.listlayout import install_list_layout
from app.web.listlinks import install_list_links
from app.web.listwidget import install_list_widget
from app.web.menucache import install_item_visible_cache, install_menu_cache
from app.web.paging import install_paging_guard
from app.web.readtimeout import install_read_timeout
from app.web.register import register_entities
from app.web.searchrow import install_search_row
from app.web.templatetext import install_kept_gettext

__all__ = ["create_app", "MetadataError", "SchemaPending", "InsecureSecretKey", "CrmState"]

FLAGS = {"en": "gb", "zh": "cn", "ja": "jp", "ko": "kr"}  # FAB's menu shows a flag; others get none


def language_menu(lang: str) -> dict[str, str]:
    """A language's entry in FAB's language menu: its own name from Babel's locale data."""
    return {"flag": FLAGS.get(lang, ""), "name": language_name(lang)}


@dataclass
class CrmState:
    """What the app was built from; reachable as app.extensions['crm']."""

    spec: CrmSpec
    models: ModelSet
    db: Any
    appbuilder: AppBuilder
    plugins: PluginHost
    role_book: RoleBook
    # who may do what, per user, for this app (so for its metadata version) only: authcache.py
    auth_cache: AuthCache = field(default_factory=lambda: AuthCache(0))
    # the top bar's unread notification counts, per user, cleared by any write to crm_notification
    notice_cache: AuthCache = field(default_factory=lambda: AuthCache(0))
    # the signed-in users' rows (FAB's user loader), cleared by any write to ab_user: userrows.py
    user_cache: AuthCache = field(default_factory=lambda: AuthCache(0))


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    with _collector_paused():
        return _create_app(overrides)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """A build allocates millions of objects that live as long as the app; the cyclic
    collector's passes over them were half the build (50 entities x 30 fields: 2.6 s CPU,
    1.45 s without). Cycles made meanwhile are collected once it resumes."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _create_app(overrides: dict[str, Any] | None) -> Flask:
    settings = load_settings(overrides)
    settings["SECRET_KEY"] = resolve_secret_key(settings)
    bound_engine_options(settings, web=not run_by_crm_command())  # web reads: a statement timeout
    plugins = load_plugins(settings)  # first: plugins' field types are registered before the metadata is read
    source = metadata_source(settings)  # the version in force, or the files (app/metaversions/startup.py)
    spec = load_source_spec(source)  # raises MetadataError: no partial start
    models = build_models(spec)

    app = Flask(__name__, template_folder="web/templates", static_folder=None)
    quiet_fab_warnings()  # FAB's "no user yet" and empty-`next` redirect notices (app/security/fablog.py)
    app.config.update(settings)
    require_strong_secret(app.config, app.debug)  # raises InsecureSecretKey: no serving with a public key
    app.config.setdefault("FAB_PASSWORD_COMPLEXITY_VALIDATOR", check_password_policy)
    app.config.setdefault("APP_NAME", lazy(spec.name))  # the title bar follows the UI language
    app.config["LANGUAGES"] = {lang: language_menu(lang) for lang in spec.languages}
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(CATALOG_DIR)  # after FAB's: our texts win (app/i18n)
    app.config["BABEL_DEFAULT_LOCALE"] = spec.languages[0]
    app.register_blueprint(Blueprint("crm_static", __name__, static_folder="web/static",
                                     static_url_path="/crm-static"))
    register_assets(app)  # plotly.js from the installed package, cached for a year

    trust_proxies(app)
    install_paging_guard(app)  # bounded <int:pk> before any route is added
    install_csrf(app)  # before AppBuilder, so FAB refuses deletes by GET
    install_security_headers(app)
    install_error_pages(app)  # readable 4xx pages in the CRM's layout; JSON on the API
    install_ops(app)  # request ids + JSON request log, /health, /metrics (app/ops)
    install_compression(app)  # gzip for big HTML/JSON answers when the client accepts it
    install_menu_cache(app)  # the navbar menu rendered once per role set and language
    install_list_layout(app)  # the list screen's layout kept per role set and language (listlayout.py)
    install_label_colon(app)  # `crm_colon(label)`: "Total: " / "合计：" (labels.py)
    install_conditions_url(app)  # the form conditions' script only where its endpoint is (conditions.py)
    db = get_sqla_class()()
    db.init_app(app)
    with app.app_context(), unbounded():  # start-up work (FAB's tables, schema): no web statement timeout
        _enforce_sqlite_foreign_keys(db.engine)
        install_collations(app.config, db.engine)  # text sorts in the reader's language (app/i18n/collation.py)
        install_read_timeout(app, db.engine)  # web reads bounded, jobs and schema work lifted (readtimeout.py)
        appbuilder = AppBuilder(update_perms=False, security_manager_class=CrmSecurityManager,
                                indexview=HomeView, base_template="crm/base.html")
        appbuilder.init_app(app, db.session)
        mode = app.config["CRM_SCHEMA_MODE"] if app.config["CRM_AUTO_CREATE_SCHEMA"] else "off"
        if ensure_schema(db.engine, models, mode, Path(app.config["CRM_MIGRATIONS_DIR"])):
            gc.collect()  # the schema work's cycles (Alembic's comparison, revisions), before the views pile on
        auth_cache, notice_cache, user_cache = request_caches(app, db.engine)
        install_chart_cache(app, db.engine, models)  # charts' answers, stale on a write to what they read
        app.extensions["crm"] = CrmState(spec, models, db, appbuilder, plugins, RoleBook(spec), auth_cache,
                                         notice_cache, user_cache)
        # to build the app again on a new version (unbounded again when this one is: a worker's)
        app.extensions["crm_overrides"] = {**(overrides or {}), **({} if app.config[TIMEOUT] else {TIMEOUT: 0})}
        app.extensions["crm_version"] = record_source(app, source)  # the metadata version this app serves
        install_outbox_delivery(app)  # automations: after a commit that wrote events, deliver them
        register_entities(appbuilder, models, app.config["CRM_API_PREFIX"])
        install_item_visible_cache(app)  # the CRUD buttons' permissions, per role set (like the menu)
        install_list_links(app)  # a list's page and sort links from one base path per request
        install_list_routes(app)  # the API list GET by a route of our own, FAB's behind it (apilist.py)
        install_kept_gettext(app)  # the templates' `_()` kept per locale (templatetext.py)
        install_list_header(app)  # a list's pager, page-size menu and sort header in Python (listheader.py)
        install_list_widget(app)  # the list screen's widget kept as a skeleton (listwidget.py)
        install_search_row(app)  # and its search row (searchrow.py)
        plugins.hook.crm_app_built(app=app, appbuilder=appbuilder, spec=spec)
    fuse_request_hooks(app)  # last: every hook registered, one before- and one after-request call (frame.py)
    return app


def request_caches(app: Flask, engine: sa.Engine) -> tuple[AuthCache, AuthCache, AuthCache]:
    """Who may do what, the unread notification counts and the signed-in users' rows: cached
    per app, each cleared by writes to its tables (through Redis for every process when
    REDIS_URL is set)."""
    ttl, redis_url = float(app.config["CRM_ACCESS_CACHE_SECONDS"]), app.config.get("REDIS_URL") or ""
    generations = Generations(redis_url if ttl > 0 else "")  # their Redis counters: one MGET a request
    access = AuthCache(ttl, redis_url, generations=generations)
    notices = AuthCache(ttl, redis_url, tables=("crm_notification",), redis_key="crm:notification-generation",
                        generations=generations)
    access.watch(engine)
    notices.watch(engine)
    return access, notices, user_row_cache(ttl, redis_url, engine, generations)


def trust_proxies(app: Flask) -> None:
    """Behind a reverse proxy the client's address and scheme come from its X-Forwarded-*
    headers, believed only CRM_TRUSTED_PROXIES hops deep (0: not at all)."""
    hops = app.config["CRM_TRUSTED_PROXIES"]
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)  # type: ignore[method-assign]


def install_outbox_delivery(app: Flask) -> None:
    """Every session's commit that wrote outbox events queues an outbox job (`outbox_dispatch`)."""
    install_session_signal(sa.orm.Session)
    app.config.setdefault("CRM_OUTBOX_JOB_KIND", outbox_dispatch.OUTBOX_KIND)


def _enforce_sqlite_foreign_keys(engine: sa.Engine) -> None:
    """SQLite ignores ON DELETE rules unless asked on every connection; it also lacks a median."""
    if engine.dialect.name != "sqlite":
        return

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
        register_sqlite_functions(dbapi_connection)  # the charts' median
