"""Many-to-many from both sides (issue 13, item 6): a campaign's contacts and a contact's campaigns,
related lists on both record pages and in the API, row scope applied."""

from __future__ import annotations

import re
import shutil
import warnings
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from app.demo.users import DEMO_PASSWORD, create_demo_users
from tests.conftest import STARTER, login


@pytest.fixture
def world(make_app: Any) -> dict[str, Any]:
    app = make_app()
    with app.app_context():
        create_demo_users(app.extensions["crm"].appbuilder, app.extensions["crm"].models)
    admin = login(app.test_client())
    account = admin.post("/api/v1/account/", json={"name": "多对多客户"}).json["id"]
    ids: dict[str, int] = {}
    for name in ("陈一", "林二", "周三"):
        created = admin.post("/api/v1/contact/", json={"name": name, "account": account})
        assert created.status_code == 201, created.json
        ids[name] = created.json["id"]
    for name, members in (("春季展会", ["陈一", "林二"]), ("秋季沙龙", ["林二"])):
        created = admin.post("/api/v1/campaign/", json={"name": name, "contacts": [ids[m] for m in members]})
        assert created.status_code == 201, created.json
        ids[name] = created.json["id"]
    return {"app": app, "admin": admin, "ids": ids}


def test_a_campaigns_page_lists_its_contacts(world: dict[str, Any]) -> None:
    admin, ids = world["admin"], world["ids"]
    page = admin.get(f"/crm/campaign/show/{ids['春季展会']}").data.decode()
    assert "陈一" in page and "林二" in page and "周三" not in page


def test_a_contacts_page_lists_its_campaigns(world: dict[str, Any]) -> None:
    admin, ids = world["admin"], world["ids"]
    page = admin.get(f"/crm/contact/show/{ids['林二']}").data.decode()
    assert "春季展会" in page and "秋季沙龙" in page
    page = admin.get(f"/crm/contact/show/{ids['陈一']}").data.decode()
    assert "春季展会" in page and "秋季沙龙" not in page
    assert "周三" not in admin.get(f"/crm/contact/show/{ids['陈一']}").data.decode()


def test_the_api_answers_from_both_sides(world: dict[str, Any]) -> None:
    admin, ids = world["admin"], world["ids"]

    def campaigns_of(contact: int) -> set[str]:
        response = admin.get(f"/api/v1/contact/{contact}/related/campaign/contacts")
        assert response.status_code == 200, response.json
        return {r["title"] for r in response.json["result"]}

    assert campaigns_of(ids["林二"]) == {"春季展会", "秋季沙龙"}
    assert campaigns_of(ids["周三"]) == set()
    shown = admin.get(f"/api/v1/campaign/{ids['春季展会']}").json["result"]["contacts"]
    assert {c["id"] for c in shown} == {ids["陈一"], ids["林二"]}


def test_a_user_who_may_not_read_campaigns_sees_no_campaign_list(world: dict[str, Any]) -> None:
    """Support agents have no campaign rights: the contact page shows no campaigns, the API refuses."""
    agent = login(world["app"].test_client(), "support_agent", DEMO_PASSWORD)
    ids = world["ids"]
    page = agent.get(f"/crm/contact/show/{ids['林二']}")
    assert page.status_code == 200
    assert "春季展会" not in page.data.decode()
    assert agent.get(f"/api/v1/campaign/{ids['春季展会']}").status_code in (401, 403, 404)
    refused = agent.get(f"/api/v1/contact/{ids['林二']}/related/campaign/contacts")
    assert refused.status_code == 403


def test_unknown_related_field_is_404(world: dict[str, Any]) -> None:
    admin, ids = world["admin"], world["ids"]
    assert admin.get(f"/api/v1/contact/{ids['林二']}/related/campaign/name").status_code == 404
    assert admin.get(f"/api/v1/contact/{ids['林二']}/related/nope/contacts").status_code == 404
    assert admin.get("/api/v1/contact/999999/related/campaign/contacts").status_code == 404


