"""No English left on a zh page, for what JavaScript renders (issue 17): plotly's charts and
tooltips, the board's cards, the list filters, the report builder, in real Chromium.

The HTTP walk (tests/test_i18n_walk.py) covers every page's server HTML; this reads the DOM
after the scripts ran: visible text nodes (SVG text included) and tooltips.
"""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import guarded_page
from tests.conftest import STARTER
from tests.zh_walk import catalog_texts, data_values, english_left, metadata_texts

VISIBLE_TEXTS = """() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, parent = node.parentElement, text = node.textContent.trim();
    if (!text || !parent || parent.closest('script,style,textarea,code,pre,noscript')) continue;
    if (parent.getClientRects().length) out.push(text);
  }
  for (const el of document.querySelectorAll('[title],[placeholder],[aria-label],[data-title]')) {
    for (const a of ['title', 'placeholder', 'aria-label', 'data-title']) {
      const v = el.getAttribute(a); if (v) out.push(v);
    }
  }
  return out;
}"""
PAGES = ("/", "/crm/dashboards/pipeline/opportunity/new_business/", "/crm/opportunity/board/new_business",
         "/crm/opportunity/list/", "/crm/reports/", "/crm/jobs/")


def test_what_scripts_render_on_zh_pages_is_chinese(browser: Any, live_server: str, live_app: Any,
                                                     page_guard: Any) -> None:
    with live_app.app_context():
        state = live_app.extensions["crm"]
        allowed = sorted({*data_values(state.db.engine), *catalog_texts(), *metadata_texts(state.spec)},
                         key=len, reverse=True)
    assert STARTER.exists()
    problems: dict[str, list[str]] = {}
    with guarded_page(browser, live_server, page_guard) as page:
        page.goto("/crm/my_tasks/", wait_until="load")
        with page.expect_navigation(wait_until="load"):
            page.evaluate("document.querySelector('button[data-locale=zh]').closest('form').submit()")
        for url in PAGES:
            page.goto(url, wait_until="load")
            page.wait_for_load_state("networkidle")
            plots = page.locator(".crm-plot").count()
            if plots:
                page.wait_for_function("n => document.querySelectorAll('.crm-plot[data-drawn=\"1\"]').length === n",
                                       arg=plots)
            left = [t for t in page.evaluate(VISIBLE_TEXTS) if english_left(t, allowed)]
            if left:
                problems[url] = sorted(set(left))
    assert not problems, "English left on zh pages:\n" + "\n".join(f"{u}: {t}" for u, t in problems.items())
