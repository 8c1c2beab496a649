"""Load plugins from entry points and the plugins/ folder; fail loudly.

FAB logs and skips a failing addon manager; a CRM whose automation silently
did not load is worse than one that does not start. So an import error, or
a hook implementation whose name no spec declares, stops start-up with
located problems (CRM-E029, see app/plugins/checks.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pluggy

from app.metadata.problems import MetadataError, Problem

from . import hookspecs
from .checks import entry_point_problems, import_plugin, plugin_files, register, unknown_hooks
from .fieldtypes import plugin_field_types


class PluginError(MetadataError):
    """Plugins that cannot run: every problem, located (the app refuses to start)."""

    subject = "plugins have"


class PluginHost(pluggy.PluginManager):
    """The plugin manager, with the hook calls commands make."""


def plugins_folder(settings: dict[str, Any]) -> Path:
    return Path(settings.get("CRM_PLUGINS_DIR") or Path(__file__).resolve().parents[2] / "plugins")


def check_plugins(settings: dict[str, Any]) -> tuple[PluginHost, list[Problem]]:
    """Import and register every plugin; return the host and every problem found."""
    host = PluginHost(hookspecs.PROJECT)
    host.add_hookspecs(hookspecs)
    problems = entry_point_problems(host)
    for path in plugin_files(plugins_folder(settings)):
        module = import_plugin(path, problems)
        if module is not None:
            register(host, module, f"plugins.{path.stem}", problems)
    for module in settings.get("CRM_PLUGINS", []):
        register(host, module, None, problems)
    problems.extend(unknown_hooks(host, problems))
    # types register before the metadata is read, so entities may use them
    problems.extend(plugin_field_types(host) if not problems else plugin_field_types(None))
    return host, problems


def load_plugins(settings: dict[str, Any]) -> PluginHost:
    host, problems = check_plugins(settings)
    if problems:
        raise PluginError(problems, plugins_folder(settings))
    return host
