"""Which product release and which core schema this code is: written into backups, checked on
restore and upgrade, shown by /health."""

from __future__ import annotations

import tomllib
from functools import lru_cache
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@lru_cache(maxsize=1)
def product_version() -> str:
    """The version in pyproject.toml next to the code (a source checkout), else the installed one."""
    pyproject = ROOT / "pyproject.toml"
    if pyproject.is_file():
        return str(tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["version"])
    return metadata.version("metacrm")


@lru_cache(maxsize=1)
def core_head() -> str:
    """The newest core revision this code ships (the core branch's head)."""
    from alembic.script import ScriptDirectory

    from app.schema.apply import CORE_VERSIONS, alembic_config

    cfg = alembic_config(CORE_VERSIONS)  # core revisions only: no metadata folder
    cfg.set_main_option("version_locations", str(CORE_VERSIONS))
    heads = ScriptDirectory.from_config(cfg).get_heads()
    if len(heads) != 1:
        raise RuntimeError(f"core revisions have {len(heads)} heads: {heads}")
    return heads[0]
