"""Defaults never block (issue 13, item 7): a default on a field the role may only read or
may not see is applied by the server, never counted as the user writing it; hidden fields
keep their stored values on every save.

Its own module: the fixture builds its own app (on PostgreSQL, its own fresh database),
which must not share a database with the module-scoped world of tests/test_ownership.py.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from app.demo.users import DEMO_PASSWORD, create_demo_users
from tests.conftest import STARTER, login


@pytest.fixture
def read_only_defaults_app(make_app: Any, tmp_path: Path) -> Any:
    """The starter, where Sales Rep may only read deal_type (default new_business) and not see `done`
    of activities (default false)."""
    tree = tmp_path / "meta"
    shutil.copytree(STARTER, tree)
    roles = (tree / "roles.yaml").read_text(encoding="utf-8")
    roles = roles.replace("    opportunity.probability: read\n    lead.score: read\n",
                          "    opportunity.probability: read\n    lead.score: read\n"
                          "    opportunity.deal_type: read\n    activity.done: hidden\n", 1)
    (tree / "roles.yaml").write_text(roles, encoding="utf-8")
    app = make_app(tree)
    with app.app_context():
        state = app.extensions["crm"]
        create_demo_users(state.appbuilder, state.models)
        account = state.models.model("account")(name="默认值客户")
        state.db.session.add(account)
        state.db.session.commit()
    return app


def test_defaults_on_fields_the_role_cannot_write_never_block_a_create(read_only_defaults_app: Any) -> None:
    app = read_only_defaults_app
    rep = login(app.test_client(), "sales_rep", DEMO_PASSWORD)
    account = rep.get("/api/v1/account/?q=(page_size:1)").json["ids"][0]
    created = rep.post("/api/v1/opportunity/", json={"name": "默认值商机", "account": account})
    assert created.status_code == 201, created.json
    assert created.json["result"]["deal_type"] == "new_business"
    activity = rep.post("/api/v1/activity/", json={"subject": "默认值活动"})
    assert activity.status_code == 201, activity.json
    assert "done" not in activity.json["result"]
    # the user still may not write them
    assert rep.post("/api/v1/opportunity/", json={"name": "x", "account": account,
                                                  "deal_type": "renewal"}).status_code == 400
    # a hidden field keeps its stored value when the role saves the record
    with app.app_context():
        state = app.extensions["crm"]
        model = state.models.model("activity")
        row = state.db.session.get(model, activity.json["id"])
        row.done = True
        state.db.session.commit()
    saved = rep.put(f"/api/v1/activity/{activity.json['id']}", json={"subject": "改过的活动"})
    assert saved.status_code == 200, saved.json
    with app.app_context():
        state = app.extensions["crm"]
        assert state.db.session.get(state.models.model("activity"), activity.json["id"]).done is True


