"""Issue 13 charts: several measures side by side, count_distinct, median, empty choice
groups shown as 0, and ties in `top` broken by a stated key.

Uses the fixed rows of tests/test_charts.py (its `world` fixture) and its plain-Python
reading of scopes; expected numbers are computed here from those rows. SQLite computes
the median with the app's registered aggregate, PostgreSQL with percentile_cont.
"""

from __future__ import annotations

import statistics
from decimal import Decimal
from typing import Any

import pytest

from app.charts.figures import figure
from app.charts.query import aggregate
from app.charts.run import run_chart
from app.metadata.spec import Condition, Grouping, Measure
from tests.conftest import count_queries
from tests.test_charts import OPP_STAGES, RENEWAL_STAGES, SPEC, World, adhoc, close, visible, world

__all__ = ["world"]  # the module-scoped fixture, shared

STAGES = list(dict.fromkeys(OPP_STAGES + RENEWAL_STAGES))


def by_stage(w: World, viewer: str, pick: Any = lambda r: True) -> dict[str, list[dict]]:
    groups: dict[str, list[dict]] = {}
    for r in visible(w, viewer, "opportunity"):
        if pick(r):
            groups.setdefault(r["stage"], []).append(r)
    return groups


@pytest.mark.parametrize("viewer", ["rep_a", "manager", "executive"])
def test_count_distinct_counts_each_account_once_within_scope(world: World, viewer: str) -> None:
    chart = adhoc("bar", group=Grouping("stage"), measure=Measure("count_distinct", "account"))
    got = {p.key: p.value for p in aggregate(chart, world.ctx(viewer)).points}
    want = {stage: len({r["account_id"] for r in rows if r["account_id"] is not None})
            for stage, rows in by_stage(world, viewer).items()}
    assert {k: v for k, v in got.items() if v} == {k: v for k, v in want.items() if v}
    assert set(got) >= set(want)
    kpi = aggregate(adhoc("kpi", measure=Measure("count_distinct", "account")), world.ctx(viewer)).kpi
    assert kpi == len({r["account_id"] for r in visible(world, viewer, "opportunity") if r["account_id"]})


@pytest.mark.parametrize("viewer", ["rep_a", "executive"])
def test_median_per_group_and_as_kpi(world: World, viewer: str) -> None:
    chart = adhoc("bar", group=Grouping("stage"), measure=Measure("median", "amount"))
    result = aggregate(chart, world.ctx(viewer, "zh"))
    assert result.value_label == "金额中位数"
    got = {p.key: p.value for p in result.points}
    for stage, rows in by_stage(world, viewer).items():
        amounts = [r["amount"] for r in rows if r["amount"] is not None]
        want = statistics.median(amounts) if amounts else None
        assert close(got[stage], want), (stage, got[stage], want)
    rows = visible(world, viewer, "opportunity")
    kpi = aggregate(adhoc("kpi", measure=Measure("median", "amount")), world.ctx(viewer)).kpi
    assert close(kpi, statistics.median([r["amount"] for r in rows if r["amount"] is not None]))


def test_median_of_an_even_count_is_the_mean_of_the_middle_two(world: World) -> None:
    won = [r for r in visible(world, "executive", "opportunity") if r["stage"] == "won" and r["amount"] is not None]
    chart = adhoc("kpi", measure=Measure("median", "amount"), filters=(Condition("stage", "eq", "won"),))
    ordered = sorted(r["amount"] for r in won)
    middle = len(ordered) // 2
    want = ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / Decimal(2)
    assert close(aggregate(chart, world.ctx("executive")).kpi, want)


@pytest.mark.parametrize("viewer", ["rep_a", "manager", "executive"])
def test_count_and_sum_side_by_side_in_one_statement(world: World, viewer: str) -> None:
    chart = adhoc("bar", group=Grouping("stage"), measures=(Measure(), Measure("sum", "amount")),
                  measure=Measure())
    ctx = world.ctx(viewer, "zh")
    _ = ctx.access.team_user_ids
    with count_queries(world.app) as statements:
        result = run_chart(chart, ctx)
    assert len(statements) == 1
    groups = by_stage(world, viewer)
    counts = {p.key: p.value for p in result.points if p.series_key == "count"}
    sums = {p.key: p.value for p in result.points if p.series_key == "sum(amount)"}
    assert {p.series_label for p in result.points} == {"数量", "金额合计"}
    assert counts == {s: len(groups.get(s, [])) for s in counts}  # a rep counts only their own
    for stage, value in sums.items():
        assert close(value, sum((r["amount"] for r in groups.get(stage, []) if r["amount"] is not None),
                                Decimal(0)))
    assert list(counts) == STAGES and list(sums) == STAGES  # the stage order, every stage
    fig = figure(result, "zh")
    assert fig is not None and len(fig["data"]) == 2 and fig["layout"]["barmode"] == "group"


