"""Dashboards that render at once, and the chart cache behind their JSON (issue 17, item 6).

The page runs no chart; each chart's JSON is kept per chart, role scope, language and
metadata version, and is never stale after a write nor shared with a narrower scope.
Expected figures are computed straight from the table, not by the chart engine.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from app.demo.loader import load_demo
from app.demo.users import DEMO_PASSWORD, create_demo_users
from tests.conftest import STARTER, count_queries, login
from tests.jobs_support import test_redis_url

CHART = "/crm/dashboards/sales/pipeline_by_stage.json"
OPP = re.compile(r"\bopportunity\b")


def _world(make_app: Any, metadata: Path | str = STARTER, **overrides: Any) -> Any:
    """The starter (or `metadata`) with demo users and 30 demo records of each entity, charts cached."""
    app = make_app(metadata, CRM_CHART_CACHE_SECONDS=300, **overrides)
    with app.app_context():
        crm = app.extensions["crm"]
        assert create_demo_users(crm.appbuilder, crm.models)
        load_demo(crm.db.session, crm.models, size=30)
        crm.db.session.remove()
    return app


def _client(app: Any, username: str) -> Any:
    return login(app.test_client(), username, "admin-pass-1" if username == "admin" else DEMO_PASSWORD)


def _open_total(app: Any, username: str | None = None) -> float:
    """Independent: the open (not won/lost) amount, of one owner or of everybody."""
    with app.app_context():
        state = app.extensions["crm"]
        sql = "SELECT o.amount FROM opportunity o WHERE o.stage NOT IN ('won', 'lost') AND o.amount IS NOT NULL"
        params: dict[str, Any] = {}
        if username:
            sql += " AND o.owner_id = (SELECT id FROM ab_user WHERE username = :u)"
            params["u"] = username
        rows = state.db.session.execute(sa.text(sql), params).scalars().all()
        state.db.session.remove()
    return float(sum(rows))


def _chart_total(client: Any) -> float:
    response = client.get(CHART)
    assert response.status_code == 200, response.data[:300]
    return float(sum(p["value"] or 0 for p in response.get_json()["points"]))


def _chart_statements(app: Any, client: Any, url: str = CHART) -> tuple[int, Any]:
    with count_queries(app) as statements:
        response = client.get(url)
    assert response.status_code == 200
    return sum(1 for s in statements if OPP.search(s)), response.get_json()


@pytest.fixture
def world(make_app: Any) -> Any:
    return _world(make_app)


def test_the_page_renders_its_layout_without_running_a_chart(world: Any) -> None:
    client = _client(world, "admin")
    client.get("/crm/dashboards/sales/")
    with count_queries(world) as statements:
        page = client.get("/crm/dashboards/sales/").data.decode()
    assert not [s for s in statements if OPP.search(s)], statements
    charts = world.extensions["crm"].spec.dashboard_map["sales"].charts
    assert page.count('data-state="loading"') == len(charts)
    for chart in charts:  # every box names its own endpoint
        assert f'data-src="/crm/dashboards/sales/{chart.name}.json"' in page
    pipeline = client.get("/crm/dashboards/pipeline/opportunity/new_business/").data.decode()
    assert 'data-src="/crm/dashboards/pipeline/opportunity/new_business/by_stage.json"' in pipeline


def test_a_cached_chart_runs_no_statement_and_a_write_shows_at_once(world: Any) -> None:
    client = _client(world, "admin")
    first, card = _chart_statements(world, client)
    assert first >= 1
    again, cached = _chart_statements(world, client)
    assert again == 0 and cached == card
    assert _chart_total(client) == pytest.approx(_open_total(world))
    product = client.post("/api/v1/product/", json={"name": "缓存产品", "code": "CACHE-1"})
    assert product.status_code == 201, product.json
    assert _chart_statements(world, client)[0] == 0  # a table the chart does not read: still cached
    account = client.post("/api/v1/account/", json={"name": "缓存客户"}).json["id"]
    made = client.post("/api/v1/opportunity/", json={"name": "缓存商机", "account": account, "amount": "12345"})
    assert made.status_code == 201, made.json
    after, fresh = _chart_statements(world, client)
    assert after >= 1  # the write made the entry stale
    total = float(sum(p["value"] or 0 for p in fresh["points"]))
    assert total == pytest.approx(_open_total(world)) and total == pytest.approx(_open_total(world, None))
    assert total - float(sum(p["value"] or 0 for p in card["points"])) == pytest.approx(12345)
    deleted = client.delete(f"/api/v1/opportunity/{made.json['id']}")
    assert deleted.status_code == 200, deleted.json
    assert _chart_total(client) == pytest.approx(_open_total(world))


def test_a_narrower_scope_never_gets_a_wider_scopes_answer(world: Any) -> None:
    admin, rep, rep2 = (_client(world, u) for u in ("admin", "sales_rep", "sales_rep2"))
    everyone = _chart_total(admin)
    assert everyone == pytest.approx(_open_total(world))
    mine, theirs = _chart_total(rep), _chart_total(rep2)
    assert mine == pytest.approx(_open_total(world, "sales_rep"))
    assert theirs == pytest.approx(_open_total(world, "sales_rep2"))
    assert mine != theirs and mine < everyone
    manager = _client(world, "sales_manager")
    team = _chart_total(manager)
    assert team == pytest.approx(_open_total(world, "sales_rep") + _open_total(world, "sales_rep2")
                                 + _open_total(world, "sales_manager"))
    amounts = "/crm/dashboards/pipeline/opportunity/new_business/amount_by_stage.json"
    assert "figure" in admin.get(amounts).get_json()  # the admin's answer is cached now
    support = _client(world, "support_agent")  # may not see amounts: told so, never the number
    assert support.get(CHART).status_code == 404  # the sales dashboard is not theirs
    card = support.get(amounts).get_json()
    assert "omitted" in card and "points" not in card and "figure" not in card


def test_every_admin_shares_one_answer_per_language(world: Any) -> None:
    with world.app_context():
        sm = world.extensions["crm"].appbuilder.sm
        sm.add_user("admin2", "Second", "管理员", "admin2@example.cn", sm.find_role("Admin"), password="admin-pass-2")
    admin = _client(world, "admin")
    assert _chart_statements(world, admin)[0] >= 1
    other = login(world.test_client(), "admin2", "admin-pass-2")
    statements, card = _chart_statements(world, other)
    assert statements == 0
    other.post("/lang/zh")
    statements, zh_card = _chart_statements(world, other)
    assert statements >= 1 and zh_card["title"] == "各阶段在途金额" and card["title"] != zh_card["title"]


def test_a_viewer_in_another_time_zone_gets_their_own_answer(make_app: Any) -> None:
    """Relative ranges are the viewer's days: the same date in Shanghai and New York (14:00 UTC)
    still starts at a different instant, so the answer is not shared across zones."""
    app = _world(make_app, CRM_CHARTS_NOW="2026-06-01T14:00:00")
    admin = _client(app, "admin")
    assert _chart_statements(app, admin)[0] >= 1
    assert _chart_statements(app, admin)[0] == 0
    assert admin.post("/crm/me/", data={"time_zone": "America/New_York"}).status_code == 302
    assert _chart_statements(app, admin)[0] >= 1


def test_an_import_shows_on_the_next_chart(world: Any) -> None:
    """The import's direct write (COPY on PostgreSQL, unseen by SQLAlchemy's cursor events) still
    makes the charts reading its table stale at commit."""
    from tests.test_import_api import run_import

    admin = _client(world, "admin")
    before = _chart_total(admin)
    assert _chart_statements(world, admin)[0] == 0  # cached
    with world.app_context():
        account = world.extensions["crm"].db.session.execute(sa.text("SELECT name FROM account LIMIT 1")).scalar()
    deals = f"商机名称,客户,金额,预计成交日期\n导入商机𩸽,{account},123456,2026-12-31\n".encode()
    assert run_import(world, admin, "opportunity", deals, "d.csv").result["counts"]["created"] == 1
    assert _chart_total(admin) == pytest.approx(before + 123456) == pytest.approx(_open_total(world))


def test_no_cache_when_the_setting_is_zero(make_app: Any) -> None:
    app = make_app(CRM_CHART_CACHE_SECONDS=0)
    client = _client(app, "admin")
    assert _chart_statements(app, client)[0] >= 1
    assert _chart_statements(app, client)[0] >= 1


def test_with_redis_every_process_sees_a_write_and_a_new_metadata_version(make_app: Any, tmp_path: Path) -> None:
    """Two apps on one database and one Redis (two workers): an answer one cached is the
    other's; a write through either makes it stale for both; an app built on other
    metadata (Sales Rep reads every opportunity) never reuses the old version's answer."""
    redis_url = test_redis_url()
    first = _world(make_app, REDIS_URL=redis_url)
    second = make_app(CRM_CHART_CACHE_SECONDS=300, REDIS_URL=redis_url)
    rep_first, rep_second = _client(first, "sales_rep"), _client(second, "sales_rep")
    assert _chart_statements(first, rep_first)[0] >= 1
    statements, card = _chart_statements(second, rep_second)
    assert statements == 0  # shared through Redis
    mine = float(sum(p["value"] or 0 for p in card["points"]))
    assert mine == pytest.approx(_open_total(first, "sales_rep"))
    account = rep_first.post("/api/v1/account/", json={"name": "共享客户"}).json["id"]
    made = rep_first.post("/api/v1/opportunity/", json={"name": "共享商机", "account": account, "amount": "777"})
    assert made.status_code == 201, made.json
    assert _chart_total(rep_second) == pytest.approx(mine + 777)

    widened = tmp_path / "widened"
    shutil.copytree(STARTER, widened)
    roles = widened / "roles.yaml"
    text = roles.read_text(encoding="utf-8")
    roles.write_text(text.replace("opportunity: {read: own, create: yes, update: own, export: own}",
                                  "opportunity: {read: all, create: yes, update: own, export: own}", 1),
                     encoding="utf-8")
    assert roles.read_text(encoding="utf-8") != text
    _chart_total(rep_second)  # the old version's answer is in Redis
    third = make_app(widened, CRM_CHART_CACHE_SECONDS=300, REDIS_URL=redis_url)
    assert third.extensions["crm_version"] != second.extensions["crm_version"]
    assert _chart_total(_client(third, "sales_rep")) == pytest.approx(_open_total(third))
