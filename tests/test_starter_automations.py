"""The starter CRM's automations: a won deal gets an onboarding task for its owner, a new
web lead a call task; the dry run on the starter says the same without doing it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from app.automations.process import drain
from app.cli import crm
from app.demo.users import DEMO_PASSWORD, create_demo_users
from tests.conftest import login
from tests.receivers import smtp_sink


@pytest.fixture
def mailbox() -> Any:
    """The SMTP sink the starter's e-mail actions send to (with no server, a mail's delivery
    would be retried and the drain would wait for the retry: minutes)."""
    with smtp_sink() as (port, messages):
        yield port, messages


@pytest.fixture
def starter(make_app: Any, mailbox: Any) -> Any:
    app = make_app(CRM_OUTBOX_DISPATCH="off", CRM_SMTP_HOST="127.0.0.1", CRM_SMTP_PORT=mailbox[0])
    with app.app_context():
        state = app.extensions["crm"]
        create_demo_users(state.appbuilder, state.models)
        state.db.session.remove()
    return app


def activities(client: Any) -> list[dict[str, Any]]:
    return client.get("/api/v1/activity/?q=(columns:!(subject,kind,assignee,lead,opportunity,account))").json["result"]


def test_a_new_web_lead_gets_a_call_task_for_its_owner(starter: Any) -> None:
    rep = login(starter.test_client(), "sales_rep", DEMO_PASSWORD)
    web = rep.post("/api/v1/lead/", json={"name": "周杰", "company": "网易", "source": "官网"})  # normalised to web
    assert web.status_code == 201, web.json
    rep.post("/api/v1/lead/", json={"name": "吴磊", "company": "搜狐", "source": "referral"})
    drain(starter)
    made = activities(rep)
    assert [(a["subject"], a["kind"], a["lead"]["id"], a["assignee"]["title"]) for a in made] == [
        ("Call / 回电: 周杰", "call", web.json["id"], made[0]["assignee"]["title"])]
    with starter.app_context():
        rep_id = starter.extensions["crm"].appbuilder.sm.find_user(username="sales_rep").id
    assert made[0]["assignee"]["id"] == rep_id  # the lead's owner, who can see it (activity: own)


def test_a_won_deal_gets_an_onboarding_task_for_its_owner(starter: Any, mailbox: Any) -> None:
    admin = login(starter.test_client())
    account = admin.post("/api/v1/account/", json={"name": "宁德时代"}).json["id"]
    contact = admin.post("/api/v1/contact/", json={"name": "曾先生", "account": account}).json["id"]
    pk = admin.post("/api/v1/opportunity/", json={
        "name": "储能项目", "account": account, "contact": contact, "amount": "880000",
        "close_date": "2026-01-05"}).json["id"]
    for stage in ("needs_analysis", "proposal", "negotiation"):
        assert admin.post(f"/api/v1/opportunity/{pk}/move", json={"stage": stage}).status_code == 200
    drain(starter)
    assert activities(admin) == []  # not won yet
    won = admin.post(f"/api/v1/opportunity/{pk}/move", json={"stage": "won"})
    assert won.status_code == 200, won.json
    drain(starter)
    made = activities(admin)
    assert [(a["subject"], a["kind"], a["opportunity"]["id"], a["account"]["id"]) for a in made] == [
        ("Onboarding / 交付启动: 储能项目", "task", pk, account)]
    with starter.app_context():
        owner = starter.extensions["crm"].appbuilder.sm.find_user(username="admin")
    assert [(to, m["Subject"]) for _, to, m in mailbox[1]] == [([owner.email], "Won: 储能项目 - start onboarding")]
    runner = starter.test_cli_runner()
    dry = runner.invoke(crm, ["automations", "test", "won_deal_onboarding", "opportunity", str(pk)])
    assert dry.exit_code == 0 and "WOULD FIRE" in dry.output and "储能项目" in dry.output, dry.output
    other = runner.invoke(crm, ["automations", "test", "web_lead_call", "opportunity", str(pk)])
    assert "would not fire" in other.output and "watches lead" in other.output
    assert len(activities(admin)) == 1  # the dry runs did nothing


def test_only_admin_reads_the_automations_page(starter: Any) -> None:
    admin = login(starter.test_client())
    page = admin.get("/crm/automations/")
    assert page.status_code == 200 and "won_deal_onboarding" in page.data.decode()
    rep = login(starter.test_client(), "sales_rep", DEMO_PASSWORD)
    refused = rep.get("/crm/automations/")
    assert refused.status_code in (302, 403) and "won_deal_onboarding" not in refused.data.decode()


def test_an_import_runs_the_rules_for_each_row_it_creates(make_app: Any, tmp_path: Any) -> None:
    """Rows go through the record commands: each web lead imported gets its call task;
    a rejected row leaves no event behind (its change never committed)."""
    import io

    import sqlalchemy as sa

    from tests.jobs_support import wait_for, wait_job

    app = make_app(CRM_OUTBOX_DISPATCH="auto", CRM_FILES_DIR=str(tmp_path / "files"))
    client = login(app.test_client())
    data = ("姓名,公司,来源,邮箱\r\n张三,甲公司,官网,z@a.cn\r\n李四,乙公司,微信,l@b.cn\r\n"
            "王五,丙公司,官网,not-an-email\r\n赵六,丁公司,网站,zl@d.cn\r\n").encode()
    answer = client.post("/api/v1/imports/lead/upload", data={"file": (io.BytesIO(data), "leads.csv")},
                         content_type="multipart/form-data").get_json()
    job = client.post("/api/v1/imports/lead/run", json={"upload": answer["upload"]}).get_json()["job_id"]
    assert wait_job(app, job).state == "done"

    def delivered() -> bool:
        with app.app_context():
            core, session = app.extensions["crm"].models.core, app.extensions["crm"].db.session
            waiting = session.scalar(sa.select(sa.func.count()).select_from(core["crm_event"])
                                     .where(core["crm_event"].c.delivered_on.is_(None)))
            running = session.scalar(sa.select(sa.func.count()).select_from(core["crm_job"]).where(
                core["crm_job"].c.kind == "outbox", core["crm_job"].c.state.in_(("queued", "running"))))
            session.remove()
            return waiting == 0 and running == 0

    wait_for(delivered, what="the outbox to be delivered")
    assert sorted(a["subject"] for a in activities(client)) == ["Call / 回电: 张三", "Call / 回电: 赵六"]
    with app.app_context():
        table = app.extensions["crm"].models.core["crm_event"]
        rows = app.extensions["crm"].db.session.execute(
            sa.select(table.c.changes, table.c.kind, table.c.automation).where(table.c.entity == "lead")).all()
    names = [json.loads(changes)["name"][1] for changes, kind, _ in rows if kind == "created"]
    assert sorted(names) == ["张三", "李四", "赵六"]  # 王五 was rejected: no event
    # each imported lead is scored by the worker, as the automation lead_score
    scored = {json.loads(changes).get("score", [None, None])[1] for changes, _, rule in rows if rule == "lead_score"}
    assert scored == {45, 35}  # web 20 + company 15 + e-mail 10; WeChat 10 + 15 + 10
    leads = client.get("/api/v1/lead/?q=(columns:!(name,score,grade))").json["result"]
    assert sorted((r["name"], r["score"], r["grade"]) for r in leads) == [
        ("张三", 45, "C"), ("李四", 35, "C"), ("赵六", 45, "C")]


def test_new_web_leads_go_to_the_sales_reps_in_turn_and_the_call_task_follows(starter: Any) -> None:
    admin = login(starter.test_client())
    ids = [admin.post("/api/v1/lead/", json={"name": name, "source": "官网"}).json["id"]
           for name in ("郑一", "冯二", "陈三")]
    other = admin.post("/api/v1/lead/", json={"name": "褚四", "source": "referral"}).json["id"]
    drain(starter)
    with starter.app_context():
        state = starter.extensions["crm"]
        model, users = state.models.model("lead"), state.models.user_model
        owner = {pk: state.db.session.get(users, state.db.session.get(model, pk).owner_id).username
                 for pk in [*ids, other]}
        state.db.session.remove()
    assert [owner[pk] for pk in ids] == ["sales_rep", "sales_rep2", "sales_rep"]
    assert owner[other] == "admin"  # not a web lead: not reassigned
    calls = {a["lead"]["id"]: a["assignee"]["id"] for a in activities(admin) if a["kind"] == "call"}
    with starter.app_context():
        sm = starter.extensions["crm"].appbuilder.sm
        expected = {pk: sm.find_user(username=owner[pk]).id for pk in ids}
    assert calls == expected  # each call task is for the rep the lead went to
    rep2 = login(starter.test_client(), "sales_rep2", DEMO_PASSWORD)
    assert rep2.get(f"/api/v1/lead/{ids[1]}").status_code == 200  # the rep now owns and reads it
    assert rep2.get(f"/api/v1/lead/{ids[0]}").status_code == 404  # not the other rep's


def test_a_task_a_manager_assigns_to_a_rep_is_the_reps_to_read_and_do(starter: Any) -> None:
    """Sales Rep reads activities `own or own(assignee)`: a task someone else owns but assigned to
    the rep is on their list and My tasks, and they may tick it done; another rep's is not theirs."""
    manager = login(starter.test_client(), "sales_manager", DEMO_PASSWORD)
    with starter.app_context():
        sm = starter.extensions["crm"].appbuilder.sm
        rep_id, other_id = sm.find_user(username="sales_rep").id, sm.find_user(username="sales_rep2").id
    mine = manager.post("/api/v1/activity/", json={"subject": "拜访客户 𩸽", "kind": "task", "assignee": rep_id,
                                                   "due": "2026-12-01T09:00:00"})
    theirs = manager.post("/api/v1/activity/", json={"subject": "别人的任务", "kind": "task", "assignee": other_id})
    assert mine.status_code == theirs.status_code == 201, (mine.json, theirs.json)
    rep = login(starter.test_client(), "sales_rep", DEMO_PASSWORD)
    assert [a["subject"] for a in activities(rep)] == ["拜访客户 𩸽"]
    assert "拜访客户 𩸽" in rep.get("/crm/my_tasks/").text
    assert rep.get(f"/api/v1/activity/{theirs.json['id']}").status_code == 404
    done = rep.put(f"/api/v1/activity/{mine.json['id']}", json={"done": True})
    assert done.status_code == 200, done.json
    assert rep.put(f"/api/v1/activity/{theirs.json['id']}", json={"done": True}).status_code in (403, 404)
    assert rep.delete(f"/api/v1/activity/{mine.json['id']}").status_code in (403, 404)  # delete stays `own`
