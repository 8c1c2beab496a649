"""The notify action and the notifications store: who is told, in zh and en; the bell's
count in one statement; the page and API show each user only their own (denial tested);
the located problems a bad notify gives (CRM-E068..E072)."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from app.automations.process import drain
from app.metadata.loader import load_metadata
from tests.conftest import count_queries, csrf_token, login, write_tree
from tests.jobs_support import start_worker, test_redis_url, worker_config
from tests.test_automations import log_rows

DEAL = """
label: {en: Deal, zh: 商机}
fields:
  name: {type: string, required: true, label: {en: Name, zh: 名称}}
  amount: {type: money}
  helper: {type: user}
pipelines:
  - name: sales
    field: stage
    stages: [{name: new}, {name: won}, {name: lost}]
"""
TASK = """
label: {en: Task, zh: 任务}
fields:
  subject: {type: string, required: true}
  due: {type: datetime}
  done: {type: boolean}
  assignee: {type: user}
"""
ROLES = """
Sales Rep:
  label: {en: Sales Rep, zh: 销售代表}
  entities:
    deal: {read: own, create: yes, update: own}
    task: {read: all, create: yes, update: own}
Sales Manager:
  label: {en: Sales Manager, zh: 销售经理}
  entities:
    deal: {read: all}
    task: {read: all}
"""
RULES = """
reminders:
  - {entity: task, due: due, assignee: assignee, done: done, minutes_before: 15, email: true}
rules:
  - name: won_notify
    label: {en: Won → tell people, zh: 赢单 → 通知}
    entity: deal
    trigger: stage_changed
    to: won
    do:
      - notify:
          fields: [owner, helper]
          users: [boss]
          roles: [Sales Manager]
          message: {en: "Deal {{ name }} won: {{ amount }}", zh: "商机 {{ name }} 已赢单：{{ amount }}"}
