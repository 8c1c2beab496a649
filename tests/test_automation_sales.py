"""Points and tag actions, lead scoring, territories, SLA timers in a business calendar and the
lead pool (公海) with claims: run by the real worker and tick (frozen clocks), on the test DB."""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path
from typing import Any

import pytest

from app.automations.calendar import BusinessCalendar
from app.automations.dryrun import dry_run
from app.automations.process import drain
from app.automations.tick import tick
from app.metadata.loader import load_metadata
from tests.conftest import login, write_tree
from tests.receivers import smtp_sink
from tests.test_automations import log_rows

LEAD = """
label: {en: Lead, zh: 线索}
fields:
  name: {type: string, required: true}
  source: {type: choice, choices: [web, fair, other]}
  mobile: {type: string}
  status: {type: choice, choices: [new, won]}
  score: {type: integer, min: 0, max: 100}
  grade: {type: choice, choices: [A, B, C]}
  tags: {type: multichoice, choices: [vip, cold]}
  region: {type: choice, choices: [north, south, west]}
  in_pool: {type: boolean}
  claimed_on: {type: datetime}
  label_text: {type: string}
"""
TICKET = """
label: {en: Ticket, zh: 工单}
fields:
  subject: {type: string, required: true}
  priority: {type: choice, choices: [urgent, normal], default: normal}
  status: {type: choice, choices: [open, resolved], default: open}
  sla_due: {type: datetime}
  escalated: {type: boolean}
  warned: {type: boolean}
"""
ROLES = """
Sales Rep:
  label: {en: Sales Rep, zh: 销售代表}
  entities:
    lead: {read: own, create: yes, update: own}
Viewer:
  label: {en: Viewer, zh: 查看者}
  entities:
    lead: {read: all}
Support:
  label: {en: Support, zh: 客服}
  entities:
    ticket: {read: all, create: yes, update: all}
"""
RULES = """
rules:
  - name: fair_bonus
    label: {en: Fair lead → points and a tag, zh: 展会线索 → 加分和标签}
    entity: lead
    trigger: field_changed
    field: source
    to: fair
    do:
      - points: {field: score, add: 30}
      - tag: {field: tags, add: vip}
  - name: went_cold
    label: {en: "Other → fewer points, tag cold", zh: 其他来源 → 减分并标记}
    entity: lead
    trigger: field_changed
    field: source
    to: other
    do:
      - points: {field: score, remove: "if(is_empty(mobile), 50, 10)"}
      - tag: {field: tags, remove: vip}
      - tag: {field: tags, add: cold}
  - name: by_region
    label: {en: New lead → region's rep, zh: 新线索 → 区域销售}
    entity: lead
    trigger: created
    if: "not is_empty(region)"
    do:
      - assign: {territory: regions}
scoring:
  - name: lead_score
    label: {en: Score, zh: 评分}
    entity: lead
    field: label_score_placeholder
    grade: grade
    points:
      - {if: "source = 'web'", points: 50}
      - {if: "not is_empty(mobile)", points: 40}
      - {if: "status = 'won'", points: 30}
    grades:
      - {grade: B, min: 50}
      - {grade: A, min: 80}
      - {grade: C, min: 0}
territories:
  - name: regions
    label: {en: Regions, zh: 区域}
    entity: lead
    field: region
    areas:
      - {values: [north], users: [li]}
      - {values: [south], users: [zhao, wang]}
    otherwise: {role: Sales Rep}
calendar:
  hours: ["09:00", "18:00"]
  weekdays: [1, 2, 3, 4, 5]
  holidays: [2026-12-25]
sla:
  - name: ticket_sla
    label: {en: Ticket SLA, zh: 工单时限}
    entity: ticket
    priority: priority
    due: sla_due
    hours: {urgent: 4, normal: 24}
    open: "status != 'resolved'"
    warn_before_minutes: 60
    warn:
      - set: {warned: "true"}
    escalate:
      - set: {escalated: "true"}
      - email:
          to: "'boss@example.com'"
          subject: {en: "SLA breached: {{ subject }}", zh: "SLA 超时：{{ subject }}"}
          body: {en: "{{ subject }} was due at {{ sla_due }}", zh: "{{ subject }} 已于 {{ sla_due }} 到期"}
pool:
  - name: lead_pool
    label: {en: Lead pool, zh: 线索公海}
    entity: lead
    flag: in_pool
    claimed_on: claimed_on
    user: lead_pool
    after_days: 7
    if: "status = 'new'"
    claim_limit: 2
    roles: [Sales Rep]
"""
SCORED = RULES.replace("label_score_placeholder", "score")
UNSCORED_RULES = SCORED.split("scoring:")[0] + "territories:" + SCORED.split("territories:")[1]


