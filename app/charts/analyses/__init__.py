"""Built-in analyses: what a chart with `analysis:` computes (see definitions.ANALYSES).

Each analysis runs in the database (GROUP BY, a few statements at most, never one per
record), counts only the rows the viewer may read on every entity it reads, and is left
out with a note, never an error and never the value, when the viewer may not read an
entity or a field it uses. How each is computed is in its module's docstring:
pipeline.py (stage_funnel, win_rate, stage_time, forecast), customers.py (rfm and its
scoring, churn_risk), marketing.py (lead_conversion, campaign_roi), service.py (ticket_sla).
"""

from __future__ import annotations

from collections.abc import Callable

from app.charts.result import ChartContext, ChartResult
from app.metadata.spec import ChartSpec

from .customers import churn_risk, rfm
from .guard import Omitted
from .marketing import campaign_roi, lead_conversion
from .pipeline import forecast, stage_funnel, stage_time, win_rate
from .service import ticket_sla

RUNNERS: dict[str, Callable[[ChartSpec, ChartContext], ChartResult]] = {
    "stage_funnel": stage_funnel,
    "win_rate": win_rate,
    "stage_time": stage_time,
    "forecast": forecast,
    "rfm": rfm,
    "churn_risk": churn_risk,
    "lead_conversion": lead_conversion,
    "campaign_roi": campaign_roi,
    "ticket_sla": ticket_sla,
}


def run_analysis(chart: ChartSpec, ctx: ChartContext) -> ChartResult:
    """The result of the chart's analysis for the viewer in `ctx`."""
    runner = RUNNERS.get(chart.analysis or "")
    if runner is None:  # the checker refuses unknown analyses; never a 500 if one slips through
        return ChartResult(chart, omitted=f"unknown analysis '{chart.analysis}'")
    try:
        return runner(chart, ctx)
    except Omitted as exc:
        return ChartResult(chart, omitted=str(exc))


__all__ = ["RUNNERS", "Omitted", "run_analysis"]
