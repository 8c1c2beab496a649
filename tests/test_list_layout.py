"""The list screen's kept layout (app/web/listlayout.py) draws the page FAB's templates draw.

Every entity of the starter, as four users (admin; a row-scoped Sales Rep; a second Sales Rep,
the same role set under another name; a Support Agent, whose role hides fields), in several
states (pages, sorts, a filter, a search, an empty result, Chinese, a pending flash message):
the page with `CRM_LIST_LAYOUT=cached` is the page with `fab`, byte for byte once the two
values that are new on every request are set aside (the CSP nonce and the CSRF token).
Then the layout follows what it depends on: a permission taken from a role, in this process
and in another sharing the database and Redis, and a new metadata version.

Real database (SQLite or CRM_TEST_DATABASE_URL), real Redis for the two-process case.
"""

from __future__ import annotations

import re
import threading
from typing import Any

import pytest

from app.demo.users import DEMO_PASSWORD, create_demo_users
from app.metaversions import store
from app.metaversions.apply import apply_files
from app.metaversions.live import install
from tests.conftest import ADMIN_PASSWORD, login, with_demo, write_tree
from tests.jobs_support import test_redis_url, wait_for
from tests.test_metadata_versions import DEAL

NONCE = re.compile(r'nonce="[^"]+"')
CSRF = re.compile(r'(name="csrf_token" value=|name="crm-csrf-token" content=)"[^"]+"')
USERS = {"admin": ADMIN_PASSWORD, "sales_rep": DEMO_PASSWORD, "sales_rep2": DEMO_PASSWORD,
         "support_agent": DEMO_PASSWORD}


def normalised(html: str) -> str:
    """The page without its per-request values: the nonce and the CSRF token."""
    return CSRF.sub(r'\1"CSRF"', NONCE.sub('nonce="NONCE"', html))


def in_session(client: Any, lang: str, flash: str | None) -> None:
    """The client's language, and a flash message waiting for its next page."""
    with client.session_transaction() as session:
        session["locale"] = lang
        if flash:
            session["_flashes"] = [("info", flash)]


def page(client: Any, url: str, layout: str, lang: str = "en", flash: str | None = None) -> str:
    client.application.config["CRM_LIST_LAYOUT"] = layout
    in_session(client, lang, flash)
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.data.decode()


def same_page(client: Any, url: str, **kwargs: Any) -> str:
    fab = normalised(page(client, url, "fab", **kwargs))
    cached = normalised(page(client, url, "cached", **kwargs))
    assert cached == fab, (url, kwargs, _first_difference(fab, cached))
    return cached


def _first_difference(a: str, b: str) -> str:
    at = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
    return f"fab: {a[max(0, at - 80):at + 80]!r}\ncached: {b[max(0, at - 80):at + 80]!r}"


def states(entity: Any, view: str) -> list[tuple[str, dict[str, Any]]]:
    """The list's URLs in several states, with the language and a pending flash message."""
    base = f"/crm/{entity.name}/list/"
    order = next((c for c in entity.list.columns if "." not in c and entity.field(c).type not in ("links",
                                                                                                  "multichoice")), "id")
    column = entity.list.filters[0] if entity.list.filters else "id"
    field = entity.field_map.get(column)
    value = field.choices[0].value if field is not None and field.choices else "a"  # an active filter
    return [
        (base, {}),
        (f"{base}?page_{view}=1", {}),
        (f"{base}?_oc_{view}={order}&_od_{view}=asc", {}),
        (f"{base}?_oc_{view}={order}&_od_{view}=desc&psize_{view}=10", {}),
        (f"{base}?_flt_0_{column}={value}", {}),
        (f"{base}?q=a", {}),
        (f"{base}?q=%E6%B2%A1%E6%9C%89%E8%BF%99%E6%9D%A1zz", {}),  # 没有这条: nothing found
        (base, {"lang": "zh"}),
        (f"{base}?page_{view}=1", {"lang": "zh", "flash": "已保存 <b>宁德时代</b> & co"}),
    ]


@pytest.fixture
def crm(make_app: Any) -> Any:
    return with_demo(make_app())