def world(make_app: Any, tmp_path: Path, rules: str = UNSCORED_RULES, crm: str | None = None, **settings: Any) -> Any:
    root = write_tree(tmp_path / "meta", {"lead": LEAD, "ticket": TICKET},
                      crm or "name: Test CRM\nlanguages: [en, zh]\ntimezone: Asia/Shanghai\n")
    (root / "roles.yaml").write_text(textwrap.dedent(ROLES), encoding="utf-8")
    (root / "automations.yaml").write_text(textwrap.dedent(rules), encoding="utf-8")
    app = make_app(root, CRM_OUTBOX_DISPATCH="off", **settings)
    with app.app_context():
        sm = app.extensions["crm"].appbuilder.sm
        for name in ("li", "zhao", "wang"):
            sm.add_user(name, "销售", name, f"{name}@example.com", sm.find_role("Sales Rep"), "pw-1234567")
        sm.add_user("kan", "查看", "kan", "kan@example.com", sm.find_role("Viewer"), "pw-1234567")
        sm.add_user("kefu", "客服", "kefu", "kefu@example.com", sm.find_role("Support"), "pw-1234567")
        app.extensions["crm"].db.session.remove()
    return app


def get(client: Any, entity: str, pk: int) -> dict[str, Any]:
    return client.get(f"/api/v1/{entity}/{pk}").json["result"]


def moment(text: str) -> dt.datetime:
    """An API datetime (UTC, with its offset) as the naive UTC the database and the tick use."""
    return dt.datetime.fromisoformat(text).astimezone(dt.UTC).replace(tzinfo=None)


def owner_of(app: Any, pk: int) -> str:
    with app.app_context():
        state = app.extensions["crm"]
        record = state.db.session.get(state.models.model("lead"), pk)
        name = state.db.session.get(state.models.user_model, record.owner_id).username
        state.db.session.remove()
        return name


# -- points and tags ---------------------------------------------------------------------
def test_points_and_tags_change_the_record_as_the_automation(make_app, tmp_path):
    app = world(make_app, tmp_path)
    client = login(app.test_client())
    pk = client.post("/api/v1/lead/", json={"name": "张三", "source": "web", "score": 80}).json["id"]
    client.put(f"/api/v1/lead/{pk}", json={"source": "fair"})
    drain(app)
    lead = get(client, "lead", pk)
    assert (lead["score"], lead["tags"]) == (100, ["vip"])  # 80 + 30, kept within max 100
    client.put(f"/api/v1/lead/{pk}", json={"source": "other"})
    drain(app)
    lead = get(client, "lead", pk)
    assert (lead["score"], lead["tags"]) == (50, ["cold"])  # no mobile: 50 taken
    client.put(f"/api/v1/lead/{pk}", json={"source": "fair", "score": 10, "mobile": "13900000000"})
    drain(app)
    assert get(client, "lead", pk)["tags"] == ["cold", "vip"]
    history = client.get(f"/api/v1/lead/{pk}/history").json["changes"]
    assert {h["automation"] for h in history if h["field"] in ("score", "tags") and h["automation"]} == {
        "fair_bonus", "went_cold"}


