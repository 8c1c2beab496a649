"""The chart engine against fixed rows: every starter chart (without an analysis), per viewer.

Expected numbers come from a small evaluator here over the rows this module
inserted (plain Python: filters, scopes read from the roles table below,
date ranges written out for the fixed NOW), never from the engine. Runs on
SQLite and on PostgreSQL (CRM_TEST_DATABASE_URL).
"""

from __future__ import annotations

import datetime as dt
import json
import random
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from app.charts.dates import previous_range, resolve_range
from app.charts.figures import figure, kpi_text, table
from app.charts.query import ChartQueryError, aggregate, chart_filters, period_filters
from app.charts.result import ChartResult
from app.charts.run import chart_context, run_chart
from app.charts.units import in_units
from app.i18n.formats import compact_money
from app.metadata.loader import load_spec
from app.metadata.spec import ChartSpec, Condition, Grouping, Measure, Period, Text
from tests.conftest import STARTER, build_test_app, count_queries, dispose_app, fresh_database

NOW = dt.datetime(2026, 2, 15, 10, 30)  # a Sunday in the middle of Q1
TODAY = NOW.date()
D = dt.date
# The relative ranges at NOW, written out by hand: (current [start, end), previous [start, end)).
RANGES = {
    "this_quarter": ((D(2026, 1, 1), D(2026, 4, 1)), (D(2025, 10, 1), D(2026, 1, 1))),
    "this_month": ((D(2026, 2, 1), D(2026, 3, 1)), (D(2026, 1, 1), D(2026, 2, 1))),
    "this_year": ((D(2026, 1, 1), D(2027, 1, 1)), (D(2025, 1, 1), D(2026, 1, 1))),
    "last_30_days": ((D(2026, 1, 17), D(2026, 2, 16)), (D(2025, 12, 18), D(2026, 1, 17))),
    "last_365_days": ((D(2025, 2, 16), D(2026, 2, 16)), (D(2024, 2, 17), D(2025, 2, 16))),
    "last_week": ((D(2026, 2, 2), D(2026, 2, 9)), (D(2026, 1, 26), D(2026, 2, 2))),
    "this_week": ((D(2026, 2, 9), D(2026, 2, 16)), (D(2026, 2, 2), D(2026, 2, 9))),
    "last_month": ((D(2026, 1, 1), D(2026, 2, 1)), (D(2025, 12, 1), D(2026, 1, 1))),
    "last_quarter": ((D(2025, 10, 1), D(2026, 1, 1)), (D(2025, 7, 1), D(2025, 10, 1))),
    "last_year": ((D(2025, 1, 1), D(2026, 1, 1)), (D(2024, 1, 1), D(2025, 1, 1))),
    "today": ((D(2026, 2, 15), D(2026, 2, 16)), (D(2026, 2, 14), D(2026, 2, 15))),
    "yesterday": ((D(2026, 2, 14), D(2026, 2, 15)), (D(2026, 2, 13), D(2026, 2, 14))),
    "next_10_days": ((D(2026, 2, 15), D(2026, 2, 25)), (D(2026, 2, 5), D(2026, 2, 15))),
}
# Who reads what (an independent reading of metadata/roles.yaml) and which fields they may not see.
SCOPES = {
    "rep_a": {"opportunity": "own", "lead": "own", "ticket": "no", "campaign": "all", "account": "all"},
    "manager": {"opportunity": "team", "lead": "team", "ticket": "no", "campaign": "all", "account": "all"},
    "support": {"opportunity": "all", "lead": "no", "ticket": "all", "campaign": "no", "account": "all"},
    "executive": {"opportunity": "all", "lead": "all", "ticket": "all", "campaign": "all", "account": "all"},
}
HIDDEN = {"support": {("opportunity", "amount"), ("opportunity", "probability"), ("account", "annual_revenue")}}
LINKS = {("opportunity", "account"): "account", ("ticket", "account"): "account"}
USERS = {  # username: (first name, last name, role)
    "rep_a": ("王", "小明", "Sales Rep"), "rep_b": ("Emily", "Chen", "Sales Rep"),
    "manager": ("李", "经理", "Sales Manager"), "outsider": ("赵", "六", "Sales Rep"),
    "support": ("Sam", "Support", "Support Agent"), "executive": ("高", "总", "Executive"),
}
OPP_STAGES = ["prospecting", "needs_analysis", "proposal", "negotiation", "won", "lost"]
RENEWAL_STAGES = ["renewal_due", "quoted", "won", "lost"]
INDUSTRIES = ["technology", "finance", "manufacturing", "retail", None, "finance"]
SOURCES = ["web", "referral", "event", "wechat", None]


