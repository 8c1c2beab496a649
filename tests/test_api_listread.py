"""The API list read as plain rows (app/web/listread.py) answers byte for byte what the ORM path
answers: every entity of the starter metadata, as five roles (admin, row-scoped reps and
managers, field rules hiding columns, a `via` scope that restricts link titles), with many
argument sets (columns, order both ways on each sortable column, every filter operator the
API offers, pages, empty results, Chinese data, NULLs). Plus the denials, on the fast path.

Real database (SQLite or CRM_TEST_DATABASE_URL); both paths run in the same app, switched by
`CRM_API_LIST_READ` per request.
"""

from __future__ import annotations

from typing import Any

import prison
import pytest

from app.demo.users import DEMO_PASSWORD
from tests import test_performance
from tests.alltypes import add_gadgets, alltypes_tree
from tests.conftest import login, user_id

demo_app = test_performance.crm  # an app with demo users and 40 records of each entity
ROLES = ["admin", "sales_rep", "sales_rep2", "sales_manager", "support_agent", "pre_sales_engineer", "marketing"]


def _get(client: Any, url: str, read: str) -> Any:
    client.application.config["CRM_API_LIST_READ"] = read
    try:
        return client.get(url)
    finally:
        client.application.config["CRM_API_LIST_READ"] = "core"


def _same(client: Any, url: str) -> Any:
    """Both paths' answers to `url`, asserted equal (status and body bytes); the core one."""
    old, new = _get(client, url, "orm"), _get(client, url, "core")
    assert (new.status_code, new.get_data(as_text=True)) == (old.status_code, old.get_data(as_text=True)), url
    return new


def _api(app: Any, entity: str) -> Any:
    views = app.extensions["crm"].appbuilder.baseviews
    return next(v for v in views if getattr(v, "resource_name", "") == entity and hasattr(v, "list_model_schema"))


def _url(entity: str, args: dict[str, Any]) -> str:
    return f"/api/v1/{entity}/" + (f"?q={prison.dumps(args)}" if args else "")


def _sample(rows: list[dict[str, Any]], column: str) -> Any:
    """A value of `column` as a filter takes it (a link's id), from the first row that has one."""
    for row in rows:
        value = row.get(column)
        if value not in (None, "", []):
            return value["id"] if isinstance(value, dict) else value[0] if isinstance(value, list) else value
    return None


def _filter_args(admin: Any, entity: str) -> list[dict[str, Any]]:
    """One filter per (column, operator) the API offers, valued from the data."""
    info = admin.get(f"/api/v1/{entity}/_info?q=(keys:!(filters))").json["filters"]
    rows = admin.get(_url(entity, {"page_size": 100, "columns": list(info)})).json.get("result", [])
    out = []
    for column, operators in info.items():
        value = _sample(rows, column)
        if value is None:
            continue
        for op in operators:
            opr = op["operator"]
            if opr in ("between", "range"):
                continue
            v = [value] if opr in ("in", "not_in") or isinstance(value, list) else value
            out.append({"filters": [{"col": column, "opr": opr, "value": v}], "page_size": 10})
    return out


def _argument_sets(app: Any, admin: Any, entity: str) -> list[dict[str, Any]]:
    api = _api(app, entity)
    spec = api.entity
    title = spec.title_field
    links = [f.name for f in spec.fields if f.type in ("link", "user")]
    formulas = [f.name for f in spec.fields if f.computed is not None]
    sets: list[dict[str, Any]] = [{}, {"page_size": 7}, {"page": 1, "page_size": 7}, {"page": 3, "page_size": 7},
                                  {"page": 50, "page_size": 25}, {"page_size": 100},
                                  {"keys": ["list_columns", "label_columns", "order_columns", "list_title", "result",
                                            "count", "ids"]},
                                  {"columns": [title, *links[:2], *formulas[:2]], "page_size": 15},
                                  {"columns": ["id", title], "order_column": "id", "order_direction": "desc"},
                                  {"filters": [{"col": title, "opr": "eq", "value": "没有这个名字"}]}]
    for column in api.order_columns:
        for direction in ("asc", "desc"):
            sets.append({"order_column": column, "order_direction": direction, "page_size": 9, "page": 1})
    if links:  # a link sorts by its title (app/web/linksort.py), also on the default page size
        sets.append({"order_column": links[0], "order_direction": "asc"})
    return sets + _filter_args(admin, entity)


