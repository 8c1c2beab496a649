"""The API list's read kept per request and reader: the same list asked again skips its set-up.

A warm JSON list spent about a tenth of its CPU turning its `q` into SQL before running it: FAB's
filter arguments typed and checked, the row scope and the filters applied to a SELECT of ids, the
request's shape key walked, the sort and the links' read flags worked out (app/web/listread.py).
Everything that work reads is the `q` text and who reads in which context: the user, their roles
and the team members their scopes cover (as the access cache has them), the language (labels,
collation), the viewer's time zone and today's date in it (relative date filters, datetimes typed
without an offset), and the count cap. With all of those in the key, the statements and every
bound value of a successful read are kept (`KeptRead`, at most READS_KEPT per API) and run again
for the same key: a role, team or user change gives another key (the values are the access
cache's, which a write to those tables refreshes), a new metadata version makes a new app, a new
day or zone another key. Permission to list at all (`has_access`) is still asked every request.

Not kept: FAB's own route (tokens, API keys, a `q` not yet validated), `CRM_REQUEST_FRAME=fab`,
the ORM read (`CRM_API_LIST_READ=orm`, a schema or filter `read_page` does not cover), a reader
whose team members are not in the access cache (anonymous). A plugin's field type whose filter
value depends on something else than the above (the clock within a day, the database) would be
kept too long: the built-in field types' do not.
"""

from __future__ import annotations

from typing import Any

from flask import current_app

from app.clock import crm_today, crm_zone
from app.security.access import Access

from .counting import count_cap
from .labels import current_lang
from .linksort import reader_collation
from .listread import KeptRead

READS_KEPT = 4096  # per API


def read_key(q: str, access: Access) -> tuple[Any, ...] | None:
    """What a list read depends on besides the app, or None when it is not to be kept."""
    config = current_app.config
    if config.get("CRM_REQUEST_FRAME", "lean") != "lean" or config.get("CRM_API_LIST_READ", "core") != "core" \
            or access.user_id is None or access.known_team_ids is None:
        return None
    zone = crm_zone()
    return (q, access.user_id, tuple(access.roles), access.known_team_ids, current_lang(), reader_collation(),
            zone.key, crm_today(zone), count_cap())


class KeptReads:
    """One API's kept reads."""

    def __init__(self) -> None:
        self.reads: dict[tuple[Any, ...], KeptRead] = {}

    def get(self, key: tuple[Any, ...] | None) -> KeptRead | None:
        return self.reads.get(key) if key is not None else None

    def keeper(self, key: tuple[Any, ...] | None) -> Any:
        """A function keeping a read under `key` (None: nothing kept)."""
        if key is None:
            return None

        def keep(read: KeptRead) -> None:
            if len(self.reads) >= READS_KEPT:
                self.reads.clear()  # (one atomic step: another request thread may be reading it)
            self.reads[key] = read
        return keep
