"""The API list GET served by our own route (app/web/apilist.py) answers byte for byte what FAB's
route answers (`CRM_REQUEST_FRAME=fab`): every starter entity, admin and row-scoped, hidden-field
and restricted-link roles, a zh reader, with filters, sorts, pages, `columns` and `keys`; the
denials (401, 403) and bad arguments (400) the same; the per-type row writers the same as each
field's `_serialize`; a session cookie verified once per value still refused when expired or
tampered with.

Real database (SQLite or CRM_TEST_DATABASE_URL); both routes run in the same app, switched by
`CRM_REQUEST_FRAME` per request.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from app.web.apilist import lean_list_view
from app.web.rowdump import value_writer
from tests import test_api_listread as listread
from tests.test_api_listread import ROLES, STARTER, _api, _argument_sets, _url

demo_app, clients = listread.demo_app, listread.clients  # the demo app and its users' clients


def _get(client: Any, url: str, frame: str) -> Any:
    """`url` answered with `CRM_REQUEST_FRAME` set to `frame` (then back to the default)."""
    config = client.application.config
    config["CRM_REQUEST_FRAME"] = frame
    response = client.get(url)
    config["CRM_REQUEST_FRAME"] = "lean"
    return response


def _answer(response: Any) -> tuple[int, str, str]:
    return response.status_code, response.headers.get("Content-Type", ""), response.get_data(as_text=True)


def _same(client: Any, url: str) -> Any:
    """FAB's answer and ours (asked twice: a `q` not seen yet goes through FAB's view once)."""
    old = _get(client, url, "fab")
    first, second = _get(client, url, "lean"), _get(client, url, "lean")
    assert _answer(first) == _answer(old), url
    assert _answer(second) == _answer(old), url
    return second


def test_every_list_endpoint_is_served_by_the_lean_route(demo_app: Any) -> None:
    for entity in STARTER:
        api = _api(demo_app, entity)
        view = demo_app.view_functions[f"{api.blueprint.name}.get_list"]
        assert view.__code__ is lean_list_view(api, view).__code__, entity
        assert view.__name__ == "get_list"  # FAB's name: the limiter and CSRF see the same endpoint


@pytest.mark.parametrize("entity", STARTER)
def test_every_entity_lists_the_same_bytes_on_both_routes(demo_app: Any, clients: dict[str, Any],
                                                          entity: str) -> None:
    sets = _argument_sets(demo_app, clients["admin"], entity)
    others = [clients[user] for user in ROLES[1:]]
    answered = 0
    for index, args in enumerate(sets[::2]):  # every other set: the other half is test_api_listread's
        for client in (clients["admin"], others[index % len(others)]):
            answered += _same(client, _url(entity, args)).status_code == 200
    assert answered > len(sets) // 3
    assert _api(demo_app, entity).__dict__.get("_list_frames")  # our route answered (its frames kept)


def test_a_zh_reader_gets_the_same_labels_and_rows(demo_app: Any, clients: dict[str, Any]) -> None:
    zh = clients["sales_rep"]
    zh.post("/lang/zh")
    try:
        for args in ({}, {"keys": ["label_columns", "list_title", "result"]},
                     {"filters": [{"col": "stage", "opr": "eq", "value": "proposal"}], "order_column": "close_date",
                      "order_direction": "desc", "page_size": 25}):
            body = _same(zh, _url("opportunity", args)).json
        assert body["result"] is not None
        labels = _same(zh, _url("opportunity", {})).json["label_columns"]
        assert any(ord(ch) > 0x2E80 for text in labels.values() for ch in text), labels
    finally:
        zh.post("/lang/en")


def test_refusals_and_bad_arguments_are_the_same(demo_app: Any, clients: dict[str, Any]) -> None:
    anonymous = demo_app.test_client()
    for url in (_url("opportunity", {}), _url("opportunity", {"page_size": 5})):
        assert _same(anonymous, url).status_code == 401
    marketing = clients["marketing"]  # reads no tickets
    assert _same(marketing, _url("ticket", {})).status_code == 403
    admin = clients["admin"]
    for url in ("/api/v1/opportunity/?q=(page_size:", "/api/v1/opportunity/?q=(page:-1)",
                "/api/v1/opportunity/?q=(page_size:100000000)", _url("opportunity", {"page": 200000}),
                _url("opportunity", {"order_column": "nope", "order_direction": "asc"}),
                _url("opportunity", {"filters": [{"col": "stage", "opr": "zz", "value": "x"}]}),
                _url("opportunity", {"columns": ["nope"]})):
        response = _same(admin, url)
        assert response.status_code in (200, 400), (url, response.status_code)
    agent = clients["support_agent"]  # amount is hidden from support agents: refused as unknown
    assert _same(agent, _url("opportunity", {"columns": ["name", "amount"]})).status_code == 400


def test_the_row_writers_match_serialize_on_every_list_schema(demo_app: Any) -> None:
    samples = [None, 0, 7, -3, 12, Decimal("12.50"), Decimal("0.10"), Decimal("-1E+3"), 3.25, "12", "华为", "",
               b"bytes \xe4\xb8\xad", True, dt.date(2026, 12, 5), dt.datetime(2026, 12, 5, 13, 1, 2)]
    covered = set()
    for entity in STARTER:
        api = _api(demo_app, entity)
        for name, field in api.list_model_schema.dump_fields.items():
            writer = value_writer(field)
            if writer is None:
                continue
            covered.add(type(field).__name__)
            for value in samples:
                try:
                    expected = field._serialize(value, name, None)
                except Exception as exc:  # noqa: BLE001 - the writer must fail alike
                    with pytest.raises(type(exc)):
                        writer(value)
                    continue
                assert writer(value) == expected and type(writer(value)) is type(expected), (entity, name, value)
    assert {"Integer", "Decimal", "String", "Date"} <= covered


def test_a_session_cookie_is_refused_when_expired_or_altered(demo_app: Any, clients: dict[str, Any],
                                                             monkeypatch: Any) -> None:
    rep = clients["sales_rep"]
    url = _url("opportunity", {"page_size": 3})
    assert rep.get(url).status_code == 200 and rep.get(url).status_code == 200  # verified, then remembered
    cookie = rep.get_cookie("session")
    assert cookie is not None
    interface = demo_app.session_interface
    assert any(key[0] == cookie.value for key in interface.verified)
    altered = demo_app.test_client()
    altered.set_cookie("session", cookie.value[:-2] + ("AA" if not cookie.value.endswith("AA") else "BB"))
    assert altered.get(url).status_code == 401
    lifetime = demo_app.permanent_session_lifetime.total_seconds()
    import app.security.headers as headers
    later = headers.time.time() + lifetime + 5
    monkeypatch.setattr(headers.time, "time", lambda: later)
    assert rep.get(url).status_code == 401  # past PERMANENT_SESSION_LIFETIME: no session
