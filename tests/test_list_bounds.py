"""Issue 18's bad input on lists: a page past the end, a huge page size, a page so deep its
OFFSET would read the whole table: bounded work and a clear 400, never a 500 or a long scan."""

from __future__ import annotations

from typing import Any

from app.web.paging import MAX_OFFSET
from tests.conftest import count_queries
from tests.test_performance import items  # noqa: F401  (fixture: 25 items, count cap 10)


def test_a_page_past_the_end_is_empty_and_cheap(items: Any) -> None:  # noqa: F811
    app, client = items
    with count_queries(app) as statements:
        body = client.get("/api/v1/item/?q=(page:40,page_size:25)").json
    assert body["result"] == [] and body["count"] >= 25
    reads = [s for s in statements if "item" in s and "ab_" not in s]
    assert len(reads) <= 2, reads  # the page of ids (empty), the capped count: no rows read
    html = client.get("/crm/item/list/?page_ItemView=40")
    assert html.status_code == 200 and "/crm/item/show/" not in html.get_data(as_text=True)  # no rows


def test_a_page_deeper_than_the_bound_is_400_naming_it(items: Any) -> None:  # noqa: F811
    _, client = items
    last = MAX_OFFSET // 25
    assert client.get(f"/api/v1/item/?q=(page:{last},page_size:25)").status_code == 200
    deep = client.get(f"/api/v1/item/?q=(page:{last + 1},page_size:25)")
    assert deep.status_code == 400 and "filter or sort" in deep.get_json()["message"]
    assert "page" in deep.get_json()["message"]
    screen = client.get(f"/crm/item/list/?page_ItemView={last + 1}")
    assert screen.status_code == 400 and screen.mimetype == "text/html"  # the CRM's error page, not JSON
    assert 'id="crm-error"' in screen.get_data(as_text=True)
    assert "page_ItemView: page is past the first 100,000 records" in screen.get_data(as_text=True)
    small = client.get(f"/crm/item/list/?page_ItemView={last * 25 // 10 + 1}&psize_ItemView=10")
    assert small.status_code == 400  # the bound is on rows, whatever the page size
    assert client.get(f"/crm/item/list/?page_ItemView={last}").status_code == 200


def test_a_huge_page_size_is_capped_on_the_api_and_400_on_the_screen(items: Any) -> None:  # noqa: F811
    app, client = items
    api = client.get("/api/v1/item/?q=(page:0,page_size:100000)")  # FAB_API_MAX_PAGE_SIZE caps it
    assert api.status_code == 200 and len(api.get_json()["result"]) == 25
    screen = client.get("/crm/item/list/?psize_ItemView=100000")
    assert screen.status_code == 400 and screen.mimetype == "text/html"
    assert "psize_ItemView must be a whole number from 1 to 1000" in screen.get_data(as_text=True)


def test_bad_page_arguments_answer_the_error_page_in_the_users_language(items: Any) -> None:  # noqa: F811
    # A bad page argument on a screen answered raw English JSON; the API keeps its JSON 400.
    _, client = items
    client.post("/lang/zh")
    for url, said in (("/crm/item/list/?psize_ItemView=abc", "psize_ItemView 须为 1 到 1000 之间的整数"),
                      (f"/crm/item/list/?page_ItemView={MAX_OFFSET}", "page_ItemView：页码超出列表可翻阅的前 100,000 条记录")):
        screen = client.get(url)
        page = screen.get_data(as_text=True)
        assert screen.status_code == 400 and 'id="crm-error"' in page and "请求有误" in page, page[-600:]
        assert said in page, page[-600:]
    api = client.get("/crm/item/list/?psize_ItemView=abc", headers={"Accept": "application/json"})
    assert api.status_code == 400 and api.get_json()["message"] == "psize_ItemView must be a whole number from 1 to 1000"
    deep = client.get(f"/api/v1/item/?q=(page:{MAX_OFFSET},page_size:25)")
    assert deep.status_code == 400 and "filter or sort" in deep.get_json()["message"]
