"""CSV exports never hand a spreadsheet a formula (issue 11, item 7).

A cell starting with = + - @ tab or CR is prefixed with ' in the API export and
in the report builder's CSV; numbers (a negative amount) stay numbers.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import pytest

from app.web.export import neutralised

NAMES = ["=HYPERLINK(\"http://x\",\"张三\")", "+1+1", "-2+3", "@SUM(A1)", "普通 name"]
SAFE = {"=HYPERLINK(\"http://x\",\"张三\")": "'=HYPERLINK(\"http://x\",\"张三\")", "+1+1": "'+1+1",
        "-2+3": "'-2+3", "@SUM(A1)": "'@SUM(A1)", "普通 name": "普通 name"}


def _rows(response: Any) -> list[list[str]]:
    assert response.status_code == 200, response.data[:300]
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"  # was "...; charset=utf-8; charset=utf-8"
    return list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"), newline="")))


@pytest.fixture
def leads(client: Any) -> Any:
    for name in NAMES:
        response = client.post("/api/v1/lead/", json={"name": name, "company": name, "score": 7})
        assert response.status_code == 201, response.data[:300]
    return client


def test_api_export_neutralises_formulas(leads: Any) -> None:
    rows = _rows(leads.get("/api/v1/lead/export"))
    heading = rows[0]
    by_name = {row[heading.index("Name")]: row for row in rows[1:]}
    assert set(by_name) == set(SAFE.values())
    for row in rows[1:]:
        assert row[heading.index("Company")] == row[heading.index("Name")]
        assert row[heading.index("Score")] == "7"


def test_report_export_neutralises_formulas(leads: Any) -> None:
    query = urlencode([("entity", "lead"), ("columns", "name,score")])
    rows = _rows(leads.get(f"/crm/reports/export.csv?{query}"))
    assert {row[0] for row in rows[1:]} == set(SAFE.values())
    assert {row[1] for row in rows[1:]} == {"7"}


def test_numbers_are_not_formulas() -> None:
    assert neutralised(-5, "-5") == "-5"
    assert neutralised(Decimal("-1.50"), "-1.50") == "-1.50"
    assert neutralised("-5", "-5") == "'-5"  # text a user typed is text
    # names are stripped on input, so a leading tab or CR only reaches a cell from other text
    assert neutralised("\t=1", "\t=1") == "'\t=1"
    assert neutralised("\r=1", "\r=1") == "'\r=1"
