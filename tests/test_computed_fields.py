"""Formula, lookup and rollup fields end to end: API, list screen, filters, sorts,
export, charts, every write path of a rollup's children, stored formulas and
copied lookups, refusal of writes, and located errors for bad metadata."""

from __future__ import annotations

import textwrap
from decimal import Decimal
from pathlib import Path
from typing import Any

import prison
import pytest

from app.charts.run import chart_context, run_chart
from app.metadata.loader import load_metadata
from app.metadata.spec import ChartSpec, Grouping, Measure, Text
from tests.conftest import login, write_tree


def make(api: Any, entity: str, **values: Any) -> int:
    response = api.post(f"/api/v1/{entity}/", json=values)
    assert response.status_code == 201, response.json
    return int(response.json["id"])


def read(api: Any, entity: str, record_id: int) -> dict[str, Any]:
    response = api.get(f"/api/v1/{entity}/{record_id}")
    assert response.status_code == 200, response.json
    return dict(response.json["result"])


def listing(api: Any, entity: str, **query: Any) -> list[dict[str, Any]]:
    response = api.get(f"/api/v1/{entity}/?q={prison.dumps(query)}")
    assert response.status_code == 200, response.json
    return list(response.json["result"])


@pytest.fixture
def api(app: Any) -> Any:
    return login(app.test_client())


@pytest.fixture
def deals(api: Any) -> dict[str, int]:
    """Two accounts (Chinese names) and three open deals of 华为技术."""
    huawei = make(api, "account", name="华为技术", industry="telecom")
    bank = make(api, "account", name="招商银行", industry="finance")
    ids = {"huawei": huawei, "bank": bank}
    for name, amount, close in (("云服务器 A", "1000.50", "2030-01-01"), ("数据中心 B", "20000", "2030-06-30"),
                                ("培训 C", "333.33", "2030-03-01")):
        ids[name] = make(api, "opportunity", name=name, account=huawei, amount=amount, close_date=close)
    return ids


def test_formula_and_lookup_values_on_show(api: Any, deals: dict[str, int]) -> None:
    deal = read(api, "opportunity", deals["云服务器 A"])
    assert deal["probability"] == "10.00"  # the first stage's probability
    assert deal["weighted_amount"] == "100.05"  # 1000.50 × 10 / 100, half-up to 2 places
    assert deal["account_industry"] == "telecom"
    assert isinstance(deal["days_to_close"], int) and deal["days_to_close"] > 1000
    third = read(api, "opportunity", deals["培训 C"])
    assert third["weighted_amount"] == "33.33"  # 33.333 → 33.33


def test_formulas_are_listed_filtered_and_sorted_in_sql(api: Any, deals: dict[str, int]) -> None:
    rows = listing(api, "opportunity", columns=["name", "weighted_amount"],
                   filters=[{"col": "weighted_amount", "opr": "gt", "value": 50}],
                   order_column="weighted_amount", order_direction="desc")
    assert [(r["name"], r["weighted_amount"]) for r in rows] == [("数据中心 B", "2000.00"), ("云服务器 A", "100.05")]
    rows = listing(api, "opportunity", columns=["name"], order_column="days_to_close", order_direction="asc")
    assert [r["name"] for r in rows] == ["云服务器 A", "培训 C", "数据中心 B"]
    rows = listing(api, "opportunity", columns=["name"],
                   filters=[{"col": "account_industry", "opr": "eq", "value": "telecom"}])
    assert len(rows) == 3
    accounts = listing(api, "account", columns=["name", "open_pipeline"], order_column="open_pipeline",
                       order_direction="desc")
    assert [(a["name"], a["open_pipeline"]) for a in accounts] == [("华为技术", "21333.83"), ("招商银行", "0.00")]


def test_formulas_in_the_list_screen_and_the_export(app: Any, api: Any, deals: dict[str, int]) -> None:
    html = api.get("/crm/opportunity/list/").data.decode()
    assert "Weighted amount" in html and "2,000.00" in html or "2000.00" in html
    response = api.get(f"/api/v1/opportunity/export?q={prison.dumps({'order_column': 'weighted_amount', 'order_direction': 'asc'})}")
    assert response.status_code == 200
    text = response.data.decode("utf-8-sig")
    header, *lines = text.strip().splitlines()
    assert "Weighted amount" in header and "Account industry" in header and "Days to close" in header
    assert lines[0].startswith(f"{deals['培训 C']},培训 C,") and ",33.33," in lines[0]


