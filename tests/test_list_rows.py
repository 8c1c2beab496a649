"""The list screen read as plain rows (app/web/listrows.py, `CRM_LIST_READ=core`) draws the page the
ORM records draw (`orm`), byte for byte once the nonce and the CSRF token are set aside.

Every starter entity, as six users: admin; a Sales Rep (own rows); a second rep of the same role;
a Sales Manager (team scope); a Support Agent (a role hiding fields); a Pre-sales Engineer (rows of
their own deals only, so links to the other deals and accounts' deals show "(restricted)"); in
several states (pages, sorts both ways, a filter, a search, an empty result, Chinese with a flash
message, a small page size). A page the plain rows do not cover (a dotted column, a to-many link
chosen as a column) is read through the ORM, and says so; the same pages are compared too.
Also: the kept layout sends Flask's `template_rendered` for the list page, as FAB's way does.

Real database (SQLite or CRM_TEST_DATABASE_URL).
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import before_render_template, g, template_rendered

from app.demo.users import DEMO_PASSWORD
from tests.alltypes import add_gadgets, alltypes_tree
from tests.conftest import ADMIN_PASSWORD, login, with_demo
from tests.test_list_layout import in_session, normalised, states

USERS = {"admin": ADMIN_PASSWORD, "sales_rep": DEMO_PASSWORD, "sales_rep2": DEMO_PASSWORD,
         "sales_manager": DEMO_PASSWORD, "support_agent": DEMO_PASSWORD, "pre_sales_engineer": DEMO_PASSWORD}


def page(client: Any, url: str, read: str, lang: str = "en", flash: str | None = None) -> tuple[str, str]:
    """The page's HTML (normalised) and which path drew its list (`rows` or `orm`)."""
    app = client.application
    app.config["CRM_LIST_READ"] = read
    in_session(client, lang, flash)
    try:
        with client:
            response = client.get(url)
            path = g.get("crm_list_read", "")
    finally:
        app.config["CRM_LIST_READ"] = "core"
    assert response.status_code == 200, (url, response.status_code)
    return normalised(response.data.decode()), path


def same_page(client: Any, url: str, **kwargs: Any) -> tuple[str, str]:
    orm, orm_path = page(client, url, "orm", **kwargs)
    rows, path = page(client, url, "core", **kwargs)
    assert orm_path == "orm"
    if rows != orm:
        at = next((i for i, (x, y) in enumerate(zip(orm, rows, strict=False)) if x != y), min(len(orm), len(rows)))
        pytest.fail(f"{url} {kwargs}\norm:  {orm[max(0, at - 200):at + 120]!r}\nrows: {rows[max(0, at - 200):at + 120]!r}")
    return rows, path


def more_states(entity: Any, view: str) -> list[tuple[str, dict[str, Any]]]:
    base = f"/crm/{entity.name}/list/"
    extra = [(f"{base}?page_{view}=2&psize_{view}=5", {}), (f"{base}?_oc_{view}=id&_od_{view}=desc", {"lang": "zh"})]
    for column in entity.list.columns:  # every sortable column, descending
        field = entity.field_map.get(column)
        if field is not None and field.type not in ("links", "multichoice"):
            extra.append((f"{base}?_oc_{view}={column}&_od_{view}=desc&psize_{view}=10", {}))
    return states(entity, view) + extra


@pytest.fixture
def crm(make_app: Any) -> Any:
    return with_demo(make_app())


def _restricted_link(app: Any) -> None:
    """An activity of the pre-sales engineer linking a deal they are not the engineer of: they read
    the activity (own) and see its deal as "(restricted)"."""
    admin = login(app.test_client())
    me = admin.get("/api/v1/user/picker?q=pre_sales_engineer").json["results"][0]["id"]
    deals = admin.get("/api/v1/opportunity/?q=(page_size:100,columns:!(name,sales_engineer))").json["result"]
    other = next(o for o in deals if not o["sales_engineer"] or o["sales_engineer"]["id"] != me)
    made = admin.post("/api/v1/activity/", json={"subject": "客户回访 <restricted>", "opportunity": other["id"],
                                                 "owner": me})
    assert made.status_code == 201, made.json


