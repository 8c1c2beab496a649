"""The assign action: a login, round-robin over a role (turns kept in the database),
the least loaded user of a role; run as the automation through the reassign command."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from app.automations.process import drain
from app.metadata.loader import load_metadata
from tests.conftest import login, write_tree
from tests.test_automations import log_rows

LEAD = """
label: {en: Lead, zh: 线索}
fields:
  name: {type: string, required: true}
  status: {type: choice, choices: [open, closed]}
  source: {type: choice, choices: [web, fair]}
"""
ROLES = """
Sales Rep:
  label: {en: Sales Rep, zh: 销售代表}
  entities:
    lead: {read: own, create: yes, update: own}
"""
RULES = """
rules:
  - name: web_round_robin
    label: {en: Web lead → next rep, zh: 官网线索 → 轮流分配}
    entity: lead
    trigger: created
    if: "source = 'web'"
    do:
      - assign: {round_robin: {role: Sales Rep}}
  - name: fair_least_loaded
    label: {en: Fair lead → least loaded rep, zh: 展会线索 → 最空闲的销售}
    entity: lead
    trigger: created
    if: "source = 'fair'"
    do:
      - assign: {least_loaded: {role: Sales Rep, open: "status = 'open'"}}
  - name: closed_to_boss
    label: {en: Closed → 王芳, zh: 关闭 → 王芳}
    entity: lead
    trigger: field_changed
    field: status
    to: closed
    do:
      - assign: {user: wangfang}
"""


def world(make_app: Any, tmp_path: Path, rules: str = RULES) -> Any:
    root = write_tree(tmp_path / "meta", {"lead": LEAD})
    (root / "roles.yaml").write_text(textwrap.dedent(ROLES), encoding="utf-8")
    (root / "automations.yaml").write_text(textwrap.dedent(rules), encoding="utf-8")
    app = make_app(root, CRM_OUTBOX_DISPATCH="off")
    with app.app_context():
        sm = app.extensions["crm"].appbuilder.sm
        for name in ("li", "zhao", "wangfang"):
            sm.add_user(name, "销售", name, f"{name}@example.com", sm.find_role("Sales Rep"), "pw-1234567")
    return app


def owners(app: Any) -> dict[str, str]:
    with app.app_context():
        state = app.extensions["crm"]
        model, users = state.models.model("lead"), state.models.user_model
        found = {lead.name: state.db.session.get(users, lead.owner_id).username
                 for lead in state.db.session.query(model).order_by(model.id)}
        state.db.session.remove()
        return found


def test_round_robin_gives_web_leads_to_each_rep_in_turn_as_the_automation(make_app, tmp_path):
    app = world(make_app, tmp_path)
    client = login(app.test_client())
    ids = [client.post("/api/v1/lead/", json={"name": f"官网线索{i}", "source": "web"}).json["id"] for i in range(4)]
    drain(app)
    got = owners(app)
    assert [got[f"官网线索{i}"] for i in range(4)] == ["li", "zhao", "wangfang", "li"]
    history = client.get(f"/api/v1/lead/{ids[0]}/history").json["changes"]
    assert any(h["automation"] == "web_round_robin" and h["field"] == "owner" for h in history)
    # the turn lives in crm_counter: the next web lead goes on from it
    client.post("/api/v1/lead/", json={"name": "官网线索4", "source": "web"})
    drain(app)
    assert owners(app)["官网线索4"] == "zhao"


def test_least_loaded_counts_only_open_records(make_app, tmp_path):
    app = world(make_app, tmp_path)
    client = login(app.test_client())
    with app.app_context():
        state = app.extensions["crm"]
        users = {u.username: u.id for u in state.db.session.query(state.models.user_model)}
        model = state.models.model("lead")
        for name, who, status in [("甲", "li", "open"), ("乙", "li", "open"), ("丙", "zhao", "open"),
                                  ("丁", "wangfang", "closed"), ("戊", "wangfang", "closed")]:
            state.db.session.add(model(name=name, status=status, owner_id=users[who]))
        state.db.session.commit()
        state.db.session.remove()
    client.post("/api/v1/lead/", json={"name": "展会线索", "source": "fair", "status": "open"})
    drain(app)
    assert owners(app)["展会线索"] == "wangfang"  # two closed leads count for nothing


def test_assign_to_a_login_and_an_unknown_login_fails_the_rule_only(make_app, tmp_path):
    app = world(make_app, tmp_path, RULES.replace("user: wangfang", "user: nobody"))
    client = login(app.test_client())
    pk = client.post("/api/v1/lead/", json={"name": "客户", "status": "open"}).json["id"]
    client.put(f"/api/v1/lead/{pk}", json={"status": "closed"})
    drain(app)
    failed = log_rows(app, state="failed")
    assert [r.rule for r in failed] == ["closed_to_boss"] and "nobody" in failed[0].reason
    assert owners(app)["客户"] == "admin"  # the user's change stands; the rule's write rolled back


def test_assign_to_a_login_reassigns(make_app, tmp_path):
    app = world(make_app, tmp_path)
    client = login(app.test_client())
    pk = client.post("/api/v1/lead/", json={"name": "客户", "status": "open"}).json["id"]
    client.put(f"/api/v1/lead/{pk}", json={"status": "closed"})
    drain(app)
    assert owners(app)["客户"] == "wangfang"


@pytest.mark.parametrize("assign, message", [
    ("{round_robin: {role: Sales Reps}}", "unknown role 'Sales Reps'"),
    ("{least_loaded: {role: Sales Rep, open: name}}", "not a condition"),
    ("{user: li, round_robin: {role: Sales Rep}}", "exactly one of"),
    ("{round_robin: {}}", "names no role"),
])
def test_a_bad_assign_is_a_located_problem(tmp_path, assign, message):
    root = write_tree(tmp_path / "meta", {"lead": LEAD})
    (root / "roles.yaml").write_text(textwrap.dedent(ROLES), encoding="utf-8")
    (root / "automations.yaml").write_text(
        "rules:\n  - name: a\n    label: {en: A, zh: 甲}\n    entity: lead\n    trigger: created\n"
        f"    do:\n      - assign: {assign}\n", encoding="utf-8")
    _, problems = load_metadata(root)
    assert [(p.code, p.path.name) for p in problems] == [("CRM-E065", "automations.yaml")]
    assert message in problems[0].message and problems[0].line == 7
