"""What every page's head carries: the browser tab's title names the page in the user's language,
and the form conditions' script only on forms whose view answers it (it posted to a /conditions
URL that FAB's user and role forms and the teams form lack: a 404 on each of them).

Real database (SQLite or CRM_TEST_DATABASE_URL), the starter with demo records."""

from __future__ import annotations

import html
import json
import re
from typing import Any

import pytest

from tests.conftest import login, with_demo

TITLE = re.compile(r"<title>(.*?)</title>", re.S)
CONDITIONS = re.compile(r'<script src="[^"]*crm/conditions\.js[^"]*" data-url="([^"]+)"')


@pytest.fixture
def demo_app(app: Any) -> Any:
    return with_demo(app, size=5)


def client_in(app: Any, lang: str) -> Any:
    client = login(app.test_client())
    with client.session_transaction() as session:
        session["locale"] = lang
    return client


def title_of(client: Any, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    found = TITLE.search(response.get_data(as_text=True))
    assert found, url
    return html.unescape(" ".join(found.group(1).split()))


def first_id(client: Any, entity: str) -> int:
    return client.get(f"/api/v1/{entity}/?q=(page_size:1)").json["ids"][0]


@pytest.mark.parametrize(("lang", "app_name", "names"), [
    ("en", "MetaCRM", {"list": "Opportunities", "edit": "Edit Opportunity", "add": "Add Opportunity",
                       "dashboard": "Sales", "board": "Opportunities · New business", "import": "Import: Leads",
                       "jobs": "Jobs", "reports": "Reports", "accounts": "Accounts", "users": "List Users", "record": "Opportunity"}),
    ("zh", "元客户管理", {"list": "商机", "edit": "编辑商机", "add": "新建商机", "dashboard": "销售",
                     "board": "商机 · 新业务", "import": "导入：线索", "jobs": "后台任务", "reports": "报表",
                     "accounts": "客户", "users": "用户列表", "record": "商机"}),
])
def test_the_tab_names_the_page_then_the_app_in_the_users_language(demo_app: Any, lang: str, app_name: str,
                                                                  names: dict[str, str]) -> None:
    client = client_in(demo_app, lang)
    deal = first_id(client, "opportunity")
    urls = {"list": "/crm/opportunity/list/", "edit": f"/crm/opportunity/edit/{deal}",
            "add": "/crm/opportunity/add", "dashboard": "/crm/dashboards/sales/",
            "board": "/crm/opportunity/board/new_business", "import": "/crm/imports/lead/",
            "jobs": "/crm/jobs/", "reports": "/crm/reports/", "accounts": "/crm/account/list/",
            "users": "/users/list/"}
    seen = {key: title_of(client, url) for key, url in urls.items()}
    assert seen == {key: f"{names[key]} - {app_name}" for key in urls}
    # the list's layout is kept per role set and language, not per entity: each list keeps its own name
    assert title_of(client, "/crm/opportunity/list/") == f"{names['list']} - {app_name}"
    # the record page: the record first
    record = client.get(f"/api/v1/opportunity/{deal}").json["result"]["name"]
    assert title_of(client, f"/crm/opportunity/show/{deal}") == f"{record} - {names['record']} - {app_name}"


def test_the_home_page_names_its_dashboard_and_the_login_page_the_app(demo_app: Any) -> None:
    assert title_of(client_in(demo_app, "zh"), "/") == "销售 - 元客户管理"  # the first dashboard
    assert title_of(demo_app.test_client(), "/login/") == "Sign In - MetaCRM"


def test_the_conditions_script_only_where_its_endpoint_is(demo_app: Any) -> None:
    client = client_in(demo_app, "en")
    with demo_app.app_context():
        state = demo_app.extensions["crm"]
        team = state.db.session.query(state.models.team_model).first().id
        role = state.appbuilder.sm.find_role("Sales Rep").id
        state.db.session.remove()
    for url in ("/users/edit/1", "/users/add", f"/roles/edit/{role}", f"/crm/teams/edit/{team}", "/crm/teams/add",
                "/crm/opportunity/list/"):
        page = client.get(url)
        assert page.status_code == 200, url
        assert "conditions.js" not in page.get_data(as_text=True), url
    deal = first_id(client, "opportunity")
    for url, target in ((f"/crm/opportunity/edit/{deal}", f"/crm/opportunity/conditions?pk={deal}"),
                        ("/crm/opportunity/add", "/crm/opportunity/conditions")):
        found = CONDITIONS.search(client.get(url).get_data(as_text=True))
        assert found and html.unescape(found.group(1)) == target, url
        answer = client.post(target, data={"stage": "prospecting"})
        assert answer.status_code == 200 and set(answer.json) == {"hidden", "required", "read_only"}


@pytest.mark.parametrize(("lang", "app_name"), [("en", "MetaCRM"), ("zh", "元客户管理")])
def test_a_saved_reports_tab_names_the_report_then_the_app(demo_app: Any, lang: str, app_name: str) -> None:
    """The tab said only "Reports" / "报表" on every saved report: several open reports were indistinguishable."""
    client = client_in(demo_app, lang)
    definition = {"entity": "opportunity", "columns": ["name", "amount"]}
    saved = client.post("/crm/reports/save", data={"name": "华东 <大单> & Co", "definition": json.dumps(definition)})
    assert saved.status_code == 302, saved.get_data(as_text=True)
    assert title_of(client, saved.headers["Location"]) == f"华东 <大单> & Co - {app_name}"
    assert title_of(client, "/crm/reports/?entity=opportunity") == f"{'报表' if lang == 'zh' else 'Reports'} - {app_name}"