@pytest.mark.parametrize("username", list(USERS))
def test_plain_rows_draw_the_page_the_orm_records_draw(crm: Any, username: str) -> None:
    if username == "pre_sales_engineer":
        _restricted_link(crm)
    client = login(crm.test_client(), username, USERS[username])
    spec = crm.extensions["crm"].spec
    paths: dict[str, set[str]] = {}
    restricted = 0
    for entity in spec.entities:
        view = f"{entity.class_name}View"
        if client.get(f"/crm/{entity.name}/list/").status_code != 200:
            continue  # this role may not read the entity
        for url, kwargs in more_states(entity, view):
            html, path = same_page(client, url, **kwargs)
            paths.setdefault(entity.name, set()).add(path)
            restricted += html.count("crm-restricted")
    assert len(paths) >= 5
    assert paths.get("opportunity", {"rows"}) >= {"rows"}  # the fast path drew most pages
    assert sum("rows" in p for p in paths.values()) >= 4
    if "ticket" in paths:
        assert paths["ticket"] == {"orm"}  # `contact.mobile`: a dotted column, read through the ORM
    if username == "pre_sales_engineer":
        assert restricted > 0  # activities linking deals they are not the engineer of


def test_every_field_type_draws_the_same_cells_and_a_to_many_column_takes_the_orm(make_app: Any,
                                                                                   tmp_path: Any) -> None:
    """The all-types entity: its metadata list shows a to-many link (`makers`: the ORM path); the
    columns chosen without it (every other type: money, percent, decimal, choice, multichoice,
    dates, booleans, links, users, e-mail, URL, text with line breaks, NULLs) take the plain rows."""
    tree = alltypes_tree(tmp_path / "meta")
    gadget = tree / "entities" / "gadget.yaml"
    gadget.write_text(gadget.read_text(encoding="utf-8").replace(
        "columns: [serial, name, maker, maker.name, price, color, owner]",
        "columns: [serial, name, makers, maker, price, color, owner]"), encoding="utf-8")
    app = make_app(tree)
    admin = login(app.test_client())
    add_gadgets(admin, "华为 <b>&</b>", ("测试小工具 Alpha", "Beta <i>", "空值"), site="https://example.cn/?a=1&b=<2>",
                notes="第一行\nsecond <line>", phone="+86 138 0013 8000", sku="ABC-123")
    html, path = same_page(admin, "/crm/gadget/list/")
    assert path == "orm" and "/crm/maker/show/" in html
    spec = app.extensions["crm"].spec.entity("gadget")
    singles = [f.name for f in spec.fields if f.type != "links"]
    chosen = admin.put("/api/v1/listviews/gadget/prefs", json={"columns": singles})
    assert chosen.status_code == 200, chosen.json
    for lang in ("en", "zh"):
        for url in ("/crm/gadget/list/", "/crm/gadget/list/?_oc_GadgetView=price&_od_GadgetView=desc",
                    "/crm/gadget/list/?_oc_GadgetView=launched&_od_GadgetView=asc"):
            html, path = same_page(admin, url, lang=lang)
            assert path == "rows" and "1,999.90" in html and "12.5%" in html and "<br>" in html


