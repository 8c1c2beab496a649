"""The generated screens driven through a real browser, with real CSRF.

Every step is a user action (typing, clicking, confirming dialogs); the
API (sharing the page's login cookie) is only used to check what was stored.
"""

from __future__ import annotations

import re
import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import expect

# --- helpers ----------------------------------------------------------------

SHOW_ID = re.compile(r"/show/(\d+)")


def record_count(page: Any) -> int:
    text = page.locator("div.well", has_text="Record Count").inner_text()
    match = re.search(r"Record Count:\s*(\d+)", text)
    assert match, f"no record count in {text!r}"
    return int(match.group(1))


def data_rows(page: Any) -> Any:
    """The rows of the list table (each has a show button)."""
    return page.locator("table tbody tr").filter(has=page.locator("a[href*='/show/']"))


def row_id(row: Any) -> int:
    href = row.locator("a[href*='/show/']").first.get_attribute("href")
    return int(SHOW_ID.search(href).group(1))


def same_url(a: str, b: str) -> bool:
    """Equal path and query parameters, however the query is encoded."""
    ua, ub = urlsplit(a), urlsplit(b)
    return ua.path == ub.path and parse_qs(ua.query) == parse_qs(ub.query)


def api_get(page: Any, entity: str, pk: int) -> Any:
    return page.request.get(f"/api/v1/{entity}/{pk}")


def api_record(page: Any, entity: str, pk: int) -> dict[str, Any]:
    response = api_get(page, entity, pk)
    assert response.status == 200, (entity, pk, response.status, response.text()[:300])
    return response.json()["result"]


def go(page: Any, path: str) -> None:
    response = page.goto(path, wait_until="domcontentloaded")
    assert response is not None and response.ok, (path, response and response.status)


def click_and_wait(page: Any, locator: Any) -> None:
    """Click something that loads a new page, and wait for that page."""
    with page.expect_navigation(wait_until="domcontentloaded"):
        locator.click()


def quick_search(page: Any, text: str) -> None:
    page.fill("#crm-q", text)
    click_and_wait(page, page.locator("form.crm-quick-search button[type=submit]"))
    assert "q=" in page.url


def save_form(page: Any) -> None:
    click_and_wait(page, page.locator("#model_form button[type=submit]"))


def flash(page: Any, category: str) -> Any:
    """Flashed messages (dismissable alerts; field errors are alerts without a close button)."""
    return page.locator(f"div.alert.alert-{category}:has(button.close)")


def field_cell(page: Any, name: str) -> Any:
    """The form table cell holding field `name` (its input, help and errors)."""
    return page.locator("#model_form td").filter(has=page.locator(f"[name='{name}']"))


def pick(page: Any, field: str, typed: str, choice: str) -> None:
    """Choose `choice` in a select2 picker by typing `typed` into its search box."""
    page.locator(f"select#{field} + .select2 .select2-selection").click()
    search = page.locator(".select2-container--open .select2-search__field")
    search.press_sequentially(typed, delay=20)
    options = page.locator(".select2-container--open .select2-results__option")
    # Search-as-you-type narrowed the results to the one record (not a stale first page).
    expect(options).to_have_count(1)
    option = options.filter(has_text=choice)
    expect(option).to_have_count(1)
    option.click()
    expect(page.locator(f"select#{field} + .select2 .select2-selection__rendered")).to_contain_text(choice)


# --- 1. quick search ----------------------------------------------------------

def test_quick_search_narrows_the_opportunity_list(page: Any) -> None:
    go(page, "/crm/opportunity/list/")
    before = record_count(page)
    assert before == 20, before
    # the first data cell: after the row's tick box (list actions) and its buttons
    first_name = data_rows(page).first.locator("td:not(:has(input.action_check)):not(:has(.btn-group))"
                                               ).first.inner_text().strip()
    # The first word of the name: a Latin word or a run of Chinese characters (brand-like).
    word = re.findall(r"[A-Za-z]{3,}|[\u4e00-\u9fff]{2,}", first_name)[0]

    quick_search(page, word)

    after = record_count(page)
    assert 0 < after < before, (word, before, after)
    expect(page.locator("#crm-q")).to_have_value(word)
    rows = data_rows(page)
    assert rows.count() == after
    for i in range(after):
        row = rows.nth(i)
        if word.lower() in row.inner_text().lower():
            continue  # in the name or the account column
        # Otherwise the match must be in a searched field the list does not show.
        record = api_record(page, "opportunity", row_id(row))
        assert word.lower() in (record["next_step"] or "").lower(), (word, record)


# --- 2. add an account, then pick it on a new contact -------------------------------

