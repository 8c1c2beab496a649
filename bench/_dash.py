"""Dashboard loads as a browser makes them: the HTML page, then every chart's JSON.

Since issue 17 a dashboard page carries only its layout; each chart box names its JSON
endpoint (`data-src`), which the browser asks in parallel. `full_load` asks them one
after another (one worker's total work), `parallel_load` six at a time (as Chromium
does per host), each on its own logged-in client.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from _rows import get_ok

CHART_SRC = re.compile(r'data-src="([^"]+\.json)"')
BROWSER_CONNECTIONS = 6


def chart_urls(client: Any, url: str) -> list[str]:
    """The JSON endpoints of the charts the page at `url` lays out."""
    return CHART_SRC.findall(get_ok(client, url).data.decode())


def full_load(client: Any, url: str) -> int:
    """The page, then each chart's JSON in turn; returns the number of charts."""
    charts = chart_urls(client, url)
    for src in charts:
        get_ok(client, src)
    return len(charts)


def parallel_load(clients: list[Any], url: str) -> int:
    """The page, then its charts' JSON on len(clients) connections at once (a browser)."""
    charts = chart_urls(clients[0], url)
    with ThreadPoolExecutor(len(clients)) as pool:
        list(pool.map(lambda i: [get_ok(clients[i], src) for src in charts[i::len(clients)]],
                      range(len(clients))))
    return len(charts)