def test_values_needing_escaping_draw_the_same_cells_in_both_languages(make_app: Any, tmp_path: Any) -> None:
    """Quotes, ampersands and script tags in a title, a link's title, a URL and a text field; empty
    values; Chinese: the plain rows' cell writers (one per column and language) give the ORM path's
    cells, and `display.html_text` is markupsafe's `escape` as text."""
    from markupsafe import Markup, escape

    from app.web.display import html_text

    for value in ("", "plain", "华为", "<script>alert(\"x\")</script>", "a & b", "it's", '"q"', 12, 1.5, None, True,
                  Markup("<b>safe</b>"), "&amp;", "\ue000mark\ue001"):
        assert html_text(value) == str(escape(value)), value
    tree = alltypes_tree(tmp_path / "meta")
    app = make_app(tree)
    admin = login(app.test_client())
    add_gadgets(admin, "华为 \"<script>alert('m')</script>\" & co",
                ("<script>alert(\"x&y\")</script>'", "O'Brien \"引号\"", "空值"),
                site="https://example.cn/?a=1&b='2'", notes="第一行 'a'\n\"second\" <line> & more", sku="ABC-123")
    spec = app.extensions["crm"].spec.entity("gadget")
    singles = [f.name for f in spec.fields if f.type != "links"]
    assert admin.put("/api/v1/listviews/gadget/prefs", json={"columns": singles}).status_code == 200
    for lang in ("en", "zh"):
        for url in ("/crm/gadget/list/", "/crm/gadget/list/?_oc_GadgetView=name&_od_GadgetView=asc",
                    "/crm/gadget/list/?q=O%27Brien"):
            html, path = same_page(admin, url, lang=lang)
            assert path == "rows" and "<script>alert" not in html.split("<tbody>")[-1]
    html, _ = same_page(admin, "/crm/gadget/list/", lang="zh")
    assert "&lt;script&gt;alert(&#34;x&amp;y&#34;)&lt;/script&gt;&#39;" in html and "O&#39;Brien &#34;引号&#34;" in html


def test_a_rep_sees_edit_buttons_only_on_rows_they_may_change(crm: Any) -> None:
    """Row rights come from the scope as SQL on the plain path: a manager reads the team's deals
    and may edit them, a rep only their own (the same buttons as the ORM path's `allowed_ids`)."""
    rep = login(crm.test_client(), "sales_rep", DEMO_PASSWORD)
    html, path = same_page(rep, "/crm/account/list/?psize_AccountView=100")
    assert path == "rows"
    rows = html.count('class="action_check"')
    edits = html.count("/crm/account/edit/")
    assert rows > 0 and 0 < edits < rows  # reads every account, edits only its own


def test_the_kept_layout_sends_template_rendered_as_fabs_way_does(crm: Any) -> None:
    """Flask sends `before_render_template` and `template_rendered` for a page's template (test
    tools and extensions listen to them); the kept layout renders its parts itself, and sent
    neither for the list page."""
    client = login(crm.test_client())
    for layout in ("fab", "cached"):
        crm.config["CRM_LIST_LAYOUT"] = layout
        seen: list[tuple[str, str]] = []

        def record(signal: str, seen: list[tuple[str, str]] = seen) -> Any:
            def receiver(sender: Any, template: Any, context: Any, **extra: Any) -> None:
                if template.name == "crm/list.html":
                    assert sender is crm and context["widgets"]["list"] and context["crm_entity"].name == "lead"
                    seen.append((signal, template.name))
            return receiver

        before, after = record("before"), record("after")
        with before_render_template.connected_to(before, crm), template_rendered.connected_to(after, crm):
            assert client.get("/crm/lead/list/").status_code == 200
        assert seen == [("before", "crm/list.html"), ("after", "crm/list.html")], layout
    crm.config["CRM_LIST_LAYOUT"] = "cached"


def test_a_link_column_sorts_by_its_title_on_both_paths(crm: Any) -> None:
    """The header offered a sort on link and user columns (account, owner) and the sort answered
    500 (FAB orders by the relationship); htmlrows stopped offering them. Now both are offered and
    sort by the target's title (app/web/linksort.py), the plain rows drawing the ORM's page."""
    client = login(crm.test_client())
    default, _ = same_page(client, "/crm/opportunity/list/")
    assert "_oc_OpportunityView=account" in default and "_oc_OpportunityView=owner" in default
    for column in ("account", "owner"):
        for direction in ("asc", "desc"):
            html, path = same_page(client, f"/crm/opportunity/list/?_oc_OpportunityView={column}"
                                           f"&_od_OpportunityView={direction}")
            assert path == "rows"
            assert html.count('class="action_check"') == default.count('class="action_check"')
            assert html != default