class World:
    """The app and the rows inserted, as plain dicts keyed by entity."""

    def __init__(self, app: Any):
        self.app = app
        self.rows: dict[str, list[dict]] = {}
        self.users: dict[str, Any] = {}
        self.team: set[int] = set()

    def uid(self, name: str) -> int:
        return self.users[name].id

    def ctx(self, viewer: str, lang: str = "en") -> Any:
        state = self.app.extensions["crm"]
        return chart_context(self.app, state.appbuilder.sm.find_user(username=viewer), lang, now=NOW)


@pytest.fixture(scope="module")
def world(tmp_path_factory: Any) -> Any:
    base = tmp_path_factory.mktemp("charts")
    with fresh_database(base) as url:
        app = build_test_app(url, STARTER, base / "no-plugins")
        w = World(app)
        with app.app_context():
            _seed(w)
            yield w
        dispose_app(app)


def _seed(w: World) -> None:
    state = w.app.extensions["crm"]
    sm, session, models = state.appbuilder.sm, state.db.session, state.models
    for name, (first, last, role) in USERS.items():
        w.users[name] = sm.add_user(name, first, last, f"{name}@example.cn", sm.find_role(role), "pw-1234567")
    team, member = models.core["crm_team"], models.core["crm_team_member"]
    team_id = session.execute(sa.insert(team).values(name="华东销售一组", manager_id=w.uid("manager"))
                              ).inserted_primary_key[0]
    for name in ("rep_a", "rep_b"):
        session.execute(sa.insert(member).values(team_id=team_id, user_id=w.uid(name)))
    w.team = {w.uid("rep_a"), w.uid("rep_b"), w.uid("manager")}
    rng = random.Random(6)
    owners = [w.uid(n) for n in ("rep_a", "rep_b", "manager", "outsider")]
    names = ["华为技术", "阿里巴巴", "Acme Steel", "招商银行", "美团点评", "Globex"]
    accounts = [dict(name=f"{n}有限公司", industry=INDUSTRIES[i], owner_id=owners[i % 4],
                     annual_revenue=Decimal(1_000_000 * (i + 1))) for i, n in enumerate(names)]
    opps = []
    for i in range(44):
        renewal = i % 5 == 4
        stage = rng.choice(RENEWAL_STAGES if renewal else OPP_STAGES)
        opps.append(dict(
            name=rng.choice(["云平台扩容", "ERP upgrade", "数据中台", "CRM rollout"]) + f" #{i}",
            account_id=None, amount=None if i % 9 == 0 else Decimal(rng.randint(1, 400) * 1250) / 10,
            close_date=TODAY + dt.timedelta(days=rng.randint(-420, 110)), stage=stage,
            deal_type="renewal" if renewal else "new_business", source=rng.choice(SOURCES),
            probability=Decimal(rng.randint(0, 100)), owner_id=owners[i % 4],
            created_on=NOW - dt.timedelta(days=rng.randint(0, 70), minutes=rng.randint(0, 900))))
    # boundaries: first and last day of the quarter and month, and just outside them
    for i, day in enumerate([D(2026, 1, 1), D(2025, 12, 31), D(2026, 3, 31), D(2026, 4, 1)]):
        opps[i].update(close_date=day, stage="won", amount=Decimal("1000.50") * (i + 1))
    opps[5].update(created_on=dt.datetime(2026, 2, 1), stage="proposal")
    opps[6].update(created_on=dt.datetime(2026, 1, 31, 23, 59, 59), stage="proposal")
    leads = [dict(name=rng.choice(["张伟", "李娜", "John Smith", "王芳"]) + f"{i}", source=rng.choice(SOURCES),
                  status=rng.choice(["new", "contacted", "qualified", "disqualified"]), owner_id=owners[i % 4],
                  score=None if i % 7 == 0 else rng.randint(0, 100),
                  created_on=NOW - dt.timedelta(days=rng.randint(0, 400), hours=rng.randint(0, 23)))
             for i in range(36)]
    for i, moment in enumerate([dt.datetime(2026, 2, 1), dt.datetime(2026, 1, 17), dt.datetime(2026, 1, 16, 23, 59, 59),
                                NOW - dt.timedelta(hours=1), dt.datetime(2026, 2, 10)]):
        leads[i]["created_on"] = moment  # month and last-30-days edges
    opps[7].update(close_date=D(2026, 2, 20))
    opps[8].update(close_date=D(2026, 2, 14))
    tickets = [dict(subject=f"无法登录 {i}", priority=rng.choice(["low", "normal", "high", "urgent"]),
                    channel=rng.choice(["phone", "email", "web", "wechat", None]), owner_id=owners[i % 4],
                    status=rng.choice(["new", "assigned", "in_progress", "resolved", "closed"]),
                    created_on=NOW - dt.timedelta(days=rng.randint(0, 60))) for i in range(26)]
    campaigns = [dict(name=f"春季展会 {i}", actual_cost=None if i == 3 else Decimal(5000 * (i + 1)),
                      start_date=D(2025, 3 + i * 2, 1) if i < 4 else D(2026, i - 3, 10), owner_id=owners[0])
                 for i in range(7)]
    for entity, rows in (("account", accounts), ("opportunity", opps), ("lead", leads), ("ticket", tickets),
                         ("campaign", campaigns)):
        model = models.model(entity)
        for row in rows:
            if entity == "opportunity":
                row["account_id"] = w.rows["account"][rng.randrange(len(accounts))]["id"]
            if entity == "lead" and row is rows[0]:  # rep_a's lead converted into rep_b's deal
                row["converted_opportunity_id"] = w.rows["opportunity"][1]["id"]
            if entity == "lead" and row is rows[4]:  # and one into rep_a's own
                row["converted_opportunity_id"] = w.rows["opportunity"][0]["id"]
            record = model(**row)
            session.add(record)
            session.flush()
            row["id"] = record.id
        w.rows[entity] = rows
    session.commit()


