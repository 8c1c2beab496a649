"""Dashboard pages: the charts of dashboards.yaml, and pipeline analytics for every pipeline.

A dashboard page renders at once: tabs, titles and one box per chart, each waiting for
its chart. The browser then asks each chart's JSON endpoint (one GROUP BY each, the
viewer's row scope applied by the chart engine, the answer kept a short while by
app/web/chartcache.py) and draws it with plotly.js served from the installed plotly
package. Clicking a bar or slice opens the entity's list filtered to the records behind
it, when the list can express that filter. Who sees a dashboard is dashboards.yaml's
`roles`; a chart the viewer may not see is replaced by a note, never an error page and
never the value.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from flask import Response, abort, current_app, redirect
from flask_appbuilder import AppBuilder, BaseView, expose, has_access

from app.charts.figures import figure, figure_json, kpi_text, table
from app.charts.query import ChartQueryError, chart_filters, period_filters
from app.charts.result import ChartContext, ChartResult
from app.charts.run import run_chart
from app.clock import crm_zone
from app.i18n import _t, languages
from app.i18n.collation import text_key
from app.metadata.spec import (
    ChartSpec,
    CrmSpec,
    DashboardSpec,
    EntitySpec,
    Grouping,
    Measure,
    PipelineSpec,
    Text,
)
from app.security.access import ADMIN_ROLE, Access, current_access
from app.security.sync import ANALYTICS_CATEGORY, dashboard_menu_name, pipeline_menu_name

from .assets import plotly_url
from .chartcache import EXTENSION as CHART_CACHE
from .chartcache import scope_key, spec_digest
from .labels import current_lang, label_value, lazy

ANALYTICS_LABEL = _t("Analytics")
UI = {
    "pipeline_analytics": _t("{pipeline} pipeline analytics"),
    # a label that already ends in the word ("Sales pipeline", 服务流程) is not followed by it again
    "pipeline_word": _t("pipeline", "title"),
    "named_pipeline_analytics": _t("{pipeline} analytics"),
    "no_data": _t("No data"),
    "no_dashboard": _t("No dashboard is set up for your roles."),
    "previous": _t("vs previous period"),
    "open_list": _t("Click a bar or slice to open its records."),
    "funnel": _t("Funnel"),
    "win_rate": _t("Win rate"),
    "stage_time": _t("Average days in stage", "chart"),
    "forecast": _t("Weighted forecast by close month"),
    "by_stage": _t("Records by stage"),
    "amount_by_stage": _t("Amount by stage"),
    "dashboards": _t("Dashboards"),
    "broken": _t("Chart '{chart}' cannot be computed: {error}. Fix it in dashboards.yaml."),
    "analytics": _t("Pipeline analytics"),
    "loading": _t("Loading…"),
    "failed": _t("This chart could not be loaded. Reload the page to try again."),
}


def visible_dashboards(spec: CrmSpec, access: Access) -> list[DashboardSpec]:
    """Dashboards the viewer's roles may see, in file order (the first is their home page)."""
    if access.user_id is None:
        return []
    return [d for d in spec.dashboards
            if not d.roles or ADMIN_ROLE in access.roles or set(d.roles) & set(access.roles)]


def pipeline_charts(entity: EntitySpec, pipeline: PipelineSpec) -> DashboardSpec:
    """The generated analytics dashboard of one pipeline: funnel, win rate, time in stage, forecast."""
    has_won = any(s.outcome == "won" for s in pipeline.stages)
    has_lost = any(s.outcome == "lost" for s in pipeline.stages)
    amount = pipeline.amount_field
    # `pipeline=`: only this pipeline's records (New business showed the renewals too)
    charts = [ChartSpec("by_stage", UI["by_stage"], "bar", entity.name, group=Grouping(pipeline.field), width=6,
                        pipeline=pipeline.name)]
    if amount:
        charts.append(ChartSpec("amount_by_stage", UI["amount_by_stage"], "bar", entity.name,
                                measure=Measure("sum", amount), group=Grouping(pipeline.field), width=6,
                                pipeline=pipeline.name))
    charts.append(ChartSpec("funnel", UI["funnel"], "funnel", entity.name, analysis="stage_funnel",
                            pipeline=pipeline.name, width=6))
    if has_won and has_lost:
        charts.append(ChartSpec("win_rate", UI["win_rate"], "bar", entity.name, group=Grouping("owner"),
                                analysis="win_rate", pipeline=pipeline.name, width=6))
    charts.append(ChartSpec("stage_time", UI["stage_time"], "bar", entity.name, analysis="stage_time",
                            pipeline=pipeline.name, width=6))
    date_field = next((f.name for f in entity.fields if f.type == "date" and "close" in f.name), None)
    if amount and date_field:
        charts.append(ChartSpec("forecast", UI["forecast"], "stacked_bar", entity.name, analysis="forecast",
                                pipeline=pipeline.name, params=(("date", date_field),), width=6))
    return DashboardSpec(f"{entity.name}_{pipeline.name}", pipeline_title(pipeline.label), tuple(charts))


