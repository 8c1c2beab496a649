"""The import screen in a real browser: upload a CSV, see the mapping, preview errors by row and
column, run, watch the progress bar move, download the error report (real CSRF, no fixed waits)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

ROWS = 6000  # batched imports are fast: enough rows that the page polls (every 0.5 s) mid-file
BAD = (7, 2500, 5999)  # data rows with a bad e-mail address


@pytest.fixture
def live_app(make_app: Any, tmp_path: Path) -> Any:
    return make_app(WTF_CSRF_ENABLED=True, CRM_FILES_DIR=str(tmp_path / "files"))


def _csv() -> bytes:
    lines = ["姓名,邮箱,公司,来源"]
    for i in range(ROWS):
        email = "not-an-email" if i in BAD else f"lead{i}@example.cn"
        lines.append(f"线索{i:04d},{email},𩸽公司 {i},官网")
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8")


def test_upload_map_preview_run_progress_and_error_report(page: Any, live_app: Any, tmp_path: Path) -> None:
    page.goto("/crm/lead/list/")
    page.click("#crm-import")
    page.wait_for_url("**/crm/imports/lead/")
    page.set_input_files("#import-file", files=[{"name": "线索.csv", "mimeType": "text/csv", "buffer": _csv()}])
    page.click("#import-upload-button")
    expect(page.locator("#import-mapping")).to_be_visible()
    expect(page.locator("select[data-column='邮箱']")).to_have_value("email")
    expect(page.locator("select[data-column='来源']")).to_have_value("source")

    page.click("#import-preview-button")
    expect(page.locator(".import-preview-row")).to_have_count(20)
    bad = page.locator(".import-preview-row[data-row='9'] .import-cell-error[data-column='邮箱']")
    expect(bad).to_contain_text("e-mail")
    expect(page.locator(".import-preview-row[data-row='2'] .import-outcome")).to_have_text("created")
    expect(page.locator("#import-run-button")).to_be_enabled()

    # every value the progress bar shows, as the page shows it
    page.evaluate("""() => { window.seenProgress = [];
        const bar = document.getElementById('import-bar');
        new MutationObserver(() => window.seenProgress.push(Number(bar.getAttribute('aria-valuenow'))))
          .observe(bar, {attributes: true, attributeFilter: ['aria-valuenow']}); }""")
    page.click("#import-run-button")
    expect(page.locator("#import-progress")).to_have_attribute("data-state", "done", timeout=120_000)
    seen = page.evaluate("window.seenProgress")
    assert any(0 < value < ROWS for value in seen), seen  # the bar moved through the file
    assert seen[-1] == ROWS
    expect(page.locator("#import-errors-so-far")).to_have_text(str(len(BAD)))
    expect(page.locator(".import-count[data-outcome='created'] strong")).to_have_text(str(ROWS - len(BAD)))
    expect(page.locator(".import-count[data-outcome='rejected'] strong")).to_have_text(str(len(BAD)))

    with page.expect_download() as info:
        page.click("#import-report")
    report = (tmp_path / "report.csv")
    info.value.save_as(report)
    lines = report.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == "row,column,reason,姓名,邮箱,公司,来源"
    assert [line.split(",")[0] for line in lines[1:]] == [str(i + 2) for i in BAD]
    assert all(",邮箱," in line and "not-an-email" in line for line in lines[1:])
    with live_app.app_context():
        state = live_app.extensions["crm"]
        lead = state.models.model("lead")
        count = state.db.session.scalar(sa.select(sa.func.count()).select_from(lead))
        state.db.session.remove()
    assert count == ROWS - len(BAD)


def test_a_finished_clean_import_offers_neither_cancel_nor_an_error_report(page: Any) -> None:
    # `hidden` lost to Bootstrap's `.btn {display: inline-block}`: a finished job still showed
    # Cancel, and a file without a bad row a "Download error report" button.
    page.goto("/crm/imports/lead/")
    clean = "姓名,邮箱\r\n干净线索甲,a@example.cn\r\n干净线索乙,b@example.cn\r\n".encode()
    page.set_input_files("#import-file", files=[{"name": "clean.csv", "mimeType": "text/csv", "buffer": clean}])
    page.click("#import-upload-button")
    expect(page.locator("#import-mapping")).to_be_visible()
    expect(page.locator("#import-cancel")).to_be_hidden()
    page.click("#import-preview-button")
    expect(page.locator(".import-preview-row")).to_have_count(2)
    page.click("#import-run-button")
    expect(page.locator("#import-progress")).to_have_attribute("data-state", "done")
    expect(page.locator(".import-count[data-outcome='created'] strong")).to_have_text("2")
    expect(page.locator("#import-cancel")).to_be_hidden()
    expect(page.locator("#import-report")).to_be_hidden()
    expect(page.locator("#import-revert")).to_be_visible()


def test_the_downloaded_template_uploads_back_with_every_column_mapped(page: Any, live_app: Any, tmp_path: Path) -> None:
    """A new user's first import: download the Excel template, fill it, upload it, nothing to map."""
    import openpyxl

    page.goto("/crm/imports/opportunity/", wait_until="load")
    with page.expect_download() as download:
        page.click("#import-template-xlsx")
    assert download.value.suggested_filename.endswith(".xlsx")
    path = tmp_path / "template.xlsx"
    download.value.save_as(path)
    book = openpyxl.load_workbook(path)
    header = [c.value for c in book.active[1]]
    assert "Opportunity name" in header and "Account" in header
    book.active.append(["模板商机 𩸽" if h == "Opportunity name" else None for h in header])
    book.save(path)
    page.set_input_files("#import-file", files=str(path))
    page.click("#import-upload-button")
    expect(page.locator("#import-mapping")).to_be_visible()
    selects = page.locator("select.import-field")
    expect(selects).to_have_count(len(header))
    assert all(value for value in page.eval_on_selector_all("select.import-field", "s => s.map(x => x.value)"))
