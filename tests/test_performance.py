"""Issue 18: capped list counts, who-may-do-what from memory, statements per request, gzip.

Real database (SQLite or CRM_TEST_DATABASE_URL), real Redis for the cross-process case.
"""

from __future__ import annotations

import gzip
import os
import re
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa

from app.demo.users import DEMO_PASSWORD, create_demo_users
from tests.conftest import count_queries, login, with_demo, write_tree
from tests.jobs_support import DEFAULT_REDIS, REDIS_ENV, test_redis_url

ITEM = """
label: {en: Item, zh: 物品}
title: name
fields:
  name: {type: string, required: true}
  rank: {type: integer}
list:
  columns: [name, rank, owner]
  filters: [name, rank]
  order: rank
"""
AUTH_TABLES = re.compile(r"\b(FROM|JOIN) (ab_role|ab_user_role|ab_group|ab_user_group|ab_permission|ab_view_menu|crm_team)")


@pytest.fixture
def items(make_app: Any, tmp_path: Any) -> Any:
    app = make_app(write_tree(tmp_path / "meta", {"item": ITEM}), CRM_LIST_COUNT_CAP=10)
    client = login(app.test_client())
    for i in range(25):
        assert client.post("/api/v1/item/", json={"name": f"n{i}", "rank": i}).status_code == 201
    return app, client


def test_a_big_list_stops_counting_at_the_cap_and_pages_on(items: Any) -> None:
    app, client = items
    body = client.get("/api/v1/item/?q=(page:0,page_size:5)").json
    assert body["count_exact"] is False and body["count"] > 10 and len(body["result"]) == 5
    html = client.get("/crm/item/list/?psize_ItemView=5").data.decode()
    assert "10+" in html and 'rel="next"' in html
    # past the cap the page still shows its rows and a next page; the last page knows the total
    deep = client.get("/crm/item/list/?psize_ItemView=5&page_ItemView=3").data.decode()
    assert "n15" in deep and 'rel="next"' in deep
    last = client.get("/api/v1/item/?q=(page:4,page_size:5)").json
    assert last["count"] == 25 and last["count_exact"] is True and len(last["result"]) == 5


def test_a_selective_filter_or_small_list_is_counted_exactly(items: Any) -> None:
    app, client = items
    body = client.get("/api/v1/item/?q=(filters:!((col:rank,opr:gt,value:19)),page_size:3)").json
    assert body["count"] == 5 and body["count_exact"] is True
    with count_queries(app) as statements:  # one page holds everything: no count statement at all
        body = client.get("/api/v1/item/?q=(filters:!((col:rank,opr:gt,value:19)),page_size:25)").json
    assert body["count"] == 5 and body["count_exact"] is True
    assert not any("count(" in s.lower() for s in statements)
    html = client.get("/crm/item/list/?_flt_0_rank=7").data.decode()
    assert "Record Count:</strong> 1" in html


def test_cap_zero_counts_exactly(make_app: Any, tmp_path: Any) -> None:
    app = make_app(write_tree(tmp_path / "meta", {"item": ITEM}), CRM_LIST_COUNT_CAP=0)
    client = login(app.test_client())
    for i in range(12):
        client.post("/api/v1/item/", json={"name": f"n{i}", "rank": i})
    body = client.get("/api/v1/item/?q=(page_size:5)").json
    assert body["count"] == 12 and body["count_exact"] is True


# -- statements per request on a warm cache ---------------------------------------------------
@pytest.fixture
def crm(make_app: Any) -> Any:
    return with_demo(make_app())


def _warm(client: Any, url: str) -> list[str]:
    assert client.get(url).status_code == 200
    with count_queries(client.application) as statements:
        assert client.get(url).status_code == 200
    return statements


@pytest.mark.parametrize("user", ["admin", "sales_rep", "sales_manager"])
def test_a_list_request_runs_at_most_four_statements_on_a_warm_cache(crm: Any, user: str) -> None:
    client = login(crm.test_client(), user, "admin-pass-1" if user == "admin" else DEMO_PASSWORD)
    for url in ("/crm/opportunity/list/", "/api/v1/opportunity/?q=(page_size:25)",
                "/api/v1/opportunity/?q=(filters:!((col:stage,opr:eq,value:prospecting)))",
                "/crm/account/list/?psize_AccountView=100"):
        statements = _warm(client, url)
        assert len(statements) <= 4, (url, statements)
        auth = [s for s in statements if AUTH_TABLES.search(s)]
        assert auth == [], (url, auth)  # roles, grants, groups and teams come from memory


