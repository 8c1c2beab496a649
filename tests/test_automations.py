"""Automations end to end: each trigger and action kind, the loop guard, failures that never
block the write, retries, e-mail to a local SMTP sink and webhooks to a local receiver.

The outbox is driven by `drain` (CRM_OUTBOX_DISPATCH=off) so each test decides when rules
run; test_the_default_dispatch_runs_rules_after_the_commit covers the automatic path.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import textwrap
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from app.automations.process import drain
from app.cli import crm
from app.models.events import utcnow
from tests.conftest import login, write_tree
from tests.jobs_support import job_state, start_worker, test_redis_url, wait_for, wait_job, worker_config
from tests.receivers import closed_port, smtp_sink, webhook_receiver

DEAL = """
label: {en: Deal, zh: 商机}
fields:
  name: {type: string, required: true, label: {en: Name, zh: 名称}}
  amount: {type: money, label: {en: Amount, zh: 金额}}
  priority: {type: choice, choices: [low, high]}
  touches: {type: integer}
  contact_email: {type: email}
pipelines:
  - name: sales
    field: stage
    stages: [{name: new}, {name: won, label: {en: Won, zh: 成交}}, {name: lost}]
"""
TASK = """
label: {en: Task, zh: 任务}
fields:
  subject: {type: string, required: true}
  due: {type: date}
  assignee: {type: user}
  deal: {type: link, to: deal, on_delete: set_null}
"""


def world(make_app: Any, tmp_path: Path, rules: str, **settings: Any) -> Any:
    root = write_tree(tmp_path / "meta", {"deal": DEAL, "task": TASK})
    (root / "automations.yaml").write_text(textwrap.dedent(rules), encoding="utf-8")
    settings.setdefault("CRM_OUTBOX_DISPATCH", "off")
    return make_app(root, **settings)


def log_rows(app: Any, **where: Any) -> list[Any]:
    with app.app_context():
        table = app.extensions["crm"].models.core["crm_delivery"]
        query = sa.select(table).order_by(table.c.id)
        for key, value in where.items():
            query = query.where(table.c[key] == value)
        rows = app.extensions["crm"].db.session.execute(query).all()
        app.extensions["crm"].db.session.remove()
        return rows


def tasks(client: Any) -> list[dict[str, Any]]:
    return client.get("/api/v1/task/?q=(columns:!(subject,due,assignee,deal))").json["result"]


CREATE_TASK = """
rules:
  - name: follow_up
    label: {en: Big new deal → task, zh: 大额新商机 → 跟进任务}
    entity: deal
    trigger: created
    if: "amount > 1000"
    do:
      - create: task
        values: {subject: "concat('跟进 ', name)", due: "add_days(today(), 2)", assignee: owner, deal: id}
"""


def test_created_rule_creates_a_task_as_the_automation_when_its_condition_holds(make_app, tmp_path):
    app = world(make_app, tmp_path, CREATE_TASK)
    client = login(app.test_client())
    big = client.post("/api/v1/deal/", json={"name": "华为云", "amount": 5000}).json["id"]
    client.post("/api/v1/deal/", json={"name": "小单", "amount": 10})
    assert tasks(client) == []  # nothing before the outbox is delivered
    drain(app)
    made = tasks(client)
    assert [(t["subject"], t["deal"]["id"], t["assignee"]["id"]) for t in made] == [("跟进 华为云", big, 1)]
    assert [(r.rule, r.state) for r in log_rows(app, action="rule")] == [("follow_up", "fired"), ("follow_up", "skipped")]
    skipped = log_rows(app, state="skipped")[0]
    assert "amount > 1000" in skipped.reason
    history = client.get(f"/api/v1/task/{made[0]['id']}/history").json["changes"]
    assert {h["automation"] for h in history} == {"follow_up"} and history[0]["by"] == "⚙ follow_up"


FIELD_AND_UPDATE = """
rules:
  - name: high_priority
    label: {en: High priority → count a touch, zh: 高优先级 → 记一次跟进}
    entity: deal
    trigger: field_changed
    field: priority
    to: high
    do:
      - set: {touches: "coalesce(touches, 0) + 1"}
  - name: renamed
    label: {en: Renamed → low priority, zh: 改名 → 低优先级}
    entity: deal
    trigger: updated
    if: "old.name != new.name"
    do:
      - set: {priority: "'low'"}
