"""Plugins checked like metadata: every problem located, with a stable code (CRM-E029).

A plugin that fails to import, a hook implementation whose name no hookspec declares
(`crm_on_updat`), or one asking for arguments its hook does not give, each becomes a
Problem at the plugin's file and line, so `crm validate` and start-up report them the
same way as a bad YAML file, never as a traceback.
"""

from __future__ import annotations

import importlib.util
import inspect
import linecache
import sys
import traceback
from pathlib import Path
from types import ModuleType
from typing import Any

import pluggy

from app.metadata.problems import Problem, did_you_mean

from . import hookspecs

CODE = "CRM-E029"
HOOK_NAMES = tuple(name for name, _ in inspect.getmembers(hookspecs, inspect.isfunction)
                   if name.startswith("crm_"))


def plugin_files(folder: Path) -> list[Path]:
    return [p for p in sorted(folder.glob("*.py")) if not p.name.startswith("_")] if folder.is_dir() else []


def import_plugin(path: Path, problems: list[Problem]) -> ModuleType | None:
    """The plugin module, or None with a problem at the line that failed."""
    spec = importlib.util.spec_from_file_location(f"crm_plugin_{path.stem}", path)
    if spec is None or spec.loader is None:
        problems.append(Problem(CODE, path, 0, "plugin cannot be imported", "plugins are .py files"))
        return None
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # noqa: BLE001 - any error in a plugin is reported, located
        problems.append(Problem(CODE, path, _failed_line(exc, path),
                                f"plugin cannot be imported: {type(exc).__name__}: {exc}", _import_hint(exc)))
        return None
    return module


def _failed_line(exc: BaseException, path: Path) -> int:
    if isinstance(exc, SyntaxError) and exc.lineno and Path(exc.filename or "") == path:
        return exc.lineno
    lines = [frame.lineno for frame in traceback.extract_tb(exc.__traceback__)
             if Path(frame.filename) == path and frame.lineno]
    return lines[-1] if lines else 0


def _import_hint(exc: BaseException) -> str:
    if isinstance(exc, ModuleNotFoundError):
        return f"install '{exc.name}' into the CRM's environment, or fix the import"
    return "fix the error at this line: the CRM does not start without its plugins"


def register(host: pluggy.PluginManager, plugin: Any, name: str | None, problems: list[Problem]) -> None:
    """Register one plugin: hooks no spec declares, or whose arguments their spec does not
    give, are problems (pluggy would stop at the first; every one is reported)."""
    problems.extend(misspelled_hooks(plugin))
    try:
        host.register(plugin, name=name)
    except pluggy.PluginValidationError as exc:
        hook = next((n for n in dir(plugin) if n.startswith("crm_") and f"'{n}'" in str(exc)), None)
        where, line = _source(getattr(plugin, hook) if hook else plugin)
        reason = str(exc).splitlines()[-1]
        problems.append(Problem(CODE, where, line, f"hook '{hook}' does not fit its spec: {reason}",
                                "a hook takes only the arguments its spec in app/plugins/hookspecs.py names"))


def misspelled_hooks(plugin: Any) -> list[Problem]:
    """Functions marked @hookimpl whose name is no MetaCRM hook."""
    problems = []
    for name in dir(plugin):
        function = getattr(plugin, name, None)
        options = getattr(function, f"{hookspecs.PROJECT}_impl", None)
        if not isinstance(options, dict) or name in HOOK_NAMES or options.get("optionalhook"):
            continue
        where, line = _source(function)
        problems.append(_unknown(name, where, line))
    return problems


def _unknown(name: str, where: Path, line: int) -> Problem:
    return Problem(CODE, where, line, f"hook '{name}' is not a MetaCRM hook",
                   did_you_mean(name, HOOK_NAMES) or f"hooks: {', '.join(HOOK_NAMES)}")


def unknown_hooks(host: pluggy.PluginManager, known: list[Problem]) -> list[Problem]:
    """Hook implementations no spec declares that `misspelled_hooks` did not see (installed
    plugins registered from entry points)."""
    seen = {(p.path, p.line) for p in known}
    problems = []
    for name, caller in sorted(vars(host.hook).items()):
        if not isinstance(caller, pluggy.HookCaller) or caller.has_spec():
            continue
        for impl in caller.get_hookimpls():
            where, line = _source(impl.function)
            if not impl.optionalhook and (where, line) not in seen:
                problems.append(_unknown(name, where, line))
    return problems


def _source(obj: Any) -> tuple[Path, int]:
    """The file and the `def` line of a function (past its decorators)."""
    try:
        where = Path(inspect.getsourcefile(obj) or "<plugin>")
    except TypeError:
        return Path(getattr(obj, "__name__", "<plugin>")), 0
    code = getattr(obj, "__code__", None)
    if code is None:
        return where, 0
    line = code.co_firstlineno
    for offset in range(20):
        text = linecache.getline(str(where), line + offset).lstrip()
        if text.startswith(("def ", "async def ")):
            return where, line + offset
    return where, line


def entry_point_problems(host: pluggy.PluginManager) -> list[Problem]:
    """Plugins installed as packages (entry points): a failure names the entry point."""
    try:
        host.load_setuptools_entrypoints(hookspecs.PROJECT)
    except Exception as exc:  # noqa: BLE001
        module = sys.modules.get(getattr(exc, "name", "") or "")
        where = Path(getattr(module, "__file__", None) or f"entry point group {hookspecs.PROJECT}")
        return [Problem(CODE, where, _failed_line(exc, where),
                        f"installed plugin cannot be loaded: {type(exc).__name__}: {exc}", _import_hint(exc))]
    return []