def test_the_record_page_does_not_grow_with_its_related_records(crm: Any) -> None:
    client = login(crm.test_client())
    with crm.app_context():
        ids = client.get("/api/v1/account/?q=(page_size:2)").json["ids"]
    first, second = ids
    for i in range(8):  # the second account gets 8 more contacts and activities than the first
        client.post("/api/v1/contact/", json={"name": f"联系人{i}", "account": second})
    counts = [len(_warm(client, f"/crm/account/show/{pk}")) for pk in (first, second)]
    assert counts[0] == counts[1], counts


def test_a_role_change_is_obeyed_on_the_next_request(crm: Any) -> None:
    rep = login(crm.test_client(), "sales_rep", DEMO_PASSWORD)
    assert rep.get("/api/v1/opportunity/").status_code == 200
    assert rep.get("/api/v1/opportunity/").status_code == 200  # warm
    with crm.app_context():
        sm = crm.extensions["crm"].appbuilder.sm
        user = sm.find_user(username="sales_rep")
        user.roles = [sm.find_role("Marketing")]  # marketing sees no opportunities
        sm.update_user(user)
    assert rep.get("/api/v1/opportunity/").status_code == 403
    assert rep.get("/crm/campaign/list/").status_code == 200


def test_a_team_change_widens_the_managers_scope_at_once(crm: Any) -> None:
    manager = login(crm.test_client(), "sales_manager", DEMO_PASSWORD)
    admin = login(crm.test_client())
    outsider = admin.post("/api/v1/opportunity/", json={"name": "外部商机", "account": 1}).json["id"]
    assert manager.get(f"/api/v1/opportunity/{outsider}").status_code == 404  # admin is in no team
    with crm.app_context():
        state = crm.extensions["crm"]
        team, member = state.models.core["crm_team"], state.models.core["crm_team_member"]
        session = state.db.session
        team_id = session.execute(team.select().where(
            team.c.manager_id == state.appbuilder.sm.find_user(username="sales_manager").id)).first().id
        session.execute(member.insert().values(team_id=team_id,
                                                user_id=state.appbuilder.sm.find_user(username="admin").id))
        session.commit()
    assert manager.get(f"/api/v1/opportunity/{outsider}").status_code == 200


def suite_redis_url() -> str:
    return os.environ.get(REDIS_ENV, DEFAULT_REDIS)


def two_workers(make_app: Any) -> tuple[Any, Any, list[str]]:
    """Two apps on one database and Redis, standing for two worker processes: the first, a
    Sales Rep's client of the second, and the statements of the client's warm request."""
    redis_url = test_redis_url()
    first = make_app(REDIS_URL=redis_url, CRM_ACCESS_CACHE_SECONDS=3600)
    with first.app_context():
        state = first.extensions["crm"]
        create_demo_users(state.appbuilder, state.models)
    second = make_app(REDIS_URL=redis_url, CRM_ACCESS_CACHE_SECONDS=3600)
    rep = login(second.test_client(), "sales_rep", DEMO_PASSWORD)
    assert rep.get("/api/v1/opportunity/").status_code == 200
    with count_queries(second) as statements:
        assert rep.get("/api/v1/opportunity/").status_code == 200
    return first, rep, statements


def test_redis_carries_a_change_to_another_process(make_app: Any) -> None:
    """A role change made through one worker is obeyed by the other's warm cache at once
    (the Redis generation)."""
    first, rep, statements = two_workers(make_app)
    assert not any(AUTH_TABLES.search(s) for s in statements)  # warm
    with first.app_context():
        sm = first.extensions["crm"].appbuilder.sm
        user = sm.find_user(username="sales_rep")
        user.roles = [sm.find_role("Marketing")]
        sm.update_user(user)
    assert rep.get("/api/v1/opportunity/").status_code == 403


