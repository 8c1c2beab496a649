"""A list's page, page-size and sort links (app/web/listlinks.py) are the URLs FAB's filters build."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask_appbuilder.filters import TemplateFilters

from tests.conftest import login

QUERIES = [
    "",
    "?page_OpportunityView=3",
    "?_oc_OpportunityView=close_date&_od_OpportunityView=asc&psize_OpportunityView=50",
    "?_oc_OpportunityView=amount&_od_OpportunityView=desc&q=%E5%AE%81%E5%BE%B7+a%26b%2Fc",
    "?_flt_0_stage=proposal&_flt_1_name=50%25+off&page_OpportunityView=2&x=1&x=2",
    "?view=3&_oc_OpportunityView=name",
]


@pytest.mark.parametrize("query", QUERIES)
def test_the_fast_list_links_are_fabs(app: Any, query: str) -> None:
    fast = {name: app.jinja_env.filters[name] for name in ("link_page", "link_page_size", "link_order")}
    assert all(f.__module__ == "app.web.listlinks" for f in fast.values())
    fab = TemplateFilters(Flask("fab-filters"), app.extensions["crm"].appbuilder.sm)  # FAB's, on a spare app
    with app.test_request_context("/crm/opportunity/list/" + query):
        app.preprocess_request()
        for name, values in (("link_page", [0, 1, 7]), ("link_page_size", [25, 100]),
                             ("link_order", ["close_date", "amount", "account.name"])):
            for value in values:
                assert fast[name](value, "OpportunityView") == getattr(fab, f"{name}_filter")(
                    value, "OpportunityView"), (name, value)


def test_a_related_list_on_a_record_page_links_to_the_record_page(app: Any) -> None:
    client = login(app.test_client())
    account = client.post("/api/v1/account/", json={"name": "宁德时代"}).json["id"]
    for i in range(3):
        client.post("/api/v1/contact/", json={"name": f"联系人{i}", "account": account})
    html = client.get(f"/crm/account/show/{account}?psize_ContactView=2").data.decode()
    assert f"/crm/account/show/{account}?psize_ContactView=2&amp;page_ContactView=1" in html