def pipeline_title(label: Text) -> Text:
    """'{label} pipeline analytics' in each language, without saying 'pipeline' twice when the
    label already ends in that language's word for it (服务流程 → 服务流程分析, not 服务流程流程分析)."""
    def title(lang: str) -> str:
        name = label.get(lang) or ""
        word = UI["pipeline_word"].get(lang)
        named = word and name.casefold().rstrip().endswith(word.casefold())
        return UI["named_pipeline_analytics" if named else "pipeline_analytics"].get(lang).format(pipeline=name)
    return Text(tuple((lang, title(lang)) for lang in languages()))


class DashboardView(BaseView):
    """Dashboards of dashboards.yaml at /crm/dashboards/<name>/, pipeline analytics at /pipeline/<e>/<p>/."""

    route_base = "/crm/dashboards"
    default_view = "index"
    class_permission_name = "dashboards"
    base_permissions = ["can_read"]
    method_permission_name = {"index": "read", "show": "read", "chart_json": "read", "pipeline": "read",
                              "pipeline_chart_json": "read"}

    @expose("/")
    @has_access
    def index(self) -> Any:
        dashboards = visible_dashboards(_state().spec, current_access())
        if not dashboards:
            return dashboard_page(self, None, UI["no_dashboard"].get(current_lang()))
        return redirect(f"{self.route_base}/{dashboards[0].name}/")

    @expose("/<name>/")
    @has_access
    def show(self, name: str) -> Any:
        return dashboard_page(self, self._dashboard(name))

    @expose("/<name>/<chart>.json")
    @has_access
    def chart_json(self, name: str, chart: str) -> Any:
        """One chart's data and figure, for tools and for redrawing without a page load."""
        return chart_answer(self._dashboard(name), chart)

    @expose("/pipeline/<entity>/<pipeline>/")
    @has_access
    def pipeline(self, entity: str, pipeline: str) -> Any:
        found, flow = self._pipeline(entity, pipeline)
        return dashboard_page(self, pipeline_charts(found, flow), pipeline_of=(found, flow))

    @expose("/pipeline/<entity>/<pipeline>/<chart>.json")
    @has_access
    def pipeline_chart_json(self, entity: str, pipeline: str, chart: str) -> Any:
        return chart_answer(pipeline_charts(*self._pipeline(entity, pipeline)), chart)

    def _pipeline(self, entity: str, pipeline: str) -> tuple[EntitySpec, PipelineSpec]:
        found = _state().spec.entity_map.get(entity)
        flow = next((p for p in found.pipelines if p.name == pipeline), None) if found else None
        if found is None or flow is None or current_access().scope(entity, "read") == "no":
            abort(404)
        return found, flow

    def _dashboard(self, name: str) -> DashboardSpec:
        dashboard = _state().spec.dashboard_map.get(name)
        if dashboard is None or dashboard not in visible_dashboards(_state().spec, current_access()):
            abort(404)  # a dashboard of other roles is not shown to exist
        return dashboard


def _state() -> Any:
    return current_app.extensions["crm"]


def chart_context_now() -> ChartContext:
    """The viewer's chart context for this request."""
    state = _state()
    now = _fixed_now() or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    lang = current_lang()
    return ChartContext(state.spec, state.models, state.db.session, current_access(), lang, now,
                        text_key(current_app.config, lang))


