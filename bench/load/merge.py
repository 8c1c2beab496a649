"""Adds the metadata change's timings (change.py's JSON), the outbox check (outbox.py's JSON),
when they ran, and the machine's load average at the end (1, 5, 15 min) to the driver's figures.

    python bench/load/merge.py figures.json change=change.json outbox=outbox.json
"""

import json
import os
import sys

out = sys.argv[1]
with open(out, encoding="utf-8") as handle:
    figures = json.load(handle)
for arg in sys.argv[2:]:
    key, path = arg.split("=", 1)
    if os.path.exists(path):
        with open(path, encoding="utf-8") as handle:
            figures[key] = json.load(handle)
figures["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
with open(out, "w", encoding="utf-8") as handle:
    json.dump(figures, handle, indent=2, ensure_ascii=False)
