import time
from tests.browser.test_screens import *
T=[time.time()]
def lap(n):
    print(f'{n:>4}: {time.time()-T[0]:.2f}'); T[0]=time.time()
    lap(5)
def test_zz_add_account_then_pick_it_for_a_new_contact(page: Any) -> None:
    suffix = uuid.uuid4().hex[:6]
    lap(8)
    account_name = f"测试客户有限公司{suffix}"
    lap(10)

    go(page, "/crm/account/list/")
    lap(13)
    accounts_before = record_count(page)
    lap(15)
    click_and_wait(page, page.locator("a[href='/crm/account/add']").first)
    lap(17)
    assert page.url.endswith("/crm/account/add")
    lap(19)
    page.fill("#name", account_name)
    lap(21)
    page.select_option("#industry", "finance")
    lap(23)
    page.select_option("#region", label="East China")
    lap(25)
    save_form(page)
    lap(27)
    expect(flash(page, "success")).to_contain_text("Saved.")
    lap(29)
    assert "/crm/account/list/" in page.url  # back on the list, which now counts one more
    lap(31)
    assert record_count(page) == accounts_before + 1
    lap(33)

    quick_search(page, suffix)
    lap(36)
    rows = data_rows(page)
    lap(38)
    expect(rows).to_have_count(1)
    lap(40)
    expect(rows.first).to_contain_text(account_name)
    lap(42)
    expect(rows.first).to_contain_text("Finance")
    lap(44)
    expect(rows.first).to_contain_text("East China")
    lap(46)
    account_id = row_id(rows.first)
    lap(48)
    stored = api_record(page, "account", account_id)
    lap(50)
    assert stored["name"] == account_name
    lap(52)
    assert stored["industry"] == "finance" and stored["region"] == "east"
    lap(54)
    assert stored["tier"] == "standard"  # the metadata default, pre-filled on the form
    lap(56)

    contact_name = f"张伟{suffix}"
    lap(59)
    go(page, "/crm/contact/list/")
    lap(61)
    click_and_wait(page, page.locator("a[href='/crm/contact/add']").first)
    lap(63)
    page.fill("#name", contact_name)
    lap(65)
    pick(page, "account", f"有限公司{suffix}", account_name)
    lap(67)
    page.fill("#email", f"zhang.{suffix}@example.com")
    lap(69)
    page.select_option("#deal_role", "decision_maker")
    lap(71)
    save_form(page)
    lap(73)
    expect(flash(page, "success")).to_contain_text("Saved.")
    lap(75)

    assert "/crm/contact/list/" in page.url  # saving returns to where the user came from
    lap(78)
    quick_search(page, contact_name)
    lap(80)
    rows = data_rows(page)
    lap(82)
    expect(rows).to_have_count(1)
    lap(84)
    click_and_wait(page, rows.first.locator("a[href*='/crm/contact/show/']"))
    lap(86)
    expect(page.locator("body")).to_contain_text(contact_name)
    lap(88)
    account_link = page.locator(f"a[href$='/crm/account/show/{account_id}']")
    lap(90)
    expect(account_link).to_have_count(1)
    lap(92)
    expect(account_link).to_have_text(account_name)
    lap(94)
    click_and_wait(page, account_link)
    lap(96)
    assert page.url.endswith(f"/crm/account/show/{account_id}")
    lap(98)
    expect(page.locator("body")).to_contain_text(account_name)
    lap(100)


# --- 3. bad values are refused on the form ------------------------------------------