def test_side_by_side_ranks_and_cuts_by_the_first_measure(world: World) -> None:
    chart = adhoc("bar", group=Grouping("account"), measures=(Measure("sum", "amount"), Measure()),
                  measure=Measure("sum", "amount"), top=2)
    result = aggregate(chart, world.ctx("executive"))
    sums = {}
    for r in visible(world, "executive", "opportunity"):
        sums[r["account_id"]] = sums.get(r["account_id"], 0) + (r["amount"] or 0)
    biggest = sorted(sums, key=lambda k: -sums[k])[:2]
    assert [p.key for p in result.points if p.series_key == "sum(amount)"] == biggest


def test_empty_stages_show_as_zero_and_filters_still_apply(world: World) -> None:
    nothing = (Condition("amount", "gt", Decimal("99999999")),)
    result = aggregate(adhoc("bar", group=Grouping("stage"), filters=nothing), world.ctx("rep_a", "zh"))
    assert [(p.key, p.value) for p in result.points] == [(s, 0) for s in STAGES]
    field = SPEC.entity("opportunity").field("stage")
    assert [p.label for p in result.points] == [field.choice_label(s, "zh") for s in STAGES]
    open_only = (*nothing, Condition("stage", "not_in", ("won", "lost")))
    keys = [p.key for p in aggregate(adhoc("bar", group=Grouping("stage"), filters=open_only),
                                     world.ctx("rep_a")).points]
    assert keys == [s for s in STAGES if s not in ("won", "lost")]
    # a measure with no value over no rows (median, avg) shows no number, not a made-up 0
    medians = aggregate(adhoc("bar", group=Grouping("stage"), measure=Measure("median", "amount"),
                              filters=nothing), world.ctx("rep_a"))
    assert {p.value for p in medians.points} == {None}


@pytest.mark.parametrize(("ties", "want"), [
    ("order", STAGES[:2]),
    # a zh reader's labels tie-break in pinyin: 成交 cheng < 初步接触 chu < 待续约 dai < ... 输单 shu
    # < 谈判 tan < 需求分析 xu < 已报价 yi (by code point 初 U+521D would come first, 需 U+9700 last)
    ("label", ["won", "prospecting"]),
    ("-label", ["quoted", "needs_analysis"]),
])
def test_ties_in_top_are_broken_by_the_stated_key(world: World, ties: str, want: Any) -> None:
    nothing = (Condition("amount", "gt", Decimal("99999999")),)  # every stage at 0: all tied
    chart = adhoc("bar", group=Grouping("stage"), filters=nothing, top=2, ties=ties)
    got = [p.key for p in aggregate(chart, world.ctx("executive", "zh")).points]
    assert set(got) == set(want)
    assert got == [s for s in STAGES if s in want]  # shown in the stage order


@pytest.mark.parametrize("func", ["median", "count_distinct"])
def test_kpi_with_a_period_takes_the_new_measures(world: World, func: str) -> None:
    from app.metadata.spec import Period
    from tests.test_charts import RANGES, as_date

    field = "amount" if func == "median" else "account"
    chart = adhoc("kpi", measure=Measure(func, field), period=Period("close_date", "this_year"))
    result = aggregate(chart, world.ctx("manager"))
    for (start, end), got in zip(RANGES["this_year"], (result.kpi, result.previous), strict=True):
        rows = [r for r in visible(world, "manager", "opportunity")
                if r["close_date"] is not None and start <= as_date(r["close_date"]) < end]
        if func == "median":
            values = [r["amount"] for r in rows if r["amount"] is not None]
            assert close(got, statistics.median(values) if values else None)
        else:
            assert got == len({r["account_id"] for r in rows if r["account_id"] is not None})