# -- scoring ---------------------------------------------------------------------------------
def test_scoring_recomputes_score_and_grade_on_create_and_update(make_app, tmp_path):
    app = world(make_app, tmp_path, SCORED.replace("  - name: fair_bonus", "  - name: fair_bonus\n    enabled: false"))
    client = login(app.test_client())
    pk = client.post("/api/v1/lead/", json={"name": "李四", "source": "web"}).json["id"]
    drain(app)
    assert (get(client, "lead", pk)["score"], get(client, "lead", pk)["grade"]) == (50, "B")
    client.put(f"/api/v1/lead/{pk}", json={"mobile": "13900000000"})
    drain(app)
    assert (get(client, "lead", pk)["score"], get(client, "lead", pk)["grade"]) == (90, "A")
    client.put(f"/api/v1/lead/{pk}", json={"status": "won"})  # 120: kept at the field's max
    drain(app)
    assert get(client, "lead", pk)["score"] == 100
    history = client.get(f"/api/v1/lead/{pk}/history").json["changes"]
    assert [(h["old"], h["new"]) for h in history if h["field"] == "score"] == [(None, 50), (50, 90), (90, 100)]
    assert {h["automation"] for h in history if h["field"] in ("score", "grade")} == {"lead_score"}
    # its own write is an update too: judged again, nothing to change, no further event
    with app.app_context():
        table = app.extensions["crm"].models.core["crm_event"]
        import sqlalchemy as sa
        waiting = app.extensions["crm"].db.session.scalar(
            sa.select(sa.func.count()).select_from(table).where(table.c.delivered_on.is_(None)))
        app.extensions["crm"].db.session.remove()
    assert waiting == 0
    with app.app_context():
        report = dry_run(app, "lead_score", "lead", pk)
    assert report["fires"] and report["actions"][0]["values"] == {}  # nothing left to change


# -- territories --------------------------------------------------------------------------
def test_territories_assign_by_region_in_turn_and_otherwise_to_the_role(make_app, tmp_path):
    app = world(make_app, tmp_path)
    client = login(app.test_client())
    ids = {name: client.post("/api/v1/lead/", json={"name": name, "region": region}).json["id"]
           for name, region in (("北1", "north"), ("南1", "south"), ("南2", "south"), ("南3", "south"),
                                ("西1", "west"), ("无", None))}
    drain(app)
    got = {name: owner_of(app, pk) for name, pk in ids.items()}
    assert [got["北1"], got["南1"], got["南2"], got["南3"]] == ["li", "zhao", "wang", "zhao"]
    assert got["西1"] in ("li", "zhao", "wang") and got["无"] == "admin"  # no region: the rule's if is false


def test_a_territory_with_no_active_user_fails_logged_and_the_lead_stays(make_app, tmp_path):
    app = world(make_app, tmp_path, UNSCORED_RULES.replace("users: [li]", "users: [nobody]"))
    client = login(app.test_client())
    pk = client.post("/api/v1/lead/", json={"name": "北2", "region": "north"}).json["id"]
    drain(app)
    assert owner_of(app, pk) == "admin"
    failed = [r for r in log_rows(app, rule="by_region") if r.state == "failed"]
    assert len(failed) == 1 and "none of nobody is an active user" in failed[0].reason


# -- business calendar and SLA -------------------------------------------------------------------
def test_business_hours_skip_nights_weekends_and_holidays() -> None:
    cal = BusinessCalendar(holidays=frozenset({dt.date(2026, 12, 25)}), workdays=frozenset({dt.date(2026, 12, 27)}))
    utc = "UTC"
    assert cal.add_hours(dt.datetime(2026, 12, 3, 10), 4, utc) == dt.datetime(2026, 12, 3, 14)  # Thursday
    assert cal.add_hours(dt.datetime(2026, 12, 4, 16), 4, utc) == dt.datetime(2026, 12, 7, 11)  # Fri → Mon
    assert cal.add_hours(dt.datetime(2026, 12, 5, 12), 1, utc) == dt.datetime(2026, 12, 7, 10)  # Saturday
    assert cal.add_hours(dt.datetime(2026, 12, 3, 20), 24, utc) == dt.datetime(2026, 12, 8, 15)  # 9 h a day
    assert cal.add_hours(dt.datetime(2026, 12, 24, 17), 2, utc) == dt.datetime(2026, 12, 27, 10)  # 25th off, 27th on
    # in Shanghai: 01:00 UTC is 09:00 there
    assert cal.add_hours(dt.datetime(2026, 12, 3, 0, 30), 4, "Asia/Shanghai") == dt.datetime(2026, 12, 3, 5)