@pytest.mark.parametrize("username", list(USERS))
def test_the_kept_layout_draws_the_page_fab_draws(crm: Any, username: str) -> None:
    client = login(crm.test_client(), username, USERS[username])
    spec = crm.extensions["crm"].spec
    readable = 0
    for entity in spec.entities:
        view = f"{entity.class_name}View"
        if client.get(f"/crm/{entity.name}/list/").status_code != 200:
            continue  # this role may not read the entity: FAB's answer either way
        readable += 1
        for url, kwargs in states(entity, view):
            same_page(client, url, **kwargs)
    assert readable >= 5
    # one layout per language for this user's role set (the same access generation throughout)
    assert 1 <= len(crm.extensions["crm_list_layouts"]) <= 2


def test_two_users_of_one_role_share_the_layout_not_their_names(crm: Any) -> None:
    with crm.app_context():
        sm = crm.extensions["crm"].appbuilder.sm
        second = sm.find_user(username="sales_rep2")
        second.first_name, second.last_name = "<i>李</i>", "四 & 五"
        sm.update_user(second)
    first = login(crm.test_client(), "sales_rep", DEMO_PASSWORD)
    page(first, "/crm/lead/list/", "cached")
    other = login(crm.test_client(), "sales_rep2", DEMO_PASSWORD)
    html = same_page(other, "/crm/lead/list/?q=%E5%AE%81&x=%22%3E")  # the language switch's `next` too
    assert "&lt;i&gt;李&lt;/i&gt; 四 &amp; 五" in html and "<i>李</i>" not in html
    assert 'name="next" value="/crm/lead/list/?q=%E5%AE%81&amp;x=%22%3E"' in html


def test_the_kept_filter_bar_takes_each_requests_filters(crm: Any) -> None:
    client = login(crm.test_client())
    for stage, other in (("proposal", "negotiation"), ("negotiation", "proposal")):
        html = same_page(client, f"/crm/opportunity/list/?_flt_0_stage={stage}")
        script = html[html.index("new AdminFilters("):]
        assert f'"{stage}"' in script and f'"{other}"' not in script[:script.index("</script>")]


def _revoke(app: Any, role: str, permission: str, view: str) -> None:
    with app.app_context():
        sm = app.extensions["crm"].appbuilder.sm
        sm.del_permission_role(sm.find_role(role), sm.find_permission_view_menu(permission, view))


def test_a_permission_taken_from_a_role_leaves_the_menu_and_the_buttons_at_once(crm: Any) -> None:
    rep = login(crm.test_client(), "sales_rep", DEMO_PASSWORD)
    before = page(rep, "/crm/lead/list/", "cached")
    assert 'href="/crm/campaign/list/"' in before and 'href="/crm/lead/add' in before
    _revoke(crm, "Sales Rep", "menu_access", "campaign")
    _revoke(crm, "Sales Rep", "can_create", "lead")
    after = same_page(rep, "/crm/lead/list/")
    assert 'href="/crm/campaign/list/"' not in after and 'href="/crm/lead/add' not in after


def test_another_process_taking_a_permission_is_followed_through_redis(make_app: Any) -> None:
    """Two apps on one database and Redis stand for two workers: the first changes the role,
    the second's kept layout (warm, its access cache good for an hour) follows at once."""
    url = test_redis_url()
    first = make_app(REDIS_URL=url, CRM_ACCESS_CACHE_SECONDS=3600)
    with first.app_context():
        create_demo_users(first.extensions["crm"].appbuilder, first.extensions["crm"].models)
    second = make_app(REDIS_URL=url, CRM_ACCESS_CACHE_SECONDS=3600)
    rep = login(second.test_client(), "sales_rep", DEMO_PASSWORD)
    for _ in range(2):
        assert 'href="/crm/campaign/list/"' in page(rep, "/crm/opportunity/list/", "cached")
    _revoke(first, "Sales Rep", "menu_access", "campaign")
    assert 'href="/crm/campaign/list/"' not in page(rep, "/crm/opportunity/list/", "cached")