@contextmanager
def redis_commands(url: str) -> Iterator[list[list[str]]]:
    """The commands the Redis server receives for `url`'s database while the block runs (MONITOR:
    what really crossed the wire, other databases' traffic left out)."""
    from redis import Redis

    server = Redis.from_url(url)
    db, end = server.connection_pool.connection_kwargs.get("db", 0), f"crm-test-end-{uuid.uuid4().hex}"
    seen: list[list[str]] = []
    ready = threading.Event()

    def listen() -> None:
        with server.monitor() as monitor:
            ready.set()
            for command in monitor.listen():
                words = command["command"].split(" ")
                if end in command["command"]:
                    return
                if command.get("db") == db:
                    seen.append(words)

    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    ready.wait(5)
    server.echo("crm-test-start")  # MONITOR is listening once its own connection answered
    try:
        yield seen
    finally:
        server.echo(end)
        thread.join(10)


def test_a_warm_request_reads_every_generation_in_one_redis_round_trip(make_app: Any) -> None:
    """The access and the user-row generations (and the others of the app) are one MGET per
    request, not a GET each."""
    _, rep, _ = two_workers(make_app)
    with redis_commands(suite_redis_url()) as seen:
        assert rep.get("/api/v1/opportunity/").status_code == 200
    reads = [words for words in seen if words[0].upper() in ("GET", "MGET") and "generation" in " ".join(words)]
    assert len(reads) == 1 and reads[0][0].upper() == "MGET", seen
    keys = " ".join(reads[0])
    assert "crm:access-generation" in keys and "crm:user-generation" in keys


def test_rows_buttons_follow_row_rules_without_a_query_per_row(crm: Any) -> None:
    rep = login(crm.test_client(), "sales_rep", DEMO_PASSWORD)
    html = rep.get("/crm/account/list/?psize_AccountView=25").data.decode()
    shown = set(re.findall(r'/crm/account/show/(\d+)', html))
    editable = set(re.findall(r'/crm/account/edit/(\d+)', html))
    own = {str(pk) for pk in rep.get("/api/v1/account/?q=(page_size:100,columns:!(id,owner))").json["ids"]}
    assert editable and editable < shown and editable <= own


