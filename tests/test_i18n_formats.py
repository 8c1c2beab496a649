"""Money and moments on screens through Babel: the CRM's currency in the user's locale, the
CRM's clock (issue 17). Exports and the API stay machine-readable."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from app.i18n.formats import moment, money


def test_money_in_the_crm_currency_and_the_users_locale():
    assert money("1234567.5", "CNY", "zh") == "¥1,234,567.50"
    assert money("1234567.5", "CNY", "en") == "CN¥1,234,567.50"  # CLDR: a yuan is not a yen in English
    assert money("-5", "USD", "zh") == "-US$5.00" and money(12, "EUR", "en") == "€12.00"


def test_a_stored_moment_shows_on_the_crm_clock():
    shanghai = ZoneInfo("Asia/Shanghai")
    assert moment(dt.datetime(2026, 6, 10, 16, 30), shanghai, "zh") == "2026-06-11 00:30"  # stored naive UTC
    assert moment(dt.datetime(2026, 6, 10, 16, 30, tzinfo=dt.UTC), shanghai, "en") == "2026-06-11 00:30"


def test_the_list_shows_amounts_as_the_language_writes_them(client):
    account = client.post("/api/v1/account/", json={"name": "宁德时代"}).json["id"]
    created = client.post("/api/v1/opportunity/", json={"name": "宁德时代扩产", "amount": 1280000, "account": account,
                                                        "stage": "prospecting", "close_date": "2026-12-31"})
    assert created.status_code == 201, created.json
    english = client.get("/crm/opportunity/list/").get_data(as_text=True)
    client.post("/lang/zh")
    chinese = client.get("/crm/opportunity/list/").get_data(as_text=True)
    assert "CN¥1,280,000.00" in english and "¥1,280,000.00" in chinese and "CN¥1,280,000.00" not in chinese
    export = client.get("/api/v1/opportunity/" + str(created.json["id"])).json
    assert str(export["result"]["amount"]).startswith("1280000")  # the API keeps the number
