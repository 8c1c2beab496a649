"""Shared fixtures: a real database picked by one variable, fresh apps, metadata trees.

CRM_TEST_DATABASE_URL unset → a SQLite file per test. Set it to a PostgreSQL
URL (a throwaway database: every test drops and recreates its public schema).
On pytest-xdist workers (`make test`) each worker has `<that database>_gw<N>` and its
own Redis db instead (tests/parallel.py).
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import tempfile
import textwrap
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from app import create_app
from app.security.sync import sync_permissions
from app.security.users import ensure_admin
from tests import parallel

ROOT = Path(__file__).resolve().parents[1]
STARTER = ROOT / "metadata"
DB_ENV = parallel.DB_ENV
ADMIN_PASSWORD = "admin-pass-1"


def pytest_configure(config: pytest.Config) -> None:
    """Under pytest-xdist each worker gets its own PostgreSQL database and Redis db (tests/parallel.py)."""
    config.crm_worker_database = parallel.isolate_worker()  # type: ignore[attr-defined]


def pytest_unconfigure(config: pytest.Config) -> None:
    url = getattr(config, "crm_worker_database", None)
    if url:
        parallel.drop_database(url)


@pytest.fixture(autouse=True)
def _serial_tests_run_alone(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test marked `serial` (a time bound, several servers) has the machine's workers to itself."""
    with parallel.turn(request.node.get_closest_marker("serial") is not None):
        yield


@pytest.fixture(autouse=True)
def _no_app_build_outlives_its_test() -> Iterator[None]:
    """A metadata version's build thread (app/metaversions/live.py) a test started ends in that test:
    left running, it creates FAB's tables in the next test's emptied database while that test's
    app does the same (PostgreSQL: `CREATE SEQUENCE ab_permission_id_seq`, duplicate key)."""
    yield
    for thread in threading.enumerate():
        if thread.name.startswith("crm-build-"):
            thread.join(timeout=120)


