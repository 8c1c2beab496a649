"""Dashboard pages over HTTP: who sees which dashboard, the chart path's permissions,
drill-down links that list exactly a bar's records, plotly.js served locally.

Numbers of each chart are checked against independent computations in
tests/test_charts.py and tests/test_chart_analyses.py; here the pages and
their links are checked as a user meets them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import plotly
import pytest
import sqlalchemy as sa

from app.demo.loader import load_demo
from app.demo.users import DEMO_PASSWORD, create_demo_users
from tests.conftest import STARTER, build_test_app, count_queries, dispose_app, fresh_database, login


@pytest.fixture(scope="module")
def world(tmp_path_factory: Any) -> Iterator[dict[str, Any]]:
    base = tmp_path_factory.mktemp("dash")
    with fresh_database(base) as url:
        app = build_test_app(url, STARTER, base / "no-plugins")
        with app.app_context():
            state = app.extensions["crm"]
            users = dict(create_demo_users(state.appbuilder, state.models))
            load_demo(state.db.session, state.models, size=40)
            state.db.session.remove()
        yield {"app": app, "users": users}
        dispose_app(app)


def client_for(world: dict[str, Any], username: str) -> Any:
    password = "admin-pass-1" if username == "admin" else DEMO_PASSWORD
    return login(world["app"].test_client(), username, password)


def cards_of(html: str) -> list[dict[str, Any]]:
    """The chart boxes a page lays out (title, size, where its data comes from)."""
    match = re.search(r'<script type="application/json" id="crm-dashboard-data">(.*?)</script>', html, re.S)
    assert match, "no dashboard data in page"
    return json.loads(match.group(1))


def loaded_cards(client: Any, html: str) -> list[dict[str, Any]]:
    """Each box's chart, asked from its JSON endpoint as the page's script does."""
    cards = []
    for box in cards_of(html):
        response = client.get(box["src"])
        assert response.status_code == 200, (box, response.data[:300])
        cards.append(response.get_json())
    return cards


def test_plotly_is_served_from_the_installed_package_with_long_cache(world: dict[str, Any]) -> None:
    client = client_for(world, "admin")
    page = client.get("/crm/dashboards/sales/").data.decode()
    src = f"/crm/assets/plotly-{plotly.__version__}.min.js"
    assert f'src="{src}"' in page
    assert "cdn" not in page.lower()
    response = client.get(src)
    assert response.status_code == 200
    assert "max-age=31536000" in response.headers["Cache-Control"]
    assert "immutable" in response.headers["Cache-Control"]
    assert response.mimetype == "text/javascript"
    assert b"plotly.js" in response.data[:2000]
    response.close()


@pytest.mark.parametrize("username, home", [
    ("admin", "sales"), ("sales_rep", "sales"), ("sales_manager", "sales"), ("executive", "sales"),
    ("support_agent", "service"), ("marketing", "marketing"),
])
def test_home_is_the_users_first_dashboard(world: dict[str, Any], username: str, home: str) -> None:
    client = client_for(world, username)
    page = client.get("/").data.decode()
    assert f'data-dashboard="{home}"' in page
    spec = world["app"].extensions["crm"].spec
    assert len(cards_of(page)) == len(spec.dashboard_map[home].charts)


@pytest.mark.parametrize("username, dashboard", [
    ("support_agent", "sales"), ("support_agent", "marketing"), ("sales_rep", "service"),
    ("marketing", "service"), ("sales_rep", "marketing"),
])
def test_a_dashboard_of_other_roles_is_not_found(world: dict[str, Any], username: str, dashboard: str) -> None:
    client = client_for(world, username)
    assert client.get(f"/crm/dashboards/{dashboard}/").status_code == 404
    spec = world["app"].extensions["crm"].spec
    chart = spec.dashboard_map[dashboard].charts[0].name
    assert client.get(f"/crm/dashboards/{dashboard}/{chart}.json").status_code == 404
    page = client.get("/").data.decode()
    assert f'href="/crm/dashboards/{dashboard}/"' not in page


def test_anonymous_users_get_the_login_page(world: dict[str, Any]) -> None:
    client = world["app"].test_client()
    response = client.get("/crm/dashboards/sales/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert client.get("/crm/dashboards/sales/won_this_quarter.json").status_code == 302
    assert "crm-dashboard-data" not in client.get("/").data.decode()


def test_unknown_dashboard_or_chart_is_404(world: dict[str, Any]) -> None:
    client = client_for(world, "admin")
    assert client.get("/crm/dashboards/nope/").status_code == 404
    assert client.get("/crm/dashboards/sales/nope.json").status_code == 404
    assert client.get("/crm/dashboards/pipeline/opportunity/nope/").status_code == 404
    assert client.get("/crm/dashboards/pipeline/nope/new_business/").status_code == 404
    assert client.get("/crm/dashboards/pipeline/opportunity/new_business/nope.json").status_code == 404
    assert client.get("/crm/dashboards/pipeline/opportunity/nope/by_stage.json").status_code == 404


def test_a_pipeline_chart_of_an_entity_the_user_may_not_read_is_not_found(world: dict[str, Any]) -> None:
    """Marketing reads no opportunities: neither the page nor any of its charts' JSON exists for them."""
    client = client_for(world, "marketing")
    assert client.get("/crm/dashboards/pipeline/opportunity/new_business/").status_code == 404
    for chart in ("by_stage", "amount_by_stage", "funnel"):
        response = client.get(f"/crm/dashboards/pipeline/opportunity/new_business/{chart}.json")
        assert response.status_code == 404 and b"points" not in response.data


