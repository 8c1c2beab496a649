"""The list's filter bar, its inputs cached per app version, language and column set
(app/web/searchbar.py): each language its labels, each user only the columns they may filter
on, the active filters of each request its own."""

from __future__ import annotations

import re
from typing import Any

from tests.conftest import login


def _filter_label(html: str, column: str) -> str | None:
    found = re.search(rf'name="{column}" class="filter">\s*([^<]+?)\s*</a>', html)
    return found.group(1) if found else None


def _active(html: str) -> str:
    return html.split("new AdminFilters(", 1)[1].split("})(jQuery)", 1)[0].rsplit(",", 1)[1]


def test_filter_bar_per_language_user_and_request(app: Any) -> None:
    from app.demo.users import DEMO_PASSWORD, create_demo_users

    with app.app_context():
        state = app.extensions["crm"]
        agent = next(name for name, role in create_demo_users(state.appbuilder, state.models)
                     if role == "Support Agent")
    admin = login(app.test_client())
    page = admin.get("/crm/opportunity/list/").get_data(as_text=True)
    assert _filter_label(page, "amount") == "Amount" and _filter_label(page, "stage") == "Stage"
    assert "proposal" not in _active(page)
    filtered = admin.get("/crm/opportunity/list/?_flt_0_stage=proposal").get_data(as_text=True)
    assert "proposal" in _active(filtered) and _filter_label(filtered, "amount") == "Amount"
    assert "proposal" not in _active(admin.get("/crm/opportunity/list/").get_data(as_text=True))

    chinese = login(app.test_client())
    chinese.post("/lang/zh")
    zh = chinese.get("/crm/opportunity/list/").get_data(as_text=True)
    assert _filter_label(zh, "amount") == "金额" and _filter_label(zh, "stage") == "阶段"

    hidden = login(app.test_client(), agent, DEMO_PASSWORD).get("/crm/opportunity/list/").get_data(as_text=True)
    assert _filter_label(hidden, "stage") == "阶段" or _filter_label(hidden, "stage") == "Stage"
    assert _filter_label(hidden, "amount") is None and 'name="amount"' not in hidden  # a hidden field: no filter
    again = admin.get("/crm/opportunity/list/").get_data(as_text=True)
    assert _filter_label(again, "amount") == "Amount"  # the agent's column set did not replace admin's


def test_a_new_app_never_gets_a_collected_apps_filter_bar(tmp_path: Any) -> None:
    """The bar was kept in module dicts keyed by id(app) and the version's number: an app made
    after another was collected can sit at the same address and, on a fresh database, hold the
    same version number (1). Each app here labels its field differently; each must show its own.
    (Whether an address is reused is the allocator's choice, so this fails before the fix only
    when it is; it always fails for a cache keyed by the version alone.)"""
    import gc

    from tests.conftest import build_test_app, dispose_app, fresh_database, write_tree

    for attempt in range(4):
        label = f"客户名称{attempt}"
        tree = write_tree(tmp_path / f"meta{attempt}", {"client": f"""
            label: {{en: Client, zh: 客户}}
            fields:
              name: {{type: string, required: true, label: {{en: "{label}", zh: "{label}"}}}}
            list: {{columns: [name], filters: [name]}}
            """})
        with fresh_database(tmp_path / f"db{attempt}") as url:
            app = build_test_app(url, tree, tmp_path / "no-plugins")
            page = login(app.test_client()).get("/crm/client/list/").get_data(as_text=True)
            dispose_app(app)
            del app
            gc.collect()
        assert _filter_label(page, "name") == label, f"app #{attempt} showed {_filter_label(page, 'name')!r}"