@pytest.fixture
def scoped_world(make_app: Any, tmp_path: Path) -> dict[str, Any]:
    """Sales reps read only their own campaigns; a contact in three campaigns (one the rep's, one
    another's, one the rep's it is not in) and, for the count, more of the rep's than a page holds."""
    root = tmp_path / "meta"
    shutil.copytree(STARTER, root)
    roles = (root / "roles.yaml").read_text(encoding="utf-8")
    (root / "roles.yaml").write_text(roles.replace("    campaign: {read: all}\n", "    campaign: {read: own}\n", 1),
                                     encoding="utf-8")
    app = make_app(root)
    with app.app_context():
        create_demo_users(app.extensions["crm"].appbuilder, app.extensions["crm"].models)
    admin = login(app.test_client())
    account = admin.post("/api/v1/account/", json={"name": "范围客户"}).json["id"]
    ids = {name: admin.post("/api/v1/contact/", json={"name": name, "account": account}).json["id"]
           for name in ("陈一", "林二")}
    members = {"春季展会": ["陈一", "林二"], "秋季沙龙": ["陈一"], "冬季论坛": ["林二"]}
    members.update({f"巡展{n:02d}": ["陈一"] for n in range(1, 23)})
    for name, people in members.items():
        created = admin.post("/api/v1/campaign/", json={"name": name, "contacts": [ids[p] for p in people]})
        assert created.status_code == 201, created.json
        ids[name] = created.json["id"]
    with app.app_context():
        state = app.extensions["crm"]
        rep = state.appbuilder.sm.find_user(username="sales_rep")
        campaign = state.models.model("campaign")
        mine = [ids[n] for n in members if n != "秋季沙龙"]
        state.db.session.execute(sa.update(campaign).where(campaign.id.in_(mine)).values(owner_id=rep.id))
        state.db.session.commit()
    return {"app": app, "ids": ids}


def _campaign_rows(page: str) -> list[str]:
    """The campaign titles of a contact page's related list, one per row (duplicates kept)."""
    return re.findall(r"(春季展会|秋季沙龙|冬季论坛|巡展\d\d)", page)


def _record_counts(page: str) -> list[str]:
    return re.findall(r"Record Count:</strong>\s*([\d,+]+)", page)


def test_a_contacts_related_campaigns_are_the_linked_ones_in_the_viewers_scope(
        scoped_world: dict[str, Any]) -> None:
    """The rep's related list on 林二: 春季展会 and 冬季论坛 (linked, own), never 秋季沙龙 (not theirs)
    nor the 巡展 (not linked); on 陈一, 23 of the rep's linked campaigns: the count says so, no row twice.
    The list's ids query is one statement with no cartesian product (SAWarning is an error)."""
    rep = login(scoped_world["app"].test_client(), "sales_rep", DEMO_PASSWORD)
    ids = scoped_world["ids"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", sa.exc.SAWarning)
        page = rep.get(f"/crm/contact/show/{ids['林二']}")
        assert page.status_code == 200
        assert sorted(_campaign_rows(page.data.decode())) == ["冬季论坛", "春季展会"]
        assert "2" in _record_counts(page.data.decode())
        page = rep.get(f"/crm/contact/show/{ids['陈一']}").data.decode()
        rows = _campaign_rows(page)
        assert "秋季沙龙" not in rows and "冬季论坛" not in rows
        assert len(rows) == len(set(rows))
        assert "23" in _record_counts(page)  # more than a page: the count statement ran
        agent = login(scoped_world["app"].test_client(), "support_agent", DEMO_PASSWORD)
        page = agent.get(f"/crm/contact/show/{ids['陈一']}")  # no campaign read at all: nothing, no warning
        assert page.status_code == 200 and _campaign_rows(page.data.decode()) == []