# -- the independent evaluator ----------------------------------------------------------
def visible(w: World, viewer: str, entity: str) -> list[dict]:
    scope = SCOPES[viewer].get(entity, "no")
    rows = w.rows[entity]
    if scope == "all":
        return rows
    if scope == "own":
        return [r for r in rows if r["owner_id"] == w.uid(viewer)]
    if scope == "team":
        return [r for r in rows if r["owner_id"] in w.team]
    return []


def get(w: World, entity: str, row: dict, path: str) -> Any:
    head, _, tail = path.partition(".")
    if not tail:
        return row.get(f"{head}_id") if f"{head}_id" in row else row.get(head)  # links and users: the id
    if head == "owner":
        return next(u for u in w.users.values() if u.id == row["owner_id"]).username
    target = next(r for r in w.rows[LINKS[(entity, head)]] if r["id"] == row[f"{head}_id"])
    return target.get(tail)


def as_date(value: Any) -> Any:
    return value.date() if isinstance(value, dt.datetime) else value


def local_date(value: Any) -> Any:
    """A relative range's day of a stored (naive UTC) instant: the CRM's (Asia/Shanghai) calendar day."""
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=dt.UTC).astimezone(ZoneInfo("Asia/Shanghai")).date()
    return value


def matches(w: World, entity: str, row: dict, cond: Condition) -> bool:
    v = get(w, entity, row, cond.path)
    op, x = cond.op, cond.value
    if op == "relative":
        start, end = RANGES[x][0]
        return v is not None and start <= local_date(v) < end
    if op == "empty":
        return (v in (None, "")) == x
    if op == "eq":
        return v == x
    if op == "ne":
        return v is None or v != x
    if op == "in":
        return v in x
    if op == "not_in":
        return v is None or v not in x
    if v is None:
        return False
    if op == "between":
        return x[0] <= v <= x[1]
    return {"gt": v > x, "gte": v >= x, "lt": v < x, "lte": v <= x}[op]


def measure(rows: list[dict], m: Measure) -> Any:
    if m.func == "count":
        return len(rows)
    values = [r[m.field] for r in rows if r[m.field] is not None]
    if m.func == "sum":
        return sum(values, Decimal(0))
    if not values:
        return None
    return {"avg": lambda: sum(values) / len(values), "min": lambda: min(values), "max": lambda: max(values)}[m.func]()