def test_sla_due_from_priority_warned_then_escalated_by_the_tick(make_app, tmp_path):
    with smtp_sink() as (port, messages):
        app = world(make_app, tmp_path, CRM_SMTP_HOST="127.0.0.1", CRM_SMTP_PORT=port)
        client = login(app.test_client())
        pk = client.post("/api/v1/ticket/", json={"subject": "打印机坏了", "priority": "urgent"}).json["id"]
        done = client.post("/api/v1/ticket/", json={"subject": "已解决", "priority": "urgent"}).json["id"]
        drain(app)
        created = moment(get(client, "ticket", pk)["created_on"])
        due = moment(get(client, "ticket", pk)["sla_due"])
        assert due == BusinessCalendar(holidays=frozenset({dt.date(2026, 12, 25)})).add_hours(
            created, 4, "Asia/Shanghai")
        client.put(f"/api/v1/ticket/{done}", json={"status": "resolved"})
        drain(app)
        assert tick(app, now=due - dt.timedelta(minutes=61))["fired"] == 0
        assert tick(app, now=due - dt.timedelta(minutes=60))["fired"] == 1  # the warning, once
        assert get(client, "ticket", pk)["warned"] is True and not get(client, "ticket", pk)["escalated"]
        assert tick(app, now=due - dt.timedelta(minutes=1))["fired"] == 0
        assert tick(app, now=due)["fired"] == 1
        assert tick(app, now=due + dt.timedelta(hours=1))["fired"] == 0
        assert get(client, "ticket", pk)["escalated"] is True
        assert not get(client, "ticket", done)["escalated"]  # resolved: never escalated
        assert [m["Subject"] for _, _, m in messages] == ["SLA breached: 打印机坏了"]
        history = client.get(f"/api/v1/ticket/{pk}/history").json["changes"]
        assert {h["automation"] for h in history if h["field"] in ("sla_due", "warned", "escalated")} == {
            "ticket_sla", "ticket_sla_warn", "ticket_sla_escalate"}


def test_a_new_priority_moves_the_due_time_and_the_escalation_with_it(make_app, tmp_path):
    app = world(make_app, tmp_path)
    client = login(app.test_client())
    pk = client.post("/api/v1/ticket/", json={"subject": "慢", "priority": "normal"}).json["id"]
    drain(app)
    normal = moment(get(client, "ticket", pk)["sla_due"])
    client.put(f"/api/v1/ticket/{pk}", json={"priority": "urgent"})
    drain(app)
    urgent = moment(get(client, "ticket", pk)["sla_due"])
    assert urgent < normal
    client.put(f"/api/v1/ticket/{pk}", json={"subject": "慢（更新）"})  # not the priority: the due time stays
    drain(app)
    assert moment(get(client, "ticket", pk)["sla_due"]) == urgent
    assert tick(app, now=urgent)["fired"] == 2  # warning and escalation both due by then
    assert get(client, "ticket", pk)["escalated"] is True


# -- the lead pool ---------------------------------------------------------------------------------
def pool_world(make_app: Any, tmp_path: Path) -> tuple[Any, Any, list[int]]:
    app = world(make_app, tmp_path)
    li = login(app.test_client(), "li", "pw-1234567")
    ids = [li.post("/api/v1/lead/", json={"name": f"公海{i}", "status": "new"}).json["id"] for i in range(4)]
    won = li.post("/api/v1/lead/", json={"name": "已成交", "status": "won"}).json["id"]
    drain(app)
    created = moment(get(login(app.test_client()), "lead", ids[0])["changed_on"])
    assert tick(app, now=created + dt.timedelta(days=6, hours=23))["fired"] == 0
    counts = tick(app, now=created + dt.timedelta(days=7, minutes=5))
    assert counts["fired"] == 4, counts  # the won lead stays with its owner
    assert owner_of(app, won) == "li"
    return app, li, ids


def test_untouched_leads_go_back_to_the_pool_as_the_automation(make_app, tmp_path):
    app, li, ids = pool_world(make_app, tmp_path)
    admin = login(app.test_client())
    lead = get(admin, "lead", ids[0])
    assert lead["in_pool"] is True and owner_of(app, ids[0]) == "lead_pool"
    history = admin.get(f"/api/v1/lead/{ids[0]}/history").json["changes"]
    assert {(h["field"], h["automation"]) for h in history if h["automation"]} == {
        ("in_pool", "lead_pool"), ("owner", "lead_pool")}
    assert li.get(f"/api/v1/lead/{ids[0]}").status_code == 404  # no longer li's
    pool = li.get("/api/v1/lead/pool")
    assert pool.status_code == 200 and sorted(r["id"] for r in pool.json["result"]) == sorted(ids)
    assert pool.json["claim_limit"] == 2
    with app.app_context():  # the pool user cannot log in
        assert app.extensions["crm"].appbuilder.sm.find_user(username="lead_pool").active is False