def test_a_chart_sums_a_formula_grouped_by_a_lookup(app: Any, deals: dict[str, int]) -> None:
    chart = ChartSpec(name="weighted", title=Text.of("加权"), kind="bar", entity="opportunity",
                      measure=Measure("sum", "weighted_amount"), group=Grouping("account_industry"))
    with app.app_context():
        admin = app.extensions["crm"].appbuilder.sm.find_user(username="admin")
        result = run_chart(chart, chart_context(app, admin, "zh"))
    assert result.omitted is None
    values = {p.key if hasattr(p, "key") else p.label: p.value for p in result.points}
    assert Decimal(str(sum(values.values()))) == Decimal("2133.38")


def test_writing_a_computed_field_is_refused_naming_it(api: Any, deals: dict[str, int]) -> None:
    response = api.put(f"/api/v1/opportunity/{deals['云服务器 A']}", json={"weighted_amount": "5"})
    assert response.status_code == 400
    assert "weighted_amount" in response.json["message"]
    response = api.post("/api/v1/account/", json={"name": "新客户", "open_pipeline": 99})
    assert response.status_code == 400
    assert "open_pipeline" in response.json["message"]
    assert read(api, "opportunity", deals["云服务器 A"])["weighted_amount"] == "100.05"


def test_rollup_is_right_after_every_write_path_of_its_children(api: Any, deals: dict[str, int]) -> None:
    huawei, bank = deals["huawei"], deals["bank"]

    def pipelines() -> tuple[str, str]:
        return read(api, "account", huawei)["open_pipeline"], read(api, "account", bank)["open_pipeline"]

    assert pipelines() == ("21333.83", "0.00")
    make(api, "opportunity", name="新增 D", account=bank, amount="500")  # create
    assert pipelines() == ("21333.83", "500.00")
    api.put(f"/api/v1/opportunity/{deals['培训 C']}", json={"amount": "0.17"})  # update
    assert pipelines() == ("21000.67", "500.00")
    response = api.put(f"/api/v1/opportunity/{deals['数据中心 B']}", json={"account": bank})  # relink
    assert response.status_code == 200, response.json
    assert pipelines() == ("1000.67", "20500.00")
    response = api.put(f"/api/v1/opportunity/{deals['云服务器 A']}",  # leaves the rollup's filter
                       json={"stage": "lost", "lost_reason": "价格太高"})
    assert response.status_code == 200, response.json
    assert pipelines() == ("0.17", "20500.00")
    assert api.delete(f"/api/v1/opportunity/{deals['培训 C']}").status_code == 200  # delete
    assert pipelines() == ("0.00", "20500.00")


STORED_TREE = {
    "maker": """
        label: {en: Maker, zh: 制造商}
        fields:
          name: {type: string, required: true}
          country: {type: string}
          gadgets: {type: rollup, to: gadget, via: maker, function: count}
          cheapest: {type: rollup, to: gadget, via: maker, function: min, of: price, where: "price > 0"}
          average: {type: rollup, to: gadget, via: maker, function: avg, of: qty}
          newest: {type: rollup, to: gadget, via: maker, function: max, of: launched}
    """,
    "gadget": """
        label: {en: Gadget, zh: 小工具}
        fields:
          name: {type: string, required: true}
          price: {type: money}
          qty: {type: integer}
          launched: {type: date}
          maker: {type: link, to: maker, on_delete: cascade}
          unit_price: {type: formula, returns: money, expression: price / qty}
          code: {type: formula, stored: true, index: true, expression: "concat(upper(name), '-', qty)"}
          maker_country: {type: lookup, path: maker.country, copy_at_create: true}
          label_text:
            type: formula
            expression: "if(is_empty(maker.country), '未知', concat(maker.name, '·', maker.country))"
        list: {columns: [name, unit_price, code, maker_country]}
    """,
}


def test_stored_formula_copied_lookup_and_empty_on_division_by_zero(make_app: Any, tmp_path: Path) -> None:
    app = make_app(write_tree(tmp_path / "meta", STORED_TREE))
    api = login(app.test_client())
    maker = make(api, "maker", name="小米", country="中国")
    gadget = make(api, "gadget", name="phone", price="1999.99", qty=3, launched="2025-03-01", maker=maker)
    row = read(api, "gadget", gadget)
    assert row["unit_price"] == "666.66"  # 666.663… half-up
    assert row["code"] == "PHONE-3"
    assert row["maker_country"] == "中国"
    assert row["label_text"] == "小米·中国"
    api.put(f"/api/v1/gadget/{gadget}", json={"qty": 0, "name": "watch"})
    row = read(api, "gadget", gadget)
    assert row["unit_price"] is None  # division by zero: empty, never a 500
    assert row["code"] == "WATCH-0"  # stored formula recomputed on update
    api.put(f"/api/v1/maker/{maker}", json={"country": "新加坡"})
    assert read(api, "gadget", gadget)["maker_country"] == "中国"  # copied at create, kept
    assert read(api, "gadget", gadget)["label_text"] == "小米·新加坡"
    rows = listing(api, "gadget", columns=["name", "code"], filters=[{"col": "code", "opr": "eq", "value": "WATCH-0"}])
    assert [r["name"] for r in rows] == ["watch"]
    make(api, "gadget", name="pad", price="0", qty=4, launched="2026-01-01", maker=maker)
    summary = read(api, "maker", maker)
    assert summary["gadgets"] == 2
    assert summary["cheapest"] == "1999.99"  # price > 0 leaves the free pad out
    assert Decimal(summary["average"]) == Decimal("2")
    assert summary["newest"] == "2026-01-01"
    with app.app_context():
        table = app.extensions["crm"].models.model("gadget").__table__
        assert "code" in table.c and "maker_country" in table.c and "unit_price" not in table.c
        assert any(ix.columns.keys() == ["code"] for ix in table.indexes)