def floor(day: dt.date, bucket: str) -> dt.date:
    return {"day": day, "week": day - dt.timedelta(days=day.weekday()), "month": D(day.year, day.month, 1),
            "quarter": D(day.year, 3 * ((day.month - 1) // 3) + 1, 1), "year": D(day.year, 1, 1)}[bucket]


def key_of(w: World, entity: str, row: dict, grouping: Grouping) -> Any:
    v = get(w, entity, row, grouping.path)
    if grouping.bucket and v is not None:
        return floor(as_date(v), grouping.bucket)
    return v


def expected(w: World, viewer: str, chart: ChartSpec) -> dict:
    rows = [r for r in visible(w, viewer, chart.entity) if all(matches(w, chart.entity, r, c) for c in chart.filters)]
    if chart.kind == "kpi":
        if chart.period is None:
            return {"kpi": measure(rows, chart.measure)}
        cur, prev = RANGES[chart.period.range]
        pick = [[r for r in rows if r[chart.period.field] is not None and s <= local_date(r[chart.period.field]) < e]
                for s, e in (cur, prev)]
        return {"kpi": measure(pick[0], chart.measure), "previous": measure(pick[1], chart.measure)}
    cells: dict[tuple, list[dict]] = {}
    for r in rows:
        key = (key_of(w, chart.entity, r, chart.group),
               key_of(w, chart.entity, r, chart.series) if chart.series else None)
        cells.setdefault(key, []).append(r)
    points = {k: measure(v, chart.measure) for k, v in cells.items()}
    if chart.series is None:  # a choice (stage) group shows every choice its filters let through, 0 if none
        for key in zero_choices(chart):
            points.setdefault((key, None), 0)
    return {"points": points}


def zero_choices(chart: ChartSpec) -> list[str]:
    f = SPEC.entity(chart.entity).field_map.get(chart.group.path) if chart.group else None
    if f is None or f.type != "choice" or chart.measure.func not in ("count", "sum", "count_distinct"):
        return []
    keys = [c.value for c in f.choices]
    for cond in chart.filters:
        if cond.path == chart.group.path and cond.op in ("eq", "in"):
            keys = [k for k in keys if k in (cond.value if cond.op == "in" else (cond.value,))]
        elif cond.path == chart.group.path and cond.op in ("ne", "not_in"):
            keys = [k for k in keys if k not in (cond.value if cond.op == "not_in" else (cond.value,))]
    return keys


def close(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(float(a) - float(b)) < 1e-6 * max(1.0, abs(float(b)))


def assert_matches(result: ChartResult, want: dict) -> None:
    assert result.omitted is None
    if "kpi" in want:
        assert close(result.kpi, want["kpi"]), (result.kpi, want["kpi"])
        assert close(result.previous, want.get("previous")), (result.previous, want.get("previous"))
        return
    got = {(p.key, p.series_key): p.value for p in result.points}
    want_points = want["points"]
    if result.chart.top:
        assert len({k[0] for k in got}) <= result.chart.top
        want_points = {k: v for k, v in want_points.items() if k[0] in {g for g, _ in got}}
    assert set(got) == set(want_points)
    for key, value in want_points.items():
        assert close(got[key], value), (key, got[key], value)
    assert len(result.points) == len(got)


def hidden(viewer: str, chart: ChartSpec) -> bool:
    if SCOPES[viewer].get(chart.entity, "no") == "no":
        return True
    for path in chart.fields_used():
        head, _, tail = path.partition(".")
        if (chart.entity, head) in HIDDEN.get(viewer, set()):
            return True
        target = LINKS.get((chart.entity, head))
        if tail and target and (target, tail) in HIDDEN.get(viewer, set()):
            return True
    return False


def starter_charts() -> list[ChartSpec]:
    spec = load_spec(STARTER)
    return [c for d in spec.dashboards for c in d.charts if not c.analysis]


CHARTS = starter_charts()
SPEC = load_spec(STARTER)


def adhoc(kind: str = "kpi", entity: str = "opportunity", **values: Any) -> ChartSpec:
    return ChartSpec("adhoc", Text.of("Ad hoc"), kind, entity, **values)


# -- every starter chart, per viewer ----------------------------------------------------
@pytest.mark.parametrize("viewer", list(SCOPES))
def test_every_starter_chart_matches_the_rows(world: World, viewer: str) -> None:
    ctx = world.ctx(viewer)
    assert len(CHARTS) >= 14
    for chart in CHARTS:
        result = run_chart(chart, ctx)
        if hidden(viewer, chart):
            assert result.omitted, (viewer, chart.name)
            assert result.kpi is None and result.previous is None and not result.points, chart.name
            continue
        want = expected(world, viewer, chart)
        assert_matches(result, want)
        if viewer == "executive":  # the fixed rows give every chart something to count
            assert want.get("kpi") or want.get("points"), chart.name


def test_a_rep_counts_only_own_records(world: World) -> None:
    chart = next(c for c in CHARTS if c.name == "pipeline_by_owner")
    keys = {p.key for p in run_chart(chart, world.ctx("rep_a")).points}
    assert keys == {world.uid("rep_a")}
    manager_keys = {p.key for p in run_chart(chart, world.ctx("manager")).points}
    assert manager_keys <= world.team and world.uid("outsider") not in manager_keys
    assert world.uid("outsider") in {p.key for p in run_chart(chart, world.ctx("executive")).points}


def test_kpi_boundaries_and_change(world: World) -> None:
    chart = next(c for c in CHARTS if c.name == "won_this_quarter")
    result = run_chart(chart, world.ctx("executive"))
    won = [r for r in world.rows["opportunity"] if r["stage"] == "won" and r["amount"] is not None]
    assert any(r["close_date"] == D(2026, 1, 1) for r in won)  # start of the quarter: in
    assert close(result.kpi, sum(r["amount"] for r in won if D(2026, 1, 1) <= r["close_date"] < D(2026, 4, 1)))
    value, change, exact = kpi_text(result, "en")
    assert exact == f"CN¥{float(result.kpi):,.2f}"  # a sum of money: in the CRM's currency (CNY)
    assert value == compact_money(result.kpi, "CNY", "en") and value.startswith("CN¥")
    want = (float(result.kpi) - float(result.previous)) / float(result.previous) * 100
    assert change == f"{want:+.1f}%"
    assert period_filters(chart, TODAY) == (("close_date", "gte", D(2026, 1, 1)), ("close_date", "lt", D(2026, 4, 1)))
    open_deals = next(c for c in CHARTS if c.name == "open_deals")  # created_on: a datetime at the month edge
    got = run_chart(open_deals, world.ctx("executive"))
    assert close(got.kpi, expected(world, "executive", open_deals)["kpi"])
    assert kpi_text(ChartResult(open_deals, kpi=3, previous=0), "zh")[1] == "不适用"
    assert kpi_text(ChartResult(adhoc(), kpi=1234567.5), "en") == ("1.23M", "", "1,234,567.50")
    assert kpi_text(ChartResult(adhoc(), kpi=1234567.5), "zh") == ("123.46万", "", "1,234,567.50")
    assert kpi_text(ChartResult(adhoc(), kpi=8500), "zh") == ("8,500", "", "8,500")


def test_labels_in_chinese_with_empty_group(world: World) -> None:
    ctx = world.ctx("executive", "zh")
    by_industry = next(c for c in CHARTS if c.name == "by_industry")
    result = run_chart(by_industry, ctx)
    labels = {p.key: p.label for p in result.points}
    assert labels.get("finance") == "金融" and labels.get(None) == "（空）"
    assert result.value_label == "金额合计"
    empty = next(p for p in result.points if p.key is None)
    assert empty.filters == (("account.industry", "empty", True),)
    owners = run_chart(next(c for c in CHARTS if c.name == "pipeline_by_owner"), ctx)
    assert {p.label for p in owners.points if p.key == world.uid("rep_a")} == {"王 小明"}
    assert {p.series_label for p in owners.points if p.series_key == "proposal"} == {"方案提供"}
    by_stage = run_chart(next(c for c in CHARTS if c.name == "pipeline_by_stage"), world.ctx("executive"))
    declared = [c.value for c in world.app.extensions["crm"].spec.entity("opportunity").field("stage").choices]
    keys = [p.key for p in by_stage.points]
    assert keys == sorted(keys, key=declared.index)  # stage declaration order
    assert by_stage.value_label == "Sum of Amount"
    assert dict(by_stage.points[0].extra)["color"].startswith("#")


# -- omission ---------------------------------------------------------------------------
def test_hidden_fields_and_links_leave_the_chart_out(world: World) -> None:
    support = world.ctx("support")
    amount = run_chart(next(c for c in CHARTS if c.name == "pipeline_by_stage"), support)
    assert amount.omitted == "Left out: you may not see Amount" and not amount.points
    zh = run_chart(next(c for c in CHARTS if c.name == "won_this_quarter"), world.ctx("support", "zh"))
    assert zh.omitted == "已隐藏：您无权查看 金额" and zh.kpi is None
    through_link = adhoc(filters=(Condition("account.annual_revenue", "gt", 0),))
    assert run_chart(through_link, support).omitted == "Left out: you may not see Annual revenue"
    assert run_chart(through_link, world.ctx("executive")).omitted is None
    # a link to an entity the viewer may not read (support reads no campaigns)
    by_campaign = adhoc("bar", group=Grouping("campaign.name"))
    assert run_chart(by_campaign, support).omitted == "Left out: you may not see Campaign"
    assert run_chart(adhoc("bar", "lead", group=Grouping("source")), support).omitted == \
        "Left out: you may not read Leads"


# -- filters ----------------------------------------------------------------------------
FILTERS = [
    Condition("stage", "eq", "won"), Condition("stage", "ne", "won"), Condition("source", "ne", "web"),
    Condition("stage", "in", ("won", "lost")), Condition("source", "not_in", ("web", "event")),
    Condition("amount", "gt", 20000), Condition("amount", "gte", Decimal("1000.50")),
    Condition("amount", "lt", 10000), Condition("amount", "lte", 2001), Condition("close_date", "lte", "2026-01-01"),
    Condition("close_date", "gt", D(2026, 1, 1)), Condition("amount", "between", (5000, "30000")),
    Condition("close_date", "between", ("2025-12-31", "2026-03-31")), Condition("source", "empty", True),
    Condition("source", "empty", False), Condition("amount", "empty", True),
    Condition("close_date", "relative", "this_quarter"), Condition("close_date", "relative", "last_year"),
    Condition("close_date", "relative", "next_10_days"), Condition("created_on", "relative", "last_week"),
    Condition("created_on", "relative", "today"), Condition("close_date", "relative", "yesterday"),
    Condition("account.industry", "eq", "finance"), Condition("account.industry", "empty", True),
    Condition("owner.username", "eq", "rep_b"),
]


def _typed(cond: Condition) -> Condition:
    """The condition with values as Python types, for the evaluator."""
    def one(v: Any) -> Any:
        if cond.path in ("amount",) and not isinstance(v, Decimal):
            return Decimal(str(v))
        if cond.path == "close_date" and isinstance(v, str):
            return D.fromisoformat(v)
        return v
    if cond.op in ("in", "not_in", "between"):
        return Condition(cond.path, cond.op, tuple(one(v) for v in cond.value))
    return cond if cond.op in ("relative", "empty") else Condition(cond.path, cond.op, one(cond.value))


@pytest.mark.parametrize("cond", FILTERS, ids=lambda c: f"{c.path}-{c.op}-{c.value}")
def test_every_filter_op(world: World, cond: Condition) -> None:
    chart = adhoc(filters=(cond,))
    got = aggregate(chart, world.ctx("executive")).kpi
    want = expected(world, "executive", adhoc(filters=(_typed(cond),)))["kpi"]
    assert got == want
    assert 0 < want < len(world.rows["opportunity"])


def test_datetime_between_takes_whole_days(world: World) -> None:
    chart = adhoc(filters=(Condition("created_on", "between", ("2026-02-01", "2026-02-14")),))
    want = sum(1 for r in world.rows["opportunity"] if D(2026, 2, 1) <= r["created_on"].date() <= D(2026, 2, 14))
    assert aggregate(chart, world.ctx("executive")).kpi == want


@pytest.mark.parametrize(("cond", "path"), [
    (Condition("amount", "gt", "lots"), "amount"), (Condition("stage", "eq", "nope"), "stage"),
    (Condition("colour", "eq", "red"), "colour"), (Condition("amount", "relative", "this_month"), "amount"),
    (Condition("close_date", "relative", "next_fortnight"), "close_date"), (Condition("amount", "in", 5), "amount"),
    (Condition("amount", "like", 5), "amount"), (Condition("close_date", "gte", "2026-13-01"), "close_date"),
])
def test_bad_filters_name_the_field(world: World, cond: Condition, path: str) -> None:
    with pytest.raises(ChartQueryError) as error:
        aggregate(adhoc(filters=(cond,)), world.ctx("executive"))
    assert error.value.path == path


def test_bad_measure_and_group_name_the_field(world: World) -> None:
    with pytest.raises(ChartQueryError, match="name"):
        aggregate(adhoc(measure=Measure("sum", "name")), world.ctx("executive"))
    with pytest.raises(ChartQueryError, match="account.nothing"):
        aggregate(adhoc("bar", group=Grouping("account.nothing")), world.ctx("executive"))


# -- date buckets -----------------------------------------------------------------------
LABELS = {"day": lambda d: d.isoformat(), "week": lambda d: f"{d.isocalendar()[0]}-W{d.isocalendar()[1]:02d}",
          "month": lambda d: f"{d.year}-{d.month:02d}", "quarter": lambda d: f"{d.year}-Q{(d.month + 2) // 3}",
          "year": lambda d: str(d.year)}


@pytest.mark.parametrize("bucket", list(LABELS))
@pytest.mark.parametrize(("entity", "path"), [("opportunity", "close_date"), ("lead", "created_on")])
def test_date_buckets(world: World, bucket: str, entity: str, path: str) -> None:
    chart = adhoc("bar", entity, group=Grouping(path, bucket))
    result = aggregate(chart, world.ctx("executive"))
    want = expected(world, "executive", chart)["points"]
    assert {p.key: p.value for p in result.points} == {k[0]: v for k, v in want.items()}
    assert [p.key for p in result.points] == sorted(p.key for p in result.points)  # in time
    for p in result.points:
        assert isinstance(p.key, dt.date) and p.label == LABELS[bucket](p.key)
        assert p.filters[0] == (path, "gte", p.key) and p.filters[1][:2] == (path, "lt")
    # the drill range of every bucket selects exactly its records
    for p in result.points[:4]:
        end = p.filters[1][2]
        assert sum(1 for r in world.rows[entity] if p.key <= as_date(r[path]) < end) == p.value


def test_drill_filters_select_each_points_records(world: World) -> None:
    ctx = world.ctx("executive")
    for chart in (c for c in CHARTS if c.kind != "kpi" and c.measure.func == "count"):
        result = run_chart(chart, ctx)
        for p in result.points:
            extra = tuple(Condition(path, op, value) for path, op, value in p.filters)
            drill = adhoc(entity=chart.entity, filters=(*chart.filters, *extra))
            assert aggregate(drill, ctx).kpi == p.value, (chart.name, p.label)
    rev = next(c for c in CHARTS if c.name == "revenue_by_month")
    assert chart_filters(rev, TODAY) == (("stage", "eq", "won"), ("close_date", "gte", D(2025, 2, 16)),
                                         ("close_date", "lt", D(2026, 2, 16)))


# -- sort and top -----------------------------------------------------------------------
def _totals(world: World, chart: ChartSpec) -> dict:
    totals: dict = {}
    for (g, _), v in expected(world, "executive", chart)["points"].items():
        totals[g] = totals.get(g, 0) + float(v or 0)
    return totals


def test_sort_and_top(world: World) -> None:
    ctx = world.ctx("executive")
    base = adhoc("bar", group=Grouping("account"), measure=Measure("sum", "amount"))
    totals = _totals(world, base)
    names = {r["id"]: r["name"] for r in world.rows["account"]}
    default = [p.key for p in aggregate(base, ctx).points]
    assert default == sorted(totals, key=lambda k: (-totals[k], names[k].casefold()))
    assert [p.label for p in aggregate(base, ctx).points] == [names[k] for k in default]
    assert [p.key for p in aggregate(_with(base, sort="value"), ctx).points] == sorted(totals, key=lambda k: (totals[k], names[k].casefold()))
    assert [p.label for p in aggregate(_with(base, sort="label"), ctx).points] == sorted(names.values(),
                                                                                         key=str.casefold)
    assert [p.label for p in aggregate(_with(base, sort="-label"), ctx).points] == sorted(
        names.values(), key=str.casefold, reverse=True)
    top = aggregate(_with(base, sort="label", top=3), ctx).points
    biggest = sorted(totals, key=lambda k: (-totals[k], names[k].casefold()))[:3]
    assert [p.key for p in top] == sorted(biggest, key=lambda k: names[k].casefold())
    stacked = adhoc("stacked_bar", group=Grouping("account"), series=Grouping("stage"), top=2)
    series_totals = _totals(world, stacked)
    result = aggregate(stacked, ctx)
    assert list(dict.fromkeys(p.key for p in result.points)) == sorted(
        series_totals, key=lambda k: (-series_totals[k], names[k].casefold()))[:2]
    assert sum(p.value for p in result.points) == sum(sorted(series_totals.values(), reverse=True)[:2])


def _with(chart: ChartSpec, **changes: Any) -> ChartSpec:
    from dataclasses import replace
    return replace(chart, **changes)


# -- one statement per chart -------------------------------------------------------------
@pytest.mark.parametrize("viewer", ["rep_a", "manager", "executive"])
def test_one_sql_statement_per_chart(world: World, viewer: str) -> None:
    ctx = world.ctx(viewer)
    _ = ctx.access.team_user_ids  # team scope's member list is looked up once per viewer, not per chart
    for chart in CHARTS:
        with count_queries(world.app) as statements:
            result = run_chart(chart, ctx)
        assert len(statements) == (0 if result.omitted else 1), (chart.name, statements)


# -- figures and tables ------------------------------------------------------------------
@pytest.mark.parametrize(("kind", "trace"), [("bar", "bar"), ("stacked_bar", "bar"), ("line", "scatter"),
                                             ("area", "scatter"), ("pie", "pie"), ("funnel", "funnel")])
def test_figure_per_kind(world: World, kind: str, trace: str) -> None:
    series = Grouping("deal_type") if kind in ("stacked_bar", "area") else None
    chart = adhoc(kind, group=Grouping("stage"), series=series)
    result = aggregate(chart, world.ctx("executive", "zh"))
    fig = figure(result, "zh")
    assert fig is not None
    json.dumps(fig)
    assert {t["type"] for t in fig["data"]} == {trace}
    seen = []
    for t in fig["data"]:
        labels = t.get("x") if trace in ("bar", "scatter") else t.get("labels", t.get("y"))
        values = t.get("y") if trace in ("bar", "scatter") else t.get("values", t.get("x"))
        for i, index in enumerate(t["customdata"]):
            assert result.points[index].label == labels[i] and result.points[index].value == values[i]
            seen.append(index)
    assert sorted(seen) == list(range(len(result.points)))
    if series:
        assert len(fig["data"]) == len({p.series_key for p in result.points})
    if kind == "stacked_bar":
        assert fig["layout"]["barmode"] == "stack"
    if kind == "area":
        assert all(t["stackgroup"] == "one" for t in fig["data"])
    if kind == "funnel":
        assert fig["data"][0]["textinfo"] == "text+percent previous"  # the values in 万/亿 (app/charts/units.py)
        en = figure(result, "en")["data"][0]
        assert en["textinfo"] == "text+percent previous" and en["text"] == [in_units(v, "en") for v in en["x"]]
    if kind in ("bar", "pie"):
        colors = fig["data"][0]["marker"]["color" if kind == "bar" else "colors"]
        stage = world.app.extensions["crm"].spec.entity("opportunity").field("stage")
        assert colors == [next(c.color for c in stage.choices if c.value == p.key) for p in result.points]


def test_no_figure_for_kpi_table_pivot_or_omitted(world: World) -> None:
    for name in ("won_this_quarter", "by_channel"):
        result = run_chart(next(c for c in CHARTS if c.name == name), world.ctx("executive"))
        assert figure(result, "en") is None
    omitted = run_chart(next(c for c in CHARTS if c.name == "pipeline_by_stage"), world.ctx("support"))
    assert figure(omitted, "en") is None and table(omitted, "en") == ([], [])


def test_pivot_table_with_totals(world: World) -> None:
    chart = next(c for c in CHARTS if c.name == "by_channel")
    result = run_chart(chart, world.ctx("executive", "zh"))
    headings, rows = table(result, "zh")
    want = expected(world, "executive", chart)["points"]
    series = list(dict.fromkeys(p.series_label for p in result.points))
    assert headings == ["渠道", *series, "合计"]
    assert rows[-1][0] == "合计" and rows[-1][-1] == f"{len(world.rows['ticket']):,}"
    for row in rows[:-1]:
        key = next(p.key for p in result.points if p.label == row[0])
        assert row[-1] == str(sum(v for (g, _), v in want.items() if g == key))
    assert len(rows) == len({g for g, _ in want}) + 1
    plain = aggregate(adhoc("table", group=Grouping("stage"), measure=Measure("sum", "amount")),
                      world.ctx("executive"))
    headings, rows = table(plain, "en")
    assert headings == ["Stage", "Sum of Amount"] and len(rows) == len(plain.points)
    assert all("," in r[1] for r in rows if float(r[1].replace(",", "")) >= 1000)


def test_kpi_without_period_has_no_previous(world: World) -> None:
    chart = adhoc(measure=Measure("avg", "score"), entity="lead")
    result = aggregate(chart, world.ctx("rep_a"))
    assert close(result.kpi, expected(world, "rep_a", chart)["kpi"]) and result.previous is None
    empty = adhoc(measure=Measure("max", "amount"), filters=(Condition("stage", "eq", "quoted"),
                                                             Condition("amount", "gt", 10**9)),
                  period=Period("close_date", "this_year"))
    got = aggregate(empty, world.ctx("executive"))
    assert got.kpi is None and kpi_text(got, "en") == ("—", "n/a", "—")


def test_linked_records_out_of_scope_show_as_empty(world: World) -> None:
    """Grouping by a link's field never reveals a linked record the viewer may not read."""
    opps = world.rows["opportunity"]
    assert opps[1]["owner_id"] == world.uid("rep_b") and opps[0]["owner_id"] == world.uid("rep_a")
    chart = adhoc("bar", "lead", group=Grouping("converted_opportunity.stage"))
    mine = [r for r in world.rows["lead"] if r["owner_id"] == world.uid("rep_a")]
    result = aggregate(chart, world.ctx("rep_a"))
    assert {p.key: p.value for p in result.points} == (
        {opps[0]["stage"]: 1, None: len(mine) - 1} if opps[0]["stage"] else {None: len(mine)})
    titles = aggregate(adhoc("table", "lead", group=Grouping("converted_opportunity")), world.ctx("rep_a"))
    assert {p.label for p in titles.points} == {opps[0]["name"], f"#{opps[1]['id']} (restricted)", "(empty)"}
    everyone = aggregate(adhoc("table", "lead", group=Grouping("converted_opportunity")), world.ctx("executive"))
    assert {opps[0]["name"], opps[1]["name"]} <= {p.label for p in everyone.points}


@pytest.mark.parametrize("name", list(RANGES))
def test_relative_ranges_and_the_range_before(name: str) -> None:
    assert (resolve_range(name, TODAY), previous_range(name, TODAY)) == RANGES[name]


def test_ranges_across_year_ends() -> None:
    new_year = D(2026, 1, 1)  # a Thursday
    assert resolve_range("this_week", new_year) == (D(2025, 12, 29), D(2026, 1, 5))
    assert resolve_range("last_quarter", new_year) == (D(2025, 10, 1), D(2026, 1, 1))
    assert previous_range("last_month", new_year) == (D(2025, 11, 1), D(2025, 12, 1))
    assert resolve_range("last_1_days", new_year) == (new_year, D(2026, 1, 2))
    assert previous_range("next_7_days", new_year) == (D(2025, 12, 25), new_year)
