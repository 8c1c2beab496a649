"""Built-in analyses on fixed data: every analysis chart of the starter dashboards (and its
other kinds) against numbers computed here, in plain Python, from the rows inserted.

Records that need stage history go through the record commands with a controlled clock;
a few are inserted bare (no history) the way an import or the demo loader leaves them.
The chart's `now` is fixed. A Sales Rep counts only their own records; a Support Agent,
who may not see opportunity amounts, gets those charts left out (never the value).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from app.charts.analyses import RUNNERS, run_analysis
from app.charts.run import chart_context, run_chart
from app.demo.users import create_demo_users
from app.metadata.definitions import ANALYSES
from app.records.commands import CreateRecord, MoveStage, RecordContext
from tests.conftest import STARTER, build_test_app, count_queries, dispose_app, fresh_database

NOW = dt.datetime(2026, 3, 18, 12, 0)  # a Wednesday
TODAY = NOW.date()
T0 = dt.datetime(2025, 10, 1, 9, 0)
DAY = dt.timedelta(days=1)

ACCOUNTS = [("杭州云帆科技有限公司", "sales_rep"), ("上海明珠贸易有限公司", "sales_rep2"),
            ("北京长城制造集团", "admin"), ("深圳海风电子", "sales_rep"), ("成都熊猫物流", "sales_rep2"),
            ("Acme Ltd", "admin")]
CAMPAIGNS = [("2026 春季展会", Decimal("10000")), ("微信推广", Decimal("5000")), ("零成本沙龙", Decimal("0"))]
# name, owner, account, amount, close date, campaign, deal type, [(stage, days after T0)]
OPPORTUNITIES = [
    ("云帆 ERP 项目", "sales_rep", 0, 120000, dt.date(2026, 1, 15), 0, "new_business",
     [("prospecting", 0), ("needs_analysis", 3), ("proposal", 10), ("won", 20)]),
    ("明珠 CRM 升级", "sales_rep2", 1, 80000, dt.date(2026, 2, 10), 0, "new_business",
     [("prospecting", 0), ("proposal", 5), ("negotiation", 9), ("won", 30)]),
    ("长城 MES", "admin", 2, 50000, dt.date(2026, 4, 20), None, "new_business",
     [("prospecting", 1), ("needs_analysis", 2), ("proposal", 6)]),
    ("海风 IoT 平台", "sales_rep", 3, 30000, dt.date(2026, 4, 5), 1, "new_business",
     [("prospecting", 2), ("needs_analysis", 4)]),
    ("熊猫 仓储系统", "sales_rep2", 4, 64000, dt.date(2026, 5, 30), 1, "new_business",
     [("prospecting", 0), ("needs_analysis", 1), ("proposal", 3), ("negotiation", 8), ("lost", 12)]),
    ("云帆 二期", "sales_rep", 0, 45000, dt.date(2025, 12, 1), None, "new_business",
     [("prospecting", 0), ("won", 15)]),
    ("Acme pilot", "admin", 5, 9000, None, None, "new_business", [("prospecting", 0)]),
    ("云帆 续约", "sales_rep", 0, 20000, dt.date(2026, 6, 1), None, "renewal",
     [("renewal_due", 0), ("quoted", 5)]),
    ("明珠 续约", "sales_rep2", 1, 15000, dt.date(2026, 1, 5), None, "renewal",
     [("renewal_due", 0), ("won", 7)]),
    ("海风 小单", "sales_rep", 3, 7000, dt.date(2025, 11, 20), None, "new_business",
     [("prospecting", 0), ("lost", 2)]),
    ("云帆 三期", "sales_rep", 0, 60000, dt.date(2026, 4, 28), None, "new_business",
     [("prospecting", 0), ("needs_analysis", 6), ("prospecting", 9), ("needs_analysis", 11)]),
]
# Loaded without history (an import): stage only; probability None = the stage's.
BARE_OPPORTUNITIES = [
    ("导入商机 甲", "sales_rep", 2, 25000, dt.date(2026, 4, 28), "proposal", None),
    ("导入商机 乙", "sales_rep2", 4, 11000, dt.date(2025, 9, 10), "won", 100),
]
# name, owner, source, campaign, [stages after new]
LEADS = [
    ("王小明", "sales_rep", "web", 0, ["contacted", "qualified", "converted"]),
    ("李娜", "sales_rep2", "web", 0, ["contacted"]),
    ("张伟", "admin", "referral", 1, ["qualified", "converted"]),
    ("刘洋", "sales_rep", "event", 1, ["disqualified"]),
    ("陈静", "sales_rep", None, None, []),
    ("杨帆", "sales_rep", "referral", None, ["contacted", "qualified"]),
    ("赵磊", "admin", "web", 0, ["converted"]),
]
# account index, owner, days before NOW
ACTIVITIES = [(0, "sales_rep", 10), (0, "admin", 200), (1, "sales_rep2", 100), (3, "admin", 5),
              (3, "sales_rep", 120), (4, "sales_rep", 95), (5, "sales_rep2", 30)]
BULK_ACCOUNTS = 100  # each with an admin activity yesterday: silent only for a rep
# subject, created (days before NOW), due (hours after created; None = no SLA), [(stage, hours after created)]
TICKETS = [
    ("打印机无法连接", 20, 48, [("resolved", 24)]),
    ("发票金额错误", 20, 24, [("in_progress", 2), ("resolved", 72)]),
    ("系统登录缓慢", 10, 24, [("in_progress", 5)]),
    ("新功能咨询", 2, 72, []),
    ("数据导出失败", 40, 24, [("resolved", 120)]),
    ("账号权限申请", 45, None, [("resolved", 10)]),
    ("报表显示乱码", 50, 24, [("resolved", 12), ("closed", 120)]),
    ("旧工单", 200, 24, []),
]
BARE_TICKETS = [("导入工单", 9, -6 * 24 + 9 * 24, "resolved")]  # resolved with no history: never breached


def _at(days: float) -> dt.datetime:
    return T0 + dt.timedelta(days=days)


@pytest.fixture(scope="module")
def world(tmp_path_factory: Any) -> Any:
    base = tmp_path_factory.mktemp("analyses")
    with fresh_database(base) as url:
        app = build_test_app(url, STARTER, base / "no-plugins")
        with app.app_context():
            state = app.extensions["crm"]
            create_demo_users(state.appbuilder, state.models)
            sm = state.appbuilder.sm
            users = {name: sm.find_user(username=name) for name in
                     ("admin", "executive", "sales_rep", "sales_rep2", "support_agent", "marketing")}
            ids = {name: u.id for name, u in users.items()}
            data = _seed(state, ids)
        yield {"app": app, "ids": ids, "spec": state.spec, **data}
        dispose_app(app)


def _seed(state: Any, ids: dict[str, int]) -> dict[str, Any]:
    session, models = state.db.session, state.models
    model = models.model
    accounts = []
    for name, owner in ACCOUNTS:
        row = model("account")(name=name, owner_id=ids[owner])
        session.add(row)
        accounts.append(row)
    bulk = [model("account")(name=f"批量客户 {i:03d}", owner_id=ids["admin"]) for i in range(BULK_ACCOUNTS)]
    session.add_all(bulk)
    campaigns = [model("campaign")(name=n, actual_cost=c, owner_id=ids["admin"]) for n, c in CAMPAIGNS]
    session.add_all(campaigns)
    session.commit()
    contact = model("contact")(name="联系人 周", account_id=accounts[0].id, owner_id=ids["admin"])
    session.add(contact)
    session.commit()
    account_ids = [a.id for a in accounts]
    campaign_ids = [c.id for c in campaigns]

    opps = []
    for name, owner, acc, amount, close, camp, deal_type, path in OPPORTUNITIES:
        ctx = RecordContext(session, models, "zh", user_id=ids[owner])
        values = {"name": name, "account": account_ids[acc], "contact": contact.id, "amount": amount,
                  "close_date": close, "deal_type": deal_type, "lost_reason": "价格过高",
                  "campaign": campaign_ids[camp] if camp is not None else None}
        create = CreateRecord(ctx, "opportunity", {k: v for k, v in values.items() if v is not None})
        create.now = _at(path[0][1])
        record = create.run()
        assert record.stage == path[0][0]
        for stage, days in path[1:]:
            MoveStage(ctx, "opportunity", record, stage, now=_at(days)).run()
        opps.append({"id": record.id, "owner": ids[owner], "account": account_ids[acc], "amount": amount,
                     "close": close, "campaign": campaign_ids[camp] if camp is not None else None,
                     "pipeline": deal_type, "stage": path[-1][0], "moves": [(s, _at(d)) for s, d in path],
                     "probability": None})
    for name, owner, acc, amount, close, stage, probability in BARE_OPPORTUNITIES:
        row = model("opportunity")(name=name, owner_id=ids[owner], account_id=account_ids[acc], amount=amount,
                                   close_date=close, stage=stage, probability=probability,
                                   deal_type="new_business")
        session.add(row)
        session.flush()
        opps.append({"id": row.id, "owner": ids[owner], "account": account_ids[acc], "amount": amount,
                     "close": close, "campaign": None, "pipeline": "new_business", "stage": stage, "moves": [],
                     "probability": probability})

    leads = []
    for name, owner, source, camp, stages in LEADS:
        ctx = RecordContext(session, models, "zh", user_id=ids[owner])
        values = {"name": name, "company": f"{name}的公司", "source": source, "disqualify_reason": "无预算",
                  "campaign": campaign_ids[camp] if camp is not None else None}
        create = CreateRecord(ctx, "lead", {k: v for k, v in values.items() if v is not None})
        create.now = _at(0)
        record = create.run()
        for index, stage in enumerate(stages):
            MoveStage(ctx, "lead", record, stage, now=_at(index + 1)).run()
        leads.append({"id": record.id, "owner": ids[owner], "source": source,
                      "campaign": campaign_ids[camp] if camp is not None else None,
                      "stage": stages[-1] if stages else "new", "visited": ["new", *stages]})

    activities = [(account_ids[acc], ids[owner], NOW - days * DAY) for acc, owner, days in ACTIVITIES]
    activities += [(b.id, ids["admin"], NOW - DAY) for b in bulk]
    for index, (acc, owner, created) in enumerate(activities):
        session.add(model("activity")(subject=f"跟进 {index}", account_id=acc, owner_id=owner, created_on=created))
    session.commit()

    tickets = []
    agent = ids["support_agent"]
    for subject, days, due_hours, moves in TICKETS:
        created = NOW - days * DAY
        due = created + dt.timedelta(hours=due_hours) if due_hours is not None else None
        ctx = RecordContext(session, models, "zh", user_id=agent)
        values = {"subject": subject, "sla_due": due, "resolution": "已处理"}
        create = CreateRecord(ctx, "ticket", {k: v for k, v in values.items() if v is not None})
        create.now = created
        record = create.run()
        record.created_on = created
        session.commit()
        for stage, hours in moves:
            MoveStage(ctx, "ticket", record, stage, now=created + dt.timedelta(hours=hours)).run()
        done = next((created + dt.timedelta(hours=h) for s, h in moves if s in ("resolved", "closed")), None)
        tickets.append({"created": created, "due": due, "done": done, "stage": moves[-1][0] if moves else "new"})
    for subject, days, due_hours, stage in BARE_TICKETS:
        created = NOW - days * DAY
        row = model("ticket")(subject=subject, status=stage, owner_id=agent, created_on=created,
                              sla_due=created + dt.timedelta(hours=due_hours))
        session.add(row)
        tickets.append({"created": created, "due": row.sla_due, "done": None, "stage": stage})
    session.commit()
    return {"accounts": [(a.id, a.name, a.owner_id) for a in accounts + bulk],
            "campaigns": [(c.id, c.name, c.actual_cost) for c in campaigns],
            "opportunities": opps, "leads": leads, "activities": activities, "tickets": tickets}


def run(world: Any, user: str, chart: Any, lang: str = "en", **changes: Any) -> Any:
    chart = dataclasses.replace(chart, **changes) if changes else chart
    app = world["app"]
    with app.app_context():
        state = app.extensions["crm"]
        viewer = state.appbuilder.sm.find_user(username=user)
        ctx = chart_context(app, viewer, lang, now=NOW)
        with count_queries(app) as statements:
            result = run_analysis(chart, ctx)
        state.db.session.remove()
    result.statements = statements  # type: ignore[attr-defined]
    return result


def chart(world: Any, dashboard: str, name: str) -> Any:
    return world["spec"].dashboard_map[dashboard].chart(name)


def mine(rows: list[dict], world: Any, user: str) -> list[dict]:
    """The rows a user reads: a rep their own, the others here everything."""
    if user.startswith("sales_rep"):
        return [r for r in rows if r["owner"] == world["ids"][user]]
    return rows


def pipeline_stages(world: Any, entity: str, name: str) -> Any:
    return next(p for p in world["spec"].entity(entity).pipelines if p.name == name)


# -- the contract ---------------------------------------------------------------------
def test_every_analysis_has_a_runner():
    assert set(RUNNERS) == set(ANALYSES)


def test_run_chart_dispatches_to_the_analysis(world):
    app = world["app"]
    with app.app_context():
        viewer = app.extensions["crm"].appbuilder.sm.find_user(username="admin")
        via_engine = run_chart(chart(world, "sales", "funnel"), chart_context(app, viewer, "en", now=NOW))
    assert [p.value for p in via_engine.points] == [p.value for p in run(world, "admin", chart(world, "sales",
                                                                                             "funnel")).points]


# -- pipeline analyses ----------------------------------------------------------------
def expected_funnel(records: list[dict], pipeline: Any) -> list[int]:
    steps = [s.name for s in pipeline.stages if s.outcome == "open"] + \
            [s.name for s in pipeline.stages if s.outcome == "won"]
    counts = []
    for index in range(len(steps)):
        n = 0
        for r in records:
            visited = [s for s, _ in r["moves"]] + [r["stage"]]
            furthest = max((steps.index(s) if s in steps else 0) for s in visited)
            n += furthest >= index
        counts.append(n)
    return counts


@pytest.mark.parametrize("user", ["admin", "sales_rep", "sales_rep2", "executive"])
def test_stage_funnel_counts_furthest_stage_reached(world, user):
    pipeline = pipeline_stages(world, "opportunity", "new_business")
    records = [r for r in mine(world["opportunities"], world, user) if r["pipeline"] == "new_business"]
    expected = expected_funnel(records, pipeline)
    result = run(world, user, chart(world, "sales", "funnel"))
    assert result.omitted is None and not result.drillable
    assert [p.key for p in result.points] == ["prospecting", "needs_analysis", "proposal", "negotiation", "won"]
    assert [p.value for p in result.points] == expected
    assert expected[0] == len(records)  # every record of the pipeline is at the top of the funnel
    conversions = [dict(p.extra).get("conversion") for p in result.points]
    assert conversions[0] is None
    for i in range(1, len(expected)):
        assert conversions[i] == (pytest.approx(expected[i] / expected[i - 1]) if expected[i - 1] else None)
    assert len(result.statements) <= 2


def test_stage_funnel_table_in_chinese_and_for_leads(world):
    table = run(world, "admin", chart(world, "sales", "funnel"), "zh", kind="table")
    assert table.columns[0] == "阶段" and table.rows[0][0] == "初步接触" and table.rows[-1][0] == "成交"
    pipeline = pipeline_stages(world, "lead", "qualification")
    leads = [dict(r, moves=[(s, None) for s in r["visited"]]) for r in world["leads"]]
    result = run(world, "admin", chart(world, "marketing", "leads_by_status"), "zh")
    assert [p.label for p in result.points] == ["新线索", "已联系", "已确认", "已转化"]
    assert [p.value for p in result.points] == expected_funnel(leads, pipeline)


def closed(records: list[dict], pipeline: Any) -> tuple[int, int]:
    won = [s.name for s in pipeline.stages if s.outcome == "won"]
    lost = [s.name for s in pipeline.stages if s.outcome == "lost"]
    return (sum(r["stage"] in won for r in records), sum(r["stage"] in won + lost for r in records))


@pytest.mark.parametrize("user", ["admin", "sales_rep", "sales_rep2", "support_agent"])
def test_win_rate_kpi_and_per_owner(world, user):
    pipeline = pipeline_stages(world, "opportunity", "new_business")
    records = [r for r in mine(world["opportunities"], world, user) if r["pipeline"] == "new_business"]
    won, total = closed(records, pipeline)
    kpi = run(world, user, chart(world, "sales", "win_rate"))
    assert kpi.omitted is None and kpi.kpi == pytest.approx(won / total) and kpi.previous is None
    assert len(kpi.statements) == 1
    from app.metadata.spec import Grouping
    per_owner = run(world, user, chart(world, "sales", "win_rate"), kind="bar", group=Grouping("owner"))
    owners = {r["owner"] for r in records}
    expected = {}
    for owner in owners:
        w, n = closed([r for r in records if r["owner"] == owner], pipeline)
        if n:
            expected[owner] = w / n
    assert {p.key: p.value for p in per_owner.points} == pytest.approx(expected)
    assert all(p.filters == (("owner", "eq", p.key),) for p in per_owner.points)
    assert len(per_owner.statements) <= 2  # the rates, then the owners' names


def test_win_rate_per_source_table_names_empty(world):
    from app.metadata.spec import Grouping
    pipeline = pipeline_stages(world, "opportunity", "new_business")
    result = run(world, "admin", chart(world, "sales", "win_rate"), "zh", kind="table", group=Grouping("source"))
    records = [r for r in world["opportunities"] if r["pipeline"] == "new_business"]
    w, n = closed(records, pipeline)  # no record has a source: one "(empty)" row
    assert result.columns[0] == "来源" and result.rows == [("（空）", w, n, pytest.approx(w / n))]


def expected_stage_time(records: list[dict], pipeline: str) -> dict[str, float]:
    seconds: dict[str, list[float]] = defaultdict(list)
    for r in records:
        if r["pipeline"] != pipeline:
            continue
        for (stage, entered), (_, left) in zip(r["moves"], r["moves"][1:], strict=False):
            seconds[stage].append((left - entered).total_seconds())
    return {s: round(sum(v) / len(v) / 86400, 2) for s, v in seconds.items()}


@pytest.mark.parametrize("user", ["admin", "sales_rep"])
def test_stage_time_averages_history(world, user):
    pipeline = pipeline_stages(world, "opportunity", "new_business")
    expected = expected_stage_time(mine(world["opportunities"], world, user), "new_business")
    result = run(world, user, chart(world, "sales", "time_in_stage"))
    assert {p.key: p.value for p in result.points} == pytest.approx(expected)
    order = [s.name for s in pipeline.stages]
    assert [p.key for p in result.points] == sorted(expected, key=order.index)
    assert len(result.statements) == 1


def expected_forecast(world: Any, records: list[dict]) -> dict[Any, tuple[float, float]]:
    pipeline = pipeline_stages(world, "opportunity", "new_business")
    open_stages = {s.name: s.probability for s in pipeline.stages if s.outcome == "open"}
    totals: dict[Any, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for r in records:
        if r["pipeline"] != "new_business" or r["stage"] not in open_stages:
            continue
        month = r["close"].replace(day=1) if r["close"] else None
        probability = r["probability"] if r["probability"] is not None else open_stages[r["stage"]]
        totals[month][0] += r["amount"]
        totals[month][1] += r["amount"] * probability / 100
    return {k: (a, w) for k, (a, w) in totals.items()}


@pytest.mark.parametrize("user", ["admin", "sales_rep"])
def test_forecast_amount_and_weighted_per_close_month(world, user):
    expected = expected_forecast(world, mine(world["opportunities"], world, user))
    result = run(world, user, chart(world, "sales", "forecast"))
    got: dict[Any, dict[str, float]] = defaultdict(dict)
    for p in result.points:
        got[p.key][p.series_key] = p.value
    assert set(got) == set(expected)
    for month, (amount, weighted) in expected.items():
        assert got[month]["amount"] == pytest.approx(amount) and got[month]["weighted"] == pytest.approx(weighted)
    keys = list(dict.fromkeys(p.key for p in result.points))
    assert keys == sorted(expected, key=lambda k: (k is None, k or dt.date.min))
    if None in expected:
        empty = next(p for p in result.points if p.key is None)
        assert empty.label == "(empty)" and empty.filters == (("close_date", "empty", True),)
    april = next(p for p in result.points if p.key == dt.date(2026, 4, 1))
    assert april.label == "2026-04" and april.filters == (("close_date", "gte", dt.date(2026, 4, 1)),
                                                          ("close_date", "lt", dt.date(2026, 5, 1)))
    assert len(result.statements) == 1
    table = run(world, user, chart(world, "sales", "forecast"), "zh", kind="table")
    assert table.columns == ["月份", "金额", "加权金额"] and len(table.rows) == len(expected)


def test_support_agent_sees_no_amounts(world):
    for name in ("forecast", "customer_tiers"):
        result = run(world, "support_agent", chart(world, "sales", name))
        assert result.omitted and "Amount" in result.omitted and "Opportunity" in result.omitted
        assert result.empty and result.kpi is None
    zh = run(world, "support_agent", chart(world, "sales", "forecast"), "zh")
    assert zh.omitted == "未显示：您无权查看商机的金额。"
    # the funnel counts records, not amounts: shown
    assert run(world, "support_agent", chart(world, "sales", "funnel")).omitted is None


# -- customers ------------------------------------------------------------------------
def expected_rfm(world: Any, records: list[dict]) -> dict[int, tuple[int | None, int, float, str]]:
    per: dict[int, list[dict]] = defaultdict(list)
    for r in records:
        if r["pipeline"] == "new_business" and r["stage"] == "won":
            per[r["account"]].append(r)
    ids = sorted(per)
    recency = {a: min((TODAY - r["close"]).days for r in per[a]) for a in ids}
    frequency = {a: len(per[a]) for a in ids}
    money = {a: float(sum(r["amount"] for r in per[a])) for a in ids}

    def score(metric: dict[int, float], lower_better: bool) -> dict[int, int]:
        ordered = sorted(ids, key=lambda a: -metric[a] if lower_better else metric[a])  # worst first
        result = {}
        for a in ids:
            value = metric[a]
            first = next(i for i, b in enumerate(ordered) if metric[b] == value)
            last = max(i for i, b in enumerate(ordered) if metric[b] == value)
            position = (first + last + 1) / 2  # mid-rank among ties, 0.5-based
            result[a] = min(3, 1 + int(3 * position / len(ids)))
        return result

    r, f, m = score(recency, True), score(frequency, False), score(money, False)
    tiers = {}
    for a in ids:
        fm = f[a] + m[a]
        tiers[a] = ("champions" if r[a] == 3 and fm >= 5 else "loyal" if r[a] >= 2 and fm >= 4
                    else "promising" if r[a] >= 2 else "at_risk" if fm >= 4 else "hibernating")
    return {a: (recency[a], frequency[a], money[a], tiers[a]) for a in ids}


@pytest.mark.parametrize("user", ["admin", "sales_rep", "sales_rep2"])
def test_rfm_tiers_and_table(world, user):
    expected = expected_rfm(world, mine(world["opportunities"], world, user))
    result = run(world, user, chart(world, "sales", "customer_tiers"))
    tiers = ["champions", "loyal", "promising", "at_risk", "hibernating"]
    assert [p.key for p in result.points] == tiers
    assert [p.value for p in result.points] == [sum(t == tier for *_, t in expected.values()) for tier in tiers]
    assert len(result.statements) == 1
    table = run(world, user, chart(world, "sales", "customer_tiers"), "zh", kind="table")
    names = {a: n for a, n, _ in world["accounts"]}
    labels = {"champions": "核心客户", "loyal": "忠诚客户", "promising": "潜力客户", "at_risk": "流失风险客户",
              "hibernating": "沉睡客户"}
    want = sorted(((names[a], rec, f, m, labels[t]) for a, (rec, f, m, t) in expected.items()),
                  key=lambda row: (-row[3], row[0]))
    assert table.rows == want and table.columns[0] == "客户"


def test_rfm_scores_spread_over_tiers(world):
    expected = expected_rfm(world, world["opportunities"])
    assert len({t for *_, t in expected.values()}) >= 2  # the data exercises more than one tier


def expected_churn(world: Any, user: str, days: int = 90) -> list[tuple[str, str | None, int | None]]:
    readable = [a for a in world["activities"] if not user.startswith("sales_rep") or a[1] == world["ids"][user]]
    latest: dict[int, dt.datetime] = {}
    for account, _, created in readable:
        latest[account] = max(latest.get(account, created), created)
    rows = []
    for pk, name, _ in world["accounts"]:
        last = latest.get(pk)
        if last is None or last < NOW - days * DAY:
            rows.append((name, None if last is None else (TODAY - last.date()).days))
    return rows


def test_churn_risk_table_for_admin(world):
    expected = expected_churn(world, "admin")
    result = run(world, "admin", chart(world, "sales", "churn_risk"), "zh")
    assert result.columns == ["客户名称", "负责人", "最近跟进", "距今天数"]
    assert [(name, since) for name, _, _, since in result.rows] == sorted(
        expected, key=lambda row: (row[1] is not None, -(row[1] or 0)))
    owners = {name: owner for _, name, owner in world["accounts"]}
    with world["app"].app_context():
        sm = world["app"].extensions["crm"].appbuilder.sm
        people = {u.id: (f"{u.first_name or ''} {u.last_name or ''}".strip() or u.username)
                  for u in (sm.get_user_by_id(i) for i in world["ids"].values())}
    assert [owner for _, owner, _, _ in result.rows] == [people[owners[name]] for name, *_ in result.rows]
    assert result.notes == [] and len(result.statements) <= 2


def test_churn_risk_for_a_rep_counts_only_their_activities_and_caps_the_table(world):
    expected = expected_churn(world, "sales_rep")
    assert len(expected) > 100
    result = run(world, "sales_rep", chart(world, "sales", "churn_risk"))
    assert len(result.rows) == 100 and result.notes == [f"and {len(expected) - 100} more"]
    days = [since for *_, since in result.rows]
    nevers = [d for d in days if d is None]
    assert days[:len(nevers)] == nevers and all(d is not None for d in days[len(nevers):])
    assert days[len(nevers):] == sorted(days[len(nevers):], reverse=True)
    assert {(n, s) for n, _, _, s in result.rows} <= set(expected)
    kpi = run(world, "sales_rep", chart(world, "sales", "churn_risk"), kind="kpi")
    assert kpi.kpi == len(expected) and len(kpi.statements) == 1
    bar = run(world, "admin", chart(world, "sales", "churn_risk"), kind="bar")
    per_owner: dict[int, int] = defaultdict(int)
    owner_of = {name: owner for _, name, owner in world["accounts"]}
    for name, _ in expected_churn(world, "admin"):
        per_owner[owner_of[name]] += 1
    assert {p.key: p.value for p in bar.points} == per_owner


def test_churn_risk_days_param_and_support_view(world):
    assert run(world, "support_agent", chart(world, "sales", "churn_risk")).omitted is None
    short = run(world, "admin", chart(world, "sales", "churn_risk"), kind="kpi",
                params=(("activity", "activity"), ("days", 1)))
    assert short.kpi == len(expected_churn(world, "admin", 1))


# -- marketing ------------------------------------------------------------------------
@pytest.mark.parametrize("user", ["admin", "sales_rep", "marketing"])
def test_lead_conversion_by_source(world, user):
    leads = mine(world["leads"], world, user)
    result = run(world, user, chart(world, "marketing", "conversion_by_source"))
    expected: dict[Any, list[int]] = defaultdict(lambda: [0, 0])
    for lead in leads:
        expected[lead["source"]][0] += 1
        expected[lead["source"]][1] += lead["stage"] == "converted"
    got: dict[Any, dict[str, int]] = defaultdict(dict)
    for p in result.points:
        got[p.key][p.series_key] = p.value
        n, c = expected[p.key]
        assert dict(p.extra)["rate"] == pytest.approx(c / n)
    assert {k: [v["records"], v["converted"]] for k, v in got.items()} == dict(expected)
    choice_order = [c.value for c in world["spec"].entity("lead").field("source").choices]
    keys = list(dict.fromkeys(p.key for p in result.points))
    assert keys == sorted(expected, key=lambda k: (k is None, choice_order.index(k) if k else 0))
    web = [p for p in result.points if p.key == "web"]
    if web:
        assert web[0].label == "Website" and web[0].filters == (("source", "eq", "web"),)
        assert web[1].filters == (("source", "eq", "web"), ("status", "eq", "converted"))
    assert len(result.statements) == 1


def test_lead_conversion_left_out_for_support(world):
    result = run(world, "support_agent", chart(world, "marketing", "conversion_by_source"))
    assert result.omitted == "Left out: you may not read Leads." and result.empty


def expected_roi(world: Any, user: str) -> list[tuple]:
    rows = []
    leads, opps = mine(world["leads"], world, user), mine(world["opportunities"], world, user)
    for pk, name, cost in world["campaigns"]:
        n = sum(lead["campaign"] == pk for lead in leads)
        revenue = float(sum(o["amount"] for o in opps if o["campaign"] == pk and o["stage"] == "won"))
        spent = float(cost)
        rows.append((name, spent, n, spent / n if n and spent is not None else None, revenue,
                     (revenue - spent) / spent if spent else None))
    return rows


def rounded(rows: list[tuple]) -> list[tuple]:
    return sorted(tuple(round(v, 6) if isinstance(v, float) else v for v in row) for row in rows)


@pytest.mark.parametrize("user", ["admin", "sales_rep"])
def test_campaign_roi_table_and_bar(world, user):
    result = run(world, user, chart(world, "marketing", "campaign_roi"), "zh")
    assert result.columns == ["活动名称", "花费", "线索", "单线索成本", "成交收入", "投资回报率"]
    expected = expected_roi(world, user)
    assert rounded(result.rows) == rounded(expected)
    assert len(result.statements) == 1
    bar = run(world, user, chart(world, "marketing", "campaign_roi"), kind="bar")
    assert {p.label: p.value for p in bar.points} == pytest.approx({r[0]: r[5] for r in expected})
    assert all(p.filters == (("name", "eq", p.label),) for p in bar.points)


def test_campaign_roi_without_deals_for_marketing(world):
    result = run(world, "marketing", chart(world, "marketing", "campaign_roi"))
    assert result.omitted is None
    assert result.columns == ["Campaign name", "Cost", "Leads", "Cost per lead"]
    expected = [row[:4] for row in expected_roi(world, "marketing")]
    assert rounded(result.rows) == rounded(expected)
    assert result.notes == ["Won revenue left out: you may not read Opportunities."]
    bar = run(world, "marketing", chart(world, "marketing", "campaign_roi"), kind="bar")
    assert bar.omitted == "Won revenue left out: you may not read Opportunities." and bar.empty
    agent = run(world, "support_agent", chart(world, "marketing", "campaign_roi"))
    assert agent.omitted == "Left out: you may not read Campaigns."


# -- service --------------------------------------------------------------------------
def breached(ticket: dict) -> bool:
    if ticket["due"] is None:
        return False
    if ticket["done"] is not None:
        return ticket["done"] > ticket["due"]
    return ticket["stage"] not in ("resolved", "closed") and ticket["due"] < NOW


def test_ticket_sla_per_week(world):
    monday = TODAY - dt.timedelta(days=TODAY.weekday())
    start = monday - dt.timedelta(weeks=25)
    weeks: dict[dt.date, list[int]] = defaultdict(lambda: [0, 0])
    for t in world["tickets"]:
        week = t["created"].date() - dt.timedelta(days=t["created"].weekday())
        if week >= start:
            weeks[week][0] += 1
            weeks[week][1] += breached(t)
    result = run(world, "support_agent", chart(world, "service", "tickets_by_week"), "zh")
    got: dict[Any, dict[str, int]] = defaultdict(dict)
    for p in result.points:
        got[p.key][p.series_key] = p.value
    assert {w: [v["on_time"] + v["breached"], v["breached"]] for w, v in got.items()} == dict(weeks)
    assert sum(b for _, b in weeks.values()) >= 2  # the data has breaches in the chart
    assert {p.series_label for p in result.points} == {"按时", "超时"}
    assert [p.key for p in result.points][::2] == sorted(weeks)
    assert len(result.statements) == 1
    table = run(world, "admin", chart(world, "service", "tickets_by_week"), kind="table")
    assert [(r[1], r[2]) for r in table.rows] == [tuple(weeks[w]) for w in sorted(weeks)]


def test_ticket_sla_kpi_and_previous_30_days(world):
    def count(start: dt.datetime, end: dt.datetime) -> int:
        return sum(breached(t) for t in world["tickets"] if t["due"] is not None and start <= t["due"] < end)

    span = dt.timedelta(days=30)
    result = run(world, "support_agent", chart(world, "service", "sla_breaches"))
    assert result.kpi == count(NOW - span, NOW) and result.previous == count(NOW - 2 * span, NOW - span)
    assert result.kpi >= 2 and result.previous >= 1
    assert len(result.statements) == 1
    denied = run(world, "sales_rep", chart(world, "service", "sla_breaches"))
    assert denied.omitted == "Left out: you may not read Tickets." and denied.kpi is None


# -- bounded statements whatever the data ----------------------------------------------
def test_every_starter_analysis_chart_runs_in_few_statements(world):
    charts = [c for d in world["spec"].dashboards for c in d.charts if c.analysis]
    assert {c.analysis for c in charts} == set(ANALYSES)
    for c in charts:
        for kind in ANALYSES[c.analysis].kinds:
            for user in ("admin", "sales_rep", "support_agent", "marketing", "executive"):
                result = run(world, user, c, kind=kind)
                assert len(result.statements) <= 2, (c.name, kind, user, result.statements)
                assert result.omitted is None or result.empty, (c.name, kind, user)


def test_history_rows_exist_only_for_command_records(world):
    """The bare rows really have no history: the funnel's handling of them is exercised."""
    app = world["app"]
    with app.app_context():
        state = app.extensions["crm"]
        history = state.models.core["crm_stage_history"]
        with_history = set(state.db.session.scalars(
            sa.select(history.c.record_id).where(history.c.entity == "opportunity")))
        state.db.session.remove()
    bare = {r["id"] for r in world["opportunities"] if not r["moves"]}
    assert bare and not bare & with_history


