"""How many records a list has, without counting the whole table on every page.

An exact `count(*)` over a big table was most of a list request's SQL (46 of 51 ms
at 1M rows, issue 18). A list now counts at most `CRM_LIST_COUNT_CAP` + 1 rows:
`SELECT count(*) FROM (SELECT id ... WHERE <filters and row scope> LIMIT cap+1)`.
That is exact, at the cost of an exact count, when it is cheap (a small table, a
selective filter) and stops at the cap when it is not ("10,000+"): decided per
query by the data, not guessed. The page itself is read with one row more than it
shows, so next/previous work whatever the total, and a deep page past the cap
raises the lower bound it knows (offset + rows seen).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import current_app, has_app_context

DEFAULT_CAP = 10_000


class ListCount(int):
    """A list's count: an int (FAB's widgets do arithmetic on it) that says whether it is exact.

    When not exact the value is a lower bound: more than `cap` records, at least this many."""

    exact: bool
    cap: int

    def __new__(cls, value: int, exact: bool = True, cap: int = 0) -> ListCount:
        obj = super().__new__(cls, value)
        obj.exact, obj.cap = exact, cap
        return obj

    def text(self, lang: str = "en") -> str:
        """'1,234' when exact, '10,000+' when the count stopped at the cap."""
        if self.exact:
            return f"{int(self):,}"
        return f"{max(self.cap, int(self) - 1):,}+"


def count_cap() -> int:
    """CRM_LIST_COUNT_CAP of the running app (0: always count exactly)."""
    if has_app_context():
        return int(current_app.config.get("CRM_LIST_COUNT_CAP", DEFAULT_CAP) or 0)
    return DEFAULT_CAP


def capped_count(session: Any, ids_query: Any, cap: int) -> ListCount:
    """count(*) over the filtered ids, stopping after cap + 1 rows (cap 0: exact)."""
    if cap <= 0:
        inner = ids_query.order_by(None).subquery()
        return ListCount(session.execute(sa.select(sa.func.count()).select_from(inner)).scalar_one())
    inner = ids_query.order_by(None).limit(cap + 1).subquery()
    value = session.execute(sa.select(sa.func.count()).select_from(inner)).scalar_one()
    return ListCount(value, exact=value <= cap, cap=cap)


def page_count(counted: ListCount, offset: int, seen: int, has_next: bool) -> ListCount:
    """Tighten a capped count with what the page showed: past the cap the rows seen prove a
    lower bound, and a page with nothing after it gives the exact total."""
    if counted.exact:
        return counted
    if not has_next and (seen or offset == 0):
        return ListCount(offset + seen)
    known = offset + seen + (1 if has_next else 0)
    return ListCount(max(int(counted), known), exact=False, cap=counted.cap)
