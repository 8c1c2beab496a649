"""Chart axes, hover labels and KPI cards in the reader's units (CLDR's short forms): 万/亿 for zh
(plotly wrote 3.5M), K/M/B for en (plotly wrote 1.2G). Read from the chart JSON the dashboard
serves, on a real database with demo records."""

from __future__ import annotations

import re
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from app.charts.units import axis_ticks, in_units
from app.clock import crm_today
from app.i18n.formats import compact_money, money
from tests.conftest import login, with_demo

SI = re.compile(r"\d[kMGT]\b")


@pytest.fixture
def client(app: Any) -> Any:
    return login(with_demo(app, size=12).test_client())


def card(client: Any, lang: str, chart: str) -> dict[str, Any]:
    client.post("/lang/" + lang)
    answer = client.get(f"/crm/dashboards/sales/{chart}.json")
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.get_json()


def test_a_zh_money_axis_and_its_hover_labels_say_wan_and_yi(client: Any) -> None:
    fig = card(client, "zh", "pipeline_by_stage")["figure"]
    values = [v for t in fig["data"] for v in t["y"]]
    assert max(values) >= 10_000, values  # the demo's open pipeline is in the 万s
    axis = fig["layout"]["yaxis"]
    assert len(axis["tickvals"]) == len(axis["ticktext"]) >= 2 and axis["tickvals"][0] <= 0
    assert axis["tickvals"][-1] >= max(values)  # the ticks cover the tallest bar
    assert any(text.endswith(("万", "亿")) for text in axis["ticktext"]) and not any(SI.search(t) for t in axis["ticktext"])
    trace = fig["data"][0]
    assert trace["hovertext"] == [in_units(v, "zh") for v in trace["y"]] and "text" in trace["hoverinfo"]
    revenue = card(client, "zh", "revenue_by_month")["figure"]  # a line: the same axis
    assert all(t.get("hovertext") for t in revenue["data"]) and "ticktext" in revenue["layout"]["yaxis"]


def test_an_en_axis_and_its_hover_labels_say_k_m_b(client: Any) -> None:
    fig = card(client, "en", "pipeline_by_stage")["figure"]
    axis, trace = fig["layout"]["yaxis"], fig["data"][0]
    assert any(text.endswith(("K", "M", "B")) for text in axis["ticktext"]), axis["ticktext"]
    assert not any(re.search(r"\d[GT]$", t) for t in axis["ticktext"])  # giga is not a billion
    assert trace["hovertext"] == [in_units(v, "en") for v in trace["y"]] and axis["separatethousands"] is True


@pytest.mark.parametrize(("lang", "unit"), [("zh", "万"), ("en", "M")])
def test_a_money_kpi_card_is_in_units_with_the_exact_amount_beside(client: Any, lang: str, unit: str) -> None:
    """¥350万 on the card, ¥3,500,000.00 in its title: a Chinese reader does not count the digits of
    a full amount (Salesforce's and HubSpot's metric cards shorten too). Tables stay exact."""
    account = client.post("/api/v1/account/", json={"name": "大单客户"}).json["id"]
    with client.application.app_context():
        today = crm_today(ZoneInfo(client.application.extensions["crm"].spec.timezone or "UTC"))
    made = client.post("/api/v1/opportunity/", json={"name": "大单", "account": account, "amount": "3500000",
                                                      "close_date": today.isoformat()})
    assert made.status_code == 201, made.json
    assert client.put(f"/api/v1/opportunity/{made.json['id']}", json={"stage": "won"}).status_code == 200
    kpi = card(client, lang, "won_this_quarter")["kpi"]
    assert float(kpi["raw"]) >= 3_500_000, kpi
    assert kpi["value"] == compact_money(kpi["raw"], "CNY", lang) and unit in kpi["value"], kpi
    assert kpi["exact"] == money(kpi["raw"], "CNY", lang) and kpi["exact"].endswith(".00"), kpi


def test_a_zh_funnel_and_pie_show_values_in_units(client: Any) -> None:
    funnel = card(client, "zh", "funnel")["figure"]["data"][0]
    assert funnel["text"] == [in_units(v, "zh") for v in funnel["x"]] and funnel["textinfo"] == "text+percent previous"
    pie = card(client, "zh", "by_industry")["figure"]["data"][0]
    assert pie["hovertext"] == [in_units(v, "zh") for v in pie["values"]] and "text" in pie["hoverinfo"]


def test_units_and_nice_ticks() -> None:
    assert [in_units(v, "zh") for v in (3_500_000, 120_000_000, 8_500, 15_000, -30_000, 0, None)] == \
        ["350万", "1.2亿", "8,500", "1.5万", "-3万", "0", "—"]
    assert [in_units(v, "zh") for v in (1234.567, -0.001, 999_999, 12_345_678_901_234)] == \
        ["1,234.57", "0", "100万", "12.35万亿"]  # below 万 the groups stay (CLDR writes 8500)
    assert [in_units(v, "en") for v in (3_500_000, 1_200_000_000, 8_500, 12_500, 999.5, -30_000)] == \
        ["3.5M", "1.2B", "8,500", "12.5K", "999.5", "-30K"]  # four digits stay whole, as in zh
    assert [in_units(v, "ja") for v in (3_500_000, 120_000_000)] == ["350万", "1.2億"]
    assert [compact_money(v, "CNY", "zh") for v in (3_500_000, 8_500)] == ["¥350万", "¥8,500.00"]
    assert axis_ticks([3_500_000, 1_200_000], "zh") == {
        "tickvals": [0, 1_000_000, 2_000_000, 3_000_000, 4_000_000], "ticktext": ["0", "100万", "200万", "300万", "400万"]}
    assert axis_ticks([-20_000, 50_000], "zh")["ticktext"][0].startswith("-")
    assert axis_ticks([], "zh")["tickvals"] == [0]
    assert axis_ticks([12, 3], "en")["tickvals"] == [0, 5, 10, 15]  # counts: no step of 2.5