# -- a chart's own filters and fields the viewer may not see ----------------------------
def test_chart_filters_limit_the_records_analysed(world):
    from app.metadata.spec import Condition
    big = [r for r in world["opportunities"] if r["amount"] >= 30000]
    forecast = run(world, "admin", chart(world, "sales", "forecast"),
                   filters=(Condition("amount", "gte", 30000),))
    assert {p.key: p.value for p in forecast.points if p.series_key == "amount"} == pytest.approx(
        {k: a for k, (a, _) in expected_forecast(world, big).items()})
    yunfan = world["accounts"][0][0]
    funnel = run(world, "admin", chart(world, "sales", "funnel"),
                 filters=(Condition("account.name", "eq", "杭州云帆科技有限公司"),))
    records = [r for r in world["opportunities"] if r["account"] == yunfan and r["pipeline"] == "new_business"]
    assert [p.value for p in funnel.points] == expected_funnel(
        records, pipeline_stages(world, "opportunity", "new_business"))
    assert len(funnel.statements) == 1
    web = run(world, "admin", chart(world, "marketing", "conversion_by_source"),
              filters=(Condition("status", "in", ("new", "converted")),))
    assert {(p.key, p.series_key): p.value for p in web.points} == {
        (k, s): sum(1 for lead in world["leads"] if lead["source"] == k and lead["stage"] in
                    (("new", "converted") if s == "records" else ("converted",)))
        for k in {lead["source"] for lead in world["leads"] if lead["stage"] in ("new", "converted")}
        for s in ("records", "converted")}