def test_a_rep_claims_from_the_pool_up_to_the_daily_limit(make_app, tmp_path):
    app, li, ids = pool_world(make_app, tmp_path)
    zhao = login(app.test_client(), "zhao", "pw-1234567")
    first = zhao.post(f"/api/v1/lead/{ids[0]}/claim")
    assert first.status_code == 200, first.json
    assert owner_of(app, ids[0]) == "zhao" and get(zhao, "lead", ids[0])["in_pool"] is False
    again = li.post(f"/api/v1/lead/{ids[0]}/claim")
    assert again.status_code == 409 and "not in the" in again.json["message"]
    assert zhao.post(f"/api/v1/lead/{ids[1]}/claim").status_code == 200
    third = zhao.post(f"/api/v1/lead/{ids[2]}/claim")
    assert third.status_code == 422 and "claimed 2 today" in third.json["message"]["claim_limit"][0]
    assert owner_of(app, ids[2]) == "lead_pool"
    history = zhao.get(f"/api/v1/lead/{ids[0]}/history").json["changes"]
    claimed = [h for h in history if h["field"] == "in_pool" and h["new"] is False]
    assert claimed and claimed[0]["by_username"] == "zhao" and claimed[0]["automation"] is None
    # the screen: the pool page lists what is left; Claim from it
    page = li.get("/crm/lead/pool/")
    assert page.status_code == 200 and "公海2" in page.data.decode() and "公海0" not in page.data.decode()
    answer = li.post(f"/crm/lead/pool/claim/{ids[2]}")
    assert answer.status_code == 302 and owner_of(app, ids[2]) == "li"


def test_claims_are_refused_to_roles_the_pool_does_not_admit(make_app, tmp_path):
    app, _, ids = pool_world(make_app, tmp_path)
    viewer = login(app.test_client(), "kan", "pw-1234567")  # reads every lead, not a pool role
    refused = viewer.post(f"/api/v1/lead/{ids[0]}/claim")
    assert refused.status_code == 403 and "may not claim" in refused.json["message"]
    assert viewer.get("/api/v1/lead/pool").status_code == 403
    assert viewer.get("/crm/lead/pool/").status_code == 403
    support = login(app.test_client(), "kefu", "pw-1234567")  # no lead rights at all
    assert support.post(f"/api/v1/lead/{ids[0]}/claim").status_code == 403
    assert support.post(f"/crm/lead/pool/claim/{ids[0]}").status_code in (302, 403)
    assert owner_of(app, ids[0]) == "lead_pool"
    assert login(app.test_client()).get("/api/v1/ticket/pool").status_code == 404  # tickets have no pool