"""


def test_field_changed_and_updated_rules_read_old_and_new(make_app, tmp_path):
    app = world(make_app, tmp_path, FIELD_AND_UPDATE)
    client = login(app.test_client())
    pk = client.post("/api/v1/deal/", json={"name": "联想", "priority": "low"}).json["id"]
    client.put(f"/api/v1/deal/{pk}", json={"priority": "high"})
    drain(app)
    deal = client.get(f"/api/v1/deal/{pk}").json["result"]
    assert deal["touches"] == 1 and deal["priority"] == "high"  # `renamed` skipped: the name did not change
    client.put(f"/api/v1/deal/{pk}", json={"name": "联想集团"})
    drain(app)
    deal = client.get(f"/api/v1/deal/{pk}").json["result"]
    assert deal["priority"] == "low" and deal["touches"] == 1  # to low: not a change to high
    fired = [(r.rule, r.state) for r in log_rows(app, action="rule") if r.state == "fired"]
    assert fired == [("high_priority", "fired"), ("renamed", "fired")]


def mail_rules(url: str) -> str:
    return f"""
rules:
  - name: won_news
    label: {{en: Won → e-mail and webhook, zh: 赢单 → 邮件和回调}}
    entity: deal
    trigger: stage_changed
    from: new
    to: won
    if: "old.stage = 'new' and new.stage = 'won'"
    do:
      - email:
          to: contact_email
          subject: {{en: "Won {{{{ name }}}}", zh: "赢单：{{{{ name }}}}"}}
          body: {{en: "Amount {{{{ amount }}}}, {{{{ stage }}}}", zh: "金额 {{{{ amount }}}}，阶段 {{{{ new.stage }}}}，{{{{ amount * 2 }}}}"}}
          lang: zh
      - webhook:
          url: {url}
          body: {{name: name, amount: amount, stage: new.stage}}
  - name: gone
    label: {{en: Deleted → webhook, zh: 删除 → 回调}}
    entity: deal
    trigger: deleted
    do:
      - webhook: {{url: {url}, body: {{name: name}}}}
"""


def test_stage_change_sends_mail_and_a_signed_webhook_and_delete_calls_its_webhook(make_app, tmp_path):
    with smtp_sink() as (smtp_port, messages), webhook_receiver() as receiver:
        app = world(make_app, tmp_path, mail_rules(receiver.url), CRM_SMTP_HOST="127.0.0.1",
                    CRM_SMTP_PORT=smtp_port, CRM_WEBHOOK_SECRET="s3cret")
        client = login(app.test_client())
        pk = client.post("/api/v1/deal/", json={"name": "比亚迪", "amount": 8800, "contact_email": "li@byd.cn"}).json["id"]
        assert client.post(f"/api/v1/deal/{pk}/move", json={"stage": "won"}).status_code == 200
        drain(app)
        assert len(messages) == 1
        sender, recipients, message = messages[0]
        assert recipients == ["li@byd.cn"] and message["Subject"] == "赢单：比亚迪"
        # a field shows as on its record page, in the mail's language; an expression as computed
        assert "金额 ¥8,800.00，阶段 成交，17600.00" in message.get_content()
        call = receiver.calls[0]
        expected = "sha256=" + hmac.new(b"s3cret", call["raw"], hashlib.sha256).hexdigest()
        assert call["headers"]["x-crm-signature"] == expected
        assert call["json"]["data"] == {"name": "比亚迪", "amount": "8800.00", "stage": "won"}
        assert call["json"]["rule"] == "won_news" and call["json"]["record_id"] == pk
        assert client.delete(f"/api/v1/deal/{pk}").status_code == 200
        drain(app)
        assert receiver.calls[-1]["json"]["data"] == {"name": "比亚迪"} and receiver.calls[-1]["json"]["kind"] == "deleted"
        assert [r.state for r in log_rows(app, action="webhook")] == ["done", "done"]
        assert [r.state for r in log_rows(app, action="email")] == ["done"]


def test_a_webhook_receiver_that_is_down_never_undoes_the_change_and_fails_after_retries(make_app, tmp_path):
    url = f"http://127.0.0.1:{closed_port()}/hook"
    app = world(make_app, tmp_path, mail_rules(url), CRM_DELIVERY_ATTEMPTS=3, CRM_DELIVERY_BACKOFF=0)
    client = login(app.test_client())
    pk = client.post("/api/v1/deal/", json={"name": "小米", "contact_email": "a@mi.cn"}).json["id"]
    assert client.post(f"/api/v1/deal/{pk}/move", json={"stage": "won"}).status_code == 200
    totals = drain(app)
    assert client.get(f"/api/v1/deal/{pk}").json["result"]["stage"] == "won"  # the change stays
    hook = log_rows(app, action="webhook")[0]
    assert hook.state == "failed" and hook.attempts == 3 and "attempt 3/3" in hook.reason
    assert "refused" in hook.reason.lower() or "errno" in hook.reason.lower()
    mail = log_rows(app, action="email")[0]  # no SMTP server configured: failed with that reason
    assert mail.state == "failed" and "CRM_SMTP_HOST" in mail.reason
    assert totals["retrying"] == 4 and totals["failed"] == 2
    page = client.get("/crm/automations/").data.decode()  # the run log, for Admin
    assert 'data-state="failed"' in page and "attempt 3/3" in page and "CRM_SMTP_HOST" in page
    assert f'/crm/deal/show/{pk}">' in page and f"#{pk}</a>" in page and "won_news" in page  # the record, linked


def test_a_failed_delivery_is_retried_until_the_receiver_answers(make_app, tmp_path):
    with webhook_receiver() as receiver:
        receiver.status = 503
        app = world(make_app, tmp_path, mail_rules(receiver.url), CRM_DELIVERY_BACKOFF=3600)
        client = login(app.test_client())
        pk = client.post("/api/v1/deal/", json={"name": "格力"}).json["id"]
        client.post(f"/api/v1/deal/{pk}/move", json={"stage": "won"})
        drain(app, max_wait=0)
        hook = log_rows(app, action="webhook")[0]
        assert hook.state == "pending" and "HTTP 503" in hook.reason and hook.next_try_on is not None
        receiver.status = 200
        with app.app_context():  # the backoff has passed
            table = app.extensions["crm"].models.core["crm_delivery"]
            session = app.extensions["crm"].db.session
            session.execute(sa.update(table).values(next_try_on=utcnow() - dt.timedelta(seconds=1)))
            session.commit()
            session.remove()
        drain(app, max_wait=0)
        hook = log_rows(app, action="webhook")[0]
        assert hook.state == "done" and hook.attempts == 2 and len(receiver.calls) == 2
        assert receiver.calls[0]["headers"]["x-crm-delivery"] == receiver.calls[1]["headers"]["x-crm-delivery"]


LOOP = """
rules:
  - name: bump
    label: {en: Touch → touch again, zh: 跟进 → 再跟进}
    entity: deal
    trigger: field_changed
    field: touches
    do:
      - set: {touches: "touches + 1"}