def test_hidden_group_or_filter_field_leaves_the_chart_out(world):
    from app.metadata.spec import Condition, Grouping
    by_probability = run(world, "support_agent", chart(world, "sales", "win_rate"), "zh", kind="bar",
                         group=Grouping("probability"))
    assert by_probability.omitted == "未显示：您无权查看商机的赢单率。" and by_probability.empty
    filtered = run(world, "support_agent", chart(world, "sales", "funnel"),
                   filters=(Condition("amount", "gte", 1),))
    assert filtered.omitted == "Left out: you may not see Amount of Opportunity." and filtered.empty
    revenue = run(world, "marketing", chart(world, "sales", "churn_risk"), "zh",
                  filters=(Condition("annual_revenue", "gte", 1),))
    assert revenue.omitted == "未显示：您无权查看客户的年营业额。"


def test_a_rep_sees_less_than_everyone(world):
    """The rep-scoped expectations above are not the whole data by accident."""
    everyone = expected_funnel([r for r in world["opportunities"] if r["pipeline"] == "new_business"],
                               pipeline_stages(world, "opportunity", "new_business"))
    rep = run(world, "sales_rep", chart(world, "sales", "funnel"))
    assert [p.value for p in rep.points] != everyone and 0 < rep.points[0].value < everyone[0]


def test_renewal_pipeline_counts_only_renewals(world):
    pipeline = pipeline_stages(world, "opportunity", "renewal")
    renewals = [r for r in world["opportunities"] if r["pipeline"] == "renewal"]
    funnel = run(world, "admin", chart(world, "sales", "funnel"), pipeline="renewal")
    assert [p.key for p in funnel.points] == ["renewal_due", "quoted", "won"]
    assert [p.value for p in funnel.points] == expected_funnel(renewals, pipeline)
    won, total = closed(renewals, pipeline)
    assert run(world, "admin", chart(world, "sales", "win_rate"), pipeline="renewal").kpi == won / total


def test_bad_chart_input_is_named_never_a_crash(world):
    from app.charts.query import ChartQueryError
    from app.metadata.spec import Condition
    unknown = run(world, "admin", chart(world, "sales", "funnel"), analysis="crystal_ball")
    assert unknown.omitted == "unknown analysis 'crystal_ball'" and unknown.empty
    with pytest.raises(ChartQueryError) as error:
        run(world, "admin", chart(world, "sales", "funnel"), filters=(Condition("amount", "gte", "很多"),))
    assert error.value.path == "amount"