def _add_chinese_rows(client: Any) -> None:
    account = client.post("/api/v1/account/", json={"name": "华为技术有限公司"})
    assert account.status_code == 201, account.json
    for name in ("云服务扩容", "数据中心 二期"):  # amount, close date, contact: NULL
        made = client.post("/api/v1/opportunity/", json={"name": name, "account": account.json["id"]})
        assert made.status_code == 201, made.json


@pytest.fixture
def clients(demo_app: Any) -> dict[str, Any]:
    admin = login(demo_app.test_client())
    _add_chinese_rows(admin)
    out = {"admin": admin}
    for user in ROLES[1:]:
        out[user] = login(demo_app.test_client(), user, DEMO_PASSWORD)
    return out


@pytest.mark.parametrize("entity", ["account", "contact", "lead", "opportunity", "product", "activity", "ticket",
                                    "campaign"])  # STARTER
def test_every_entity_lists_the_same_json_on_both_paths(demo_app: Any, clients: dict[str, Any],
                                                        entity: str) -> None:
    """Each argument set as admin and as one other role, in turn (a role meets every kind of set:
    the sets come in runs of a kind; crossing all of them with every role took minutes)."""
    sets = _argument_sets(demo_app, clients["admin"], entity)
    assert len(sets) > 20
    others = [clients[user] for user in ROLES[1:]]
    answered = 0
    for index, args in enumerate(sets):
        for client in (clients["admin"], others[index % len(others)]):
            response = _same(client, _url(entity, args))
            answered += response.status_code == 200 and bool(response.json.get("result"))
    assert answered > len(sets) // 2  # many answers carry rows: the comparison compares data


STARTER = ("account", "contact", "lead", "opportunity", "product", "activity", "ticket", "campaign")


def test_the_fast_path_serves_the_starter_lists(demo_app: Any, clients: dict[str, Any]) -> None:
    """The core reader covers every starter entity's list (no silent fall-back): after a request,
    its statements for that request's shape are kept on the schema's plan; one plan serves
    requests of one shape with other values (other filter value, page, user)."""
    from app.web.listread import _plan
    for entity in STARTER:
        api = _api(demo_app, entity)
        with demo_app.app_context():
            plan = _plan(api.entity, api.list_model_schema, api.datamodel.obj)
        assert plan is not None, entity
        before = len(plan.pages)
        assert _get(clients["sales_rep"], _url(entity, {"page_size": 5}), "core").status_code in (200, 403)
        assert _get(clients["admin"], _url(entity, {"page_size": 5}), "core").status_code == 200
        assert len(plan.pages) > before, entity
    plan = _plan(_api(demo_app, "opportunity").entity, _api(demo_app, "opportunity").list_model_schema,
                 _api(demo_app, "opportunity").datamodel.obj)
    shapes = len(plan.pages)
    for stage, page in (("proposal", 0), ("negotiation", 1), ("谈判", 0)):
        _same(clients["sales_rep"], _url("opportunity", {"filters": [{"col": "stage", "opr": "eq", "value": stage}],
                                                         "page": page, "page_size": 3}))
    assert len(plan.pages) == shapes + 1  # one new shape, three requests


def test_restricted_link_titles_are_the_same(demo_app: Any, clients: dict[str, Any]) -> None:
    """A pre-sales engineer reads activities through `via(opportunity)` and opportunities only
    as sales engineer: some activities link opportunities they cannot read (restricted)."""
    client, admin = clients["pre_sales_engineer"], clients["admin"]
    me = admin.get("/api/v1/user/picker?q=pre_sales_engineer").json["results"][0]["id"]
    theirs = admin.get(_url("opportunity", {"page_size": 100, "columns": ["name", "sales_engineer"]})).json["result"]
    other = next(o for o in theirs if not o["sales_engineer"] or o["sales_engineer"]["id"] != me)
    made = admin.post("/api/v1/activity/", json={"subject": "客户回访 (restricted link)", "opportunity": other["id"],
                                                 "owner": me})
    assert made.status_code == 201, made.json
    body = _same(client, _url("activity", {"page_size": 100, "columns": ["subject", "opportunity", "account",
                                                                         "contact", "owner"]})).json
    titles = [r[k]["title"] for r in body["result"] for k in ("opportunity", "account", "contact", "owner")
              if r.get(k)]
    assert "(restricted)" in titles and len(set(titles)) > 1, titles


