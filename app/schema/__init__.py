"""Schema layer: plan and apply metadata changes to a live database (Alembic)."""

from pathlib import Path

# The core tables' revisions, shipped with the code (here, not in apply.py: the start-up check
# names them without importing Alembic, which a worker whose schema is current never needs).
CORE_VERSIONS = Path(__file__).resolve().parent / "core_versions"
