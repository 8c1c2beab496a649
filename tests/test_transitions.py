"""Per-transition roles (issue 13, item 3) on the form, the API, the move endpoint and the board;
stage labels, never keys, in gate messages; the stage field's own label (item 5)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.demo.users import DEMO_PASSWORD, create_demo_users
from app.metadata.loader import load_metadata
from tests.conftest import login, write_tree


@pytest.fixture
def users_app(make_app: Any) -> Any:
    app = make_app()
    with app.app_context():
        create_demo_users(app.extensions["crm"].appbuilder, app.extensions["crm"].models)
    return app


def _lost_deal(client: Any) -> tuple[int, int]:
    """A deal of `client`'s own, moved to lost (any rep may lose a deal)."""
    account = client.post("/api/v1/account/", json={"name": "重开测试客户"}).json["id"]
    created = client.post("/api/v1/opportunity/", json={"name": "输单后重开", "account": account,
                                                        "lost_reason": "价格太高"})
    assert created.status_code == 201, created.json
    pk = created.json["id"]
    assert client.post(f"/api/v1/opportunity/{pk}/move", json={"stage": "lost"}).status_code == 200
    return pk, account


def test_a_rep_cannot_reopen_a_lost_deal_on_any_channel(users_app: Any) -> None:
    rep = login(users_app.test_client(), "sales_rep", DEMO_PASSWORD)
    pk, account = _lost_deal(rep)
    moved = rep.post(f"/api/v1/opportunity/{pk}/move", json={"stage": "prospecting"})
    assert moved.status_code == 422
    assert moved.json["message"]["stage"] == ["Your role may not move records from Lost to Prospecting."]
    put = rep.put(f"/api/v1/opportunity/{pk}", json={"stage": "prospecting"})
    assert put.status_code == 422 and put.json["message"]["stage"] == moved.json["message"]["stage"]
    form = rep.post(f"/crm/opportunity/edit/{pk}", data={
        "name": "输单后重开", "account": str(account), "deal_type": "new_business", "stage": "prospecting",
        "lost_reason": "价格太高"})
    assert "Your role may not move records from Lost to Prospecting." in form.data.decode()
    assert rep.get(f"/api/v1/opportunity/{pk}").json["result"]["stage"] == "lost"
    # entering prospecting from another stage is still open to the rep: the rule is per from→to pair
    other = rep.post("/api/v1/opportunity/", json={"name": "普通商机", "account": account}).json["id"]
    assert rep.post(f"/api/v1/opportunity/{other}/move", json={"stage": "needs_analysis"}).status_code == 200
    assert rep.post(f"/api/v1/opportunity/{other}/move", json={"stage": "prospecting"}).status_code == 200


def test_a_manager_reopens_a_lost_deal(users_app: Any) -> None:
    rep = login(users_app.test_client(), "sales_rep", DEMO_PASSWORD)
    pk, _ = _lost_deal(rep)
    manager = login(users_app.test_client(), "sales_manager", DEMO_PASSWORD)
    reopened = manager.post(f"/api/v1/opportunity/{pk}/move", json={"stage": "prospecting"})
    assert reopened.status_code == 200, reopened.json
    history = manager.get(f"/api/v1/opportunity/{pk}/history").json["result"]
    assert [h["to"] for h in history] == ["prospecting", "lost", "prospecting"]


