"""Load plugins from entry points and the plugins/ folder; fail loudly.

FAB logs and skips a failing addon manager; a CRM whose automation silently
did not load is worse than one that does not start. So an import error, or
a hook implementation whose name no spec declares, stops start-up.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pluggy

from . import hookspecs


class PluginError(Exception):
    pass


class PluginHost(pluggy.PluginManager):
    """The plugin manager, with the hook calls commands make."""


def load_plugins(settings: dict[str, Any]) -> PluginHost:
    host = PluginHost(hookspecs.PROJECT)
    host.add_hookspecs(hookspecs)
    host.load_setuptools_entrypoints(hookspecs.PROJECT)
    folder = Path(settings.get("CRM_PLUGINS_DIR") or Path(__file__).resolve().parents[2] / "plugins")
    for path in sorted(folder.glob("*.py")) if folder.is_dir() else []:
        if path.name.startswith("_"):
            continue
        host.register(_import(path), name=f"plugins.{path.stem}")
    for module in settings.get("CRM_PLUGINS", []):
        host.register(module)
    try:
        host.check_pending()
    except pluggy.PluginValidationError as exc:
        raise PluginError(f"plugin hook not known: {exc}") from exc
    return host


def _import(path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(f"crm_plugin_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise PluginError(f"{path}: cannot be imported")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # a broken plugin stops start-up with its name
        raise PluginError(f"{path}: {type(exc).__name__}: {exc}") from exc
    return module