def _open_amount_by_owner(world: dict[str, Any]) -> dict[int | None, float]:
    """Independent: open new-business amount per owner, straight from the table."""
    with world["app"].app_context():
        state = world["app"].extensions["crm"]
        rows = state.db.session.execute(sa.text(
            "SELECT owner_id, stage, amount FROM opportunity")).all()
        state.db.session.remove()
    totals: dict[int | None, float] = {}
    for owner, stage, amount in rows:
        if stage not in ("won", "lost") and amount is not None:
            totals[owner] = totals.get(owner, 0.0) + float(amount)
    return totals


def _user_id(world: dict[str, Any], username: str) -> int:
    with world["app"].app_context():
        return world["app"].extensions["crm"].appbuilder.sm.find_user(username=username).id


def test_a_reps_chart_counts_only_the_reps_records(world: dict[str, Any]) -> None:
    totals = _open_amount_by_owner(world)
    rep = _user_id(world, "sales_rep")
    rep_card = client_for(world, "sales_rep").get("/crm/dashboards/sales/pipeline_by_stage.json").get_json()
    admin_card = client_for(world, "admin").get("/crm/dashboards/sales/pipeline_by_stage.json").get_json()
    rep_sum = sum(p["value"] or 0 for p in rep_card["points"])
    admin_sum = sum(p["value"] or 0 for p in admin_card["points"])
    assert rep_sum == pytest.approx(totals.get(rep, 0.0))
    assert admin_sum == pytest.approx(sum(totals.values()))
    assert rep_sum < admin_sum


def test_a_chart_on_a_hidden_field_is_left_out_with_a_note(world: dict[str, Any]) -> None:
    """Support Agent reads opportunities but not their amount: the amount chart says so, nothing more."""
    client = client_for(world, "support_agent")
    response = client.get("/crm/dashboards/pipeline/opportunity/new_business/")
    assert response.status_code == 200
    cards = {c["name"]: c for c in loaded_cards(client, response.data.decode())}
    assert "omitted" in cards["amount_by_stage"]
    assert "figure" not in cards["amount_by_stage"] and "points" not in cards["amount_by_stage"]
    assert "figure" in cards["by_stage"]  # counts are fine
    assert "omitted" in cards["forecast"]


def test_drill_down_links_list_exactly_the_records_of_each_bar(world: dict[str, Any]) -> None:
    client = client_for(world, "admin")
    card = client.get("/crm/dashboards/service/by_status.json").get_json()
    assert card["links"] and len(card["links"]) == len(card["points"])
    for point, link in zip(card["points"], card["links"], strict=True):
        assert link is not None
        page = client.get(link + "&psize_TicketView=100").data.decode()
        shown = set(re.findall(r'/crm/ticket/show/(\d+)', page))
        assert len(shown) == point["value"], (point, link)


def test_kpi_links_to_its_records(world: dict[str, Any]) -> None:
    client = client_for(world, "admin")
    card = client.get("/crm/dashboards/service/urgent_open.json").get_json()
    assert card["kpi"]["raw"] is not None
    page = client.get(card["link"] + "&psize_TicketView=100").data.decode()
    assert len(set(re.findall(r'/crm/ticket/show/(\d+)', page))) == card["kpi"]["raw"]


def test_a_dashboard_page_runs_no_chart(world: dict[str, Any]) -> None:
    """The layout comes at once; the charts' statements run behind their JSON endpoints."""
    client = client_for(world, "admin")
    client.get("/crm/dashboards/sales/")  # warm caches (permissions, filters)
    with count_queries(world["app"]) as statements:
        assert client.get("/crm/dashboards/sales/").status_code == 200
    assert len(statements) <= 3, statements
    assert not [s for s in statements if re.search(r"\bopportunity\b", s)], statements


def test_every_pipeline_has_an_analytics_page(world: dict[str, Any]) -> None:
    client = client_for(world, "admin")
    spec = world["app"].extensions["crm"].spec
    for entity in spec.entities:
        for pipeline in entity.pipelines:
            response = client.get(f"/crm/dashboards/pipeline/{entity.name}/{pipeline.name}/")
            assert response.status_code == 200, (entity.name, pipeline.name)
            assert loaded_cards(client, response.data.decode())


def test_pages_speak_chinese(world: dict[str, Any]) -> None:
    client = client_for(world, "admin")
    client.post("/lang/zh")
    page = client.get("/crm/dashboards/sales/").data.decode()
    assert "本季度成交金额" in page and "各阶段在途金额" in page