def test_a_new_metadata_version_brings_its_menu(make_app: Any, tmp_path: Any) -> None:
    meta = write_tree(tmp_path / "meta", {"deal": DEAL})
    app = make_app(meta, CRM_METADATA_POLL_SECONDS=0.2)
    live = install(app)
    try:
        client = login(app.test_client())
        assert 'href="/crm/memo/list/"' not in page(client, "/crm/deal/list/", "cached")
        other = make_app(meta)  # another process applies a version with a new entity
        with other.app_context():
            base = store.current(other.extensions["crm"].db.engine)
        memo = "label: {en: Memo, zh: 备忘}\nfields:\n  title: {type: string, label: {en: Title, zh: 标题}}\n"
        done: list[Any] = []
        applying = threading.Thread(target=lambda: done.append(apply_files(
            other, {**base.files, "entities/memo.yaml": memo}, base_id=base.id, author="admin",
            message="add memo", write_back=False)))
        applying.start()
        applying.join()
        assert done and done[0].ok, done
        wait_for(lambda: 'href="/crm/memo/list/"' in page(client, "/crm/deal/list/", "cached"), timeout=30,
                 what="the new version's menu on the list page")
        same_page(client, "/crm/deal/list/")
    finally:
        live.close()


@pytest.mark.parametrize("cap", [0, 7])
def test_the_controls_drawn_in_python_are_the_templates(crm: Any, cap: int) -> None:
    """The pager (FAB's with an exact count, ours with a capped one: cap 7 of 40 rows), the page-size
    menu and the sort header (app/web/listheader.py) against the templates they replace, on pages
    inside, at the end of and past the list, page sizes that leave the menu out or cut it short,
    every sort state, with a filter, a search and a query argument the page does not know."""
    crm.config["CRM_LIST_COUNT_CAP"] = cap
    client = login(crm.test_client(), "admin", ADMIN_PASSWORD)
    view, base = "OpportunityView", "/crm/opportunity/list/"
    urls = [base, f"{base}?x=%E5%AE%81+1&x=2"]
    for page_no in (0, 1, 2, 3, 7, 40):
        for size in (5, 25, 50):
            urls.append(f"{base}?page_{view}={page_no}&psize_{view}={size}")
    for column in ("name", "amount", "close_date", "account"):
        for direction in ("asc", "desc", ""):
            urls.append(f"{base}?_oc_{view}={column}&_od_{view}={direction}&page_{view}=1&psize_{view}=10")
    urls += [f"{base}?_flt_0_stage=proposal&psize_{view}=5&page_{view}=1", f"{base}?q=a&psize_{view}=5"]
    for url in urls:
        same_page(client, url)
    html = same_page(client, f"{base}?psize_{view}=5&page_{view}=2", lang="zh")
    assert ("crm-pager-open" in html) == bool(cap) and "fa-chevron" not in html
    # the list screen's widget came from kept skeletons (listwidget.py): one per shape, not per page
    shapes = crm.extensions["crm_list_widgets"]
    assert 2 <= len(shapes) <= 6, list(shapes)
    # the search row too (searchrow.py), with the user's saved views drawn per request
    made = client.post("/api/v1/listviews/opportunity/", json={
        "name": "我的 <b>视图</b> & co", "columns": ["name", "amount"], "query": "_flt_0_stage=proposal&q=a"})
    assert made.status_code in (200, 201), made.data
    view_id = made.get_json()["id"]
    for url in (base, f"{base}?view={view_id}&_flt_0_stage=proposal&q=a", f"{base}?q=%22%3E%3Cb%3E&x=%26"):
        html = same_page(client, url)
    assert "&lt;b&gt;视图&lt;/b&gt;" in html and 'value="&#34;&gt;&lt;b&gt;"' in html
    assert 2 <= len(crm.extensions["crm_search_rows"]) <= 12
    # the list's scripts and content are kept too (listlayout.py): the saved views' JSON, with text
    # that must not close the script, is the reader's own on every page
    made = client.post("/api/v1/listviews/opportunity/", json={
        "name": "</script><script>alert(\"x\")</script>'&", "columns": ["name"], "query": "q=a"})
    assert made.status_code in (200, 201), made.data
    for url in (base, f"{base}?view={made.get_json()['id']}&q=a", f"{base}?_flt_0_stage=proposal"):
        for lang in ("en", "zh"):
            html = same_page(client, url, lang=lang)
            assert "alert" in html and "</script><script>alert" not in html
    assert 1 <= len(crm.extensions["crm_list_scripts"]) <= 8
    assert 1 <= len(crm.extensions["crm_list_contents"]) <= 4
    # the saved views menu (kept with marks, searchrow.views_menu): a default view's star, the
    # active view's name and delete item, another reader's shared view without one
    made = client.post("/api/v1/listviews/opportunity/", json={
        "name": "默认 \"quoted\" & <i>", "columns": ["name", "stage"], "query": "", "default": True})
    assert made.status_code in (200, 201), made.data
    for url in (f"{base}?view={made.get_json()['id']}", f"{base}?q=a", f"{base}?view=999999"):
        for lang in ("en", "zh"):
            html = same_page(client, url, lang=lang)
            assert "★" in html and "&lt;i&gt;" in html
    assert 'id="crm-view-delete"' in same_page(client, f"{base}?view={made.get_json()['id']}")
    assert 'id="crm-view-delete"' not in same_page(client, f"{base}?q=a")
    assert 1 <= len(crm.extensions["crm_views_menus"]) <= len(crm.extensions["crm_search_rows"])