"""
PASSWORD = "pw-1234567"


def world(make_app: Any, tmp_path: Path, rules: str = RULES, crm: str | None = None, **settings: Any) -> Any:
    root = write_tree(tmp_path / "meta", {"deal": DEAL, "task": TASK}, crm)
    (root / "roles.yaml").write_text(textwrap.dedent(ROLES), encoding="utf-8")
    (root / "automations.yaml").write_text(textwrap.dedent(rules), encoding="utf-8")
    settings.setdefault("CRM_OUTBOX_DISPATCH", "off")
    app = make_app(root, **settings)
    with app.app_context():
        sm = app.extensions["crm"].appbuilder.sm
        for name, role in (("li", "Sales Rep"), ("zhao", "Sales Rep"), ("wang", "Sales Manager"),
                           ("boss", "Sales Manager"), ("qian", "Sales Rep")):
            sm.add_user(name, name, "测试", f"{name}@example.com", sm.find_role(role), PASSWORD)
    return app


def as_user(app: Any, name: str) -> Any:
    return login(app.test_client(), name, PASSWORD)


def user_id(app: Any, name: str) -> int:
    with app.app_context():
        sm = app.extensions["crm"].appbuilder.sm
        return int(sm.find_user(username=name).id)


def won_deal(app: Any, rep: Any, name: str = "比亚迪", **values: Any) -> int:
    pk = rep.post("/api/v1/deal/", json={"name": name, "amount": 8800, **values}).json["id"]
    assert rep.post(f"/api/v1/deal/{pk}/move", json={"stage": "won"}).status_code == 200
    drain(app)
    return pk


def test_notify_tells_the_owner_a_user_field_fixed_users_and_a_role_in_each_language(make_app, tmp_path):
    app = world(make_app, tmp_path)
    li = as_user(app, "li")
    pk = won_deal(app, li, helper=user_id(app, "zhao"))
    fired = [r for r in log_rows(app, rule="won_notify") if r.action == "rule"]
    assert fired[0].state == "fired" and fired[0].reason == "notified li, zhao, wang, boss"
    for name in ("li", "zhao", "wang", "boss"):
        got = as_user(app, name).get("/api/v1/notifications/").json
        assert got["unread"] == 1, name
        assert got["result"][0]["message"] == "Deal 比亚迪 won: CN¥8,800.00"
        assert got["result"][0]["url"] == f"/crm/deal/show/{pk}"
    qian = as_user(app, "qian")  # a Sales Rep not on the deal: told nothing
    assert qian.get("/api/v1/notifications/").json == {"unread": 0, "result": []}
    zh = as_user(app, "zhao")
    zh.post("/lang/zh", data={"csrf_token": csrf_token(zh.get("/crm/notifications/").text)})
    assert zh.get("/api/v1/notifications/").json["result"][0]["message"] == "商机 比亚迪 已赢单：¥8,800.00"


def test_an_rq_worker_runs_the_notify_rule_once(make_app, tmp_path):
    """With REDIS_URL the commit queues the outbox job; a real worker process notifies, once."""
    app = world(make_app, tmp_path, CRM_OUTBOX_DISPATCH="auto", REDIS_URL=test_redis_url())
    li = as_user(app, "li")
    pk = li.post("/api/v1/deal/", json={"name": "队列通知", "amount": 100}).json["id"]
    assert li.post(f"/api/v1/deal/{pk}/move", json={"stage": "won"}).status_code == 200
    worker = start_worker(worker_config(tmp_path, app), burst=True)
    output, _ = worker.communicate(timeout=120)
    assert worker.returncode == 0, output.decode(errors="replace")
    assert [n["message"] for n in li.get("/api/v1/notifications/").json["result"]] == ["Deal 队列通知 won: CN¥100.00"]
    drain(app)  # nothing left: delivered once
    assert li.get("/api/v1/notifications/").json["unread"] == 1


def test_a_user_sees_and_marks_only_their_own_notifications(make_app, tmp_path):
    app = world(make_app, tmp_path)
    won_deal(app, as_user(app, "li"))
    li, qian = as_user(app, "li"), as_user(app, "qian")
    mine = li.get("/api/v1/notifications/").json["result"][0]["id"]
    assert qian.post(f"/api/v1/notifications/{mine}/read").status_code == 404
    page = qian.get("/crm/notifications/")
    assert page.status_code == 200 and "比亚迪" not in page.text
    token = csrf_token(page.text)
    assert qian.post(f"/crm/notifications/{mine}/open", data={"csrf_token": token}).status_code == 404
    assert qian.post(f"/crm/notifications/{mine}/read", data={"csrf_token": token}).status_code == 404
    assert li.get("/api/v1/notifications/").json["unread"] == 1  # still unread: the other user changed nothing
    assert li.post(f"/api/v1/notifications/{mine}/read").json == {"unread": 0}
    assert li.get("/api/v1/notifications/?unread=1").json["result"] == []
    assert li.get("/api/v1/notifications/?unread=yes").status_code == 400
    assert app.test_client().get("/api/v1/notifications/").status_code == 401


def test_the_bell_counts_unread_in_one_statement_and_the_page_opens_the_record(make_app, tmp_path):
    app = world(make_app, tmp_path)
    li = as_user(app, "li")
    pks = [won_deal(app, li, name=f"商机{i}") for i in range(3)]
    page = li.get("/crm/notifications/")
    assert 'id="crm-bell-count">3<' in page.text

    def bell_statements() -> int:
        li.get("/crm/notifications/")  # the bell's count is kept until a notification is written or read
        with count_queries(app) as statements:
            assert li.get("/crm/notifications/").status_code == 200
        return sum(1 for s in statements if "crm_notification" in s)

    few = bell_statements()
    won_deal(app, li, name="商机3")
    won_deal(app, li, name="商机4")
    assert 'id="crm-bell-count">5<' in li.get("/crm/notifications/").text  # new ones counted at once
    assert bell_statements() == few == 1  # the page's list; the bell from memory, whatever the number
    first = li.get("/api/v1/notifications/").json["result"][-1]["id"]
    opened = li.post(f"/crm/notifications/{first}/open", data={"csrf_token": csrf_token(page.text)})
    assert opened.status_code == 302 and opened.headers["Location"].endswith(f"/crm/deal/show/{pks[0]}")
    assert 'id="crm-bell-count">4<' in li.get("/crm/notifications/").text
    li.post("/crm/notifications/read", data={"csrf_token": csrf_token(page.text)})
    assert "crm-bell-count" not in li.get("/crm/notifications/").text


def test_a_notify_for_an_unknown_login_fails_the_rule_and_tells_no_one(make_app, tmp_path):
    app = world(make_app, tmp_path, RULES.replace("users: [boss]", "users: [nobody]"))
    won_deal(app, as_user(app, "li"))
    failed = [r for r in log_rows(app, rule="won_notify") if r.action == "rule"][0]
    assert failed.state == "failed" and "no active user with login nobody" in failed.reason
    assert as_user(app, "li").get("/api/v1/notifications/").json["unread"] == 0


@pytest.mark.parametrize("notify, code, message", [
    ("{message: {en: hi, zh: 你好}}", "CRM-E068", "notify names no recipient"),
    ("{fields: [amount], message: {en: hi, zh: 你好}}", "CRM-E069", "field 'amount' is a money, not a user field"),
    ("{fields: [helpr], message: {en: hi, zh: 你好}}", "CRM-E069", "field 'helpr' is not a field of deal"),
    ("{roles: [Sales Boss], message: {en: hi, zh: 你好}}", "CRM-E070", "unknown role 'Sales Boss'"),
    ("{users: [''], message: {en: hi, zh: 你好}}", "CRM-E071", "notify users has '', not a login"),
    ("{users: [li], message: {en: hi}}", "CRM-E072", "notify message has no zh text"),
    ("{users: [li], message: {en: '{{ nme }}', zh: x}}", "CRM-E072", "notify message {{nme}}: unknown field"),
])
def test_a_bad_notify_is_a_located_problem(tmp_path, notify, code, message):
    root = write_tree(tmp_path / "meta", {"deal": DEAL, "task": TASK})
    (root / "roles.yaml").write_text(textwrap.dedent(ROLES), encoding="utf-8")
    rules = f"""
    rules:
      - name: r
        label: {{en: R, zh: 规则}}
        entity: deal
        trigger: created
        do:
          - notify: {notify}
    """
    (root / "automations.yaml").write_text(textwrap.dedent(rules), encoding="utf-8")
    _, problems = load_metadata(root)
    assert [(p.code, p.line) for p in problems] == [(code, 8)], problems
    assert message in problems[0].message


@pytest.mark.parametrize("entry, message", [
    ("{entity: tsk, due: due, assignee: assignee}", "unknown entity 'tsk'"),
    ("{entity: task, due: subject, assignee: assignee}", "due 'subject' is a string of task, not a datetime"),
    ("{entity: task, due: due, assignee: done}", "assignee 'done' is a boolean of task, not a user"),
    ("{entity: task, due: due, assignee: assignee, done: dun}", "done 'dun' is not a field of task"),
    ("{entity: task, due: due, assignee: assignee, minutes_before: -5}", "minutes_before must be 0 or more"),
])
def test_a_bad_reminder_is_a_located_problem(tmp_path, entry, message):
    root = write_tree(tmp_path / "meta", {"deal": DEAL, "task": TASK})
    (root / "automations.yaml").write_text(f"reminders:\n  - {entry}\n", encoding="utf-8")
    _, problems = load_metadata(root)
    assert [(p.code, p.line) for p in problems] == [("CRM-E073", 2)], problems
    assert message in problems[0].message