def test_a_rep_sees_only_own_rows_on_the_fast_path(demo_app: Any, clients: dict[str, Any]) -> None:
    rep = clients["sales_rep"]
    me = user_id(demo_app, "sales_rep")
    body = _get(rep, _url("opportunity", {"page_size": 100, "columns": ["name", "owner"]}), "core").json
    everyone = _get(clients["admin"], _url("opportunity", {"page_size": 100}), "core").json
    assert body["result"] and {r["owner"]["id"] for r in body["result"]} == {me}
    assert body["count"] < everyone["count"]
    other = next(r for r in everyone["result"] if r["owner"] and r["owner"]["id"] != me)
    one = _get(rep, _url("opportunity", {"filters": [{"col": "name", "opr": "eq", "value": other["name"]}]}),
               "core").json
    assert other["id"] not in one["ids"]


def test_two_reps_share_a_statement_shape_but_not_their_rows(demo_app: Any, clients: dict[str, Any]) -> None:
    """Two users of one role run the same kept statements (one request shape) with their own
    values: each sees only their own records, alternately, page after page."""
    from app.web.listread import _plan
    api = _api(demo_app, "opportunity")
    plan = _plan(api.entity, api.list_model_schema, api.datamodel.obj)
    owners: dict[str, set[int]] = {}
    for _ in range(2):
        for user in ("sales_rep", "sales_rep2"):
            for page in (0, 1):
                body = _get(clients[user], _url("opportunity", {"page": page, "page_size": 4}), "core").json
                assert body["result"] or page, user
                owners.setdefault(user, set()).update(r["owner"]["id"] for r in body["result"])
    assert len(owners["sales_rep"]) == 1 and len(owners["sales_rep2"]) == 1, owners  # each their own
    shapes = len(plan.pages)
    assert owners["sales_rep"] and owners["sales_rep2"] and not owners["sales_rep"] & owners["sales_rep2"]
    _get(clients["sales_rep2"], _url("opportunity", {"page": 2, "page_size": 4}), "core")
    assert len(plan.pages) == shapes  # the same shape: no new statements


def test_hidden_fields_never_leave_on_the_fast_path(demo_app: Any, clients: dict[str, Any]) -> None:
    agent = clients["support_agent"]
    body = _get(agent, _url("opportunity", {"page_size": 50}), "core").json
    assert body["result"]
    for row in body["result"]:
        assert not {"amount", "probability", "weighted_amount"} & set(row), row
    assert "amount" not in body["list_columns"]
    refused = _get(agent, _url("opportunity", {"columns": ["name", "amount"]}), "core")
    assert refused.status_code == 400 and "amount" in refused.json["message"]
    refused = _get(agent, _url("opportunity", {"order_column": "amount", "order_direction": "asc"}), "core")
    assert refused.status_code == 400
    accounts = _get(agent, _url("account", {"columns": ["name", "annual_revenue"]}), "core")
    assert accounts.status_code == 400


def test_every_field_type_lists_the_same_json(make_app: Any, tmp_path: Any) -> None:
    """The all-types entity (every field type; `makers` is to-many: the ORM path answers it)."""
    app = make_app(alltypes_tree(tmp_path / "meta"))
    admin = login(app.test_client())
    add_gadgets(admin)
    api = _api(app, "gadget")
    singles = [f.name for f in api.entity.fields if f.type != "links"]
    for args in [{}, {"columns": singles}, {"columns": singles, "order_column": "price", "order_direction": "desc"},
                 {"columns": singles, "order_column": "launched", "order_direction": "asc"},
                 {"columns": singles, "filters": [{"col": "tags", "opr": "ct", "value": ["hot"]}]}]:
        body = _same(admin, _url("gadget", args)).json
        assert body["count"] == (1 if "filters" in args else 3)
