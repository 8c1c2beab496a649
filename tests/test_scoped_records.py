"""The scoped query layer (app/security/scoped.py) on a real database.

Every reader goes through `Records`: its statements carry the viewer's row
scope, its link joins carry the target's, and titles of records out of
scope are withheld. A guard keeps row clauses from being built elsewhere.
"""

from __future__ import annotations

import ast
from typing import Any

import pytest
import sqlalchemy as sa

from app.demo.users import create_demo_users
from app.security.access import access_for
from app.security.scoped import RESTRICTED, Records, restricted_title
from app.security.scopes import RULES, ScopeRule, parse_scope, register
from tests.conftest import ROOT

LAYER = {"app/security/scoped.py", "app/security/scopes.py", "app/security/access.py"}


@pytest.fixture
def world(app: Any) -> Any:
    """Two reps' leads (with phones) and the activities that link across them."""
    with app.app_context():
        state = app.extensions["crm"]
        create_demo_users(state.appbuilder, state.models)
        sm = state.appbuilder.sm
        users = {n: sm.find_user(username=n) for n in ("sales_rep", "sales_rep2", "sales_manager", "marketing")}
        session = state.db.session
        lead, activity = state.models.model("lead"), state.models.model("activity")
        leads = {}
        for name, phone, owner in (("王小明", "13800000001", "sales_rep"), ("李雷", "13800000002", "sales_rep2")):
            row = lead(name=name, mobile=phone, status="new", owner_id=users[owner].id)
            session.add(row)
            session.flush()
            leads[owner] = row.id
        mine = activity(subject="回访王小明", lead_id=leads["sales_rep"], owner_id=users["sales_rep"].id)
        across = activity(subject="回访李雷", lead_id=leads["sales_rep2"], owner_id=users["sales_rep"].id)
        session.add_all([mine, across])
        session.commit()
        yield {"app": app, "state": state, "users": users, "leads": leads,
               "activities": {"mine": mine.id, "across": across.id}}


def _records(world: Any, user: str | None, entity: str) -> Records:
    state = world["state"]
    access = None if user is None else access_for(world["users"][user])
    return Records(access, state.models, entity)


def test_query_get_and_readable_ids_follow_the_scope(world: Any) -> None:
    with world["app"].app_context():
        session = world["state"].db.session
        rep, leads = _records(world, "sales_rep", "lead"), world["leads"]
        assert {r.id for r in session.scalars(rep.query())} == {leads["sales_rep"]}
        assert rep.get(session, leads["sales_rep"]).name == "王小明"
        assert rep.get(session, leads["sales_rep2"]) is None  # not "forbidden": it does not exist for them
        assert rep.readable_ids(session, [*leads.values(), 10**9, None]) == {leads["sales_rep"]}
        assert session.scalar(rep.select(sa.func.count())) == 1
        marketing = _records(world, "marketing", "lead")  # lead read: all
        assert marketing.readable_ids(session, leads.values()) == set(leads.values())
        assert _records(world, None, "lead").readable_ids(session, leads.values()) == set(leads.values())
        nobody = _records(world, "marketing", "opportunity")  # no opportunity access at all
        assert list(session.scalars(nobody.query())) == []


def test_a_link_join_keeps_the_row_and_reads_an_unreadable_target_as_null(world: Any) -> None:
    """activity → lead.mobile: the rep's activity on another rep's lead stays, its phone does not."""
    with world["app"].app_context():
        session = world["state"].db.session
        activities = _records(world, "sales_rep", "activity")
        model = activities.model
        stmt, lead = activities.link("lead").outerjoin(sa.select(model.id), model.lead_id)
        stmt = activities.where(stmt.add_columns(model.lead_id, lead.id, lead.mobile))
        rows = {row[0]: tuple(row[1:]) for row in session.execute(stmt)}
        mine, across = world["activities"]["mine"], world["activities"]["across"]
        assert rows == {mine: (world["leads"]["sales_rep"], world["leads"]["sales_rep"], "13800000001"),
                        across: (world["leads"]["sales_rep2"], None, None)}
        unrestricted = _records(world, None, "activity")
        stmt, lead = unrestricted.link("lead").outerjoin(sa.select(model.id), model.lead_id)
        phones = dict(session.execute(stmt.add_columns(lead.mobile)).all())
        assert phones[across] == "13800000002"


def test_titles_of_unreadable_records_are_withheld_in_the_viewers_language(world: Any) -> None:
    with world["app"].app_context():
        session, leads = world["state"].db.session, world["leads"]
        titles = _records(world, "sales_rep", "lead").titles(session, leads.values(), "zh")
        assert titles == {leads["sales_rep"]: "王小明", leads["sales_rep2"]: f"#{leads['sales_rep2']} （无权查看）"}
        assert restricted_title(7, "en") == "#7 (restricted)" and RESTRICTED.get("zh") == "（无权查看）"


def test_a_new_scope_kind_is_one_registry_entry(world: Any) -> None:
    """The seam for own(field) / via(link): a rule read as `kind(arg)`; one without a Python
    check is decided by the database for a single record too."""
    assert parse_scope("own(presales)") == (RULES["own"], "presales")
    assert parse_scope("nonsense(") == (RULES["no"], None)
    rule = register(ScopeRule("phone_ends", lambda viewer, model, arg: model.mobile.like(f"%{arg[-1]}")))
    try:
        with world["app"].app_context():
            session, leads = world["state"].db.session, world["leads"]
            access = access_for(world["users"]["sales_rep"])
            access._cache[("scope", "lead", "read")] = "phone_ends(x2)"
            records = Records(access, world["state"].models, "lead")
            assert records.readable_ids(session, leads.values()) == {leads["sales_rep2"]}
            lead = world["state"].models.model("lead")
            assert access.allows("lead", "read", session.get(lead, leads["sales_rep2"]))
            assert not access.allows("lead", "read", session.get(lead, leads["sales_rep"]))
    finally:
        RULES.pop(rule.kind)


def test_no_module_outside_the_layer_builds_a_row_clause() -> None:
    """Readers must read through Records: a reader that forgets the scope is hard to write."""
    offenders = []
    for path in sorted((ROOT / "app").rglob("*.py")):
        name = path.relative_to(ROOT).as_posix()
        if name in LAYER:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            called = node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else ""
            if called in ("row_clause", "scope_clause", "parse_scope", "RULES"):
                offenders.append(f"{name}:{node.lineno} {called}")
            if isinstance(node, ast.ImportFrom) and node.module and node.module.endswith("security.scopes"):
                offenders.append(f"{name}:{node.lineno} imports the scope rules")
    assert offenders == []
    assert not hasattr(__import__("app.security.access", fromlist=["Access"]).Access, "row_clause")

