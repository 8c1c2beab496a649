"""Time-triggered rules run by `tick` with a frozen clock (`now` passed in): schedule (cron),
date-relative and inactivity triggers; each fires once per record per due moment."""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path
from typing import Any

import pytest

from app.automations.cron import CronError, parse_cron
from app.automations.tick import Ticker, tick
from app.cli import crm
from app.metadata.loader import load_metadata
from tests.conftest import login, write_tree
from tests.jobs_support import job_state, start_worker, test_redis_url, worker_config
from tests.test_automations import log_rows

LEAD = """
label: {en: Lead, zh: 线索}
fields:
  name: {type: string, required: true}
  close_date: {type: date}
  pool: {type: boolean}
  reminders: {type: integer}
  touched: {type: datetime}
"""
RULES = """
rules:
  - name: weekday_morning
    label: {en: Weekday 9:00 → count, zh: 工作日九点 → 计数}
    entity: lead
    trigger: schedule
    schedule: {cron: "0 9 * * 1-5"}
    if: "not pool"
    do:
      - set: {reminders: "coalesce(reminders, 0) + 1"}
  - name: month_before_close
    label: {en: 30 days before close → e-mail-free reminder, zh: 成交前30天 → 提醒}
    entity: lead
    trigger: date
    date: {field: close_date, offset_days: -30}
    do:
      - set: {reminders: "coalesce(reminders, 0) + 100"}
  - name: back_to_pool
    label: {en: Untouched 7 days → pool, zh: 7天未跟进 → 回公海}
    entity: lead
    trigger: inactive
    inactive: {days: 7, field: touched}
    if: "not pool"
    do:
      - set: {pool: "true"}
"""


def world(make_app: Any, tmp_path: Path, rules: str = RULES) -> Any:
    root = write_tree(tmp_path / "meta", {"lead": LEAD}, "name: Test CRM\nlanguages: [en, zh]\ntimezone: UTC\n")
    (root / "automations.yaml").write_text(textwrap.dedent(rules), encoding="utf-8")
    return make_app(root, CRM_OUTBOX_DISPATCH="off")


def lead(client: Any, pk: int) -> dict[str, Any]:
    return client.get(f"/api/v1/lead/{pk}").json["result"]


def test_cron_parses_the_five_fields_and_refuses_bad_ones() -> None:
    cron = parse_cron("0 9 * * 1-5")
    assert cron.last_due(dt.datetime(2026, 12, 4, 9, 30)) == dt.datetime(2026, 12, 4, 9, 0)  # a Friday
    assert cron.last_due(dt.datetime(2026, 12, 6, 12, 0)) is None  # Sunday: Friday 9:00 is over a day ago
    assert parse_cron("*/15 * * * *").last_due(dt.datetime(2026, 1, 1, 10, 44)) == dt.datetime(2026, 1, 1, 10, 30)
    assert parse_cron("0 0 1 * 0").matches(dt.datetime(2026, 12, 6))  # a Sunday, not the 1st: either day matches
    for bad in ("0 9 * *", "61 * * * *", "a * * * *", "0 9 * * 1-8", "*/0 * * * *"):
        with pytest.raises(CronError):
            parse_cron(bad)


def test_schedule_fires_once_per_record_per_due_minute(make_app, tmp_path):
    app = world(make_app, tmp_path)
    client = login(app.test_client())
    pk = client.post("/api/v1/lead/", json={"name": "张三", "pool": False}).json["id"]
    pooled = client.post("/api/v1/lead/", json={"name": "公海", "pool": True}).json["id"]
    friday = dt.datetime(2026, 12, 4, 8, 59)
    assert tick(app, now=friday)["fired"] == 0  # Thursday 9:00 is past the hour a late tick catches up
    assert tick(app, now=friday.replace(hour=9, minute=0))["fired"] == 1
    assert tick(app, now=friday.replace(hour=9, minute=5))["fired"] == 0  # the same due moment
    assert lead(client, pk)["reminders"] == 1 and lead(client, pooled)["reminders"] is None
    tick(app, now=dt.datetime(2026, 12, 7, 9, 1))  # Monday
    assert lead(client, pk)["reminders"] == 2
    history = client.get(f"/api/v1/lead/{pk}/history").json["changes"]
    assert {h["automation"] for h in history if h["field"] == "reminders"} == {"weekday_morning"}


def test_date_trigger_fires_once_when_the_day_comes_and_again_for_a_new_date(make_app, tmp_path):
    app = world(make_app, tmp_path, RULES)
    client = login(app.test_client())
    pk = client.post("/api/v1/lead/", json={"name": "李四", "pool": True, "close_date": "2027-01-31"}).json["id"]
    assert tick(app, now=dt.datetime(2026, 12, 31, 23, 59))["fired"] == 0
    assert tick(app, now=dt.datetime(2027, 1, 1, 0, 0))["fired"] == 1
    assert tick(app, now=dt.datetime(2027, 1, 2, 0, 0))["fired"] == 0
    assert lead(client, pk)["reminders"] == 100
    client.put(f"/api/v1/lead/{pk}", json={"close_date": "2027-02-28"})
    assert tick(app, now=dt.datetime(2027, 1, 30, 0, 0))["fired"] == 1
    assert lead(client, pk)["reminders"] == 200


