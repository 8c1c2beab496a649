"""Task reminders (frozen clock, local SMTP sink, rq worker), My tasks and its home widget
(CRM time zone, own tasks only), the "which rules would fire" page and the time-rule dry run."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from app.automations.process import drain
from app.automations.tick import tick
from app.cli import crm
from app.models.events import utcnow
from app.web.my_tasks import bounds
from tests.conftest import count_queries, login
from tests.jobs_support import job_state, start_worker, test_redis_url, worker_config
from tests.receivers import smtp_sink
from tests.test_automation_notify import as_user, user_id, world
from tests.test_automations import log_rows

SHANGHAI = "name: Test CRM\nlanguages: [en, zh]\ntimezone: Asia/Shanghai\n"


def task(client: Any, subject: str, due: str | None, assignee: int, done: bool = False) -> int:
    """`due` is a UTC instant: sent with +00:00 (a time without an offset is the CRM's wall clock)."""
    due = f"{due}+00:00" if due else due
    got = client.post("/api/v1/task/", json={"subject": subject, "due": due, "assignee": assignee, "done": done})
    assert got.status_code == 201, got.json
    return int(got.json["id"])


def notices(app: Any, name: str) -> list[dict[str, Any]]:
    return as_user(app, name).get("/api/v1/notifications/").json["result"]


def test_a_task_is_reminded_once_in_the_app_and_by_mail_before_its_due_time(make_app, tmp_path):
    with smtp_sink() as (port, messages):
        app = world(make_app, tmp_path, crm=SHANGHAI, CRM_SMTP_HOST="127.0.0.1", CRM_SMTP_PORT=port)
        li = as_user(app, "li")
        pk = task(li, "回访比亚迪", "2026-12-04T10:00:00", user_id(app, "li"))
        task(li, "已完成的任务", "2026-12-04T10:00:00", user_id(app, "li"), done=True)
        task(li, "小赵的任务", "2026-12-04T11:00:00", user_id(app, "zhao"))
        assert tick(app, now=dt.datetime(2026, 12, 4, 9, 44)).get("reminded", 0) == 0
        assert tick(app, now=dt.datetime(2026, 12, 4, 9, 45))["reminded"] == 1  # 15 minutes before
        assert tick(app, now=dt.datetime(2026, 12, 4, 9, 50)).get("reminded", 0) == 0  # sent once
        got = notices(app, "li")
        assert [(n["kind"], n["message"], n["url"]) for n in got] == [
            ("reminder", "Reminder: Task “回访比亚迪” is due 2026-12-04 18:00", f"/crm/task/show/{pk}")]
        assert notices(app, "zhao") == []  # not yet: due 11:00
        assert len(messages) == 1
        _, recipients, message = messages[0]
        assert recipients == ["li@example.com"] and "回访比亚迪" in message["Subject"]
        assert "将于 2026-12-04 18:00 到期" in message.get_content()
        sent = log_rows(app, action="email")
        assert [(r.rule, r.state) for r in sent] == [("@remind:task", "done")]
        page = login(app.test_client()).get("/crm/automations/")  # the outbox page shows the e-mail
        assert "@remind:task" in page.text and "sent to li@example.com" in page.text
        shanghai = sent[0].created_on.replace(tzinfo=dt.UTC).astimezone(ZoneInfo("Asia/Shanghai"))
        assert f"<td>{shanghai:%Y-%m-%d %H:%M}</td>" in page.text  # the run log on the CRM's clock, not UTC
        assert tick(app, now=dt.datetime(2026, 12, 4, 10, 45))["reminded"] == 1
        assert [n["kind"] for n in notices(app, "zhao")] == ["reminder"]
        # moved to a later time: reminded again for the new moment
        li.put(f"/api/v1/task/{pk}", json={"due": "2026-12-05T10:00:00+00:00"})
        assert tick(app, now=dt.datetime(2026, 12, 5, 9, 45))["reminded"] == 1
        assert len(notices(app, "li")) == 2 and len(messages) == 3


def test_a_user_without_an_address_is_reminded_in_the_app_only(make_app, tmp_path):
    with smtp_sink() as (port, messages):
        app = world(make_app, tmp_path, crm=SHANGHAI, CRM_SMTP_HOST="127.0.0.1", CRM_SMTP_PORT=port)
        with app.app_context():
            users = app.extensions["crm"].models.user_model
            session = app.extensions["crm"].db.session
            session.execute(sa.update(users).where(users.username == "li").values(email=""))
            session.commit()
            session.remove()
        task(as_user(app, "li"), "没有邮箱", "2026-12-04T10:00:00", user_id(app, "li"))
        assert tick(app, now=dt.datetime(2026, 12, 4, 10, 0))["reminded"] == 1
        assert [n["kind"] for n in notices(app, "li")] == ["reminder"]
        assert messages == [] and log_rows(app, action="email") == []
        assert "in the app (no e-mail address)" in log_rows(app, action="reminder")[0].reason


def test_a_task_long_overdue_is_not_reminded_and_a_done_one_never(make_app, tmp_path):
    app = world(make_app, tmp_path, crm=SHANGHAI, CRM_REMINDER_CATCH_UP=60)
    li = as_user(app, "li")
    task(li, "很久以前", "2026-12-01T10:00:00", user_id(app, "li"))
    done = task(li, "做完了", "2026-12-04T10:00:00", user_id(app, "li"), done=True)
    assert tick(app, now=dt.datetime(2026, 12, 4, 10, 0)).get("reminded", 0) == 0
    li.put(f"/api/v1/task/{done}", json={"done": False})
    assert tick(app, now=dt.datetime(2026, 12, 4, 10, 0))["reminded"] == 1


def test_a_queued_tick_in_an_rq_worker_reminds_by_mail(make_app, tmp_path):
    with smtp_sink() as (port, messages):
        app = world(make_app, tmp_path, crm=SHANGHAI)
        app.config["REDIS_URL"] = test_redis_url()
        li = as_user(app, "li")
        soon = (utcnow() + dt.timedelta(minutes=5)).isoformat()
        task(li, "马上到期", soon, user_id(app, "li"))
        queued = app.test_cli_runner().invoke(crm, ["automations", "tick", "--queue"])
        job_id = int(queued.output.split()[-1])
        config = worker_config(tmp_path, app)
        with config.open("a", encoding="utf-8") as out:
            out.write(f"CRM_SMTP_HOST = '127.0.0.1'\nCRM_SMTP_PORT = {port}\n")
        worker = start_worker(config, burst=True)
        output, _ = worker.communicate(timeout=120)
        assert worker.returncode == 0, output.decode(errors="replace")
        assert job_state(app, job_id).state == "done"
        assert [n["kind"] for n in notices(app, "li")] == ["reminder"]
        assert len(messages) == 1 and messages[0][1] == ["li@example.com"]


def test_week_bounds_are_counted_in_the_crm_time_zone() -> None:
    # Friday 17:00 UTC is Saturday 01:00 in Shanghai: today ends Saturday 24:00 local, the week Sunday 24:00
    now, tomorrow, monday = bounds(dt.datetime(2026, 12, 4, 17, 0), "Asia/Shanghai")
    assert (tomorrow, monday) == (dt.datetime(2026, 12, 5, 16, 0), dt.datetime(2026, 12, 6, 16, 0))
    _, tomorrow, monday = bounds(dt.datetime(2026, 12, 4, 15, 0), "Asia/Shanghai")  # Friday 23:00 local
    assert (tomorrow, monday) == (dt.datetime(2026, 12, 4, 16, 0), dt.datetime(2026, 12, 6, 16, 0))
    _, tomorrow, monday = bounds(dt.datetime(2026, 12, 4, 15, 0), "UTC")
    assert (tomorrow, monday) == (dt.datetime(2026, 12, 5, 0, 0), dt.datetime(2026, 12, 7, 0, 0))


def _due(moment: dt.datetime) -> str:
    return moment.isoformat(timespec="seconds")


def test_my_tasks_groups_my_open_tasks_and_shows_no_one_elses(make_app, tmp_path):
    app = world(make_app, tmp_path, crm=SHANGHAI)
    li, me = as_user(app, "li"), user_id(app, "li")
    now, tomorrow, monday = bounds(utcnow(), "Asia/Shanghai")
    task(li, "逾期任务", _due(now - dt.timedelta(hours=3)), me)
    task(li, "今天任务", _due(now + (tomorrow - now) / 2), me)
    task(li, "下个月任务", _due(monday + dt.timedelta(days=20)), me)
    task(li, "没有日期", None, me)
    task(li, "完成的", _due(now - dt.timedelta(hours=1)), me, done=True)
    task(li, "别人的任务", _due(now - dt.timedelta(hours=3)), user_id(app, "zhao"))
    week = monday > tomorrow
    if week:  # not on a Sunday (local): then the week has no day left after today
        task(li, "本周任务", _due(tomorrow + (monday - tomorrow) / 2), me)
    page = li.get("/crm/my_tasks/").text
    groups = {g: page.split(f'data-group="{g}"')[1].split("task-group")[0] if f'data-group="{g}"' in page else ""
              for g in ("overdue", "today", "week", "later")}
    assert "逾期任务" in groups["overdue"] and "今天任务" in groups["today"]
    assert "下个月任务" in groups["later"] and "没有日期" in groups["later"]
    assert ("本周任务" in groups["week"]) is week
    assert "完成的" not in page and "别人的任务" not in page
    zhao = as_user(app, "zhao").get("/crm/my_tasks/").text
    assert "别人的任务" in zhao and "逾期任务" not in zhao
    home = li.get("/").text
    assert 'data-group="overdue"' in home and "crm-task-widget" in home

    def widget_statements(client: Any) -> int:
        with count_queries(app) as statements:
            assert client.get("/").status_code == 200
        return sum(1 for s in statements if "FROM task" in s)

    few = widget_statements(li)
    for i in range(5):
        task(li, f"更多任务{i}", _due(now - dt.timedelta(hours=i + 1)), me)
    assert widget_statements(li) == few == 1  # the counts: one statement whatever the number of tasks


def test_which_rules_would_fire_for_a_record_without_doing_it(make_app, tmp_path):
    app = world(make_app, tmp_path)
    li = as_user(app, "li")
    pk = li.post("/api/v1/deal/", json={"name": "宁德时代", "amount": 500}).json["id"]
    drain(app)
    admin = login(app.test_client())
    page = admin.get(f"/crm/automations/record/deal/{pk}?kind=last").text
    assert 'data-rule="won_notify" data-fires="no"' in page and "does not match trigger stage changed" in page
    li.post(f"/api/v1/deal/{pk}/move", json={"stage": "won"})
    page = admin.get(f"/crm/automations/record/deal/{pk}?kind=last").text
    assert 'data-rule="won_notify" data-fires="yes"' in page and "Deal 宁德时代 won: CN¥500.00" in page
    assert as_user(app, "li").get("/api/v1/notifications/").json["unread"] == 0  # nothing was done
    created = admin.get(f"/crm/automations/record/deal/{pk}?kind=created").text  # created in stage won: moves it
    assert 'data-rule="won_notify" data-fires="yes"' in created
    deleted = admin.get(f"/crm/automations/record/deal/{pk}?kind=deleted").text
    assert 'data-rule="won_notify" data-fires="no"' in deleted and "a deleted change" in deleted
    assert 'id="crm-rules-whatif"' in admin.get(f"/crm/deal/show/{pk}").text
    # a Sales Rep may not see the automations: neither the link nor the page
    assert 'id="crm-rules-whatif"' not in li.get(f"/crm/deal/show/{pk}").text
    denied = li.get(f"/crm/automations/record/deal/{pk}")
    assert denied.status_code in (302, 403) and "宁德时代" not in denied.text
    assert admin.get(f"/crm/automations/record/deal/{pk + 99}").status_code == 404
    assert admin.get(f"/crm/automations/record/deal/{pk}?kind=later").status_code == 400


TIME_RULE = """
rules:
  - name: overdue_ping
    label: {en: Overdue task → tell the assignee, zh: 任务逾期 → 通知执行人}
    entity: task
    trigger: date
    date: {field: due, offset_days: 1}
    if: "not done"
    do:
      - notify: {fields: [assignee], message: {en: "{{ subject }} is a day late", zh: "{{ subject }} 已逾期一天"}}
"""


def test_the_dry_run_of_a_time_rule_says_whether_it_is_due_and_what_it_would_do(make_app, tmp_path):
    app = world(make_app, tmp_path, TIME_RULE)
    li = as_user(app, "li")
    pk = task(li, "报价", "2026-12-04T10:00:00", user_id(app, "li"))
    runner = app.test_cli_runner()

    def dry(at: str) -> str:
        got = runner.invoke(crm, ["automations", "test", "overdue_ping", "task", str(pk), "--at", at])
        assert got.exit_code == 0, got.output
        return got.output

    early = dry("2026-12-05T09:59:00")
    assert "would not fire (not yet: due 2026-12-05 10:00 UTC (due +1 days))" in early
    due = dry("2026-12-05T10:00:00")
    assert "WOULD FIRE (due 2026-12-05 10:00 UTC and the condition holds)" in due
    assert '"to": ["li"]' in due and "报价 is a day late" in due
    assert notices(app, "li") == []  # the dry run wrote nothing
    assert tick(app, now=dt.datetime(2026, 12, 5, 10, 0))["fired"] == 1
    assert "fired already for the moment 2026-12-05 10:00 UTC" in dry("2026-12-05T10:01:00")
    li.put(f"/api/v1/task/{pk}", json={"done": True})
    li.put(f"/api/v1/task/{pk}", json={"due": "2026-12-06T10:00:00+00:00"})
    assert "but condition `not done` is False" in dry("2026-12-07T10:00:00")
    page = login(app.test_client()).get(f"/crm/automations/record/task/{pk}?kind=time").text
    assert 'data-rule="overdue_ping" data-fires="no"' in page


def _done(app: Any, pk: int) -> Any:
    with app.app_context():
        state = app.extensions["crm"]
        model = state.models.model("task")
        return state.db.session.scalar(sa.select(model.done).where(model.id == pk))


def test_a_task_is_marked_done_from_my_tasks_as_an_edit_by_the_user(make_app, tmp_path):
    """My tasks' Done button: an update of the done field through the record commands as the user
    (an event the automations see, actor the user); refused where an edit would be."""
    app = world(make_app, tmp_path, crm=SHANGHAI)
    li, zhao, wang = as_user(app, "li"), as_user(app, "zhao"), as_user(app, "wang")
    mine = task(li, "回访比亚迪 𩸽", None, user_id(app, "li"))
    for_zhao = task(li, "小赵的任务", None, user_id(app, "zhao"))  # owner li: zhao may read, not update
    for_wang = task(li, "王经理的任务", None, user_id(app, "wang"))  # managers may not update tasks
    page = li.get("/crm/my_tasks/").text
    assert f'action="/crm/my_tasks/task/{mine}/done"' in page
    done = li.post(f"/crm/my_tasks/task/{mine}/done", follow_redirects=True)
    assert done.status_code == 200 and "Marked done: 回访比亚迪 𩸽" in done.text
    assert _done(app, mine) is True and "回访比亚迪" not in li.get("/crm/my_tasks/").text
    with app.app_context():
        event = app.extensions["crm"].models.core["crm_event"]
        rows = app.extensions["crm"].db.session.execute(
            sa.select(event.c.kind, event.c.changes, event.c.actor_id).where(
                event.c.entity == "task", event.c.record_id == mine).order_by(event.c.id)).all()
    assert [r.kind for r in rows] == ["created", "updated"] and '"done"' in rows[-1].changes
    assert rows[-1].actor_id == user_id(app, "li")

    assert "/done" not in zhao.get("/crm/my_tasks/").text  # not his to change: no button
    refused = zhao.post(f"/crm/my_tasks/task/{for_zhao}/done", follow_redirects=True)
    assert refused.status_code == 200 and "alert-danger" in refused.text and "小赵的任务: " in refused.text, refused.text
    assert _done(app, for_zhao) is False  # the row's update scope (own) refused it
    assert "/done" not in wang.get("/crm/my_tasks/").text  # no update on tasks: no button
    wang.post(f"/crm/my_tasks/task/{for_wang}/done")
    assert _done(app, for_wang) is False
    assert li.post("/crm/my_tasks/deal/1/done").status_code == 404  # not a task entity
    assert li.post("/crm/my_tasks/task/99999/done").status_code == 404
    task(li, "另一个任务", None, user_id(app, "li"))
    li.post("/lang/zh")
    assert "<i class=\"fa fa-check\"></i> 完成</button>" in li.get("/crm/my_tasks/").text
