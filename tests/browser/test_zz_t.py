import time
from tests.browser.test_screens import *
T=[time.time()]
def lap(n):
    print(f'LAP {n:>4}: {time.time()-T[0]:.2f}'); T[0]=time.time()

def test_zz_add_account_then_pick_it_for_a_new_contact(page: Any) -> None:
    suffix = uuid.uuid4().hex[:6]
    lap(1)
    account_name = f"测试客户有限公司{suffix}"
    lap(2)

    go(page, "/crm/account/list/")
    lap(4)
    accounts_before = record_count(page)
    lap(5)
    click_and_wait(page, page.locator("a[href='/crm/account/add']").first)
    lap(6)
    assert page.url.endswith("/crm/account/add")
    lap(7)
    page.fill("#name", account_name)
    lap(8)
    page.select_option("#industry", "finance")
    lap(9)
    page.select_option("#region", label="East China")
    lap(10)
    save_form(page)
    lap(11)
    expect(flash(page, "success")).to_contain_text("Saved.")
    lap(12)
    assert "/crm/account/list/" in page.url  # back on the list, which now counts one more
    lap(13)
    assert record_count(page) == accounts_before + 1
    lap(14)

    quick_search(page, suffix)
    lap(16)
    rows = data_rows(page)
    lap(17)
    expect(rows).to_have_count(1)
    lap(18)
    expect(rows.first).to_contain_text(account_name)
    lap(19)
    expect(rows.first).to_contain_text("Finance")
    lap(20)
    expect(rows.first).to_contain_text("East China")
    lap(21)
    account_id = row_id(rows.first)
    lap(22)
    stored = api_record(page, "account", account_id)
    lap(23)
    assert stored["name"] == account_name
    lap(24)
    assert stored["industry"] == "finance" and stored["region"] == "east"
    lap(25)
    assert stored["tier"] == "standard"  # the metadata default, pre-filled on the form
    lap(26)

    contact_name = f"张伟{suffix}"
    lap(28)
    go(page, "/crm/contact/list/")
    lap(29)
    click_and_wait(page, page.locator("a[href='/crm/contact/add']").first)
    lap(30)
    page.fill("#name", contact_name)
    lap(31)
    pick(page, "account", f"有限公司{suffix}", account_name)
    lap(32)
    page.fill("#email", f"zhang.{suffix}@example.com")
    lap(33)
    page.select_option("#deal_role", "decision_maker")
    lap(34)
    save_form(page)
    lap(35)
    expect(flash(page, "success")).to_contain_text("Saved.")
    lap(36)

    assert "/crm/contact/list/" in page.url  # saving returns to where the user came from
    lap(38)
    quick_search(page, contact_name)
    lap(39)
    rows = data_rows(page)
    lap(40)
    expect(rows).to_have_count(1)
    lap(41)
    click_and_wait(page, rows.first.locator("a[href*='/crm/contact/show/']"))
    lap(42)
    expect(page.locator("body")).to_contain_text(contact_name)
    lap(43)
    account_link = page.locator(f"a[href$='/crm/account/show/{account_id}']")
    lap(44)
    expect(account_link).to_have_count(1)
    lap(45)
    expect(account_link).to_have_text(account_name)
    lap(46)
    click_and_wait(page, account_link)
    lap(47)
    assert page.url.endswith(f"/crm/account/show/{account_id}")
    lap(48)
    expect(page.locator("body")).to_contain_text(account_name)
    lap(49)


