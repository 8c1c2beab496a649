"""The kanban board: column headers from one grouped query, card pages, scope, field rules, pipelines.

Every number the board shows is checked against a direct SQL query on the
opportunity table, written here independently of the board's query builder.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from app.demo.users import DEMO_PASSWORD, create_demo_users
from tests.conftest import count_queries, login

NEW_BUSINESS = {"prospecting": 10, "needs_analysis": 25, "proposal": 50, "negotiation": 75, "won": 100, "lost": 0}
CENT = Decimal("0.01")
RENEWAL = {"renewal_due": 60, "quoted": 80, "won": 100, "lost": 0}
# Which records each board owns, said independently: renewal board = deal_type 'renewal';
# new business board = everything else (another deal type, or none).
WHEN = {"new_business": "(deal_type IS NULL OR deal_type <> 'renewal')", "renewal": "deal_type = 'renewal'"}


# -- data -------------------------------------------------------------------------

def _state(app: Any) -> Any:
    return app.extensions["crm"]


def add_opportunities(app: Any, rows: list[dict[str, Any]]) -> list[int]:
    """Insert opportunities straight into the table (no gates): the board must show what is stored."""
    with app.app_context():
        state = _state(app)
        session = state.db.session
        account_model = state.models.model("account")
        account = session.scalar(sa.select(account_model).limit(1))
        if account is None:
            account = account_model(name="看板测试客户")
            session.add(account)
            session.flush()
        model = state.models.model("opportunity")
        base = dt.datetime(2026, 1, 1, 8, 0, 0)
        records = []
        for i, row in enumerate(rows):
            values = {"name": f"看板商机 {i}", "account_id": account.id, "deal_type": "new_business",
                      "stage": "prospecting", "changed_on": base + dt.timedelta(minutes=i), **row}
            record = model(**values)
            session.add(record)
            records.append(record)
        session.commit()
        ids = [r.id for r in records]
        session.remove()
    return ids


def seed_demo(app: Any, size: int = 40) -> None:
    from app.demo.loader import load_demo

    with app.app_context():
        state = _state(app)
        load_demo(state.db.session, state.models, size=size)
        state.db.session.remove()


def sql_columns(app: Any, pipeline: str, where: str = "1=1", params: dict[str, Any] | None = None
                ) -> dict[str, tuple[int, Decimal]]:
    """stage -> (count, sum of amount), by hand."""
    with app.app_context():
        engine = _state(app).db.engine
        with engine.connect() as conn:
            rows = conn.execute(sa.text(
                f"SELECT stage, COUNT(*), SUM(amount) FROM opportunity WHERE {WHEN[pipeline]} AND ({where}) "
                "GROUP BY stage"), params or {}).all()
    return {stage: (count, Decimal(str(total or 0))) for stage, count, total in rows}


def user_id(app: Any, username: str) -> int:
    with app.app_context():
        with _state(app).db.engine.connect() as conn:
            return conn.execute(sa.text("SELECT id FROM ab_user WHERE username = :u"), {"u": username}).scalar_one()


def set_owner(app: Any, owner: int, where: str) -> None:
    with app.app_context():
        with _state(app).db.engine.begin() as conn:
            conn.execute(sa.text(f"UPDATE opportunity SET owner_id = :o WHERE {where}"), {"o": owner})


def headers(client: Any, pipeline: str, q: str = "") -> dict[str, Any]:
    response = client.get(f"/api/v1/opportunity/board/{pipeline}", query_string={"q": q} if q else {})
    assert response.status_code == 200, response.data[:300]
    return response.json


def all_cards(client: Any, pipeline: str, stage: str, q: str = "") -> list[dict[str, Any]]:
    cards, page = [], 0
    while True:
        response = client.get(f"/api/v1/opportunity/board/{pipeline}",
                              query_string={"stage": stage, "page": page, **({"q": q} if q else {})})
        assert response.status_code == 200, response.data[:300]
        cards += response.json["cards"]
        if not response.json["more"]:
            return cards
        page += 1


def page_counts(html: str) -> dict[str, int]:
    """stage -> the count badge of its column, as the board page shows it."""
    found = re.findall(r'<section class="crm-column" data-stage="([^"]+)".*?data-count>(\d+)<', html, re.S)
    return {stage: int(count) for stage, count in found}


@pytest.fixture
def users_app(app: Any) -> Any:
    with app.app_context():
        create_demo_users(_state(app).appbuilder, _state(app).models)
    return app


# -- tests ------------------------------------------------------------------------------

def test_counts_and_sums_equal_a_direct_sql_query(app: Any, client: Any) -> None:
    seed_demo(app)
    add_opportunities(app, [{"stage": "quoted", "deal_type": "renewal", "amount": Decimal("1234.50")},
                            {"stage": "proposal", "deal_type": None, "amount": Decimal("99.99")},
                            {"stage": "won", "amount": None}])
    for pipeline, probabilities in (("new_business", NEW_BUSINESS), ("renewal", RENEWAL)):
        expected = sql_columns(app, pipeline)
        body = headers(client, pipeline)
        assert [c["stage"] for c in body["columns"]] == list(probabilities)
        total_amount = total_weighted = Decimal(0)
        for column in body["columns"]:
            count, amount = expected.get(column["stage"], (0, Decimal(0)))
            assert column["count"] == count, (pipeline, column)
            assert Decimal(column["amount"]) == amount, (pipeline, column)
            weighted = amount * probabilities[column["stage"]] / 100
            assert Decimal(column["weighted"]) == weighted.quantize(CENT), (pipeline, column)
            total_amount += amount
            total_weighted += weighted
        listed = sum(c for s, (c, _) in expected.items() if s in probabilities)
        assert body["count"] == listed
        assert body["elsewhere"] == sum(c for s, (c, _) in expected.items() if s not in probabilities)
        assert Decimal(body["amount"]) == total_amount
        assert Decimal(body["weighted"]) == total_weighted.quantize(CENT)
        # The page shows the same counts, and the money formatted.
        page = client.get(f"/crm/opportunity/board/{pipeline}")
        assert page.status_code == 200
        html = page.data.decode()
        assert page_counts(html) == {s: expected.get(s, (0, 0))[0] for s in probabilities}
        assert body["amount_text"] in html and body["amount_text"].startswith("CN¥")  # en: CLDR names the yuan apart from the yen


def test_quick_search_limits_headers_and_cards_like_the_list(app: Any, client: Any) -> None:
    seed_demo(app)
    ids = add_opportunities(app, [{"name": "Zebracorn rollout", "amount": Decimal(10), "stage": "proposal"},
                                  {"name": "Plain deal", "next_step": "call zebracorn team", "amount": Decimal(20)},
                                  {"name": "zebracorn renewal", "deal_type": "renewal", "stage": "quoted",
                                   "amount": Decimal(40)},
                                  {"name": "Unrelated", "amount": Decimal(80)}])
    where = ("lower(name) LIKE :p OR lower(next_step) LIKE :p OR account_id IN "
             "(SELECT id FROM account WHERE lower(name) LIKE :p)")
    for pipeline in ("new_business", "renewal"):
        expected = sql_columns(app, pipeline, where, {"p": "%zebracorn%"})
        body = headers(client, pipeline, q="ZebraCorn")
        got = {c["stage"]: (c["count"], Decimal(c["amount"])) for c in body["columns"] if c["count"]}
        assert got == expected
    cards = all_cards(client, "new_business", "proposal", q="zebracorn")
    assert [c["id"] for c in cards] == [ids[0]]
    assert [c["id"] for c in all_cards(client, "new_business", "prospecting", q="zebracorn")] == [ids[1]]
    # The list's quick search finds the same records.
    listed = client.get("/crm/opportunity/list/?q=zebracorn").data.decode()
    assert "Zebracorn rollout" in listed and "Plain deal" in listed and "Unrelated" not in listed
    page = client.get("/crm/opportunity/board/new_business?q=zebracorn").data.decode()
    assert page_counts(page)["proposal"] == 1 and 'value="zebracorn"' in page


def test_a_sales_rep_board_counts_only_the_reps_records(users_app: Any) -> None:
    app = users_app
    seed_demo(app)
    rep, other = user_id(app, "sales_rep"), user_id(app, "sales_rep2")
    set_owner(app, other, "1=1")
    set_owner(app, rep, "id % 3 = 0")
    client = login(app.test_client(), "sales_rep", DEMO_PASSWORD)
    mine = sql_columns(app, "new_business", "owner_id = :o", {"o": rep})
    assert sum(c for c, _ in mine.values()) > 0
    body = headers(client, "new_business")
    assert {c["stage"]: c["count"] for c in body["columns"] if c["count"]} == {
        s: c for s, (c, _) in mine.items() if c}
    for column in body["columns"]:
        assert Decimal(column["amount"]) == mine.get(column["stage"], (0, Decimal(0)))[1]
        cards = all_cards(client, "new_business", column["stage"])
        assert len(cards) == column["count"]
    with app.app_context():
        with _state(app).db.engine.connect() as conn:
            rep_ids = set(conn.execute(sa.text("SELECT id FROM opportunity WHERE owner_id = :o"), {"o": rep}).scalars())
    shown = {c["id"] for s in NEW_BUSINESS for c in all_cards(client, "new_business", s)}
    assert shown and shown <= rep_ids
    html = client.get("/crm/opportunity/board/new_business").data.decode()
    assert page_counts(html) == {s: mine.get(s, (0, 0))[0] for s in NEW_BUSINESS}


def test_card_pages_respect_page_size_order_and_scope(users_app: Any) -> None:
    app = users_app
    rep = user_id(app, "sales_rep")
    admin_client = login(app.test_client())
    ids = add_opportunities(app, [{"amount": Decimal(i), "close_date": dt.date(2026, 6, 1)} for i in range(45)])
    set_owner(app, rep, f"id IN ({','.join(str(i) for i in ids[::2])})")  # 23 of them

    pages = []
    for page in range(3):
        body = admin_client.get("/api/v1/opportunity/board/new_business",
                                query_string={"stage": "prospecting", "page": page}).json
        pages.append(body)
    assert [len(p["cards"]) for p in pages] == [20, 20, 5]
    assert [p["more"] for p in pages] == [True, True, False]
    seen = [c["id"] for p in pages for c in p["cards"]]
    assert seen == sorted(ids, reverse=True)  # newest change first (changed_on grows with id here)
    card = pages[0]["cards"][0]
    assert set(card) >= {"id", "title", "fields", "changed_on"}
    assert card["title"] == "看板商机 44" and card["changed_on"] == "2026-01-01T08:44:00"
    labels = [label for label, _ in card["fields"]]
    assert labels == ["Account", "Amount", "Expected close date", "Owner"]
    assert dict(card["fields"])["Amount"] == "CN¥44.00"
    assert dict(card["fields"])["Expected close date"] == "2026-06-01"

    rep_client = login(app.test_client(), "sales_rep", DEMO_PASSWORD)
    first = rep_client.get("/api/v1/opportunity/board/new_business?stage=prospecting&page=0").json
    second = rep_client.get("/api/v1/opportunity/board/new_business?stage=prospecting&page=1").json
    assert len(first["cards"]) == 20 and first["more"] is True
    assert len(second["cards"]) == 3 and second["more"] is False
    assert {c["id"] for c in first["cards"] + second["cards"]} == set(ids[::2])
    # offset (what the page uses after moves) and bad arguments
    shifted = admin_client.get("/api/v1/opportunity/board/new_business?stage=prospecting&offset=43").json
    assert [c["id"] for c in shifted["cards"]] == sorted(ids, reverse=True)[43:] and shifted["more"] is False
    assert admin_client.get("/api/v1/opportunity/board/new_business?stage=heaven").status_code == 400
    assert admin_client.get("/api/v1/opportunity/board/new_business?stage=won&page=-1").status_code == 400
    assert admin_client.get("/api/v1/opportunity/board/new_business?stage=won&page=x").status_code == 400


def test_hidden_amount_is_absent_from_cards_and_sums(users_app: Any) -> None:
    app = users_app
    add_opportunities(app, [{"amount": Decimal("777777.00"), "close_date": dt.date(2026, 7, 1), "stage": "proposal"}])
    client = login(app.test_client(), "support_agent", DEMO_PASSWORD)
    body = headers(client, "new_business")
    assert body["with_amount"] is False
    assert "amount" not in body and "weighted" not in body
    assert all("amount" not in c and "weighted" not in c for c in body["columns"])
    assert {c["stage"]: c["count"] for c in body["columns"]}["proposal"] == 1
    cards = all_cards(client, "new_business", "proposal")
    assert len(cards) == 1
    assert [label for label, _ in cards[0]["fields"]] == ["Account", "Expected close date", "Owner"]
    assert "777" not in str(cards[0])
    html = client.get("/crm/opportunity/board/new_business").data.decode()
    assert "777" not in html and "data-amount" not in html and "¥" not in html
    assert "crm-board-hint" not in html and '"can_move": false' in html  # read-only role: nothing to drag
    # Searching does not look into the hidden field either (search paths are name, next_step, account.name).
    assert headers(client, "new_business", q="777777")["count"] == 0
    # The admin sees the amount.
    admin = login(app.test_client())
    assert headers(admin, "new_business")["amount_text"] == "CN¥777,777.00"


def test_renewal_records_appear_only_on_the_renewal_board(app: Any, client: Any) -> None:
    ids = add_opportunities(app, [
        {"name": "Renewal won", "deal_type": "renewal", "stage": "won", "amount": Decimal(5)},
        {"name": "Renewal due", "deal_type": "renewal", "stage": "renewal_due", "amount": Decimal(7)},
        {"name": "New won", "deal_type": "new_business", "stage": "won", "amount": Decimal(11)},
        {"name": "Untyped", "deal_type": None, "stage": "prospecting", "amount": Decimal(13)},
        {"name": "Renewal in a new-business stage", "deal_type": "renewal", "stage": "proposal", "amount": Decimal(17)},
    ])
    renewal_won, renewal_due, new_won, untyped, stray = ids
    assert [c["id"] for c in all_cards(client, "renewal", "won")] == [renewal_won]
    assert [c["id"] for c in all_cards(client, "new_business", "won")] == [new_won]
    assert [c["id"] for c in all_cards(client, "renewal", "renewal_due")] == [renewal_due]
    assert [c["id"] for c in all_cards(client, "new_business", "prospecting")] == [untyped]
    assert all_cards(client, "new_business", "proposal") == []
    renewal = {c["stage"]: (c["count"], c["amount"]) for c in headers(client, "renewal")["columns"]}
    assert renewal == {"renewal_due": (1, "7.00"), "quoted": (0, "0.00"), "won": (1, "5.00"), "lost": (0, "0.00")}
    new = {c["stage"]: (c["count"], c["amount"]) for c in headers(client, "new_business")["columns"]}
    assert new["won"] == (1, "11.00") and new["prospecting"] == (1, "13.00") and new["proposal"] == (0, "0.00")
    assert headers(client, "renewal")["elsewhere"] == 1 and headers(client, "new_business")["elsewhere"] == 0
    html = client.get("/crm/opportunity/board/renewal").data.decode()
    assert page_counts(html) == {"renewal_due": 1, "quoted": 0, "won": 1, "lost": 0}
    assert "Renewal due" in html and 'class="active"' in html  # stage label, pipeline tab
    del stray


def test_unknown_pipeline_or_entity_without_pipelines_is_404(app: Any, client: Any) -> None:
    assert client.get("/crm/opportunity/board/heaven").status_code == 404
    assert client.get("/api/v1/opportunity/board/heaven").status_code == 404
    assert client.get("/api/v1/opportunity/board/heaven?stage=won").status_code == 404
    assert client.get("/crm/account/board/new_business").status_code == 404
    assert client.get("/api/v1/account/board/new_business").status_code == 404
    assert client.get("/crm/lead/board/qualification").status_code == 200
    anonymous = app.test_client()
    assert anonymous.get("/api/v1/opportunity/board/new_business").status_code == 401
    assert anonymous.get("/crm/opportunity/board/new_business").status_code == 302


def test_list_page_links_each_pipeline_board(app: Any, client: Any) -> None:
    html = client.get("/crm/opportunity/list/?q=abc").data.decode()
    assert 'href="/crm/opportunity/board/new_business?q=abc"' in html
    assert 'href="/crm/opportunity/board/renewal?q=abc"' in html
    assert "crm-board-link" in client.get("/crm/ticket/list/").data.decode()
    assert "crm-board-link" not in client.get("/crm/account/list/").data.decode()


def test_statements_per_board_request_do_not_grow_with_records(users_app: Any) -> None:
    app = users_app
    seed_demo(app, size=10)
    clients = {"admin": login(app.test_client()),
               "sales_rep": login(app.test_client(), "sales_rep", DEMO_PASSWORD)}
    urls = ["/crm/opportunity/board/new_business?q=a", "/crm/opportunity/board/renewal",
            "/api/v1/opportunity/board/new_business?q=a",
            "/api/v1/opportunity/board/new_business?stage=prospecting&page=0",
            "/api/v1/opportunity/board/new_business?stage=prospecting&page=0&q=a"]

    def measure() -> dict[tuple[str, str], int]:
        counts = {}
        for who, client in clients.items():
            for url in urls:
                client.get(url)  # warm caches (permissions, templates)
                with count_queries(app) as statements:
                    assert client.get(url).status_code == 200
                counts[(who, url)] = len(statements)
        return counts

    rep = user_id(app, "sales_rep")
    # A card or two everywhere first: an empty page skips the linked-record loads altogether.
    add_opportunities(app, [{"amount": Decimal(1), "name": "a0", "owner_id": rep},
                            {"amount": Decimal(1), "name": "a1", "owner_id": rep}])
    before = measure()
    add_opportunities(app, [{"amount": Decimal(i), "name": f"a{i}", "owner_id": rep} for i in range(60)]
                      + [{"amount": Decimal(i), "stage": "quoted", "deal_type": "renewal"} for i in range(30)])
    after = measure()
    assert after == before
    # The page itself: ONE grouped query for the headers (plus FAB's login/permission lookups).
    with count_queries(app) as statements:
        clients["admin"].get("/crm/opportunity/board/new_business")
    grouped = [s for s in statements if "GROUP BY" in s.upper() and "opportunity" in s]
    assert len(grouped) == 1, grouped