def test_add_account_then_pick_it_for_a_new_contact(page: Any) -> None:
    suffix = uuid.uuid4().hex[:6]
    account_name = f"测试客户有限公司{suffix}"

    go(page, "/crm/account/list/")
    accounts_before = record_count(page)
    click_and_wait(page, page.locator("a[href='/crm/account/add']").first)
    assert page.url.endswith("/crm/account/add")
    page.fill("#name", account_name)
    page.select_option("#industry", "finance")
    page.select_option("#region", label="East China")
    save_form(page)
    expect(flash(page, "success")).to_contain_text("Saved.")
    assert re.search(r"/crm/account/show/\d+$", page.url)  # on the record just made
    expect(page.locator("h2.crm-record-title")).to_have_text(account_name)
    go(page, "/crm/account/list/")
    assert record_count(page) == accounts_before + 1

    quick_search(page, suffix)
    rows = data_rows(page)
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(account_name)
    expect(rows.first).to_contain_text("Finance")
    expect(rows.first).to_contain_text("East China")
    account_id = row_id(rows.first)
    stored = api_record(page, "account", account_id)
    assert stored["name"] == account_name
    assert stored["industry"] == "finance" and stored["region"] == "east"
    assert stored["tier"] == "standard"  # the metadata default, pre-filled on the form

    contact_name = f"张伟{suffix}"
    go(page, "/crm/contact/list/")
    click_and_wait(page, page.locator("a[href='/crm/contact/add']").first)
    page.fill("#name", contact_name)
    pick(page, "account", f"有限公司{suffix}", account_name)
    page.fill("#email", f"zhang.{suffix}@example.com")
    page.select_option("#deal_role", "decision_maker")
    save_form(page)
    expect(flash(page, "success")).to_contain_text("Saved.")

    assert re.search(r"/crm/contact/show/\d+$", page.url)  # saving lands on the record
    go(page, "/crm/contact/list/")
    quick_search(page, contact_name)
    rows = data_rows(page)
    expect(rows).to_have_count(1)
    click_and_wait(page, rows.first.locator("a[href*='/crm/contact/show/']"))
    expect(page.locator("body")).to_contain_text(contact_name)
    account_link = page.locator(f"a[href$='/crm/account/show/{account_id}']")
    expect(account_link).to_have_count(1)
    expect(account_link).to_have_text(account_name)
    click_and_wait(page, account_link)
    assert page.url.endswith(f"/crm/account/show/{account_id}")
    expect(page.locator("body")).to_contain_text(account_name)


# --- 3. bad values are refused on the form ------------------------------------------

def test_edit_with_bad_values_shows_field_errors_and_saves_nothing(page: Any) -> None:
    # A contact: an email that is not an email (refused while parsing the form).
    go(page, "/crm/contact/list/")
    contact_id = row_id(data_rows(page).first)
    before = api_record(page, "contact", contact_id)
    click_and_wait(page, page.locator(f"a[href$='/crm/contact/edit/{contact_id}']").first)
    assert page.url.endswith(f"/crm/contact/edit/{contact_id}")
    account_picker = page.locator("select#account + .select2 .select2-selection__rendered")
    expect(account_picker).to_contain_text(before["account"]["title"])
    page.fill("#name", "改了的名字")
    page.fill("#email", "not-an-email")
    save_form(page)

    assert page.url.endswith(f"/crm/contact/edit/{contact_id}")
    error = field_cell(page, "email").locator(".alert-danger")
    expect(error).to_have_count(1)
    expect(error).to_contain_text(re.compile(r"e-?mail", re.I))
    expect(field_cell(page, "name").locator(".alert-danger")).to_have_count(0)
    expect(page.locator("#email")).to_have_value("not-an-email")  # what was typed stays
    expect(page.locator("#name")).to_have_value("改了的名字")
    # The link picker still shows the account's name, not just its id.
    expect(account_picker).to_contain_text(before["account"]["title"])
    expect(page.locator("select#account option:checked")).to_have_attribute(
        "value", str(before["account"]["id"]))
    expect(flash(page, "success")).to_have_count(0)
    assert api_record(page, "contact", contact_id) == before

    # An opportunity: a negative amount (refused by the metadata rule `min: 0`).
    listing = page.request.get("/api/v1/opportunity/?q=(page_size:1)")
    assert listing.ok, listing.text()[:300]
    opp_id = listing.json()["ids"][0]
    before = api_record(page, "opportunity", opp_id)
    go(page, f"/crm/opportunity/edit/{opp_id}")
    page.fill("#next_step", "这一步不应保存")
    page.fill("#amount", "-5")
    save_form(page)

    assert page.url.endswith(f"/crm/opportunity/edit/{opp_id}")
    error = field_cell(page, "amount").locator(".alert-danger")
    expect(error).to_have_count(1)
    expect(error).to_contain_text("0")
    expect(flash(page, "danger")).to_contain_text("Please correct the highlighted fields.")
    expect(flash(page, "success")).to_have_count(0)
    expect(page.locator("#amount")).to_have_value("-5")
    assert api_record(page, "opportunity", opp_id) == before