@pytest.fixture(autouse=True, scope="session")
def _revisions_never_in_the_repository(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """An app built without CRM_MIGRATIONS_DIR writes its revision to a temp folder, not migrations/;
    one without CRM_FILES_DIR its files to a temp folder too (test workers must not share them).
    Nothing under the checkout's instance/ is read either: `make run` writes instance/secret_key,
    which a test app without SECRET_KEY would otherwise sign with instead of the placeholder."""
    folders = {"CRM_MIGRATIONS_DIR": "revisions", "CRM_METADATA_CACHE_DIR": "metadata_versions",
               "CRM_FILES_DIR": "files", "CRM_SECRET_KEY_FILE": "secret"}
    previous = {key: os.environ.get(key) for key in folders}
    for key, name in folders.items():  # metadata versions' cache folders too (app/metaversions/)
        folder = tmp_path_factory.mktemp(name)
        os.environ[key] = str(folder / "secret_key" if key == "CRM_SECRET_KEY_FILE" else folder)
    yield
    for key, value in previous.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def reset_database(url: str) -> None:
    """Empty a PostgreSQL test database (SQLite tests get a new file instead)."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        # A connection a finished test left open (a response not yet closed) would hold
        # locks and make DROP SCHEMA wait forever: end them first.
        conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                             "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
        conn.execute(sa.text("SET lock_timeout = '30s'"))
        conn.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


@contextmanager
def fresh_database(fallback_dir: Path) -> Iterator[str]:
    """A URL of an empty database: a new SQLite file, or the emptied PostgreSQL test database."""
    url = os.environ.get(DB_ENV)
    if not url:
        # tmpfs when the machine has one: SQLite's fsync per DDL statement dominates app set-up.
        folder = Path(tempfile.mkdtemp(dir="/dev/shm")) if Path("/dev/shm").is_dir() else fallback_dir
        yield f"sqlite:///{folder / 'crm.db'}"
        shutil.rmtree(folder, ignore_errors=True)
        return
    reset_database(url)
    yield url


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    with fresh_database(tmp_path) as url:
        yield url


def write_tree(root: Path, entities: dict[str, str], crm: str | None = None) -> Path:
    """Write a metadata tree: crm.yaml plus entities/<name>.yaml (dedented)."""
    (root / "entities").mkdir(parents=True, exist_ok=True)
    (root / "crm.yaml").write_text(textwrap.dedent(crm or "name: Test CRM\nlanguages: [en, zh]\n"),
                                   encoding="utf-8")
    for name, text in entities.items():
        (root / "entities" / f"{name}.yaml").write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def build_test_app(database_url: str, metadata_dir: Path | str, plugins_dir: Path,
                   **overrides: Any) -> Any:
    """An app on a test database, permissions synced and the admin created."""
    settings = {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "CRM_METADATA_DIR": str(metadata_dir),
        "CRM_PLUGINS_DIR": str(plugins_dir),
        "CRM_MIGRATIONS_DIR": str(plugins_dir.parent / "migrations"),
        "WTF_CSRF_ENABLED": False,
        "TESTING": True,
        "SECRET_KEY": "test-secret-only-for-the-test-suite-0123456789",
        # automations: no outbox job thread outliving a test; tests of the outbox drive it or ask for "auto"
        "CRM_OUTBOX_DISPATCH": "off",
        # one cheap hash round: a login costs scrypt ~170 ms of CPU, and the suite logs in thousands
        # of times (the hash method is FAB's setting; production keeps FAB's scrypt default)
        "FAB_PASSWORD_HASH_METHOD": "pbkdf2:sha256:1",
        # no statement timeout on a loaded test machine, unless a test (or the environment) asks
        "CRM_WEB_STATEMENT_TIMEOUT_MS": int(os.environ.get("CRM_WEB_STATEMENT_TIMEOUT_MS", 0)),
    }
    settings.update(overrides)
    app = create_app(settings)
    with app.app_context():
        state = app.extensions["crm"]
        sync_permissions(state.appbuilder)
        ensure_admin(state.appbuilder, ADMIN_PASSWORD)
    return app


def dispose_app(app: Any) -> None:
    with app.app_context():
        state = app.extensions["crm"]
        state.db.session.remove()
        state.db.engine.dispose()


@pytest.fixture
def make_app(database_url: str, tmp_path: Path) -> Iterator[Callable[..., Any]]:
    apps: list[Any] = []

    def factory(metadata_dir: Path | str = STARTER, **overrides: Any) -> Any:
        app = build_test_app(database_url, metadata_dir, tmp_path / "no-plugins", **overrides)
        apps.append(app)
        return app

    yield factory
    for app in apps:
        dispose_app(app)


@pytest.fixture
def app(make_app: Callable[..., Any]) -> Any:
    return make_app()


_client_addresses = itertools.count(1)


def own_address(client: Any) -> Any:
    """Give a test client its own remote address: logins are rate limited per address."""
    number = next(_client_addresses)
    client.environ_base["REMOTE_ADDR"] = f"10.{number >> 16 & 255}.{number >> 8 & 255}.{number & 255}"
    return client


def with_demo(app: Any, size: int = 40) -> Any:
    """`app` with the demo users and `size` demo records of each entity (committed)."""
    from app.demo.loader import load_demo
    from app.demo.users import create_demo_users

    with app.app_context():
        state = app.extensions["crm"]
        create_demo_users(state.appbuilder, state.models)
        load_demo(state.db.session, state.models, size=size)
        state.db.session.commit()
    return app


def login(client: Any, username: str = "admin", password: str = ADMIN_PASSWORD) -> Any:
    own_address(client)
    response = client.post("/login/", data={"username": username, "password": password})
    assert response.status_code == 302, response.data[:500]
    return client


def user_id(app: Any, username: str) -> int:
    """A user's id by login: the user picker lists people by their shown name, so the first
    answer to `?q=sales_rep` may be sales_rep2."""
    with app.app_context():
        return app.extensions["crm"].appbuilder.sm.find_user(username=username).id


@pytest.fixture
def client(app: Any) -> Any:
    return login(app.test_client())


@contextmanager
def count_queries(app: Any) -> Iterator[list[str]]:
    """Collect the SQL statements run inside the block."""
    statements: list[str] = []
    with app.app_context():
        engine = app.extensions["crm"].db.engine

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html)
    assert match, "no csrf token in page"
    return match.group(1)