"""


def test_the_loop_guard_stops_a_rule_that_triggers_itself(make_app, tmp_path):
    app = world(make_app, tmp_path, LOOP, CRM_AUTOMATION_MAX_DEPTH=3)
    client = login(app.test_client())
    pk = client.post("/api/v1/deal/", json={"name": "循环", "touches": 1}).json["id"]
    drain(app)
    assert client.get(f"/api/v1/deal/{pk}").json["result"]["touches"] == 4  # the user's 1, then 3 automations
    guarded = log_rows(app, state="skipped")
    assert len(guarded) == 1 and "loop guard" in guarded[0].reason and "limit 3" in guarded[0].reason


BROKEN_AND_GOOD = """
rules:
  - name: broken
    label: {en: Task without a subject, zh: 无主题任务}
    entity: deal
    trigger: created
    do:
      - create: task
        values: {subject: "if(amount > 0, name, null)", deal: id}
  - name: good
    label: {en: Task, zh: 任务}
    entity: deal
    trigger: created
    do:
      - create: task
        values: {subject: "concat('好 ', name)", deal: id}
"""


def test_a_rule_that_fails_is_logged_and_blocks_neither_the_write_nor_other_rules(make_app, tmp_path):
    app = world(make_app, tmp_path, BROKEN_AND_GOOD)
    client = login(app.test_client())
    created = client.post("/api/v1/deal/", json={"name": "无金额"})
    assert created.status_code == 201
    drain(app)
    assert [t["subject"] for t in tasks(client)] == ["好 无金额"]
    failed = log_rows(app, rule="broken")[0]
    assert failed.state == "failed" and "subject" in failed.reason
    assert log_rows(app, rule="good")[0].state == "fired"


def test_the_default_dispatch_runs_rules_after_the_commit(make_app, tmp_path):
    app = world(make_app, tmp_path, CREATE_TASK, CRM_OUTBOX_DISPATCH="auto")  # no REDIS_URL: a thread
    client = login(app.test_client())
    client.post("/api/v1/deal/", json={"name": "自动", "amount": 2000})
    jobs = outbox_jobs(app)
    assert len(jobs) == 1  # queued by the commit
    wait_job(app, jobs[0])
    assert [t["subject"] for t in tasks(client)] == ["跟进 自动"]
    wait_for(lambda: all(job_state(app, j).state == "done" for j in outbox_jobs(app)), what="outbox jobs")
    assert [(r.rule, r.state) for r in log_rows(app, action="rule")] == [("follow_up", "fired")]


def outbox_jobs(app: Any) -> list[int]:
    with app.app_context():
        table = app.extensions["crm"].models.core["crm_job"]
        with app.extensions["crm"].db.engine.connect() as conn:
            return list(conn.scalars(sa.select(table.c.id).where(table.c.kind == "outbox").order_by(table.c.id)))


def test_an_rq_worker_delivers_the_outbox_once(make_app, tmp_path):
    """With REDIS_URL the commit queues an rq job; a real worker process runs the rules, once."""
    app = world(make_app, tmp_path, CREATE_TASK, CRM_OUTBOX_DISPATCH="auto", REDIS_URL=test_redis_url())
    client = login(app.test_client())
    client.post("/api/v1/deal/", json={"name": "队列", "amount": 2000})
    client.post("/api/v1/deal/", json={"name": "队列二", "amount": 3000})
    assert len(outbox_jobs(app)) == 1  # one queued job is enough for both changes
    worker = start_worker(worker_config(tmp_path, app), burst=True)
    output, _ = worker.communicate(timeout=120)
    assert worker.returncode == 0, output.decode(errors="replace")
    assert sorted(t["subject"] for t in tasks(client)) == ["跟进 队列", "跟进 队列二"]
    drain(app)  # nothing left: delivered once
    assert len(tasks(client)) == 2


def test_dry_run_says_whether_a_rule_would_fire_and_what_it_would_do(make_app, tmp_path):
    app = world(make_app, tmp_path, CREATE_TASK)
    client = login(app.test_client())
    big = client.post("/api/v1/deal/", json={"name": "试运行", "amount": 3000}).json["id"]
    small = client.post("/api/v1/deal/", json={"name": "小", "amount": 1}).json["id"]
    runner = app.test_cli_runner()
    fires = runner.invoke(crm, ["automations", "test", "follow_up", "deal", str(big)])
    assert fires.exit_code == 0, fires.output
    assert "WOULD FIRE" in fires.output and "跟进 试运行" in fires.output
    skips = runner.invoke(crm, ["automations", "test", "follow_up", "deal", str(small)])
    assert "would not fire" in skips.output and "amount > 1000" in skips.output
    unknown = runner.invoke(crm, ["automations", "test", "nope", "deal", str(big)])
    assert unknown.exit_code != 0 and "follow_up" in unknown.output
    assert tasks(client) == []  # nothing was done


def test_an_event_a_dead_worker_claimed_is_taken_again_after_the_timeout_and_delivered_once(make_app, tmp_path):
    app = world(make_app, tmp_path, CREATE_TASK, CRM_OUTBOX_CLAIM_TIMEOUT=300)
    client = login(app.test_client())
    client.post("/api/v1/deal/", json={"name": "崩溃", "amount": 5000})
    with app.app_context():  # a worker claimed it, then died before delivering
        table = app.extensions["crm"].models.core["crm_event"]
        session = app.extensions["crm"].db.session
        session.execute(sa.update(table).values(claimed_on=utcnow()))
        session.commit()
        session.remove()
    assert drain(app)["events"] == 0 and tasks(client) == []  # claimed a moment ago: another worker's
    with app.app_context():
        session = app.extensions["crm"].db.session
        session.execute(sa.update(table).values(claimed_on=utcnow() - dt.timedelta(seconds=301)))
        session.commit()
        session.remove()
    assert drain(app)["events"] == 2  # the deal's event, then the task the rule made
    assert drain(app)["events"] == 0
    assert [t["subject"] for t in tasks(client)] == ["跟进 崩溃"]


def test_a_queued_outbox_job_left_by_an_ended_process_does_not_block_delivery(make_app, tmp_path):
    app = world(make_app, tmp_path, CREATE_TASK, CRM_OUTBOX_DISPATCH="auto")
    with app.app_context():  # `crm demo` queued a job, then its process ended before running it
        table = app.extensions["crm"].models.core["crm_job"]
        with app.extensions["crm"].db.engine.begin() as conn:
            conn.execute(sa.insert(table).values(kind="outbox", state="queued", payload="{}", done=0,
                                                 cancel_requested=False, attempts=0,
                                                 created_on=utcnow() - dt.timedelta(minutes=5)))
    client = login(app.test_client())
    client.post("/api/v1/deal/", json={"name": "不被挡住", "amount": 2000})
    fresh = outbox_jobs(app)[-1]
    assert len(outbox_jobs(app)) == 2
    wait_job(app, fresh)
    assert [t["subject"] for t in tasks(client)] == ["跟进 不被挡住"]
