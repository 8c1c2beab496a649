"""No English left on a zh page (issue 17): every page reachable from the home page, as admin
and as a sales rep, in Chinese, text nodes and tooltips compared with what may stay English."""

from __future__ import annotations

from typing import Any

import pytest

from app.demo.loader import load_demo
from app.demo.users import DEMO_PASSWORD, create_demo_users
from tests.conftest import ROOT, STARTER, login
from tests.zh_walk import (
    ascii_colon_left,
    catalog_texts,
    colon_texts,
    data_values,
    english_left,
    metadata_codes,
    metadata_texts,
    walk,
    wide_colon_gaps,
)

MISSING = ("/no-such-page",)  # the not-found page, walked on purpose
EXTRA = (*MISSING, "/crm/my_tasks/", "/crm/notifications/", "/crm/jobs/", "/crm/search/?q=王",
         "/crm/settings/", "/crm/reports/?entity=opportunity", "/crm/access/", "/crm/imports/lead/")


def _seed(app: Any) -> tuple[list[str], list[str]]:
    """What may stay English on a zh page, and what an ASCII colon may follow Chinese in."""
    with app.app_context():
        state = app.extensions["crm"]
        create_demo_users(state.appbuilder, state.models)
        load_demo(state.db.session, state.models, size=3)
        state.db.session.remove()
        values = data_values(state.db.engine)
        texts = {*values, *catalog_texts(), *metadata_texts(state.spec)}
        return sorted(texts, key=len, reverse=True), sorted({*values, *colon_texts()}, key=len, reverse=True)


def _report(problems: dict[str, list[str]]) -> str:
    return "\n".join(f"{url}: {texts[:12]}" for url, texts in sorted(problems.items()))


@pytest.mark.parametrize("username,password", [("admin", None), ("sales_rep", DEMO_PASSWORD)])
def test_no_english_left_on_a_zh_page(app, username, password):
    data, colons = _seed(app)
    client = login(app.test_client(), username, *([password] if password else []))
    client.post("/lang/zh")
    problems = walk(client, ["/", *EXTRA], data, metadata_codes(STARTER, ROOT / "docs" / "metadata.md"),
                    colons=colons, missing=MISSING)
    assert not problems, "English or ASCII colons left on zh pages:\n" + _report(problems)


def test_the_walk_sees_english_and_lets_chinese_data_and_codes_pass():
    data = sorted({"王伟", "Acme Ltd", *catalog_texts()}, key=len, reverse=True)
    assert english_left("Add team", data) == ["Add", "team"]
    assert english_left("确定", data) == [] and english_left("Acme Ltd · 王伟 · wang@example.cn", data) == []
    assert english_left("条件 `region == 'north'` 的结果为 `False`", data) == []
    assert english_left("Stage: 初步接触 (prospecting)", data) == ["Stage", "prospecting"]  # internal codes too
    assert english_left("autonumber", data, frozenset({"autonumber"})) == []  # settings editor only
    assert ascii_colon_left("共享给角色:", []) == ["色:"] and ascii_colon_left("共享给角色：", []) == []
    assert ascii_colon_left("说明 `实体.字段: hidden`", []) == []  # code
    assert ascii_colon_left("https://例子.cn 和 王伟:", ["王伟:"]) == []  # data, addresses


def test_the_walk_fails_on_a_listed_page_that_is_a_404(app):
    """It walked /crm/my-tasks/ (a 404; the page is /crm/my_tasks/) and passed on the 404 page's text."""
    client = login(app.test_client())
    client.post("/lang/zh")
    gone = ["404 Not Found: a listed page that does not exist"]
    assert walk(client, ["/crm/my-tasks/"], []) == {"/crm/my-tasks/": gone}
    assert walk(client, ["/no-such-page"], [], missing=["/no-such-page"]).get("/no-such-page") != gone
    assert client.get("/crm/my_tasks/").status_code == 200  # the page the walk lists


def test_the_walk_sees_a_space_after_a_full_width_colon():
    assert wide_colon_gaps("<strong>记录数目：</strong> 56</div>") == ["记录数目：</strong> 56"]
    assert wide_colon_gaps("<strong>记录数目：</strong>56") == []
    # white space before an inline element is drawn, a new line too (the report form's "共享给： 销售")
    assert wide_colon_gaps("<span>共享给：</span>\n  <label><input type=checkbox> 销售</label>") != []
    assert wide_colon_gaps("<strong>共享给：</strong> <a href=x>销售</a>") != []
    assert wide_colon_gaps("<strong>记录数目：</strong>\n  56") != []
    assert wide_colon_gaps("<dt>共享给：</dt>\n  <dd>销售</dd>") == []  # a block: layout, not a gap
    assert wide_colon_gaps("<span>共享给：</span><label><input type=checkbox> 销售</label>") == []
    assert wide_colon_gaps('<script>x = "a： b"</script>') == []
    assert wide_colon_gaps("<td>备注： 客户很满意</td>", ["备注： 客户很满意"]) == []  # data as typed
    assert wide_colon_gaps("<strong>记录数目：</strong> 5", ["记录数目："]) != []  # the catalog's label is no excuse
