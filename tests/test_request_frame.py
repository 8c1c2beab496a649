"""Issue 18, the request frame of a JSON list: the signed-in user's row from memory, a page's ids
and rows in one statement, marshmallow schemas compiled (same JSON), and the round trips a warm
list request makes, counted on the wire (tests/wire.py): its statements and nothing around them.

Real database (SQLite or CRM_TEST_DATABASE_URL), real Redis for the cross-process case.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import nullcontext
from typing import Any

import pytest

from app.demo.users import DEMO_PASSWORD
from app.metaversions.live import install
from app.security.access import access_for
from app.web.dumping import compiled
from tests import test_performance
from tests.conftest import count_queries, login, with_demo
from tests.jobs_support import test_redis_url
from tests.test_performance import two_workers
from tests.wire import Relay, relay_for, relayed_url

USER_ROW = re.compile(r"FROM ab_user\s+WHERE ab_user\.id = ", re.IGNORECASE)
demo_app = test_performance.crm  # its `crm` fixture (an app with demo users and records), as `demo_app`
LIST = "/api/v1/opportunity/?q=(filters:!((col:stage,opr:eq,value:proposal)),page_size:25)"


def _set_active(app: Any, username: str, active: bool) -> None:
    with app.app_context():
        sm = app.extensions["crm"].appbuilder.sm
        user = sm.find_user(username=username)
        user.active = active
        sm.update_user(user)


def test_a_warm_json_list_reads_no_user_row_and_runs_two_statements(demo_app: Any) -> None:
    rep = login(demo_app.test_client(), "sales_rep", DEMO_PASSWORD)
    assert rep.get(LIST).status_code == 200
    with count_queries(demo_app) as statements:
        assert rep.get(LIST).status_code == 200
    assert not [s for s in statements if USER_ROW.search(s)], statements
    assert len(statements) <= 2, statements  # the page (ids and rows together) and the capped count


@pytest.fixture
def relays() -> Iterator[list[Relay]]:
    """The counting relays a test opens, closed after it."""
    opened: list[Relay] = []
    yield opened
    for relay in opened:
        relay.close()


def _relayed_app(make_app: Any, database_url: str, relays: list[Relay], **overrides: Any) -> tuple[Any, Relay | None]:
    """An app whose PostgreSQL connections go through a counting relay (None on SQLite: no wire)."""
    if not database_url.startswith("postgresql"):
        return make_app(**overrides), None
    database = relay_for(database_url)
    relays.append(database)
    return make_app(SQLALCHEMY_DATABASE_URI=relayed_url(database_url, database), **overrides), database


@pytest.mark.parametrize("url", [LIST, "/crm/opportunity/list/?psize_OpportunityView=25"])
@pytest.mark.parametrize("username", ["admin", "sales_rep"])
def test_a_warm_list_request_makes_a_round_trip_per_statement_and_one_to_redis(
        make_app: Any, database_url: str, relays: list[Relay], url: str, username: str) -> None:
    """Its statements (the page, the capped count) and no BEGIN or ROLLBACK around them
    (plain reads need no transaction: app/models/autocommit.py); the access and user-row
    generations in one MGET. With the statement timeout on: it costs no round trip either."""
    redis_url = test_redis_url()
    redis = relay_for(redis_url)
    relays.append(redis)
    app, database = _relayed_app(make_app, database_url, relays, REDIS_URL=relayed_url(redis_url, redis),
                                 CRM_ACCESS_CACHE_SECONDS=3600, CRM_WEB_STATEMENT_TIMEOUT_MS=5000)
    with_demo(app)
    client = login(app.test_client(), username, DEMO_PASSWORD if username != "admin" else "admin-pass-1")
    for _ in range(2):  # warm: access, user row, kept statements, the pool's connection
        assert client.get(url).status_code == 200
    with (database.counting() if database else nullcontext([0, 0])) as on_database, redis.counting() as on_redis, \
            count_queries(app) as statements:
        assert client.get(url).status_code == 200
    assert 1 <= len(statements) <= 2, statements  # no count when one page holds every row
    # round trips, new connections: the statements, nothing around them
    assert on_database == ([len(statements), 0] if database else [0, 0]), (on_database, statements)
    assert on_redis == [1, 0], on_redis


def test_the_metadata_version_poll_is_one_round_trip(make_app: Any, database_url: str, relays: list[Relay]) -> None:
    """The live dispatcher's check of the version in force (every CRM_METADATA_POLL_SECONDS, and
    after a 4xx): its one-row SELECT, no BEGIN or ROLLBACK."""
    app, database = _relayed_app(make_app, database_url, relays)
    if database is None:
        pytest.skip("SQLite: no round trips")
    dispatcher = install(app, poll_seconds=3600)
    version = dispatcher.check(force=True)  # the pool's connection made
    with database.counting() as trips:
        assert dispatcher.check(force=True) == version
    dispatcher.close()
    assert trips == [1, 0]


def test_a_deactivated_user_is_refused_on_the_next_request(demo_app: Any) -> None:
    rep = login(demo_app.test_client(), "sales_rep", DEMO_PASSWORD)
    assert rep.get(LIST).status_code == 200
    assert rep.get(LIST).status_code == 200  # the row is cached now
    _set_active(demo_app, "sales_rep", False)
    assert rep.get(LIST).status_code == 401
    _set_active(demo_app, "sales_rep", True)
    assert rep.get(LIST).status_code == 200


def test_the_cached_user_is_the_sessions_own_object(demo_app: Any) -> None:
    """A request that edits the signed-in user (here: their own name) writes through the
    cached row's object, and the next request sees the new name."""
    admin = login(demo_app.test_client())
    assert admin.get(LIST).status_code == 200
    with demo_app.test_request_context():
        state = demo_app.extensions["crm"]
        sm = state.appbuilder.sm
        pk = sm.find_user(username="admin").id
        state.db.session.remove()
        first = sm.get_user_by_id(pk)
        assert first is sm.get_user_by_id(pk)  # one object per session
        assert first in state.db.session
        first.first_name = "管理员"
        state.db.session.commit()
        state.db.session.remove()
        assert sm.get_user_by_id(pk).first_name == "管理员"
        assert [r.name for r in sm.get_user_by_id(pk).roles] == ["Admin"]  # roles load on use


