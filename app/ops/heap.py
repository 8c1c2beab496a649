"""The built app's objects moved out of the garbage collector's sight (`gc.freeze`).

A built app is some 230,000 tracked objects (models, metadata, FAB's views, templates)
that live as long as the process. CPython's cyclic collector scans all of them in every
full collection: about 0.24 s, once every few hundred requests of a JSON list, 0.8 ms a
request on average and a 240 ms stall for the unlucky one (issue 18, bench/README.md).
Frozen, they are never scanned; the requests' own garbage is collected as before.

Called once the serving process has built its app (run.py). An app built later for a new
metadata version is not frozen: its objects are collected normally.
"""

from __future__ import annotations

import gc


def freeze_built_heap() -> int:
    """Collect what building left behind, then freeze the rest; returns how many were frozen."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
