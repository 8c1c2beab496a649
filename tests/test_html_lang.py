"""<html lang> follows the user's language: without it Chromium set Chinese text in the default
locale's glyph forms (Japanese on some systems) and screen readers read it as English."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import login, with_demo


@pytest.mark.parametrize("path", ["/", "/crm/opportunity/list/", "/crm/opportunity/show/1", "/crm/reports/",
                                  "/crm/opportunity/board/new_business", "/crm/no-such-page/"])
def test_every_page_says_its_language(make_app: Any, path: str) -> None:
    app = with_demo(make_app(), size=3)
    anonymous = app.test_client().get("/login/").get_data(as_text=True)
    assert '<html lang="en">' in anonymous
    client = login(app.test_client())
    assert '<html lang="en">' in client.get(path).get_data(as_text=True)
    client.post("/lang/zh")
    assert '<html lang="zh-CN">' in client.get(path).get_data(as_text=True)
    client.post("/lang/en")
    assert '<html lang="en">' in client.get(path).get_data(as_text=True)  # a kept page layout follows
