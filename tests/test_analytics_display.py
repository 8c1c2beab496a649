"""Analytics that read right (issue 17, part 4): rates as percentages in tables (44.7 %, not
0.447), KPIs of money in the CRM's currency, and a pipeline's analytics page counting only its
own pipeline's records (New business counted the renewals too)."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import pytest

from app.charts.figures import kpi_text, table
from app.charts.run import chart_context, run_chart
from app.metadata.spec import ChartSpec, Grouping, Measure, Text
from app.web.dashboards import pipeline_charts
from tests.conftest import login

DEALS = [  # name, deal_type, stage, amount
    ("新一", "new_business", "prospecting", "100"), ("新二", "new_business", "won", "300"), ("新三", "new_business", "lost", "50"),
    ("新四", "new_business", "won", "200"),
    ("续一", "renewal", "won", "1000"), ("续二", "renewal", "renewal_due", "400"),
]


@pytest.fixture
def deals(app: Any) -> Any:
    api = login(app.test_client())
    account = api.post("/api/v1/account/", json={"name": "客户"}).json["id"]
    for name, kind, stage, amount in DEALS:
        body = {"name": name, "account": account, "deal_type": kind, "amount": amount,
                "close_date": "2026-01-15", "lost_reason": "价格" if stage == "lost" else None}
        made = api.post("/api/v1/opportunity/", json=body)
        assert made.status_code == 201, made.json
        if stage not in ("prospecting", "renewal_due"):
            moved = api.put(f"/api/v1/opportunity/{made.json['id']}", json={"stage": stage})
            assert moved.status_code == 200, moved.json
    return app, api


def _run(app: Any, chart: ChartSpec, lang: str = "en") -> Any:
    with app.test_request_context():
        user = app.extensions["crm"].appbuilder.sm.find_user(username="admin")
        return run_chart(chart, chart_context(app, user, lang))


def test_a_pipeline_page_counts_only_its_own_records(deals: Any) -> None:
    app, api = deals
    spec = app.extensions["crm"].spec
    entity = spec.entity("opportunity")
    by_name = {p.name: p for p in entity.pipelines}
    for pipeline, kind in (("new_business", "new_business"), ("renewal", "renewal")):
        chart = next(c for c in pipeline_charts(entity, by_name[pipeline]).charts if c.name == "by_stage")
        counts = {p.key: p.value for p in _run(app, chart).points}
        stages = {s.name for s in by_name[pipeline].stages}
        assert set(counts) == stages, pipeline  # every stage of its own, no other pipeline's (even as 0)
        expected: dict[str, int] = {}
        for _, k, stage, _ in DEALS:
            if k == kind:
                expected[stage] = expected.get(stage, 0) + 1
        assert {k: v for k, v in counts.items() if v} == expected, pipeline
    assert api.get("/crm/dashboards/pipeline/opportunity/new_business/").status_code == 200
    card = api.get("/crm/dashboards/pipeline/opportunity/new_business/amount_by_stage.json").get_json()
    # the renewals' amounts (1,000 and 400) are not in New business's amount by stage
    assert sum(p["value"] or 0 for p in card["points"]) == 650


def test_rates_in_tables_are_percentages(deals: Any) -> None:
    app, _ = deals
    chart = ChartSpec("wr", Text((("en", "Win rate"),)), "table", "opportunity", analysis="win_rate",
                      pipeline="new_business", group=Grouping("owner"))
    headings, rows = table(_run(app, chart), "en")
    assert rows == [["admin", "2", "3", "66.7 %"]] or rows[0][-1] == "66.7 %", rows
    kpi = ChartSpec("wrk", Text((("en", "Win rate"),)), "kpi", "opportunity", analysis="win_rate",
                    pipeline="new_business")
    assert kpi_text(_run(app, kpi), "en")[0] == "66.7 %"


@pytest.mark.parametrize(("lang", "shown"), [("en", "CN¥650.00"), ("zh", "¥650.00")])
def test_money_kpis_carry_the_currency(deals: Any, lang: str, shown: str) -> None:
    """Below the language's first unit (K, 万) the card shows the exact amount; above, see
    tests/test_charts_units.py."""
    app, _ = deals
    chart = ChartSpec("sum", Text((("en", "Total"),)), "kpi", "opportunity", measure=Measure("sum", "amount"),
                      pipeline="new_business")
    result = _run(app, chart, lang)
    with app.test_request_context():
        assert kpi_text(result, lang)[0] == kpi_text(result, lang).exact == shown  # 100 + 300 + 50 + 200: New business only
    count = ChartSpec("n", Text((("en", "Deals"),)), "kpi", "opportunity")
    with app.test_request_context():
        assert re.fullmatch(r"\d+", kpi_text(_run(app, count), lang)[0])  # a count has no currency


@pytest.mark.parametrize(("label", "lang", "title"), [
    ({"en": "Service", "zh": "服务流程"}, "zh", "服务流程分析"),  # the label already says 流程
    ({"en": "Service", "zh": "服务流程"}, "en", "Service pipeline analytics"),
    ({"en": "New business", "zh": "新业务"}, "zh", "新业务流程分析"),
    ({"en": "Sales pipeline", "zh": "销售"}, "en", "Sales pipeline analytics"),  # ... and 'pipeline'
    ({"en": "Sales Pipeline", "zh": "销售"}, "en", "Sales Pipeline analytics"),
])
def test_a_pipeline_page_title_does_not_repeat_the_word_pipeline(app: Any, label: dict[str, str], lang: str,
                                                                  title: str) -> None:
    """The ticket pipeline (服务流程) was titled 服务流程流程分析."""
    entity = app.extensions["crm"].spec.entity("ticket")
    flow = entity.pipelines[0]
    renamed = dataclasses.replace(flow, label=Text(tuple(label.items())))
    assert pipeline_charts(entity, renamed).label.get(lang) == title