def chart_card(chart: ChartSpec, ctx: ChartContext) -> dict[str, Any]:
    """What the page (and the JSON endpoint) shows of one chart for this viewer."""
    lang = ctx.lang
    card: dict[str, Any] = {"name": chart.name, "title": chart.title.get(lang), "kind": chart.kind,
                            "width": chart.width, "entity": chart.entity, "notes": []}
    try:
        result = run_chart(chart, ctx)
    except ChartQueryError as exc:  # metadata the checker could not judge (e.g. a filter value): say so
        card["omitted"] = UI["broken"].get(lang).format(chart=chart.name, error=str(exc))
        return card
    card["notes"] = list(result.notes)
    if result.omitted:
        card["omitted"] = result.omitted
        return card
    card["empty"] = result.empty
    if chart.kind == "kpi":
        value, change, exact = kpi_text(result, lang)
        card["kpi"] = {"value": value, "change": change, "exact": exact, "raw": _plain(result.kpi),
                       "previous": _plain(result.previous)}
        card["link"] = drill_url(ctx.spec, chart, result, None, ctx.now)
        return card
    fig = figure(result, lang)
    if fig is not None:
        card["figure"] = fig
        card["links"] = [drill_url(ctx.spec, chart, result, i, ctx.now) for i in range(len(result.points))]
    if chart.kind in ("table", "pivot") or fig is None:
        headings, rows = table(result, lang)
        card["table"] = {"columns": headings, "rows": rows}
    card["points"] = [{"label": p.label, "value": _plain(p.value), "series": p.series_label}
                      for p in result.points]
    return card


def chart_answer(dashboard: DashboardSpec, name: str) -> Response:
    """One chart's card as JSON, from the chart cache while none of its tables was written."""
    if name not in {c.name for c in dashboard.charts}:
        abort(404)
    chart, ctx = dashboard.chart(name), chart_context_now()
    app = current_app
    key = (app.extensions.get("crm_version"), _digest(), repr(chart), ctx.lang, ctx.today.isoformat(),
           str(crm_zone()), scope_key(ctx.access, ctx.spec))  # the zone: relative ranges are the viewer's days
    cache = app.extensions.get(CHART_CACHE)
    text = cache.get(key, lambda: _json(chart_card(chart, ctx))) if cache else _json(chart_card(chart, ctx))
    return Response(text, mimetype="application/json")


def _digest() -> str:
    if "crm_spec_digest" not in current_app.extensions:
        current_app.extensions["crm_spec_digest"] = spec_digest(_state().spec)
    return str(current_app.extensions["crm_spec_digest"])


def chart_box(chart: ChartSpec, lang: str, src: str) -> dict[str, Any]:
    """What the page shows of a chart before its data comes: a titled box and where to ask."""
    return {"name": chart.name, "title": chart.title.get(lang), "kind": chart.kind, "width": chart.width,
            "entity": chart.entity, "src": src}


def dashboard_page(view: BaseView, dashboard: DashboardSpec | None, message: str = "",
                   pipeline_of: tuple[EntitySpec, PipelineSpec] | None = None) -> Any:
    """Render a dashboard's layout (or just the tabs and a message) with `view`'s templates;
    the browser fetches each chart from its JSON endpoint."""
    lang = current_lang()
    spec = _state().spec
    access = current_access()
    base = (f"/crm/dashboards/pipeline/{pipeline_of[0].name}/{pipeline_of[1].name}/" if pipeline_of
            else f"/crm/dashboards/{dashboard.name}/" if dashboard else "")
    cards = [chart_box(chart, lang, f"{base}{chart.name}.json") for chart in dashboard.charts] if dashboard else []
    tabs = [(d.name, d.label.get(lang)) for d in visible_dashboards(spec, access)]
    pipelines = [(e.name, p.name, label_value(e.plural.get(lang), p.label.get(lang), lang))
                 for e in spec.entities for p in e.pipelines if access.scope(e.name, "read") != "no"]
    return view.render_template(
        "crm/dashboard.html", dashboard=dashboard, cards=cards, cards_json=_json(cards), message=message,
        tabs=tabs, pipelines=pipelines, pipeline_of=pipeline_of, lang=lang, plotly_src=plotly_url(),
        title=dashboard.label.get(lang) if dashboard else UI["dashboards"].get(lang),
        ui={k: v.get(lang) for k, v in UI.items()}, ui_json=_json({k: v.get(lang) for k, v in UI.items()}))