# -- bad metadata ----------------------------------------------------------------------------------
@pytest.mark.parametrize("old, new, code, message", [
    ("points: {field: score, add: 30}", "points: {field: name, add: 30}", "CRM-E074", "lead.name, of type string"),
    ("tag: {field: tags, add: vip}", "tag: {field: score, add: vip}", "CRM-E074", "lead.score, of type integer"),
    ("points: {field: score, add: 30}", "points: {field: score, add: \"'ten'\"}", "CRM-E075", "is a text, not a number"),
    ("tag: {field: tags, add: vip}", "tag: {field: tags, add: gold}", "CRM-E075", "'gold' is not a choice of lead.tags"),
    ("points: {field: score, add: 30}", "points: {field: score, add: 1, remove: 2}", "CRM-E075", "exactly one of"),
    ("field: label_score_placeholder", "field: name", "CRM-E076", "'name' is not a writable number field"),
    ("{grade: B, min: 50}", "{grade: Z, min: 50}", "CRM-E076", "grade 'Z' is not a choice of grade"),
    ("hours: {urgent: 4, normal: 24}", "hours: {urgent: 4, low: 24}", "CRM-E077", "'low' is not a choice of priority"),
    ("due: sla_due", "due: subject", "CRM-E077", "due 'subject' is not a writable datetime field"),
    ('hours: ["09:00", "18:00"]', 'hours: ["18:00", "09:00"]', "CRM-E077", "must be [start, end]"),
    ("weekdays: [1, 2, 3, 4, 5]", "weekdays: [0, 8]", "CRM-E077", "numbers 1 (Monday) .. 7 (Sunday)"),
    ("{values: [north], users: [li]}", "{values: [nord], users: [li]}", "CRM-E078", "'nord' is not a choice"),
    ("{values: [north], users: [li]}", "{values: [north], users: [li], role: Viewer}", "CRM-E078",
     "users (a list of logins) or a role"),
    ("assign: {territory: regions}", "assign: {territory: regionz}", "CRM-E078", "unknown territory 'regionz'"),
    ("flag: in_pool", "flag: name", "CRM-E079", "flag 'name' is not a writable boolean field"),
    ("claim_limit: 2", "claim_limit: 0", "CRM-E079", "claim_limit must be 1 or more"),
    ("roles: [Sales Rep]", "roles: [Sales Reps]", "CRM-E079", "unknown role 'Sales Reps'"),
])
def test_bad_sales_settings_are_located_problems(tmp_path, old, new, code, message):
    root = write_tree(tmp_path / "meta", {"lead": LEAD, "ticket": TICKET})
    (root / "roles.yaml").write_text(textwrap.dedent(ROLES), encoding="utf-8")
    text = textwrap.dedent(RULES)
    if "placeholder" not in old:
        text = text.replace("label_score_placeholder", "score")
    assert old in text
    bad = text.replace(old, new, 1)
    (root / "automations.yaml").write_text(bad, encoding="utf-8")
    _, problems = load_metadata(root)
    assert [p.code for p in problems] == [code], [str(p) for p in problems]
    assert message in problems[0].message and problems[0].path.name == "automations.yaml"
    changed = next(i for i, (a, b) in enumerate(zip(text.splitlines(), bad.splitlines(), strict=False)) if a != b) + 1
    assert abs(problems[0].line - changed) <= 1  # on the line changed (or the item's first line)


def test_a_queued_tick_escalates_in_an_rq_worker(make_app, tmp_path):
    """The tick as a job of the real rq worker (Redis): an overdue open ticket is warned and escalated."""
    from app.cli import crm
    from tests.jobs_support import job_state, start_worker, test_redis_url, worker_config

    app = world(make_app, tmp_path)
    app.config["REDIS_URL"] = test_redis_url()
    client = login(app.test_client())
    pk = client.post("/api/v1/ticket/", json={"subject": "超时", "priority": "urgent"}).json["id"]
    drain(app)
    assert client.put(f"/api/v1/ticket/{pk}", json={"sla_due": "2020-01-06T02:00:00+00:00"}).status_code == 200
    drain(app)  # set by hand, the priority unchanged: the due time stays
    assert moment(get(client, "ticket", pk)["sla_due"]) == dt.datetime(2020, 1, 6, 2)
    queued = app.test_cli_runner().invoke(crm, ["automations", "tick", "--queue"])
    assert queued.exit_code == 0, queued.output
    worker = start_worker(worker_config(tmp_path, app), burst=True)
    output, _ = worker.communicate(timeout=180)
    assert worker.returncode == 0, output.decode(errors="replace")
    assert job_state(app, int(queued.output.split()[-1])).state == "done"
    ticket = get(client, "ticket", pk)
    assert ticket["warned"] is True and ticket["escalated"] is True


def test_the_what_if_judge_counts_the_warning_an_hour_before_the_due_time(make_app, tmp_path):
    from app.automations.whatif import judge_time
    from app.records.commands import RecordContext

    app = world(make_app, tmp_path)
    client = login(app.test_client())
    pk = client.post("/api/v1/ticket/", json={"subject": "预警", "priority": "urgent"}).json["id"]
    drain(app)
    due = moment(get(client, "ticket", pk)["sla_due"])
    with app.app_context():
        state = app.extensions["crm"]
        ctx = RecordContext(state.db.session, state.models, "en", user_id=None, access=None)
        rule = next(r for r in state.models.spec.automations if r.name == "ticket_sla_warn")
        record = state.db.session.get(state.models.model("ticket"), pk)
        early = judge_time(ctx, rule, record, due - dt.timedelta(minutes=61))
        on_time = judge_time(ctx, rule, record, due - dt.timedelta(minutes=60))
        state.db.session.remove()
    assert not early["fires"] and "-60 minutes" in early["reason"]
    assert on_time["fires"] and on_time["actions"][0]["values"] == {"warned": True}