# --- 4. delete, and delete refused ----------------------------------------------------

def _click_delete_and_confirm(page: Any, entity: str, pk: int) -> None:
    page.locator(f"[id='btn-delete-/crm/{entity}/delete/{pk}']").click()
    modal = page.locator("#modal-confirm")
    expect(modal).to_be_visible()
    expect(modal).to_contain_text("Are you sure you want to delete this item?")
    click_and_wait(page, modal.locator("#modal-confirm-ok"))


def test_delete_from_list_and_restricted_delete_is_refused(page: Any) -> None:
    go(page, "/crm/contact/list/")
    count = record_count(page)
    victim_id = row_id(data_rows(page).first)

    # Cancelling the dialog deletes nothing.
    page.locator(f"[id='btn-delete-/crm/contact/delete/{victim_id}']").click()
    expect(page.locator("#modal-confirm")).to_be_visible()
    page.locator("#modal-confirm [data-dismiss='modal']").first.click()
    expect(page.locator("#modal-confirm")).to_be_hidden()
    assert api_get(page, "contact", victim_id).status == 200

    _click_delete_and_confirm(page, "contact", victim_id)
    expect(flash(page, "success")).to_contain_text("Deleted.")
    assert api_get(page, "contact", victim_id).status == 404
    assert page.url.endswith("/crm/contact/list/"), page.url  # back on the list, one fewer
    assert record_count(page) == count - 1
    expect(page.locator(f"a[href$='/crm/contact/show/{victim_id}']")).to_have_count(0)

    # An account that contacts link to (on_delete: restrict) stays.
    linked = api_record(page, "contact", row_id(data_rows(page).first))
    account_id, account_name = linked["account"]["id"], linked["account"]["title"]
    go(page, "/crm/account/list/")
    accounts = record_count(page)
    quick_search(page, account_name)
    searched = page.url
    _click_delete_and_confirm(page, "account", account_id)
    expect(flash(page, "danger")).to_contain_text(
        re.compile(r"Cannot delete: \d+ (Contact|Opportunity) record\(s\) link to it through 'Account'"))
    expect(flash(page, "success")).to_have_count(0)
    assert same_url(page.url, searched), page.url  # still on the searched list, account in it
    expect(page.locator(f"a[href$='/crm/account/show/{account_id}']")).to_have_count(1)
    assert api_record(page, "account", account_id)["name"] == account_name
    go(page, "/crm/account/list/")
    assert record_count(page) == accounts


# --- 5. language ---------------------------------------------------------------------

def switch_language(page: Any, name: str) -> None:
    """Use the flag menu in the navbar, as a user would (from home when no page is open yet)."""
    if page.url in ("", "about:blank"):
        go(page, "/")
    page.locator(".navbar a.dropdown-toggle:has(i.flag)").click()
    click_and_wait(page, page.locator(".navbar .dropdown-menu button.crm-menu-button", has_text=name))


def test_switching_to_chinese_shows_metadata_and_fab_labels(page: Any) -> None:
    go(page, "/crm/opportunity/list/")
    headers = page.locator("table thead th")
    expect(headers.filter(has_text="Opportunity name")).to_have_count(1)

    switch_language(page, "中文")
    assert "/crm/opportunity/list/" in page.url  # the switch returns to the same screen
    # Labels from metadata/entities/opportunity.yaml and crm.yaml ...
    for label in ("商机名称", "客户", "金额", "阶段", "赢单率", "预计成交日期"):
        # whole header text: 金额 (amount) is also part of 加权金额 (weighted amount)
        expect(headers.filter(has_text=re.compile(rf"^\s*{label}\s*$"))).to_have_count(1)
    expect(headers.filter(has_text="Opportunity name")).to_have_count(0)
    expect(page.locator(".panel-heading").first).to_contain_text("商机")
    expect(page.locator("body")).to_contain_text("正在推进的销售机会")  # entity description
    expect(page.locator(".navbar")).to_contain_text("销售")  # menu group label
    stages = page.locator("table tbody td span.crm-choice").all_inner_texts()
    zh_stages = {"初步接触", "需求分析", "方案提供", "谈判", "成交", "输单", "待续约", "已报价"}
    assert stages and all(t in zh_stages for t in stages), stages
    # ... and FAB's own strings from its zh catalogue.
    expect(page.locator("div.well", has_text="记录数目")).to_have_count(1)
    expect(page.locator(".navbar")).to_contain_text("用户权限")
    expect(page.locator("#crm-q")).to_have_attribute("placeholder", re.compile("^搜索"))

    switch_language(page, "English")
    assert "/crm/opportunity/list/" in page.url
    expect(headers.filter(has_text="Opportunity name")).to_have_count(1)
    expect(page.locator("div.well", has_text="Record Count")).to_have_count(1)
