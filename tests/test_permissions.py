"""The permission matrix: every role × entity × action × channel, over real HTTP.

Expectations are computed here, from roles.yaml as parsed, by a small
independent evaluator (not the app's Access): change a rule in the metadata
and the matrix follows. Every cell asserts denial as well as access.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import re
from typing import Any

import prison
import pytest
import sqlalchemy as sa

from app.demo.loader import link_order
from app.demo.users import DEMO_PASSWORD, create_demo_users
from app.demo.values import value_for
from app.metadata.spec import CrmSpec
from app.security.access import access_for
from app.security.explain import explain
from tests.conftest import STARTER, build_test_app, dispose_app, fresh_database, login

SCOPES = {"no": 0, "own": 1, "team": 2, "all": 3}


# -- an independent reading of roles.yaml -----------------------------------------------
def resolved(spec: CrmSpec, role: str) -> tuple[dict, dict]:
    r = spec.role_map[role]
    grants: dict = {}
    fields: dict = {}
    for parent in r.extends:
        g, f = resolved(spec, parent)
        grants.update(g)
        fields.update(f)
    grants.update(dict(r.grants))
    fields.update(dict(r.field_rules))
    return grants, fields


def expected_scope(spec: CrmSpec, roles: list[str], entity: str, action: str) -> str:
    best = "no"
    for role in roles:  # every demo user has one role: the widest named scope is theirs
        scope = resolved(spec, role)[0].get((entity, action), "no")
        best = scope if SCOPES.get(scope, 1) > SCOPES.get(best, 1) else best
    return best


def hidden_for(spec: CrmSpec, roles: list[str], entity: str) -> set[str]:
    if "Admin" in roles:
        return set()
    readers = [r for r in roles if expected_scope(spec, [r], entity, "read") != "no"]
    names = {f.name for f in spec.entity(entity).fields}
    return {n for n in names if all(resolved(spec, r)[1].get((entity, n), "write") == "hidden"
                                    for r in readers)} if readers else names


CLAUSE = re.compile(r"^(all|team|own|no|via)(?:\((\w+)\))?$")


def in_scope(world: Any, roles: list[str], scope: str, entity: str, pk: int, user: int, team: set[int]) -> bool:
    """Is record `pk` in `scope`: any clause of `own or own(x) or via(link)` admits it."""
    row = world["rows"][entity][pk]
    for clause in scope.split(" or "):
        match = CLAUSE.match(clause.strip())
        assert match, clause
        kind, arg = match.groups()
        holder = row.get(arg or "owner")
        if kind == "all" or (kind == "own" and holder == user) or (kind == "team" and holder in team):
            return True
        if kind == "via" and row.get(arg) is not None:
            target = world["spec"].entity(entity).field(arg).target
            target_scope = "all" if "Admin" in roles else expected_scope(world["spec"], roles, target, "read")
            if in_scope(world, roles, target_scope, target, row[arg], user, team):
                return True
    return False


# -- one app, seeded once: records of every entity owned by each demo user ---------------
@pytest.fixture(scope="module")
def world(tmp_path_factory: Any) -> Any:
    base = tmp_path_factory.mktemp("perm")
    with fresh_database(base) as url:
        app = build_test_app(url, STARTER, base / "no-plugins")
        with app.app_context():
            state = app.extensions["crm"]
            users = create_demo_users(state.appbuilder, state.models)
            sm = state.appbuilder.sm
            people = {name: sm.find_user(username=name) for name, _ in users}
            people["admin"] = sm.find_user(username="admin")
            records = _seed(state, {n: u.id for n, u in people.items()})
            teams = _teams(state)
            info = {name: {"id": u.id, "roles": [r.name for r in u.roles]} for name, u in people.items()}
        yield {"app": app, "spec": state.spec, "users": info, "records": records, "teams": teams,
               "rows": state.crm_seeded_rows}
        dispose_app(app)


def _seed(state: Any, owners: dict[str, int]) -> dict[str, dict[int, int]]:
    """entity -> {record id: owner id}; one record per (entity, owner)."""
    session, models = state.db.session, state.models
    rng = random.Random(11)
    first: dict[str, int] = {}
    records: dict[str, dict[int, int]] = {}
    rows: dict[str, dict[int, dict[str, Any]]] = {}
    people = [owner for _, owner in sorted(owners.items())]
    for entity in link_order(state.spec):
        model = models.model(entity.name)
        records[entity.name], rows[entity.name] = {}, {}
        for index, owner in enumerate(people):
            row = model(owner_id=owner)
            kept: dict[str, Any] = {"owner": owner}
            for f in entity.declared_fields:
                if f.type == "link":  # the first record of the target (related lists read it)
                    setattr(row, f.column_name, first.get(f.to or ""))
                    kept[f.name] = first.get(f.to or "")
                elif f.type == "user":  # another user than the owner: own(field) differs from own
                    kept[f.name] = people[(index + 1) % len(people)]
                    setattr(row, f.column_name, kept[f.name])
                elif f.type not in ("links", "autonumber"):
                    setattr(row, f.name, value_for(entity, f, 500 + index, rng, dt.date(2026, 5, 1)))
            for pipeline in entity.pipelines if entity.locked_if else ():
                # the matrix is about scopes: keep records out of the lock (tests/test_rules.py)
                setattr(row, pipeline.field, pipeline.stages[0].name)
            session.add(row)
            session.flush()
            records[entity.name][row.id] = owner
            rows[entity.name][row.id] = kept
            first.setdefault(entity.name, row.id)
    session.commit()
    state.crm_seeded_rows = rows
    return records


def _teams(state: Any) -> dict[int, set[int]]:
    """user id -> ids of users whose records team scope covers (independent query)."""
    member, team = state.models.core["crm_team_member"], state.models.core["crm_team"]
    session = state.db.session
    result: dict[int, set[int]] = {}
    rows = session.execute(sa.select(member.c.team_id, member.c.user_id)).all()
    managers = session.execute(sa.select(team.c.id, team.c.manager_id)).all()
    for team_id, user in rows + managers:
        mates = {u for t, u in rows if t == team_id}
        result.setdefault(user, set()).update(mates)
    return result


def _client(world: Any, name: str) -> Any:
    password = "admin-pass-1" if name == "admin" else DEMO_PASSWORD
    return login(world["app"].test_client(), name, password)


def _cells(world_users: list[str]) -> list[tuple[str, str]]:
    from app.metadata.loader import load_spec
    spec = load_spec(STARTER)
    return [(u, e.name) for u in world_users for e in spec.entities]


USERS = ["admin", "executive", "sales_rep", "sales_rep2", "sales_manager", "pre_sales_engineer",
         "pre_sales_engineer2", "support_agent", "marketing"]


def _expect(world: Any, user: str, entity: str, action: str) -> tuple[str, set[int]]:
    info = world["users"][user]
    roles = info["roles"]
    scope = "all" if "Admin" in roles else expected_scope(world["spec"], roles, entity, action)
    team = world["teams"].get(info["id"], set()) | {info["id"]}
    ids = {pk for pk in world["records"][entity] if in_scope(world, roles, scope, entity, pk, info["id"], team)}
    return scope, ids


@pytest.mark.parametrize(("user", "entity"), _cells(USERS))
def test_read_channels(world: Any, user: str, entity: str) -> None:
    client = _client(world, user)
    scope, readable = _expect(world, user, entity, "read")
    all_ids = set(world["records"][entity])
    listing = client.get(f"/api/v1/{entity}/?q=(page_size:100)")
    screen = client.get(f"/crm/{entity}/list/?psize_{_view(entity)}=100")
    picker = client.get(f"/api/v1/{entity}/picker?q=")
    if scope == "no":
        assert listing.status_code == 403 and screen.status_code == 403 and picker.status_code == 403
        return
    assert set(listing.json["ids"]) == readable
    html = screen.data.decode()
    assert {pk for pk in all_ids if f"/crm/{entity}/show/{pk}\"" in html} == readable
    assert {r["id"] for r in picker.json["results"]} >= readable
    assert not ({r["id"] for r in picker.json["results"]} & (all_ids - readable))
    for pk in all_ids:
        expected = 200 if pk in readable else 404
        assert client.get(f"/api/v1/{entity}/{pk}").status_code == expected, (pk, "api get")
        assert client.get(f"/crm/{entity}/show/{pk}").status_code == expected, (pk, "show")


def _view(entity: str) -> str:
    return "".join(p.capitalize() for p in entity.split("_")) + "View"


@pytest.mark.parametrize(("user", "entity"), _cells([u for u in USERS if u != "admin"]))
def test_hidden_fields_never_leave_the_server(world: Any, user: str, entity: str) -> None:
    info = world["users"][user]
    hidden = hidden_for(world["spec"], info["roles"], entity)
    scope, readable = _expect(world, user, entity, "read")
    if scope == "no" or not readable:
        return
    client = _client(world, user)
    row = client.get(f"/api/v1/{entity}/?q=(page_size:100)").json["result"][0]
    shown = client.get(f"/api/v1/{entity}/{sorted(readable)[0]}").json["result"]
    assert not (hidden & set(row)) and not (hidden & set(shown))
    for name in hidden:
        flt = [{"col": name, "opr": "eq", "value": "1"}]
        assert client.get(f"/api/v1/{entity}/?q=" + prison.dumps({"filters": flt})).status_code == 400
        order = {"order_column": name, "order_direction": "asc"}
        assert client.get(f"/api/v1/{entity}/?q=" + prison.dumps(order)).status_code == 400
        assert client.get(f"/api/v1/{entity}/?q=" + prison.dumps({"columns": [name]})).status_code == 400
        label = world["spec"].entity(entity).field(name).label.get()
        page = client.get(f"/crm/{entity}/show/{sorted(readable)[0]}").data.decode()
        assert f">{label}<" not in page.replace("\n", "").replace("  ", ""), name


@pytest.mark.parametrize(("user", "entity"), _cells(USERS))
def test_update_channel(world: Any, user: str, entity: str) -> None:
    client = _client(world, user)
    read_scope, readable = _expect(world, user, entity, "read")
    scope, updatable = _expect(world, user, entity, "update")
    spec_entity = world["spec"].entity(entity)
    title = spec_entity.title_field
    if spec_entity.field(title).type == "autonumber":
        title = next(f.name for f in spec_entity.declared_fields if f.type in ("string", "text")
                     and f.editable and f.name != title)
    for pk in world["records"][entity]:
        current = client.get(f"/api/v1/{entity}/{pk}")
        response = client.put(f"/api/v1/{entity}/{pk}", json={title: f"改名 {pk}"})
        if read_scope == "no":
            assert response.status_code == 403
        elif pk not in readable:
            assert response.status_code == 404
        elif scope == "no":
            assert response.status_code == 403  # FAB: no can_write on the entity
        elif pk in updatable:
            assert response.status_code == 200, response.json
            hidden = hidden_for(world["spec"], world["users"][user]["roles"], entity)
            assert not (hidden & set(response.json["result"]))
            client.put(f"/api/v1/{entity}/{pk}", json={title: current.json["result"][title]})
        else:
            assert response.status_code == 403, (pk, response.json)


@pytest.mark.parametrize(("user", "entity"), _cells(USERS))
def test_create_export_and_forged_owner(world: Any, user: str, entity: str) -> None:
    client = _client(world, user)
    scope, exportable = _expect(world, user, entity, "export")
    response = client.get(f"/api/v1/{entity}/export")
    api_text = response.get_data(as_text=True)  # a streamed body: read it before the next request
    screen = client.get(f"/crm/{entity}/export")
    screen_text = screen.get_data(as_text=True)
    if scope == "no":
        assert response.status_code == 403 and screen.status_code in (302, 403)
    else:
        rows = list(csv.reader(io.StringIO(api_text.lstrip("\ufeff"))))
        assert {int(r[0]) for r in rows[1:]} == exportable
        screen_rows = list(csv.reader(io.StringIO(screen_text.lstrip("\ufeff"))))[1:]
        assert {int(r[0]) for r in screen_rows} == exportable
        header = rows[0]
        hidden = hidden_for(world["spec"], world["users"][user]["roles"], entity)
        labels = {world["spec"].entity(entity).field(n).label.get() for n in hidden}
        assert not (labels & set(header))
    create_scope, _ = _expect(world, user, entity, "create")
    forged = client.post(f"/api/v1/{entity}/", json={"owner": world["users"]["admin"]["id"]})
    reassign_scope, _ = _expect(world, user, entity, "reassign")
    if create_scope == "no":
        assert forged.status_code == 403
    elif reassign_scope == "no":  # the owner is not the user's to set
        assert forged.status_code == 400 and "owner" in forged.json["message"]
    else:  # a role that may reassign sets the owner, within its reassign scope (admin: anyone)
        assert forged.status_code == 422
        assert ("owner" in forged.json["message"]) == (user != "admin")


def test_explainer_agrees_with_the_matrix(world: Any) -> None:
    app = world["app"]
    with app.app_context():
        state = app.extensions["crm"]
        for user in USERS:
            access = access_for(state.appbuilder.sm.find_user(username=user))
            for entity in state.spec.entities:
                for pk in world["records"][entity.name]:
                    record = state.db.session.get(state.models.model(entity.name), pk)
                    answer = explain(access, state.spec, entity.name, record, pk)
                    for a in answer.actions:
                        scope, allowed_ids = _expect(world, user, entity.name, a.action)
                        assert a.scope == scope, (user, entity.name, a.action)
                        if a.allowed is not None:
                            assert a.allowed == (pk in allowed_ids), (user, entity.name, a.action, pk)


def test_related_lists_and_search_show_only_readable_records(world: Any) -> None:
    client = _client(world, "sales_rep")
    _, readable = _expect(world, "sales_rep", "opportunity", "read")
    app = world["app"]
    with app.app_context():
        state = app.extensions["crm"]
        model = state.models.model("opportunity")
        names = {o.id: o.name for o in state.db.session.scalars(sa.select(model))}
        account_id = next(iter(world["records"]["account"]))
    page = client.get(f"/crm/account/show/{account_id}").data.decode()
    # the Opportunities tab (FAB renders each related list in its own tab pane)
    start = page.index('<div id="OpportunityView" class="tab-pane">')
    end = page.find('class="tab-pane">', start + 40)
    tab = page[start:end if end > 0 else len(page)]
    for pk, name in names.items():
        assert (re.search(f"/crm/opportunity/show/{pk}[?\"]", tab) is not None) == (pk in readable)
        found = client.get("/api/v1/opportunity/?q=" + prison.dumps(
            {"filters": [{"col": "name", "opr": "search", "value": name}]})).json["ids"]
        assert (pk in found) == (pk in readable)


def test_linking_to_an_unreadable_record_is_refused(world: Any) -> None:
    client = _client(world, "sales_rep")
    _, readable = _expect(world, "sales_rep", "lead", "read")
    hidden_lead = next(pk for pk in world["records"]["lead"] if pk not in readable)
    activity = {"subject": "跟进", "lead": hidden_lead}
    response = client.post("/api/v1/activity/", json=activity)
    assert response.status_code == 422 and "lead" in response.json["message"]


def test_info_and_screen_filters_hide_what_the_role_cannot_see(world: Any) -> None:
    client = _client(world, "support_agent")
    info = client.get("/api/v1/opportunity/_info").json
    assert "amount" not in info["filters"]
    assert "amount" not in {c["name"] for c in info["add_columns"] + info["edit_columns"]}
    assert "can_write" not in info["permissions"] and "can_read" in info["permissions"]
    page = client.get("/crm/opportunity/list/?_flt_2_amount=1").data.decode()
    assert "cannot be filtered on" in page
    assert client.get("/crm/opportunity/list/?q=1").status_code == 200


def test_derived_weighted_amount_is_hidden_with_the_amount(world: Any) -> None:
    admin = _client(world, "admin").get("/api/v1/opportunity/?q=(page_size:1)").json["result"][0]
    assert "weighted_amount" in admin
    support = _client(world, "support_agent").get("/api/v1/opportunity/?q=(page_size:1)").json["result"][0]
    assert "weighted_amount" not in support and "amount" not in support


# -- link channels: paths through links and titles of linked records ----------------------
def _links_and_titles(world: Any) -> tuple[dict[str, dict[int, dict[str, Any]]], dict[str, dict[int, str]]]:
    """entity -> {id: {link field: target id}}, and entity -> {id: title}, read straight from the tables."""
    app, spec = world["app"], world["spec"]
    links: dict[str, dict[int, dict[str, Any]]] = {}
    titles: dict[str, dict[int, str]] = {}
    with app.app_context():
        state = app.extensions["crm"]
        for entity in spec.entities:
            model = state.models.model(entity.name)
            rows = state.db.session.scalars(sa.select(model)).all()
            titles[entity.name] = {row.id: str(row) for row in rows}
            links[entity.name] = {row.id: {f.name: getattr(row, f.column_name) for f in entity.declared_fields
                                           if f.type == "link"} for row in rows}
    return links, titles


def _may_read(world: Any, user: str, entity: str, pk: Any) -> bool:
    return pk in _expect(world, user, entity, "read")[1]


def _link_fields(world: Any, user: str, entity: str) -> list[Any]:
    hidden = hidden_for(world["spec"], world["users"][user]["roles"], entity)
    return [f for f in world["spec"].entity(entity).declared_fields if f.type == "link" and f.name not in hidden]


@pytest.mark.parametrize("user", USERS)
def test_link_titles_of_unreadable_records_are_withheld(world: Any, user: str) -> None:
    """API list, record page and CSV export: a link to a record the user may not read keeps
    its id and shows "(restricted)", never the title; a readable one shows its title."""
    client = _client(world, user)
    links, titles = _links_and_titles(world)
    seen_restricted = seen_title = 0
    for entity in world["spec"].entities:
        scope, readable = _expect(world, user, entity.name, "read")
        fields = _link_fields(world, user, entity.name)
        if scope == "no" or not readable or not fields:
            continue
        rows = client.get(f"/api/v1/{entity.name}/?q=(page_size:100)").json["result"]
        rows.append(client.get(f"/api/v1/{entity.name}/{sorted(readable)[0]}").json["result"])
        for row in rows:
            for f in (f for f in fields if f.name in row):
                target = links[entity.name][row["id"]][f.name]
                if target is None:
                    assert row[f.name] is None
                elif _may_read(world, user, f.to, target):
                    assert row[f.name] == {"id": target, "title": titles[f.to][target]}
                    seen_title += 1
                else:
                    assert row[f.name] == {"id": target, "title": "(restricted)"}, (entity.name, f.name)
                    seen_restricted += 1
        pk = sorted(readable)[0]
        page = client.get(f"/crm/{entity.name}/show/{pk}").get_data(as_text=True)
        for f in fields:
            target = links[entity.name][pk][f.name]
            if target is not None:
                readable_target = _may_read(world, user, f.to, target)
                assert (f"/crm/{f.to}/show/{target}\"" in page) == readable_target, (entity.name, f.name)
                if not readable_target:  # (ids repeat across entities: only this direction is telling)
                    assert f"#{target} (restricted)" in page, (entity.name, f.name)
        if _expect(world, user, entity.name, "export")[0] != "no":
            text = client.get(f"/api/v1/{entity.name}/export").get_data(as_text=True)
            table = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
            for line in table:
                for f in fields:
                    target = links[entity.name][int(line["id"])][f.name]
                    if target is not None:
                        expected = titles[f.to][target] if _may_read(world, user, f.to, target) \
                            else f"#{target} (restricted)"
                        assert line[f.label.get()] == expected, (entity.name, f.name)
    if user == "admin":
        assert seen_restricted == 0 and seen_title > 0
    elif user in ("sales_rep", "marketing", "support_agent"):
        assert seen_restricted > 0


def _hidden_path(world: Any, user: str, entity: str, path: str) -> bool:
    """The report builder refuses a path the user may not see (an unreadable entity counts)."""
    roles = world["users"][user]["roles"]
    if "Admin" in roles:
        return False
    head, _, tail = path.partition(".")
    link = world["spec"].entity(entity).field(head)
    if head in hidden_for(world["spec"], roles, entity):
        return True
    return bool(tail) and (expected_scope(world["spec"], roles, link.to, "read") == "no"
                           or tail in hidden_for(world["spec"], roles, link.to))


REPORT_PATHS = {"activity": ["opportunity.amount", "lead.mobile", "ticket.subject", "opportunity", "lead", "ticket"],
                "lead": ["converted_opportunity.amount", "converted_opportunity"]}


@pytest.mark.parametrize("user", USERS)
@pytest.mark.parametrize("entity", sorted(REPORT_PATHS))
def test_report_link_paths_read_only_linked_records_in_scope(world: Any, user: str, entity: str) -> None:
    """The report builder's link paths (activity → opportunity.amount, lead.mobile) join the
    target within the viewer's read scope: another rep's deal amount or lead's phone reads empty,
    its title restricted; JSON and the CSV export alike."""
    scope, readable = _expect(world, user, entity, "read")
    paths = [p for p in REPORT_PATHS[entity] if not _hidden_path(world, user, entity, p)]
    definition = {"entity": entity, "columns": ["id", *paths]}
    client = _client(world, user)
    answer = client.post("/api/v1/reports/data?limit=1000", json=definition)
    if scope == "no":
        assert answer.status_code in (400, 403)
        return
    assert answer.status_code == 200, answer.json
    full = _client(world, "admin").post("/api/v1/reports/data?limit=1000", json=definition).json
    truth = {row[0]: dict(zip(full["paths"], row, strict=True)) for row in full["rows"]}
    links, _ = _links_and_titles(world)
    got = {row[0]: dict(zip(answer.json["paths"], row, strict=True)) for row in answer.json["rows"]}
    assert set(got) == readable
    withheld = 0
    for pk, row in got.items():
        for path in paths:
            head, _, tail = path.partition(".")
            target = links[entity][pk][head]
            target_entity = world["spec"].entity(entity).field(head).to
            if target is None or _may_read(world, user, target_entity, target):
                assert row[path] == truth[pk][path], (pk, path)
            else:
                withheld += 1
                assert row[path] == (None if tail else f"#{target} (restricted)"), (pk, path)
    if user in ("sales_rep", "sales_rep2", "sales_manager"):
        assert withheld > 0  # the seeded links point at records these roles may not read
    if _expect(world, user, entity, "export")[0] != "no":
        query = f"entity={entity}&columns=" + ",".join(["id", *paths])
        text = client.get(f"/crm/reports/export.csv?{query}").get_data(as_text=True)
        lines = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
        exportable = _expect(world, user, entity, "export")[1]
        assert {int(line[0]) for line in lines[1:]} == exportable
        for line in lines[1:]:
            for path, value in zip(paths, line[1:], strict=True):
                head, _, tail = path.partition(".")
                target = links[entity][int(line[0])][head]
                target_entity = world["spec"].entity(entity).field(head).to
                if target is not None and not _may_read(world, user, target_entity, target):
                    assert value == ("" if tail else f"#{target} (restricted)"), (line[0], path)


def test_saving_a_record_keeps_a_link_the_user_may_not_read(world: Any) -> None:
    """A rep's own activity linked to someone else's lead: the form shows the link as restricted
    and saving (screen and API) keeps it; choosing another unreadable lead is still refused."""
    user = "sales_rep"
    client = _client(world, user)
    links, titles = _links_and_titles(world)
    _, mine = _expect(world, user, "activity", "read")
    pk = next(p for p in sorted(mine) if links["activity"][p]["lead"] is not None
              and not _may_read(world, user, "lead", links["activity"][p]["lead"]))
    lead = links["activity"][pk]["lead"]
    form = client.get(f"/crm/activity/edit/{pk}").get_data(as_text=True)
    assert f'value="{lead}" selected>#{lead} (restricted)<' in form
    assert titles["lead"][lead] not in form
    saved = client.put(f"/api/v1/activity/{pk}", json={"subject": "回访客户", "lead": lead})
    assert saved.status_code == 200, saved.json
    assert saved.json["result"]["lead"] == {"id": lead, "title": "(restricted)"}
    other = next(p for p in world["records"]["lead"] if p != lead and not _may_read(world, user, "lead", p))
    refused = client.put(f"/api/v1/activity/{pk}", json={"lead": other})
    assert refused.status_code == 422 and "lead" in refused.json["message"]
    assert _links_and_titles(world)[0]["activity"][pk]["lead"] == lead


@pytest.mark.parametrize(("user", "entity"), _cells(USERS))
def test_reassign_channel(world: Any, user: str, entity: str) -> None:
    """Reassign each record to its own owner (a no-op that passes every check when allowed):
    403 without the reassign scope or outside it, 404 out of the read scope, 422 when the owner
    is not one of the owner field's roles; the list offers the bulk action exactly to those who may."""
    client = _client(world, user)
    read_scope, readable = _expect(world, user, entity, "read")
    update_scope, _ = _expect(world, user, entity, "update")
    scope, reassignable = _expect(world, user, entity, "reassign")
    roles_of = {info["id"]: set(info["roles"]) for info in world["users"].values()}
    owner_roles = set(world["spec"].entity(entity).field("owner").roles)
    for pk, owner in world["records"][entity].items():
        response = client.post(f"/api/v1/{entity}/reassign", json={"ids": [pk], "owner": owner})
        if update_scope == "no" or scope == "no":
            expected = 403  # no can_write on the entity (FAB), or no reassign scope (the command)
        elif pk not in readable:
            expected = 404
        elif pk not in reassignable:
            expected = 403
        elif owner_roles and not (roles_of[owner] & owner_roles):
            expected = 422
        else:
            expected = 200
        assert response.status_code == expected, (pk, owner, response.json)
    if read_scope == "no":
        return
    page = client.get(f"/crm/{entity}/list/").get_data(as_text=True)
    offered = scope != "no" and update_scope != "no"
    assert ("reassign_menu_item" in page) == offered
    # rows get checkboxes for any list action the role has (reassign, bulk update or delete, export ticked)
    assert ('class="action_check"' in page) == bool(re.search(r'class="\w+_menu_item"', page))
    if not offered and update_scope != "no":  # FAB lets the post in; the reassign scope refuses it
        pk, owner = next(iter(world["records"][entity].items()))
        forged = client.post(f"/crm/{entity}/action_post", data={"action": "reassign", "rowid": pk, "owner": owner})
        assert forged.status_code == 403