def test_redis_carries_a_deactivation_to_another_process(make_app: Any) -> None:
    """A user deactivated through one worker is refused by the other at its next request,
    although that one's cache held the row."""
    first, rep, statements = two_workers(make_app)
    assert not [s for s in statements if USER_ROW.search(s)]  # warm: the row came from memory
    _set_active(first, "sales_rep", False)
    assert rep.get("/api/v1/opportunity/").status_code == 401


@pytest.mark.parametrize("order", ["close_date", "stage", "amount", "weighted_amount", "name", "id"])
def test_a_page_in_one_statement_is_the_page_of_two(demo_app: Any, order: str) -> None:
    """The ids joined to their rows (one statement) give the same records in the same order as
    the ids then the rows (two), for every page, ties included (many records share a stage)."""
    with demo_app.test_request_context():
        state = demo_app.extensions["crm"]
        api = next(v for v in state.appbuilder.baseviews if getattr(v, "resource_name", "") == "opportunity")
        datamodel = api.datamodel
        for direction in ("asc", "desc"):
            for page in range(4):
                _, items = datamodel.query(datamodel.get_filters(), order, direction, page=page, page_size=7)
                ids_query = datamodel.apply_all(datamodel.session.query(datamodel.obj), datamodel.get_filters(),
                                                order, direction, page=page, page_size=7)
                expected = [row[0] for row in ids_query.with_entities(datamodel.obj.id)]
                assert [i.id for i in items] == expected, (order, direction, page)


@pytest.mark.parametrize("username", ["admin", "sales_rep", "marketing"])
def test_compiled_schemas_dump_what_marshmallow_dumps(demo_app: Any, username: str) -> None:
    """Every entity's list and record schemas, on demo records, as each role sees links
    (a link the user may not read has a restricted title)."""
    with demo_app.test_request_context():
        state = demo_app.extensions["crm"]
        from flask import g
        g.crm_access = access_for(state.appbuilder.sm.find_user(username=username))
        for api in state.appbuilder.baseviews:
            if not hasattr(api, "list_model_schema") or not hasattr(api, "entity"):
                continue
            items = state.db.session.query(api.datamodel.obj).limit(15).all()
            for schema in (api.list_model_schema, api.show_model_schema):
                dump = compiled(schema)
                assert [dump(i) for i in items] == schema.dump(items, many=True), (api.resource_name, schema)