def test_an_empty_child_set_gives_zero_counts_and_empty_minimums(make_app: Any, tmp_path: Path) -> None:
    app = make_app(write_tree(tmp_path / "meta", STORED_TREE))
    api = login(app.test_client())
    summary = read(api, "maker", make(api, "maker", name="空"))
    assert summary["gadgets"] == 0 and summary["cheapest"] is None and summary["newest"] is None


BAD = {
    "deal": """
        label: Deal
        fields:
          name: {type: string}
          amount: {type: money}
          stage: {type: choice, choices: [open, won]}
          account: {type: link, to: account}
          a: {type: formula, expression: "amout * 2"}
          b: {type: formula, expression: "name * 2"}
          c: {type: formula, expression: "sqrt(amount)"}
          d: {type: formula, expression: "amount *"}
          e: {type: formula, expression: "f + 1"}
          f: {type: formula, expression: "e + 1"}
          g: {type: formula, returns: date, expression: "amount + 1"}
          h: {type: lookup, path: name.x}
          i: {type: lookup, path: account.nope}
          j: {type: formula}
    """,
    "account": """
        label: Account
        fields:
          name: {type: string}
          total: {type: rollup, to: deal, via: name, function: sum, of: amount}
          names: {type: rollup, to: deal, via: account, function: sum, of: name}
          bad_where: {type: rollup, to: deal, via: account, function: count, where: "stage = 1"}
          nowhere: {type: rollup, to: dael, via: account, function: count}
          median: {type: rollup, to: deal, via: account, function: median, of: amount}
    """,
}


def test_bad_computed_fields_give_located_errors(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "meta", BAD)
    spec, problems = load_metadata(root)
    assert spec is None
    found = {(p.path.name, p.line, p.code) for p in problems}
    text = "\n".join(p.format(root) for p in problems)
    expected = {
        ("deal.yaml", 8, "CRM-E032"),  # unknown field amout
        ("deal.yaml", 9, "CRM-E033"),  # text * 2
        ("deal.yaml", 10, "CRM-E031"),  # unknown function
        ("deal.yaml", 11, "CRM-E031"),  # syntax
        ("deal.yaml", 12, "CRM-E034"),  # cycle e ↔ f
        ("deal.yaml", 13, "CRM-E034"),
        ("deal.yaml", 14, "CRM-E033"),  # returns date, gives number
        ("deal.yaml", 15, "CRM-E034"),  # lookup through a non-link
        ("deal.yaml", 16, "CRM-E032"),  # lookup of an unknown field
        ("deal.yaml", 17, "CRM-E007"),  # formula without expression
        ("account.yaml", 5, "CRM-E034"),  # via is not a link to account
        ("account.yaml", 6, "CRM-E033"),  # sum of text
        ("account.yaml", 7, "CRM-E033"),  # where compares text with a number
        ("account.yaml", 8, "CRM-E032"),  # unknown child entity
        ("account.yaml", 9, "CRM-E014"),  # unknown function
    }
    assert expected <= found, text
    assert "did you mean 'amount'?" in text
    assert "deal.e → deal.f → deal.e" in text or "deal.f → deal.e → deal.f" in text
    assert "expression column 1: unknown field 'amout'" in text


def test_the_starter_declares_its_computed_fields() -> None:
    spec, problems = load_metadata(Path(__file__).resolve().parents[1] / "metadata")
    assert spec is not None, problems
    kinds = {(e, f): spec.entity_map[e].field(f) for e, f in spec.computed_order}
    assert kinds[("opportunity", "weighted_amount")].type == "money"
    assert kinds[("opportunity", "account_industry")].type == "choice"
    assert kinds[("account", "open_pipeline")].type == "money"
    assert kinds[("lead", "fit_score")].type == "integer"
    assert textwrap.dedent("x") == "x"
