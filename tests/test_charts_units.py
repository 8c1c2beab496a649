"""Chart axes and hover labels in the reader's units: 万/亿 for zh (plotly wrote 3.5M), plotly's own
for en. Read from the chart JSON the dashboard serves, on a real database with demo records."""

from __future__ import annotations

import re
from typing import Any

import pytest

from app.charts.units import axis_ticks, in_units
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


def test_an_en_axis_stays_plotlys_own(client: Any) -> None:
    fig = card(client, "en", "pipeline_by_stage")["figure"]
    assert "ticktext" not in fig["layout"]["yaxis"] and "hovertext" not in fig["data"][0]
    assert fig["layout"]["yaxis"]["separatethousands"] is True


def test_a_zh_funnel_and_pie_show_values_in_units(client: Any) -> None:
    funnel = card(client, "zh", "funnel")["figure"]["data"][0]
    assert funnel["text"] == [in_units(v, "zh") for v in funnel["x"]] and funnel["textinfo"] == "text+percent previous"
    pie = card(client, "zh", "by_industry")["figure"]["data"][0]
    assert pie["hovertext"] == [in_units(v, "zh") for v in pie["values"]] and "text" in pie["hoverinfo"]


def test_units_and_nice_ticks() -> None:
    assert [in_units(v, "zh") for v in (3_500_000, 120_000_000, 8_500, 15_000, -30_000, 0, None)] == \
        ["350万", "1.2亿", "8,500", "1.5万", "-3万", "0", "—"]
    assert axis_ticks([3_500_000, 1_200_000], "zh") == {
        "tickvals": [0, 1_000_000, 2_000_000, 3_000_000, 4_000_000], "ticktext": ["0", "100万", "200万", "300万", "400万"]}
    assert axis_ticks([-20_000, 50_000], "zh")["ticktext"][0].startswith("-")
    assert axis_ticks([], "zh")["tickvals"] == [0]
