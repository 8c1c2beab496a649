"""What a first run shows (issue 17, "First run"): no FAB notices that are not true for MetaCRM,
and demo data a sales team would believe: no lost reason on open deals, records owned only by
users who may change them, every stage move made by someone the gates let make it, won deals
closed on a past day."""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa

from app.clock import crm_today
from app.demo.loader import load_demo
from app.demo.users import create_demo_users
from app.records.stages import stage_allowed_for, transition_allowed_for
from app.security.access import RoleBook, access_for
from tests.conftest import login


def test_building_an_app_without_users_does_not_say_use_flask_fab(make_app: Any, caplog: Any) -> None:
    caplog.set_level(logging.WARNING)
    make_app()  # a fresh database: FAB builds the app before `crm init` creates the admin
    assert not [r for r in caplog.records if "No user yet created" in r.getMessage()]


def test_login_without_next_is_not_an_invalid_redirect(app: Any, caplog: Any) -> None:
    caplog.set_level(logging.WARNING)
    login(app.test_client())
    assert not [r for r in caplog.records if "Invalid redirect" in r.getMessage()]
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "10.9.9.9"
    response = client.post("/login/?next=https://evil.example.com/steal",
                           data={"username": "admin", "password": "admin-pass-1"})
    assert response.status_code == 302 and "evil.example.com" not in response.headers["Location"]
    assert [r for r in caplog.records if "Invalid redirect" in r.getMessage()]  # a real one is still said


def test_demo_data_agrees_with_stages_and_roles(app: Any) -> None:
    with app.app_context():
        state = app.extensions["crm"]
        session = state.db.session
        create_demo_users(state.appbuilder, state.models)
        load_demo(session, state.models, size=120)
        deal = state.models.model("opportunity")
        lead = state.models.model("lead")
        today = crm_today()
        rows = session.execute(sa.select(deal.stage, deal.lost_reason, deal.close_date, deal.owner_id)).all()
        assert {r.stage for r in rows} >= {"won", "lost", "prospecting"}
        open_with_reason = [r for r in rows if r.stage != "lost" and r.lost_reason]
        assert not open_with_reason, open_with_reason[:3]
        assert all(r.lost_reason for r in rows if r.stage == "lost")
        future_wins = [r for r in rows if r.stage == "won" and (r.close_date is None or r.close_date > today)]
        assert not future_wins, future_wins[:3]
        leads = session.execute(sa.select(lead.status, lead.disqualify_reason)).all()
        assert not [r for r in leads if r.status != "disqualified" and r.disqualify_reason]
        book = RoleBook(state.spec)
        roles: dict[int, list[str]] = {}
        for user_id, name in session.execute(sa.text(
                "SELECT ur.user_id, r.name FROM ab_user_role ur JOIN ab_role r ON r.id = ur.role_id")):
            roles.setdefault(user_id, []).append(name)
        owners = {r.owner_id for r in rows}
        blind = [u for u in owners if book.scope(roles.get(u, []), "opportunity", "read").value == "no"]
        assert not blind, [(u, roles.get(u)) for u in blind]
        assert len(owners) > 3  # spread over the users who may, not all on the admin
        session.remove()


def test_every_demo_stage_move_was_made_by_someone_who_may_make_it(app: Any) -> None:
    """A Support Agent (who reads deals, changes none) was recorded moving deals' stages, and
    reps moving deals into Won, which only a Sales Manager may enter: each move is checked here as
    a real one is, for the user it names (their roles, teams and the record, app/security/access.py)."""
    with app.app_context():
        state = app.extensions["crm"]
        session, spec = state.db.session, state.spec
        create_demo_users(state.appbuilder, state.models)
        load_demo(session, state.models, size=60)
        history = state.models.core["crm_stage_history"]
        users = {u.id: u for u in session.scalars(sa.select(state.appbuilder.sm.user_model))}
        access = {uid: access_for(user) for uid, user in users.items()}
        moves = session.execute(sa.select(history)).all()
        assert {m.entity for m in moves} >= {"opportunity", "lead", "ticket"}
        lead = state.models.model("lead")  # leads in the pool: owned by the pool's user since a recycle,
        pooled = set(session.scalars(sa.select(lead.id).where(lead.in_pool.is_(True))))  # their moves before
        wrong, movers = [], set()
        for move in moves:
            if move.entity == "lead" and move.record_id in pooled:
                continue
            entity = spec.entity(move.entity)
            pipeline = next(p for p in entity.pipelines if p.name == move.pipeline)
            record = session.get(state.models.model(move.entity), move.record_id)
            who = access[move.moved_by_id]
            movers.add((move.entity, tuple(who.roles)))
            may = (who.allows(move.entity, "update", record)
                   and stage_allowed_for(who, spec, entity, pipeline.stage(move.to_stage))
                   and transition_allowed_for(who, pipeline, move.from_stage, move.to_stage))
            if not may:
                wrong.append((move.entity, move.record_id, move.from_stage, move.to_stage, who.roles))
        assert not wrong, (len(wrong), wrong[:5])
        deal_movers = {roles for entity, roles in movers if entity == "opportunity"}
        assert ("Sales Rep",) in deal_movers and ("Sales Manager",) in deal_movers, deal_movers
        for entity in spec.entities:  # and every record is owned by someone who may change it
            model = state.models.model(entity.name)
            for record in session.scalars(sa.select(model)):
                if entity.name == "lead" and record.id in pooled:
                    continue
                assert access[record.owner_id].allows(entity.name, "update", record), \
                    (entity.name, record.id, access[record.owner_id].roles)
        session.remove()