def test_chinese_errors_name_stage_labels_never_keys(users_app: Any) -> None:
    rep = login(users_app.test_client(), "sales_rep", DEMO_PASSWORD)
    pk, _ = _lost_deal(rep)
    rep.post("/lang/zh")
    refused = rep.post(f"/api/v1/opportunity/{pk}/move", json={"stage": "prospecting"})
    assert refused.json["message"]["stage"] == ["您的角色无权将记录从输单移至初步接触。"]
    # lost allows only prospecting, which this rep may not enter from lost: nothing is left to offer
    wrong = rep.post(f"/api/v1/opportunity/{pk}/move", json={"stage": "proposal"})
    assert wrong.json["message"]["stage"] == ["不能从输单移到方案提供；可移至：—。"]
    admin = login(users_app.test_client())
    admin.post("/lang/zh")
    lead = admin.post("/api/v1/lead/", json={"name": "王五", "company": "某公司", "disqualify_reason": "重复"})
    lead_id = lead.json["id"]
    assert admin.post(f"/api/v1/lead/{lead_id}/move", json={"stage": "disqualified"}).status_code == 200
    back = admin.post(f"/api/v1/lead/{lead_id}/move", json={"stage": "contacted"})
    assert back.json["message"]["status"] == ["不能从无效移到已联系；可移至：新线索。"]


def test_the_form_names_stage_labels_in_chinese_too(users_app: Any) -> None:
    rep = login(users_app.test_client(), "sales_rep", DEMO_PASSWORD)
    pk, account = _lost_deal(rep)
    rep.post("/lang/zh")
    page = rep.post(f"/crm/opportunity/edit/{pk}", data={
        "name": "输单后重开", "account": str(account), "deal_type": "new_business", "stage": "proposal",
        "lost_reason": "价格太高"}).get_data(as_text=True)
    assert "不能从输单移到方案提供；可移至：—。" in page
    assert "from lost" not in page and "proposal；" not in page and "：proposal" not in page
    board = rep.post(f"/api/v1/opportunity/{pk}/move", json={"stage": "prospecting"})  # what a drop posts
    assert board.json["message"]["stage"] == ["您的角色无权将记录从输单移至初步接触。"]


def test_an_unknown_stage_is_answered_with_the_stage_labels(users_app: Any) -> None:
    """The labels the user reads, each with the key the API takes beside it, on every channel."""
    admin = login(users_app.test_client())
    admin.post("/lang/zh")
    account = admin.post("/api/v1/account/", json={"name": "阶段标签客户"}).json["id"]
    pk = admin.post("/api/v1/opportunity/", json={"name": "未知阶段", "account": account}).json["id"]
    listed = "初步接触 (prospecting), 需求分析 (needs_analysis), 方案提供 (proposal)"
    for response in (admin.put(f"/api/v1/opportunity/{pk}", json={"stage": "赢单"}),
                     admin.post(f"/api/v1/opportunity/{pk}/move", json={"stage": "赢单"}),
                     admin.get("/api/v1/opportunity/board/new_business", query_string={"stage": "赢单"})):
        assert response.status_code in (400, 422)
        assert response.json["message"]["stage"][0].startswith("“赢单”不在可选值中：" + listed), response.json
    board = admin.get("/api/v1/opportunity/board/new_business", query_string={"stage": "赢单"}).json
    assert "renewal_due" not in board["message"]["stage"][0]  # the pipeline's own stages only


def test_the_board_offers_only_the_drop_targets_the_user_may_use(users_app: Any) -> None:
    def lost_targets(client: Any) -> list[str]:
        columns = client.get("/api/v1/opportunity/board/new_business").json["columns"]
        return next(c["next"] for c in columns if c["stage"] == "lost")

    rep = login(users_app.test_client(), "sales_rep", DEMO_PASSWORD)
    manager = login(users_app.test_client(), "sales_manager", DEMO_PASSWORD)
    assert lost_targets(rep) == []
    assert lost_targets(manager) == ["prospecting"]
    columns = {c["stage"]: c["next"] for c in rep.get("/api/v1/opportunity/board/new_business").json["columns"]}
    assert "won" not in columns["negotiation"]  # won is for managers (stage roles)
    assert columns["won"] == []  # final
    page = rep.get("/crm/opportunity/board/new_business").data.decode()
    assert '"next": []' in page or '"next":[]' in page


