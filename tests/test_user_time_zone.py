"""A user's own time zone (issue 17, part 5): chosen on My settings, stored per user (core revision
0010), used for what that user sees and types, `default: today`/`now` and relative date ranges.
The CRM is in Shanghai; the clock is frozen at 02:30 UTC on 1 June: 10:30 on 1 June in Shanghai,
22:30 on 31 May in New York, on either side of midnight."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import login, write_tree
from tests.test_time_zone import CRM, VISIT  # a visit with a date, two datetimes; the CRM in Shanghai

NOW = "2026-06-01T02:30:00+00:00"


ROLES = """
Clerk:
  label: {en: Clerk, zh: 职员}
  entities:
    visit: {read: all, create: yes, update: all}
"""
CLERK_PASSWORD = "clerk-pass-2026-x"


@pytest.fixture
def crm(make_app: Any, tmp_path: Path) -> Any:
    tree = write_tree(tmp_path / "m", {"visit": VISIT}, CRM)
    (tree / "roles.yaml").write_text(ROLES, encoding="utf-8")
    app = make_app(tree, CRM_FROZEN_NOW=NOW)
    with app.app_context():
        sm = app.extensions["crm"].appbuilder.sm
        sm.add_user("clerk", "王", "芳", "clerk@example.com", sm.find_role("Clerk"), CLERK_PASSWORD)
        app.extensions["crm"].db.session.remove()
    return app, login(app.test_client())


def choose_zone(client: Any, zone: str) -> Any:
    return client.post("/crm/me/", data={"time_zone": zone})


def test_default_today_and_now_follow_the_users_zone(crm: Any) -> None:
    app, admin = crm
    shanghai = admin.post("/api/v1/visit/", json={"name": "上海"}).json["id"]
    assert choose_zone(admin, "America/New_York").status_code == 302
    new_york = admin.post("/api/v1/visit/", json={"name": "纽约"}).json["id"]
    assert admin.get(f"/api/v1/visit/{shanghai}").json["result"]["day"] == "2026-06-01"
    assert admin.get(f"/api/v1/visit/{new_york}").json["result"]["day"] == "2026-05-31"  # still the 31st there
    for pk in (shanghai, new_york):  # the same instant, with its offset, whoever made it
        assert admin.get(f"/api/v1/visit/{pk}").json["result"]["logged_at"] == "2026-06-01T02:30:00+00:00"
    form = admin.get("/crm/visit/add").data.decode()
    assert 'value="2026-05-31"' in form and 'value="2026-05-31 22:30"' in form


def test_datetimes_are_shown_and_typed_in_the_users_zone(crm: Any) -> None:
    _, admin = crm
    pk = admin.post("/api/v1/visit/", json={"name": "午夜", "seen_at": "2026-06-01T00:30:00+00:00"}).json["id"]
    assert "2026-06-01 08:30" in admin.get(f"/crm/visit/show/{pk}").data.decode()  # Shanghai (the CRM's)
    choose_zone(admin, "America/New_York")
    shown = admin.get(f"/crm/visit/show/{pk}").data.decode()
    assert "2026-05-31 20:30" in shown and "2026-06-01 08:30" not in shown
    added = admin.post("/crm/visit/add", data={"name": "晚间", "seen_at": "2026-05-31 21:00"})
    typed = int(re.search(r"/show/(\d+)", added.headers["Location"]).group(1))
    assert admin.get(f"/api/v1/visit/{typed}").json["result"]["seen_at"] == "2026-06-01T01:00:00+00:00"
    assert choose_zone(admin, "").status_code == 302  # back to the CRM's zone
    assert "2026-06-01 09:00" in admin.get(f"/crm/visit/show/{typed}").data.decode()


def test_relative_ranges_start_at_the_users_midnight(crm: Any) -> None:
    _, admin = crm
    for name, at in (("五月三十一日纽约晚上", "2026-06-01T01:00:00+00:00"),  # NY 31 May 21:00, SH 1 June 09:00
                     ("六月一日上海凌晨", "2026-05-31T17:00:00+00:00")):  # NY 31 May 13:00, SH 1 June 01:00
        admin.post("/api/v1/visit/", json={"name": name, "seen_at": at})
    admin.post("/api/v1/visit/", json={"name": "五月三十日", "seen_at": "2026-05-30T12:00:00+00:00"})

    def today() -> set[str]:
        q = "(filters:!((col:seen_at,opr:range,value:today)),columns:!(name))"
        return {r["name"] for r in admin.get(f"/api/v1/visit/?q={q}").json["result"]}

    assert today() == {"五月三十一日纽约晚上", "六月一日上海凌晨"}  # Shanghai: 1 June
    choose_zone(admin, "America/New_York")
    assert today() == {"五月三十一日纽约晚上", "六月一日上海凌晨"}  # New York: 31 May, both fall on it too
    admin.post("/api/v1/visit/", json={"name": "纽约五月三十一日清晨", "seen_at": "2026-05-31T05:00:00+00:00"})
    assert "纽约五月三十一日清晨" in today()  # 01:00 on 31 May in New York; 13:00 on 31 May in Shanghai
    choose_zone(admin, "Asia/Shanghai")
    assert "纽约五月三十一日清晨" not in today()


def test_the_zone_is_kept_per_user_and_comes_back_at_login(crm: Any) -> None:
    app, admin = crm
    choose_zone(admin, "America/New_York")
    again = login(app.test_client())  # a new session of the same user: loaded at login
    assert 'value="America/New_York" selected' in again.get("/crm/me/").data.decode()
    assert "2026-05-31 22:30" in again.get("/crm/me/").data.decode()
    rep = login(app.test_client(), "clerk", CLERK_PASSWORD)  # another user: the CRM's zone
    page = rep.get("/crm/me/").data.decode()
    assert '<option value="" selected' in page and "2026-06-01 10:30" in page
    assert choose_zone(rep, "Asia/Tokyo").status_code == 302  # every signed-in user may set their own
    assert 'value="America/New_York" selected' in again.get("/crm/me/").data.decode()


def test_an_unknown_zone_is_refused_next_to_the_field(crm: Any) -> None:
    _, admin = crm
    response = choose_zone(admin, "Mars/Olympus_Mons")
    assert response.status_code == 422
    assert 'id="my-settings-error"' in response.data.decode() and "Mars/Olympus_Mons" in response.data.decode()
    admin.post("/lang/zh")
    assert "未知时区" in choose_zone(admin, "../../etc/passwd").data.decode()


def test_my_settings_needs_a_login(crm: Any) -> None:
    app, _ = crm
    anonymous = app.test_client()
    assert anonymous.get("/crm/me/").status_code in (302, 401)
    assert anonymous.post("/crm/me/", data={"time_zone": "UTC"}).status_code in (302, 401)


def test_chart_ranges_start_at_the_viewers_midnight(crm: Any) -> None:
    import datetime as dt

    from flask import session

    from app.charts.dates import range_bounds, resolve_range
    from app.charts.result import ChartContext
    from app.clock import USER_ZONE_KEY

    app, _ = crm
    state = app.extensions["crm"]
    now = dt.datetime(2026, 6, 1, 2, 30)  # naive UTC
    with app.test_request_context():
        context = ChartContext(state.spec, state.models, None, None, "en", now)
        assert context.today == dt.date(2026, 6, 1)  # the CRM's zone, Shanghai
        assert range_bounds(*resolve_range("today", context.today), True) == (
            dt.datetime(2026, 5, 31, 16, 0), dt.datetime(2026, 6, 1, 16, 0))
        session[USER_ZONE_KEY] = "America/New_York"
        assert context.today == dt.date(2026, 5, 31)
        assert range_bounds(*resolve_range("today", context.today), True) == (
            dt.datetime(2026, 5, 31, 4, 0), dt.datetime(2026, 6, 1, 4, 0))
