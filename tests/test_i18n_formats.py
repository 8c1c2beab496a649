"""Money and moments on screens through Babel: the CRM's currency in the user's locale, the
CRM's clock (issue 17). Exports and the API stay machine-readable."""

from __future__ import annotations

import datetime as dt
import random
import re
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from babel.numbers import format_currency

from app.i18n.formats import locale_of, moment, money


def test_money_in_the_crm_currency_and_the_users_locale():
    assert money("1234567.5", "CNY", "zh") == "¥1,234,567.50"
    assert money("1234567.5", "CNY", "en") == "CN¥1,234,567.50"  # CLDR: a yuan is not a yen in English
    assert money("-5", "USD", "zh") == "-US$5.00" and money(12, "EUR", "en") == "€12.00"


@pytest.mark.parametrize("lang", ["zh", "en", "ja", "de", "fr", "ar", "hi", "de_CH"])
@pytest.mark.parametrize("currency", ["CNY", "USD", "EUR", "JPY", "KWD", "CHF"])
def test_money_reads_as_babel_writes_it(lang, currency):
    """The list's fast money path (one pattern per currency and language) is Babel's text,
    rounding (half to even), signs, zero, negative zero, many digits, whole numbers."""
    rng = random.Random(f"{lang}{currency}")
    values = [Decimal(0), Decimal("-0"), Decimal("0.005"), Decimal("0.015"), Decimal("-0.005"), Decimal("2.5"),
              Decimal("999.995"), Decimal("1234567.125"), Decimal("-1234567.135"), Decimal("1E+3"),
              Decimal("123456789012345.67"), 12, -7, 0.1, "42.42"]
    values += [Decimal(rng.randint(-10**12, 10**12)).scaleb(-rng.randint(0, 5)) for _ in range(300)]
    for value in values:
        amount = value if isinstance(value, Decimal) else Decimal(value)
        assert money(value, currency, lang) == format_currency(amount, currency, locale=locale_of(lang)), value


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


def test_the_record_count_has_no_space_after_the_full_width_colon(client):
    """The zh list said "记录数目： 56": Chinese puts no space after "：" (en keeps its "Record Count: 1")."""
    client.post("/api/v1/account/", json={"name": "宁德时代"})
    english = client.get("/crm/account/list/").get_data(as_text=True)
    client.post("/lang/zh")
    chinese = client.get("/crm/account/list/").get_data(as_text=True)
    assert "<strong>Record Count:</strong> 1" in english
    assert "<strong>记录数目：</strong>1" in chinese and not re.search(r"：(</strong>)?\s+1", chinese)


def test_a_reports_total_joins_its_caption_with_the_languages_colon(client):
    """The footer joined "合计 · 1 条记录" and the first column's sum with an ASCII colon and a space on a zh page."""
    account = client.post("/api/v1/account/", json={"name": "宁德时代"}).json["id"]
    client.post("/api/v1/opportunity/", json={"name": "宁德时代扩产", "amount": 1280000, "account": account,
                                              "stage": "prospecting", "close_date": "2026-12-31"})
    url = "/crm/reports/?entity=opportunity&columns=amount,name"  # a sum in the first column
    english = client.get(url).get_data(as_text=True)
    client.post("/lang/zh")
    chinese = client.get(url).get_data(as_text=True)
    assert re.search(r"Total · 1 records?: ", english), english[english.find("<tfoot"):][:400]
    footer = chinese[chinese.find("<tfoot"):][:400]
    assert re.search(r"记录：¥1,280,000", footer) and ": " not in footer and "： " not in footer, footer