def test_the_stage_field_has_its_own_label_on_forms_lists_history_and_charts(make_app: Any) -> None:
    app = make_app()
    admin = login(app.test_client())
    admin.post("/lang/zh")
    ticket = admin.post("/api/v1/ticket/", json={"subject": "打印机坏了"})
    assert ticket.status_code == 201, ticket.json
    pk = ticket.json["id"]
    assert "工单状态" in admin.get("/crm/ticket/add").data.decode()
    assert "工单状态" in admin.get("/crm/ticket/list/").data.decode()
    page = admin.get(f"/crm/ticket/show/{pk}").data.decode()
    assert "工单状态" in page and "crm-timeline-stage" in page  # the history timeline shows the stage
    info = admin.get("/api/v1/ticket/_info").json
    assert "工单状态" in str(info)


def test_history_shows_display_names_not_logins(users_app: Any) -> None:
    rep = login(users_app.test_client(), "sales_rep", DEMO_PASSWORD)
    pk, _ = _lost_deal(rep)
    with users_app.app_context():
        user_model = users_app.extensions["crm"].appbuilder.sm.user_model
        session = users_app.extensions["crm"].db.session
        user = session.query(user_model).filter_by(username="sales_rep").one()
        full = f"{user.first_name or ''} {user.last_name or ''}".strip()
    history = rep.get(f"/api/v1/opportunity/{pk}/history").json["result"]
    assert full and history[-1]["moved_by"] == full and history[-1]["moved_by_username"] == "sales_rep"
    assert full in rep.get(f"/crm/opportunity/show/{pk}").data.decode()


# -- bad metadata: located errors --------------------------------------------------------

ACCOUNT = "label: {en: Account, zh: 客户}\nfields:\n  name: {type: string, required: true}\n"
DEAL = (
    "label: Deal\n"                                              # 1
    "fields:\n"                                                  # 2
    "  name: {type: string, required: true}\n"                   # 3
    "pipelines:\n"                                               # 4
    "  - name: sales\n"                                          # 5
    "    field: stage\n"                                         # 6
    "    stages:\n"                                              # 7
    "      - {name: open}\n"                                     # 8
    "      - {name: won, next: []}\n"                            # 9
    "      - {name: lost, next: [open]}\n"                       # 10
    "    transitions:\n"                                         # 11
)


def _problems(tmp_path: Path, *rows: str) -> list[str]:
    root = write_tree(tmp_path / "meta", {"account": ACCOUNT, "deal": DEAL + "".join(r + "\n" for r in rows)})
    _, problems = load_metadata(root)
    return [p.format(root) for p in problems]


def test_a_valid_transition_loads(tmp_path: Path) -> None:
    assert _problems(tmp_path, "      - {from: lost, to: open, roles: [Admin]}") == []


def test_a_transition_naming_an_unknown_stage_is_located(tmp_path: Path) -> None:
    problems = _problems(tmp_path, "      - {from: lots, to: open, roles: [Admin]}")
    assert problems == ["meta/entities/deal.yaml:12: CRM-E043 pipeline 'sales': transition from unknown "
                        "stage 'lots' (hint: did you mean 'lost'?)"]


def test_a_transition_next_forbids_twice_or_unknown_role_is_located(tmp_path: Path) -> None:
    problems = _problems(tmp_path,
                         "      - {from: won, to: open}",                     # 12
                         "      - {from: lost, to: open}",                    # 13
                         "      - {from: lost, to: open}",                    # 14
                         "      - {from: open, to: won, roles: [Salse]}")     # 15
    assert [p.split(": ", 2)[0:2] for p in problems] == [
        ["meta/entities/deal.yaml:12", "CRM-E044 pipeline 'sales'"],
        ["meta/entities/deal.yaml:14", "CRM-E044 pipeline 'sales'"],
        ["meta/entities/deal.yaml:15", "CRM-E044 pipeline 'sales'"]]
    assert "transition won → open is not a move stage 'won' allows" in problems[0]
    assert "listed twice" in problems[1]
    assert "names unknown role 'Salse'" in problems[2]
