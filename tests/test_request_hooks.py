"""The request frame's hooks folded into one before- and one after-request call (app/web/frame.py).

Every answer still goes through all of them — success, a before-hook's refusal (page argument,
text argument, rate limit), an error page, an exception — and the rate limiter still counts wherever a
limit applies, a configured default limit included, though it is skipped where none can."""

from __future__ import annotations

import json
from typing import Any

from app.ops.metrics import REGISTRY
from tests.conftest import login, own_address, write_tree
from tests.test_ops_health import request_lines

FRAME_HEADERS = ("Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy",
                 "X-Request-ID")


def _count(method: str, endpoint: str, status: int) -> float:
    value = REGISTRY.get_sample_value("crm_http_requests_total",
                                      {"method": method, "endpoint": endpoint, "status": str(status)})
    return value or 0.0


def test_every_kind_of_answer_goes_through_every_hook(make_app: Any) -> None:
    app = make_app()

    @app.get("/_test_boom")
    def boom() -> Any:  # a view that fails: the 500 answer is framed too
        raise RuntimeError("boom")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    assert len(app.before_request_funcs[None]) == 1 and len(app.after_request_funcs[None]) == 1
    client = login(app.test_client())
    anonymous = own_address(app.test_client())
    page_arg = "/crm/opportunity/list/?page_OpportunityView=x"
    calls = [  # (client, method, path, expected status, route pattern the metrics count)
        (client, "GET", "/api/v1/opportunity/", 200, "/api/v1/opportunity/"),
        (client, "GET", "/crm/opportunity/list/", 200, "/crm/opportunity/list/"),
        (client, "GET", page_arg, 400, "/crm/opportunity/list/"),  # the page-argument guard answers
        (client, "GET", "/api/v1/opportunity/?x=%00", 400, "/api/v1/opportunity/"),  # a NUL: refused before
        (client, "POST", "/api/v1/opportunity/", 422, "/api/v1/opportunity/"),  # an empty record
        (client, "GET", "/no/such/page", 404, "unmatched"),
        (client, "GET", "/_test_boom", 500, "/_test_boom"),
        (anonymous, "GET", "/crm/opportunity/list/", 302, "/crm/opportunity/list/"),  # to the login
        (anonymous, "GET", "/health", 200, "/health"),
    ]
    for who, method, path, status, rule in calls:
        before = _count(method, rule, status)
        with request_lines() as stream:
            answer = who.open(path, method=method, json={} if method == "POST" else None)
        assert answer.status_code == status, (path, answer.data[:300])
        for header in FRAME_HEADERS:
            assert answer.headers.get(header), (path, header)
        assert "'nonce-" in answer.headers["Content-Security-Policy"]
        if answer.mimetype in ("text/html", "application/json"):
            assert "Accept-Encoding" in answer.headers.get("Vary", ""), path
        assert _count(method, rule, status) == before + 1, path
        [line] = [json.loads(text) for text in stream.getvalue().splitlines()]
        assert (line["method"], line["status"], line["request_id"]) == \
            (method, status, answer.headers["X-Request-ID"]), path


