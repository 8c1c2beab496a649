"""The API list's read kept per `q` and reader (app/web/listkeep.py): the same list asked again
answers the same without building its filters, and a change of what the read depends on — the
reader's roles (scope, hidden fields, permission), their day — is obeyed on the next request."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from urllib.parse import quote

import prison
import pytest

from app.demo.users import DEMO_PASSWORD
from tests.conftest import count_queries, login, with_demo


def _url(args: dict[str, Any]) -> str:
    return f"/api/v1/opportunity/?q={quote(prison.dumps(args))}"


PROPOSALS = _url({"filters": [{"col": "stage", "opr": "eq", "value": "proposal"}],
                  "order_column": "close_date", "order_direction": "desc", "page_size": 100})
BY_AMOUNT = _url({"filters": [{"col": "amount", "opr": "gt", "value": 0}], "order_column": "close_date",
                  "order_direction": "desc", "page_size": 100})


@pytest.fixture
def crm(make_app: Any) -> Any:
    return with_demo(make_app(), size=60)


def _kept(app: Any) -> dict[Any, Any]:
    api = next(v for v in app.appbuilder.baseviews if getattr(v, "entity", None) is not None
               and v.entity.name == "opportunity" and hasattr(v, "list_body"))
    return api.__dict__["_kept_reads"].reads  # type: ignore[no-any-return]


def _set_roles(app: Any, username: str, *roles: str) -> None:
    with app.app_context():
        sm = app.extensions["crm"].appbuilder.sm
        user = sm.find_user(username=username)
        user.roles = [sm.find_role(name) for name in roles]
        sm.update_user(user)


def test_the_same_list_asked_again_runs_its_kept_read(crm: Any) -> None:
    rep = login(crm.test_client(), "sales_rep", DEMO_PASSWORD)
    first = rep.get(PROPOSALS)  # a `q` not seen yet: FAB's view validates it
    second = rep.get(PROPOSALS)  # our route: read and kept
    assert len(_kept(crm)) == 1
    with count_queries(crm) as statements:
        third = rep.get(PROPOSALS)  # the kept read
    assert first.status_code == second.status_code == third.status_code == 200
    assert first.data == second.data == third.data
    assert 1 <= len(statements) <= 2 and len(_kept(crm)) == 1
    crm.config["CRM_REQUEST_FRAME"] = "fab"  # main's behaviour: same bytes
    try:
        assert rep.get(PROPOSALS).data == third.data
    finally:
        crm.config["CRM_REQUEST_FRAME"] = "lean"


def test_a_role_change_is_obeyed_after_a_kept_read(crm: Any) -> None:
    admin, rep = login(crm.test_client()), login(crm.test_client(), "sales_rep", DEMO_PASSWORD)
    for client in (admin, rep):  # a proposal of each, whatever the demo data gave them
        made = client.post("/api/v1/opportunity/", json={"name": "提案", "account": 1, "stage": "proposal",
                                                         "amount": 1000, "close_date": "2031-01-01"})
        assert made.status_code == 201, made.data
    everyone = admin.get(PROPOSALS).json["count"]
    for _ in range(2):
        own, amounts = rep.get(PROPOSALS).json, rep.get(BY_AMOUNT)
    assert amounts.status_code == 200 and len(_kept(crm)) >= 2
    assert 0 < own["count"] < everyone  # Sales Rep reads their own

    _set_roles(crm, "sales_rep", "Support Agent")  # reads every opportunity, amount hidden
    widened = rep.get(PROPOSALS).json
    assert widened["count"] == everyone and "amount" not in widened["result"][0]
    refused = rep.get(BY_AMOUNT)  # a filter on a field now hidden: refused, not the kept rows
    assert refused.status_code == 400 and "amount" in refused.json["message"]

    _set_roles(crm, "sales_rep", "Marketing")  # no opportunities at all
    assert rep.get(PROPOSALS).status_code == 403

    _set_roles(crm, "sales_rep", "Sales Rep")
    assert rep.get(PROPOSALS).json == own


def test_a_relative_date_filter_is_read_again_on_a_new_day(crm: Any) -> None:
    admin = login(crm.test_client())
    crm.config["CRM_FROZEN_NOW"] = "2031-03-10T12:00:00+00:00"
    made = admin.post("/api/v1/opportunity/", json={"name": "今天成交", "account": 1, "close_date": "2031-03-10"})
    assert made.status_code == 201, made.data
    today = _url({"filters": [{"col": "close_date", "opr": "range", "value": "today"}], "page_size": 100})
    for _ in range(2):
        ids = admin.get(today).json["ids"]
    assert ids == [made.json["id"]] and len(_kept(crm)) == 1
    crm.config["CRM_FROZEN_NOW"] = "2031-03-11T12:00:00+00:00"  # the next day: nothing closes today
    assert admin.get(today).json["ids"] == []
    crm.config["CRM_FROZEN_NOW"] = "2031-03-10T12:00:00+00:00"
    assert admin.get(today).json["ids"] == [made.json["id"]]


def test_a_written_record_shows_in_the_kept_read(crm: Any) -> None:
    admin = login(crm.test_client())
    for _ in range(2):
        before = admin.get(PROPOSALS).json
    made = admin.post("/api/v1/opportunity/", json={"name": "新的提案", "account": 1, "stage": "proposal", "amount": 1000,
                                                    "close_date": (dt.date.today() + dt.timedelta(days=3650)).isoformat()})
    assert made.status_code == 201, made.data
    after = admin.get(PROPOSALS).json
    assert after["count"] == before["count"] + 1 and after["ids"][0] == made.json["id"]
    assert json.dumps(after["result"][0], ensure_ascii=False).count("新的提案") == 1
