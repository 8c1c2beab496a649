"""Filters per field type (issue 17, part 1): every operator of choice, tags, date and datetime
fields, on the list screen and the API, against counts computed here from the rows we made.
The clock is frozen (CRM_FROZEN_NOW) so relative ranges are known; the CRM is in Shanghai."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import prison
import pytest

from tests.conftest import login, write_tree

KIT = """
label: {en: Kit, zh: 套件}
fields:
  name: {type: string, required: true}
  stage:
    type: choice
    label: {en: Stage, zh: 阶段}
    choices:
      - {value: open, label: {en: Open, zh: 进行中}}
      - {value: closed_won, label: {en: Won, zh: 赢单}}
      - {value: closed_lost, label: {en: Lost, zh: 输单}}
  tags: {type: multichoice, choices: [first_aid, aid, vip]}
  due: {type: date}
  seen_at: {type: datetime}
list:
  columns: [name, stage, tags, due, seen_at]
  filters: [stage, tags, due, seen_at]
"""
CRM = "name: Test CRM\nlanguages: [en, zh]\ntimezone: Asia/Shanghai\n"
NOW = "2026-06-10T17:00:00+00:00"  # 11 June, 01:00 in Shanghai
TODAY = dt.date(2026, 6, 11)
# name, stage, tags, due, seen_at (UTC as stored)
ROWS = [
    ("a", "open", ["first_aid"], "2026-06-11", "2026-06-10T16:30:00"),  # 10 June 16:30 UTC = 11 June 00:30 local
    ("b", "closed_won", ["aid"], "2026-06-01", "2026-06-10T15:30:00"),  # 10 June 23:30 local
    ("c", "open", ["vip", "aid"], "2026-05-20", "2026-05-31T20:00:00"),  # 1 June 04:00 local
    ("d", "closed_lost", [], None, None),
    ("e", None, ["vip"], "2026-06-30", "2026-06-08T01:00:00"),
]


@pytest.fixture
def kit(make_app: Any, tmp_path: Path) -> Any:
    app = make_app(write_tree(tmp_path / "m", {"kit": KIT}, CRM), CRM_FROZEN_NOW=NOW)
    api = login(app.test_client())
    for name, stage, tags, due, seen in ROWS:
        body = {"name": name, "stage": stage, "tags": tags, "due": due,
                "seen_at": seen and seen + "+00:00"}
        response = api.post("/api/v1/kit/", json=body)
        assert response.status_code == 201, response.json
    return api


def local_day(stamp: str | None) -> dt.date | None:
    if stamp is None:
        return None
    return (dt.datetime.fromisoformat(stamp) + dt.timedelta(hours=8)).date()


def expect(pred: Any) -> set[str]:
    return {r[0] for r in ROWS if pred(*r[1:])}


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def _due(d: Any, pred: Any) -> bool:
    return d is not None and pred(day(d))


def _seen(s: Any, pred: Any) -> bool:
    return s is not None and pred(local_day(s))


CASES = [
    ("stage", "eq", "closed_won", expect(lambda s, t, d, a: s == "closed_won")),
    ("stage", "eq", "Won", expect(lambda s, t, d, a: s == "closed_won")),  # by its label
    ("stage", "neq", "open", expect(lambda s, t, d, a: s != "open")),  # blanks included
    ("stage", "in", ["open", "closed_lost"], expect(lambda s, t, d, a: s in ("open", "closed_lost"))),
    ("stage", "not_in", ["open"], expect(lambda s, t, d, a: s != "open")),
    ("tags", "ct", "aid", expect(lambda s, t, d, a: "aid" in t)),  # an element, not 'first_aid'
    ("tags", "ct", "first_aid", expect(lambda s, t, d, a: "first_aid" in t)),
    ("tags", "ct", ["first_aid", "vip"], expect(lambda s, t, d, a: {"first_aid", "vip"} & set(t))),
    ("tags", "nct", "aid", expect(lambda s, t, d, a: "aid" not in t)),
    ("due", "eq", "2026-06-01", expect(lambda s, t, d, a: d == "2026-06-01")),
    ("due", "neq", "2026-06-01", expect(lambda s, t, d, a: d is not None and d != "2026-06-01")),
    ("due", "gt", "2026-06-01", expect(lambda s, t, d, a: _due(d, lambda x: x > day("2026-06-01")))),
    ("due", "lt", "2026-06-01", expect(lambda s, t, d, a: _due(d, lambda x: x < day("2026-06-01")))),
    ("due", "between", ["2026-06-01", "2026-06-11"],
     expect(lambda s, t, d, a: _due(d, lambda x: day("2026-06-01") <= x <= day("2026-06-11")))),
    ("due", "between", "2026-05-01..2026-06-01",
     expect(lambda s, t, d, a: _due(d, lambda x: day("2026-05-01") <= x <= day("2026-06-01")))),
    ("due", "range", "today", expect(lambda s, t, d, a: _due(d, lambda x: x == TODAY))),
    ("due", "range", "this_month", expect(lambda s, t, d, a: _due(d, lambda x: x.month == 6))),
    ("due", "range", "last_30_days",
     expect(lambda s, t, d, a: _due(d, lambda x: TODAY - dt.timedelta(days=29) <= x <= TODAY))),
    # datetimes: days are the CRM's (Shanghai) days
    ("seen_at", "eq", "2026-06-11", expect(lambda s, t, d, a: _seen(a, lambda x: x == TODAY))),
    ("seen_at", "eq", "2026-06-10", expect(lambda s, t, d, a: _seen(a, lambda x: x == day("2026-06-10")))),
    ("seen_at", "gt", "2026-06-10", expect(lambda s, t, d, a: _seen(a, lambda x: x > day("2026-06-10")))),
    ("seen_at", "lt", "2026-06-01", expect(lambda s, t, d, a: _seen(a, lambda x: x < day("2026-06-01")))),
    ("seen_at", "between", ["2026-06-01", "2026-06-10"],
     expect(lambda s, t, d, a: _seen(a, lambda x: day("2026-06-01") <= x <= day("2026-06-10")))),
    ("seen_at", "range", "today", expect(lambda s, t, d, a: _seen(a, lambda x: x == TODAY))),
    ("seen_at", "range", "yesterday", expect(lambda s, t, d, a: _seen(a, lambda x: x == day("2026-06-10")))),
    ("seen_at", "range", "this_week",  # Monday 8 June to Sunday 14 June
     expect(lambda s, t, d, a: _seen(a, lambda x: day("2026-06-08") <= x <= day("2026-06-14")))),
    ("seen_at", "lt", "2026-06-10T23:45", expect(lambda s, t, d, a: a is not None and a < "2026-06-10T15:45")),
]


def api_names(api: Any, col: str, opr: str, value: Any) -> set[str]:
    q = prison.dumps({"filters": [{"col": col, "opr": opr, "value": value}], "columns": ["name"]})
    response = api.get(f"/api/v1/kit/?q={q}")
    assert response.status_code == 200, response.json
    return {row["name"] for row in response.json["result"]}


def screen_names(api: Any, col: str, opr: str, value: Any) -> set[str]:
    ops = {"stage": ["eq", "neq", "in", "not_in"], "tags": ["ct", "nct"]}.get(
        col, ["eq", "neq", "gt", "lt", "between", "range"])
    values = value if isinstance(value, list) else str(value).split("..") if opr == "between" else [value]
    query = urlencode([(f"_flt_{ops.index(opr)}_{col}", v) for v in values])
    html = api.get(f"/crm/kit/list/?{query}").data.decode()
    assert "alert-warning" not in html, html[html.find("alert-warning"):][:300]
    ids = set(re.findall(r"/crm/kit/show/(\d+)", html))
    by_id = {str(row["id"]): row["name"] for row in
             api.get("/api/v1/kit/?q=" + prison.dumps({"columns": ["name"], "page_size": 100})).json["result"]}
    return {by_id[i] for i in ids}


@pytest.mark.parametrize(("col", "opr", "value", "names"), CASES)
def test_each_operator_on_the_api_and_the_list(kit: Any, col: str, opr: str, value: Any, names: set[str]) -> None:
    assert api_names(kit, col, opr, value) == names
    assert screen_names(kit, col, opr, value) == names


@pytest.mark.parametrize(("col", "opr", "value", "said"), [
    ("stage", "sw", "Won", "Filter operation 'sw' is not allowed on column 'stage'; allowed: eq, neq, in, not_in"),
    ("stage", "ct", "o", "not allowed"),
    ("tags", "eq", "aid", "allowed: ct, nct"),
    ("stage", "eq", "maybe", "'maybe' is not one of the choices"),
    ("tags", "ct", "gold", "'gold' is not one of the choices"),
    ("due", "eq", "2026-13-45", "'2026-13-45' is not a date"),
    ("due", "between", ["2026-01-01"], "between takes two dates"),
    ("due", "range", "someday", "'someday' is not a relative range"),
    ("due", "sw", "2026", "not allowed"),
])
def test_operators_and_values_that_cannot_apply_are_refused(kit: Any, col: str, opr: str, value: Any,
                                                             said: str) -> None:
    q = prison.dumps({"filters": [{"col": col, "opr": opr, "value": value}]})
    response = kit.get(f"/api/v1/kit/?q={q}")
    assert response.status_code == 400
    assert said in response.json["message"]


def test_a_bad_value_on_the_list_is_said_not_ignored(kit: Any) -> None:
    html = kit.get("/crm/kit/list/?_flt_0_due=2026-13-45").data.decode()
    assert "alert-warning" in html and "is not a date" in html
    kit.post("/lang/zh")
    html = kit.get("/crm/kit/list/?_flt_0_due=2026-13-45").data.decode()
    assert "“2026-13-45”不是有效日期（格式 2026-01-31）" in html
    html = kit.get("/crm/kit/list/?_flt_0_stage=maybe").data.decode()
    assert "“maybe”不在可选值中（进行中、赢单、输单）" in html


def test_the_filter_bar_offers_the_operators_by_label_in_the_users_language(kit: Any) -> None:
    html = kit.get("/crm/kit/list/").data.decode()
    assert '"stage": ["Is", "Is not", "Is any of", "Is none of"]' in html
    assert '"tags": ["Has any of", "Has none of"]' in html
    assert '"due": ["On", "Not on", "After", "Before", "Between", "Within"]' in html
    assert "Starts with" not in html
    kit.post("/lang/zh")
    html = kit.get("/crm/kit/list/").data.decode()
    assert '"stage": ["\\u7b49\\u4e8e"' in html or '"stage": ["等于"' in html
    assert "本月" in html or "\\u672c\\u6708" in html  # relative ranges for the date filter, in Chinese