def test_limits_still_apply_where_configured(make_app: Any) -> None:
    """The login views keep FAB's limit; a default limit (RATELIMIT_DEFAULT) reaches every route,
    so nothing is skipped then, and its refusal is framed like any answer."""
    app = make_app(RATELIMIT_DEFAULT="3 per minute")
    caller = own_address(app.test_client())
    answers = [caller.get("/health") for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[-1].headers.get("X-Frame-Options") == "DENY" and answers[-1].headers.get("X-Request-ID")
    plain = make_app()
    other = own_address(plain.test_client())
    assert all(other.get("/health").status_code == 200 for _ in range(12))  # no limit on /health
    for _ in range(10):
        other.post("/login/", data={"username": "admin", "password": "guess"})
    refused = other.post("/login/", data={"username": "admin", "password": "guess"})
    assert refused.status_code == 429 and refused.headers.get("Content-Security-Policy")


def test_a_page_that_changes_nothing_in_the_session_sends_no_cookie(app: Any) -> None:
    """A list page set the session's values again on every view (the same ones): the cookie was
    re-signed and re-sent on every page. A real change still sends it (the first page after the
    login puts the form token in the session)."""
    client = login(app.test_client())
    first = client.get("/crm/opportunity/list/")
    assert first.status_code == 200 and any(c.startswith("session=") for c in first.headers.getlist("Set-Cookie"))
    for _ in range(2):
        again = client.get("/crm/opportunity/list/")
        assert again.status_code == 200 and again.headers.getlist("Set-Cookie") == []
        assert "Cookie" in again.headers.get("Vary", "")  # the page still depends on who asks
    assert client.get("/api/v1/opportunity/").status_code == 200  # the session still holds the login


def test_a_remembered_q_answers_as_the_first_time(app: Any) -> None:
    """A `q` that parsed and validated is remembered (app/web/risonargs.py): the same q answers
    the same, each request on its own copy; a bad q is refused every time, never remembered."""
    client = login(app.test_client())
    q = "(filters:!((col:stage,opr:eq,value:proposal)),order_column:name,order_direction:asc,page:0,page_size:5)"
    answers = [client.get(f"/api/v1/opportunity/?q={q}") for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert answers[0].get_json() == answers[1].get_json() == answers[2].get_json()
    other = client.get("/api/v1/opportunity/?q=(order_column:name,order_direction:desc,page:0,page_size:2)")
    assert other.status_code == 200 and len(other.get_json()["result"]) <= 2
    for _ in range(2):
        bad = client.get("/api/v1/opportunity/?q=(page_size:'many')")
        assert bad.status_code == 400 and "Not a valid rison schema" in bad.get_json()["message"]


def test_a_flash_added_to_pending_ones_is_kept(make_app: Any) -> None:
    """Flask's flash appends to the session's list in place and sets it back: still a change, sent."""
    from flask import flash, get_flashed_messages, jsonify, request

    app = make_app()

    @app.get("/_test_flash")
    def add() -> Any:
        flash(request.args["m"])
        return "ok"

    @app.get("/_test_flashes")
    def shown() -> Any:
        return jsonify(get_flashed_messages())

    client = login(app.test_client())
    assert client.get("/_test_flash?m=one").status_code == 200
    second = client.get("/_test_flash?m=two")
    assert any(c.startswith("session=") for c in second.headers.getlist("Set-Cookie"))
    assert client.get("/_test_flashes").get_json() == ["one", "two"]


def test_the_first_api_list_after_a_login_sends_no_cookie(app: Any) -> None:
    """The first request that asked for the language put the default one into the session (FAB's
    locale selector writes it back): the first API list after a login re-signed and re-sent the
    cookie. A language not chosen is the default's on every request; a chosen one is kept."""
    client = login(app.test_client())
    first = client.get("/api/v1/opportunity/")
    assert first.status_code == 200 and first.headers.getlist("Set-Cookie") == []
    chosen = client.post("/lang/zh")
    assert any(c.startswith("session=") for c in chosen.headers.getlist("Set-Cookie"))
    answer = client.get("/api/v1/opportunity/_info")
    assert answer.status_code == 200 and answer.headers.getlist("Set-Cookie") == []


def test_a_zh_first_crm_speaks_zh_until_another_language_is_chosen(make_app: Any, tmp_path: Any) -> None:
    """With no language in the session (none chosen), the pages and the navbar's language menu
    follow the CRM's first language, not a hard-coded English."""
    root = write_tree(tmp_path / "meta", {"deal": "label: {en: Deal, zh: 交易}\nfields:\n  name: {type: string}\n"},
                      "name: Test CRM\nlanguages: [zh, en]\n")
    client = login(make_app(root).test_client())
    page = client.get("/crm/deal/list/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<title>交易" in html, html[:300]
    assert 'data-locale="en"' in html and 'data-locale="zh"' not in html  # the menu offers the other one
    client.post("/lang/en")
    html = client.get("/crm/deal/list/").get_data(as_text=True)
    assert 'data-locale="zh"' in html and 'data-locale="en"' not in html