def _tool(folder: Any, name: str, script: str) -> None:
    path = folder / name
    path.write_text(f"#!/bin/sh\n{script}\n", encoding="utf-8")
    path.chmod(0o755)


def test_make_browser_installs_cjk_fonts_even_when_chromium_is_there(tmp_path: Any) -> None:
    """Chromium present, fonts missing: the fonts are still installed (Chinese was boxes)."""
    import shutil
    import subprocess
    from pathlib import Path

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "apt.log"
    _tool(bin_dir, "chromium", "exit 0")
    _tool(bin_dir, "dpkg-query", "exit 1")  # fonts-noto-cjk: not installed
    _tool(bin_dir, "id", "echo 0")
    _tool(bin_dir, "apt-get", f'echo "$@" >> {log}')
    for tool in ("sh", "grep", "make"):
        found = shutil.which(tool)
        assert found
        (bin_dir / tool).symlink_to(found)
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run(["make", "-s", "-C", str(root), "browser"], env={"PATH": str(bin_dir)},
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    calls = log.read_text(encoding="utf-8").splitlines()
    assert calls[-1].split()[-1] == "fonts-noto-cjk" and "chromium" not in calls[-1]


def test_revisions_live_next_to_the_metadata_that_made_them(tmp_path: Any, monkeypatch: Any) -> None:
    from pathlib import Path

    from app.settings import ROOT, load_settings, migrations_dir

    company = tmp_path / "acme-metadata"
    company.mkdir()
    legacy = tmp_path / "checkout-migrations-versions"
    legacy.mkdir()
    (legacy / "__init__.py").write_text("", encoding="utf-8")
    assert migrations_dir(company, legacy) == company / "migrations"  # a company's own history
    assert migrations_dir(ROOT / "metadata", legacy) == ROOT / "instance" / "migrations"  # git-ignored
    (legacy / "20260101_abc_metadata_x.py").write_text("# an existing deployment's revision\n", encoding="utf-8")
    assert migrations_dir(company, legacy) == legacy  # existing deployments keep working
    (company / "migrations").mkdir()
    (company / "migrations" / "20260202_def_metadata_y.py").write_text("#\n", encoding="utf-8")
    assert migrations_dir(company, legacy) == company / "migrations"
    monkeypatch.delenv("CRM_MIGRATIONS_DIR", raising=False)
    monkeypatch.setenv("CRM_METADATA_DIR", str(company))
    monkeypatch.setenv("CRM_CONFIG", str(tmp_path / "no-config.py"))
    assert Path(load_settings()["CRM_MIGRATIONS_DIR"]) == company / "migrations"
    monkeypatch.setenv("CRM_MIGRATIONS_DIR", str(tmp_path / "elsewhere"))
    assert load_settings()["CRM_MIGRATIONS_DIR"] == str(tmp_path / "elsewhere")  # set: used as it is


def test_the_demo_fills_the_lead_pool_and_a_rep_may_claim_from_it(app: Any) -> None:
    """The starter's lead pool (公海) was empty in the demo: its page and Claim showed nothing."""
    from app.demo.users import DEMO_PASSWORD
    from tests.conftest import with_demo

    with with_demo(app, size=80).app_context():
        state = app.extensions["crm"]
        lead = state.models.model("lead")
        pooled = state.db.session.execute(
            sa.select(lead.id, lead.status, lead.owner_id).where(lead.in_pool.is_(True))).all()
        holder = state.appbuilder.sm.find_user(username="lead_pool")  # the pool's user (automations.yaml)
        state.db.session.remove()
    assert len(pooled) >= 5
    assert holder is not None and not holder.active and {r.owner_id for r in pooled} == {holder.id}
    assert {r.status for r in pooled} <= {"new", "contacted"}  # what the pool rule recycles (its `if`)
    rep = login(app.test_client(), "sales_rep", DEMO_PASSWORD)
    page = rep.get("/crm/lead/pool/").get_data(as_text=True)
    assert f"/crm/lead/pool/claim/{pooled[0].id}" in page
    assert rep.post(f"/crm/lead/pool/claim/{pooled[0].id}").status_code == 302
    with app.app_context():
        state = app.extensions["crm"]
        lead = state.models.model("lead")
        row = state.db.session.execute(sa.select(lead.in_pool, lead.owner_id).where(lead.id == pooled[0].id)).one()
        assert row.in_pool is False and row.owner_id == state.appbuilder.sm.find_user(username="sales_rep").id