def _fixed_now() -> dt.datetime | None:
    """CRM_CHARTS_NOW (ISO time) pins 'now' for demos and tests of relative ranges."""
    raw = current_app.config.get("CRM_CHARTS_NOW")
    return dt.datetime.fromisoformat(raw) if raw else None


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def _json(value: Any) -> str:
    """JSON for a <script type="application/json"> block: no '</' can end the element early."""
    text = figure_json(value, ensure_ascii=False)
    return text.replace("</", "<\\/")


# -- drill-down: a point's records as a list URL ------------------------------------
# Chart ops the list's filters can say, by field kind: (FAB filter arg, value transform).
def drill_url(spec: CrmSpec, chart: ChartSpec, result: ChartResult, index: int | None,
              now: dt.datetime) -> str | None:
    """The list URL of the records behind point `index` (None: the whole chart), or None if not expressible."""
    if not result.drillable or chart.analysis and index is not None and not result.points[index].filters:
        return None
    conditions = [*chart_filters(chart, now.date()), *period_filters(chart, now.date())]
    if index is not None:
        conditions.extend(result.points[index].filters)
    view = list_view(chart.entity)
    if view is None:
        return None
    entity = spec.entity(chart.entity)
    args: list[tuple[str, str]] = []
    for path, op, value in conditions:
        arg = _filter_arg(view, entity, path, op, value)
        if arg is None:
            return None
        args.extend(arg)
    return f"{view.route_base}/list/?{urlencode(args)}"


def _filter_arg(view: Any, entity: EntitySpec, path: str, op: str, value: Any) -> list[tuple[str, str]] | None:
    if "." in path or path not in entity.field_map:
        return None
    f = entity.field(path)
    available = [getattr(x, "arg_name", None)
                 for x in view.datamodel.get_filters(view.search_columns).get_search_filters().get(path, [])]
    link = f.type in ("link", "user")
    if op in ("gte", "lte") and f.type in ("date", "datetime") and isinstance(value, (dt.date, dt.datetime)):
        step = dt.timedelta(days=1) if f.type == "date" else dt.timedelta(seconds=1)
        value, op = (value - step, "gt") if op == "gte" else (value + step, "lt")
        if f.type == "date" and isinstance(value, dt.datetime):
            value = value.date()
    arg = {"eq": "rel_o_m" if link else "eq", "ne": "nrel_o_m" if link else "neq", "gt": "gt", "lt": "lt",
           "in": "in", "not_in": "not_in"}.get(op)
    if arg is None or arg not in available or (link and value is None):
        return None
    index = available.index(arg)
    values = value if isinstance(value, (list, tuple)) else [value]
    return [(f"_flt_{index}_{path}", _arg_text(v, f.type)) for v in values]


def _arg_text(value: Any, ftype: str) -> str:
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S") if ftype == "datetime" else value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def list_view(entity: str) -> Any:
    """The registered list screen of an entity (its filters name the drill-down arguments)."""
    views = current_app.extensions.setdefault("crm_list_views", {})
    if entity not in views:
        views[entity] = next((v for v in _state().appbuilder.baseviews
                              if getattr(v, "route_base", None) == f"/crm/{entity}"
                              and hasattr(v, "search_columns")), None)
    return views[entity]


def register_dashboards(appbuilder: AppBuilder, spec: CrmSpec) -> None:
    """One menu entry per dashboard under Analytics, and the view behind them."""
    appbuilder.add_view_no_menu(DashboardView)
    for dashboard in spec.dashboards:
        appbuilder.add_link(dashboard_menu_name(dashboard.name), href=f"/crm/dashboards/{dashboard.name}/",
                            label=lazy(dashboard.label), icon="fa-bar-chart", category=ANALYTICS_CATEGORY,
                            category_label=lazy(ANALYTICS_LABEL), category_icon="fa-area-chart")
    for entity in spec.entities:
        for flow in entity.pipelines:
            label = Text(tuple((lang, label_value(UI["analytics"].get(lang), f"{entity.plural.get(lang)} · "
                                                  f"{flow.label.get(lang)}", lang)) for lang in languages()))
            appbuilder.add_link(pipeline_menu_name(entity.name, flow.name),
                                href=f"/crm/dashboards/pipeline/{entity.name}/{flow.name}/",
                                label=lazy(label), icon="fa-filter", category=ANALYTICS_CATEGORY,
                                category_label=lazy(ANALYTICS_LABEL))