def test_a_request_without_the_kept_layout_draws_the_controls_in_jinja(crm: Any) -> None:
    """Under `fab` the pager, page-size menu and sort header are the templates' own and no widget
    skeleton is kept (what the comparisons above hold the Python drawing to); under `cached` the
    list screen's widget comes from a kept skeleton, a record page's related lists from the
    Python drawers."""
    from app.web import listheader

    client = login(crm.test_client(), "admin", ADMIN_PASSWORD)
    called: list[str] = []
    drawers = {name: getattr(listheader, name) for name in ("page_size_menu", "sort_header")}
    env = crm.jinja_env
    saved = {key: env.globals[key] for key in ("crm_page_size_menu", "crm_sort_header")}
    env.globals.update(crm_page_size_menu=lambda *a: called.append("menu") or drawers["page_size_menu"](*a),
                       crm_sort_header=lambda *a: called.append("head") or drawers["sort_header"](*a))
    try:
        page(client, "/crm/opportunity/list/?psize_OpportunityView=5", "fab")
        assert called == [] and not crm.extensions.get("crm_list_widgets")
        page(client, "/crm/opportunity/list/?psize_OpportunityView=5", "cached")
        assert called == [] and len(crm.extensions["crm_list_widgets"]) == 1
        with crm.app_context():
            account = crm.extensions["crm"].models.model("account")
            pk = crm.extensions["crm"].db.session.query(account.id).first()[0]
        client.application.config["CRM_LIST_LAYOUT"] = "cached"
        assert client.get(f"/crm/account/show/{pk}").status_code == 200
        assert "head" in called and len(crm.extensions["crm_list_widgets"]) == 1
        for query in ("", "?psize_ContactView=2&page_ContactView=1&_oc_ContactView=name&_od_ContactView=asc",
                      "?psize_OpportunityView=1"):
            same_page(client, f"/crm/account/show/{pk}{query}")  # its related lists, both ways
    finally:
        env.globals.update(saved)


def test_the_list_route_decides_access_once_and_still_refuses(crm: Any) -> None:
    """The list screen's route runs FAB's list body without FAB's second `has_access`: one access
    decision per page (from the access cache), and a role without read is still refused, at once
    after the grant is taken away; a visitor who is not signed in is sent to the login page."""
    with crm.app_context():
        sm = crm.extensions["crm"].appbuilder.sm
    asked: list[tuple[str, str]] = []
    decide = sm.has_access
    sm.has_access = lambda permission, view: asked.append((permission, view)) or decide(permission, view)
    try:
        rep = login(crm.test_client(), "sales_rep", DEMO_PASSWORD)
        page(rep, "/crm/lead/list/", "cached")
        asked.clear()
        page(rep, "/crm/lead/list/?page_LeadView=1", "cached")
        assert asked == [("can_read", "lead")]
        _revoke(crm, "Sales Rep", "can_read", "lead")
        assert rep.get("/crm/lead/list/").status_code == 403
    finally:
        del sm.has_access
    anonymous = crm.test_client().get("/crm/lead/list/")
    assert anonymous.status_code == 302 and "/login/" in anonymous.headers["Location"]