def test_inactive_leads_go_back_to_the_pool_after_seven_days(make_app, tmp_path):
    app = world(make_app, tmp_path, RULES)
    client = login(app.test_client())
    stale = client.post("/api/v1/lead/", json={"name": "王五", "pool": False,
                                                "touched": "2026-11-21T10:00:00"}).json["id"]
    fresh = client.post("/api/v1/lead/", json={"name": "赵六", "pool": False,
                                                "touched": "2026-11-27T10:00:00"}).json["id"]
    # a Saturday: the weekday schedule is not due
    assert tick(app, now=dt.datetime(2026, 11, 28, 9, 59))["fired"] == 0
    assert tick(app, now=dt.datetime(2026, 11, 28, 10, 0))["fired"] == 1
    assert lead(client, stale)["pool"] is True and lead(client, fresh)["pool"] is False
    fired = [r for r in log_rows(app, rule="back_to_pool") if r.state == "fired"]
    assert len(fired) == 1 and f"lead #{stale} due 2026-11-28 10:00" in fired[0].reason


def test_a_failing_time_rule_is_logged_and_tried_again(make_app, tmp_path):
    rules = RULES.replace('set: {pool: "true"}', "assign: {user: nobody}")
    app = world(make_app, tmp_path, rules)
    client = login(app.test_client())
    client.post("/api/v1/lead/", json={"name": "孙七", "pool": False, "touched": "2026-11-01T00:00:00"})
    now = dt.datetime(2026, 11, 28, 10, 0)  # a Saturday
    assert tick(app, now=now)["failed"] == 1
    assert tick(app, now=now)["failed"] == 1  # not remembered: the rule rolled back
    assert all("nobody" in r.reason for r in log_rows(app, rule="back_to_pool"))


def test_tick_command_runs_the_rules_due_now(make_app, tmp_path):
    app = world(make_app, tmp_path)
    client = login(app.test_client())
    pk = client.post("/api/v1/lead/", json={"name": "周八", "pool": False, "touched": "2020-01-01T00:00:00"}).json["id"]
    result = app.test_cli_runner().invoke(crm, ["automations", "tick"])
    assert result.exit_code == 0 and "fired: 1" in result.output, result.output
    assert lead(client, pk)["pool"] is True
    again = app.test_cli_runner().invoke(crm, ["automations", "tick"])
    assert "fired" not in again.output  # the same due moment: remembered


def test_a_queued_tick_runs_in_an_rq_worker(make_app, tmp_path):
    app = world(make_app, tmp_path)
    app.config["REDIS_URL"] = test_redis_url()
    client = login(app.test_client())
    pk = client.post("/api/v1/lead/", json={"name": "吴九", "pool": False, "touched": "2020-01-01T00:00:00"}).json["id"]
    queued = app.test_cli_runner().invoke(crm, ["automations", "tick", "--queue"])
    assert queued.exit_code == 0 and "queued job" in queued.output, queued.output
    job_id = int(queued.output.split()[-1])
    worker = start_worker(worker_config(tmp_path, app), burst=True)
    output, _ = worker.communicate(timeout=120)
    assert worker.returncode == 0, output.decode(errors="replace")
    assert job_state(app, job_id).state == "done" and lead(client, pk)["pool"] is True


@pytest.mark.parametrize("trigger, code, message", [
    ("schedule\n    schedule: {cron: '0 25 * * *'}", "CRM-E066", "hour '25' is outside 0-23"),
    ("schedule\n    schedule: {cron: '0 9 * *'}", "CRM-E066", "has 4 fields, not 5"),
    ("date\n    date: {field: name, offset_days: 1}", "CRM-E067", "field 'name' is a string, not a date"),
    ("date\n    date: {field: clos_date}", "CRM-E067", "unknown field 'clos_date'"),
    ("inactive\n    inactive: {days: 0}", "CRM-E067", "days must be a whole number of at least 1"),
])
def test_a_bad_time_trigger_is_a_located_problem(tmp_path, trigger, code, message):
    root = write_tree(tmp_path / "meta", {"lead": LEAD})
    (root / "automations.yaml").write_text(
        f"rules:\n  - name: a\n    label: {{en: A, zh: 甲}}\n    entity: lead\n    trigger: {trigger}\n"
        "    do: [{set: {reminders: '1'}}]\n", encoding="utf-8")
    _, problems = load_metadata(root)
    assert [(p.code, p.path.name, p.line) for p in problems] == [(code, "automations.yaml", 6)]
    assert message in problems[0].message


def test_two_ticks_that_both_saw_a_moment_due_fire_it_once(make_app, tmp_path):
    app = world(make_app, tmp_path)
    client = login(app.test_client())
    pk = client.post("/api/v1/lead/", json={"name": "钱十", "pool": False, "touched": "2020-01-01T00:00:00"}).json["id"]
    now = dt.datetime(2026, 11, 28, 10, 0)  # a Saturday
    with app.app_context():
        rule = next(r for r in app.extensions["crm"].models.spec.automations if r.name == "back_to_pool")
        first, second = Ticker(app, now=now), Ticker(app, now=now)
        seen_first, seen_second = first.due(rule), second.due(rule)  # both looked before either fired
        assert [i for i, _ in seen_first] == [i for i, _ in seen_second] == [pk]
        for ticker, seen in ((first, seen_first), (second, seen_second)):
            for record_id, due in seen:
                ticker._fire(rule, record_id, due)
        app.extensions["crm"].db.session.remove()
    assert (first.counts["fired"], second.counts["fired"]) == (1, 0)
    assert [r.state for r in log_rows(app, rule="back_to_pool")] == ["fired"]