# -- compressed answers -----------------------------------------------------------------------
def test_big_answers_are_gzipped_only_for_clients_that_accept_it(crm: Any) -> None:
    client = login(crm.test_client())
    plain = client.get("/crm/opportunity/list/")
    assert "Content-Encoding" not in plain.headers
    packed = client.get("/crm/opportunity/list/", headers={"Accept-Encoding": "gzip, deflate"})
    assert packed.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in packed.headers["Vary"]
    assert len(packed.data) < len(plain.data) / 3
    assert gzip.decompress(packed.data).decode().count("<tr") == plain.data.decode().count("<tr")
    body = client.get("/api/v1/opportunity/?q=(page_size:25)", headers={"Accept-Encoding": "gzip"})
    assert body.headers["Content-Encoding"] == "gzip" and b'"count"' in gzip.decompress(body.data)
    small = client.get("/api/v1/opportunity/_info?q=(keys:!(permissions))", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in small.headers  # under CRM_GZIP_MIN_BYTES
    refused = client.get("/crm/opportunity/list/", headers={"Accept-Encoding": "gzip;q=0"})
    assert "Content-Encoding" not in refused.headers


# -- start-up -----------------------------------------------------------------------------------
# the schema check's reads: Alembic's state, the digest, table reflection (columns, indexes, keys);
# FAB's own start-up (one list of table names, its roles) is not the schema check
SCHEMA_READS = re.compile(r"alembic_version|crm_schema_version|table_info|index_list|foreign_key_list|"
                          r"pg_attribute|pg_index|pg_constraint|information_schema", re.IGNORECASE)


def _build_statements(make_app: Any, meta: Any) -> list[str]:
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", record)
    try:
        make_app(meta)
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", record)
    return [s for s in statements if SCHEMA_READS.search(s)]


def test_a_warm_start_reads_one_row_for_the_schema_check(make_app: Any, tmp_path: Any) -> None:
    meta = write_tree(tmp_path / "meta", {"item": ITEM})
    first = _build_statements(make_app, meta)
    assert len(first) > 5  # a new database: history run, tables reflected and created
    warm = _build_statements(make_app, meta)
    # one-row reads of alembic_version only (the quick check; the versions' revision heads),
    # no Alembic history, no reflection
    assert len(warm) <= 2 and all("FROM alembic_version" in s for s in warm), warm
    # a metadata change is not hidden by the shortcut: the next start applies it
    write_tree(tmp_path / "meta", {"item": ITEM.replace("  rank: {type: integer}",
                                                        "  rank: {type: integer}\n  colour: {type: string}")})
    changed = _build_statements(make_app, meta)
    assert len(changed) > 1
    client = login(make_app(meta).test_client())
    assert client.post("/api/v1/item/", json={"name": "x", "colour": "红"}).status_code == 201


def _menu(html: str) -> str:
    return html[html.index('class="nav navbar-nav"'):html.index("crm-global-search")]


def test_the_cached_menu_follows_roles_language_and_role_changes(crm: Any) -> None:
    admin = login(crm.test_client())
    marketing = login(crm.test_client(), "marketing", DEMO_PASSWORD)
    assert "/crm/opportunity/list/" in _menu(admin.get("/crm/account/list/").data.decode())
    assert "/crm/opportunity/list/" not in _menu(marketing.get("/crm/account/list/").data.decode())
    marketing.post("/lang/zh")
    assert "线索" in _menu(marketing.get("/crm/account/list/").data.decode())
    assert "线索" not in _menu(admin.get("/crm/account/list/").data.decode())  # admin still reads English
    with crm.app_context():
        sm = crm.extensions["crm"].appbuilder.sm
        user = sm.find_user(username="marketing")
        user.roles = [sm.find_role("Sales Rep")]
        sm.update_user(user)
    assert "/crm/opportunity/list/" in _menu(marketing.get("/crm/account/list/").data.decode())


WORKER_MODULES = """
import json, sys
from app import create_app
app = create_app(json.loads(sys.argv[1]))
print(json.dumps(sorted(m for m in ("alembic", "mako", "plotly.utils", "narwhals", "xlsxwriter", "redis")
                        if m in sys.modules)))
"""


def test_a_worker_on_a_current_schema_leaves_the_heavy_libraries_unloaded(make_app: Any, tmp_path: Any) -> None:
    """Issue 18 (memory): Alembic with mako (schema work), plotly's encoder with narwhals (the
    first chart), xlsxwriter (the first export) and redis (REDIS_URL unset) are ~25 MB of a
    worker's RSS; a worker on an applied schema loads them on first use, not at build."""
    import json
    import os
    import subprocess
    import sys

    app = make_app()  # creates the schema: the worker below boots on it
    keys = ("SQLALCHEMY_DATABASE_URI", "CRM_METADATA_DIR", "CRM_PLUGINS_DIR", "CRM_MIGRATIONS_DIR",
            "SECRET_KEY", "TESTING", "CRM_OUTBOX_DISPATCH")
    settings = {k: app.config[k] for k in keys}
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    out = subprocess.run([sys.executable, "-c", WORKER_MODULES, json.dumps(settings)], env=env,
                         capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_the_lists_add_and_edit_buttons_follow_a_permission_change_at_once(crm: Any) -> None:
    """The CRUD buttons' permissions are kept per role set (app/web/menucache.py): a role that
    loses `can_create` and `can_write` on accounts loses the add and edit buttons on its next page."""
    rep = login(crm.test_client(), "sales_rep", DEMO_PASSWORD)
    html = rep.get("/crm/account/list/").data.decode()
    assert "/crm/account/add" in html and "/crm/account/edit/" in html
    with crm.app_context():
        sm = crm.extensions["crm"].appbuilder.sm
        role = sm.find_role("Sales Rep")
        for permission in ("can_create", "can_write"):
            sm.del_permission_role(role, sm.find_permission_view_menu(permission, "account"))
    html = rep.get("/crm/account/list/").data.decode()
    assert "/crm/account/show/" in html
    assert "/crm/account/add" not in html and "/crm/account/edit/" not in html
