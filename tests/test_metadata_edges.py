"""Metadata edge cases: each a located CRM error, never a traceback (issue 11, item 8).

A value nested hundreds of levels deep, an entity file that cannot be read (dangling or
looping link, a folder named *.yaml, no permission), a plugin that fails to import or
implements a misspelled hook, a database at a revision the migrations folder lacks:
each is reported as file:line: CRM-Exxx with a hint by `crm validate` / `crm plan` and by
the app factory, which refuses to start.
"""

from __future__ import annotations

import os
import re
import shutil
import textwrap
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from app import create_app
from app.cli import crm
from app.metadata.loader import load_metadata
from app.metadata.problems import MetadataError
from app.plugins.manager import PluginError
from app.schema.apply import MissingRevision
from tests.conftest import write_tree

DEAL = """
label: {en: Deal, zh: 交易}
fields:
  name: {type: string, required: true}
"""
NOTE = """
label: {en: Note, zh: 备注}
fields:
  body: {type: text}
"""


def _tree(root: Path) -> Path:
    return write_tree(root, {"deal": DEAL, "note": NOTE})


def _validate(root: Path, plugins: Path | None = None) -> tuple[int, str]:
    args = ["validate", "--metadata", str(root)] + (["--plugins", str(plugins)] if plugins else [])
    result = CliRunner().invoke(crm, args)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def _refused_app(database_url: str, root: Path, tmp_path: Path, **settings: object) -> MetadataError:
    overrides = {"SQLALCHEMY_DATABASE_URI": database_url, "CRM_METADATA_DIR": str(root),
                 "CRM_PLUGINS_DIR": str(tmp_path / "no-plugins"), "TESTING": True,
                 "SECRET_KEY": "test-secret", "CRM_MIGRATIONS_DIR": str(tmp_path / "migrations"), **settings}
    with pytest.raises(MetadataError) as refused:
        create_app(overrides)
    return refused.value


# --- a value nested 500 levels deep ---------------------------------------------------

DEEP = {
    "flow list": "  deep: " + "[" * 500 + "]" * 500 + "\n",
    "flow map": "  deep: " + "{a: " * 500 + "1" + "}" * 500 + "\n",
    "block map": "  deep:\n" + "".join("  " * (i + 2) + f"k{i}:\n" for i in range(500)) + "  " * 502 + "v: 1\n",
    "unclosed": "  deep: " + "[" * 500 + "\n",
}


@pytest.mark.parametrize("shape", list(DEEP))
def test_a_value_nested_500_levels_deep_is_located(tmp_path, database_url, shape):
    root = _tree(tmp_path / "meta")
    path = root / "entities" / "note.yaml"
    path.write_text(textwrap.dedent(NOTE) + DEEP[shape], encoding="utf-8")
    _, problems = load_metadata(root)
    assert [p.code for p in problems] == ["CRM-E001"] and problems[0].path == path
    assert problems[0].line >= 4 and problems[0].hint
    code, output = _validate(root)
    assert code == 1 and re.search(r"entities/note\.yaml:\d+: CRM-E001 malformed YAML", output)
    refused = _refused_app(database_url, root, tmp_path)
    assert "note.yaml" in str(refused) and "CRM-E001" in str(refused)


def test_nesting_within_the_limit_still_loads(tmp_path):
    root = _tree(tmp_path / "meta")
    deep = "  body: {type: text, label: {en: Body, zh: 正文}}\n"
    (root / "entities" / "note.yaml").write_text(textwrap.dedent(NOTE).replace("  body: {type: text}\n", deep),
                                                 encoding="utf-8")
    spec, problems = load_metadata(root)
    assert problems == [] and spec is not None


# --- entity files that cannot be read -------------------------------------------------

def _dangling(path: Path) -> None:
    path.symlink_to(path.parent / "gone.yaml")


def _loop(path: Path) -> None:
    other = path.parent / "other.yml"
    path.symlink_to(other)
    other.symlink_to(path)


def _folder(path: Path) -> None:
    path.mkdir()


def _no_permission(path: Path) -> None:
    path.write_text(textwrap.dedent(NOTE), encoding="utf-8")
    path.chmod(0)


def _read_fails(path: Path) -> None:
    path.symlink_to("/proc/self/mem")  # a regular file whose read fails (EIO), even for root


BROKEN = {
    "dangling link": (_dangling, "is a symbolic link to .*gone.yaml, which does not exist"),
    "link loop": (_loop, "is a symbolic link loop"),
    "folder": (_folder, "is a folder, not a file"),
    "no permission": (_no_permission, r"cannot be read \(permission denied\)"),
    "read fails": (_read_fails, "cannot be read: Input/output error"),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_an_entity_file_that_cannot_be_read_is_located(tmp_path, database_url, case):
    if case == "no permission" and os.geteuid() == 0:
        pytest.skip("root reads any file")
    make, message = BROKEN[case]
    root = _tree(tmp_path / "meta")
    path = root / "entities" / "note.yaml"
    path.unlink()
    make(path)
    _, problems = load_metadata(root)
    located = [p for p in problems if p.path == path]
    assert located and {p.code for p in problems} == {"CRM-E028"}, [p.format() for p in problems]
    assert re.search(message, located[0].message) and located[0].hint
    code, output = _validate(root)
    assert code == 1 and re.search(r"entities/note\.yaml:0: CRM-E028 note\.yaml " + message, output)
    refused = _refused_app(database_url, root, tmp_path)
    assert "CRM-E028" in str(refused)


def test_crm_yaml_as_a_folder_is_not_reported_missing(tmp_path):
    root = _tree(tmp_path / "meta")
    (root / "crm.yaml").unlink()
    (root / "crm.yaml").mkdir()
    _, problems = load_metadata(root)
    assert [(p.code, p.path.name, p.message) for p in problems if p.path.name == "crm.yaml"] == [
        ("CRM-E028", "crm.yaml", "crm.yaml is a folder, not a file")]


# --- plugins --------------------------------------------------------------------------

MISSPELLED = """\
from app.plugins.hookspecs import hookimpl


@hookimpl
def crm_on_updat(entity, record, changes, session):
    pass


@hookimpl
def crm_validate(entity, valuez):
    return None
"""


def _plugins(tmp_path: Path, files: dict[str, str]) -> Path:
    folder = tmp_path / "plugins"
    folder.mkdir(exist_ok=True)
    for name, source in files.items():
        (folder / name).write_text(source, encoding="utf-8")
    return folder


PLUGIN_CASES = {
    "broken import": ({"broken.py": "import os\nimport not_a_module_anywhere\n"},
                      [r"plugins/broken\.py:2: CRM-E029 plugin cannot be imported: ModuleNotFoundError: "
                       r"No module named 'not_a_module_anywhere' \(hint: install 'not_a_module_anywhere'"]),
    "syntax error": ({"typo.py": "def crm_validate(:\n    pass\n"},
                     [r"plugins/typo\.py:1: CRM-E029 plugin cannot be imported: SyntaxError"]),
    "error at import": ({"boom.py": "X = 1\nY = {}['没有']\n"},
                        [r"plugins/boom\.py:2: CRM-E029 plugin cannot be imported: KeyError"]),
    "misspelled hook": ({"rules.py": MISSPELLED},
                        [r"plugins/rules\.py:5: CRM-E029 hook 'crm_on_updat' is not a MetaCRM hook "
                         r"\(hint: did you mean 'crm_on_update'\?\)",
                         r"plugins/rules\.py:10: CRM-E029 hook 'crm_validate' does not fit its spec: .*valuez"]),
}


@pytest.mark.parametrize("case", list(PLUGIN_CASES))
def test_a_broken_plugin_is_located_by_validate_and_at_start_up(tmp_path, database_url, case):
    files, expected = PLUGIN_CASES[case]
    folder = _plugins(tmp_path, files)
    root = _tree(tmp_path / "meta")
    code, output = _validate(root, folder)
    assert code == 1
    lines = [line for line in output.splitlines() if "CRM-E" in line]
    assert len(lines) == len(expected), output
    for pattern, line in zip(expected, lines, strict=True):
        assert re.search(pattern, line), line
    refused = _refused_app(database_url, root, tmp_path, CRM_PLUGINS_DIR=str(folder))
    assert isinstance(refused, PluginError) and str(refused).startswith("plugins have")
    assert [p.code for p in refused.problems] == ["CRM-E029"] * len(expected)


def test_validate_reports_metadata_and_plugin_problems_together(tmp_path):
    folder = _plugins(tmp_path, {"rules.py": MISSPELLED})
    root = _tree(tmp_path / "meta")
    (root / "entities" / "note.yaml").write_text("label: [\n", encoding="utf-8")
    code, output = _validate(root, folder)
    assert code == 1 and "CRM-E001" in output and "crm_on_updat" in output and "3 problem(s)" in output


def test_validate_says_plugins_are_ok(tmp_path):
    good = "from app.plugins.hookspecs import hookimpl\n\n\n@hookimpl\ndef crm_on_delete(entity, record, session):\n" \
           "    pass\n"
    folder = _plugins(tmp_path, {"audit.py": good})
    code, output = _validate(_tree(tmp_path / "meta"), folder)
    assert code == 0 and "metadata OK" in output and f"plugins OK: 1 file(s) ({folder})" in output


# --- a database at a revision the migrations folder lacks -----------------------------

def _forget_scripts(app):
    """A database whose metadata versions do not carry the revision scripts (e.g. upgraded
    before versions kept them): else every start writes the missing ones back from them."""
    with app.app_context():
        with app.extensions["crm"].db.engine.begin() as conn:
            conn.execute(sa.text("UPDATE crm_metadata_version SET revisions = '{}'"))


def test_a_database_revision_missing_from_the_migrations_folder_is_located(make_app, tmp_path, database_url):
    root = _tree(tmp_path / "meta")
    first = make_app(root)
    versions = Path(first.config["CRM_MIGRATIONS_DIR"])
    written = list(versions.glob("*.py"))
    assert written, "the first start wrote a metadata revision"
    revision = written[0].name.split("_")[1]
    moved = tmp_path / "elsewhere"
    moved.mkdir()
    for path in written:
        shutil.move(str(path), moved / path.name)
    _forget_scripts(first)
    refused = _refused_app(database_url, root, tmp_path, CRM_MIGRATIONS_DIR=str(versions))
    assert isinstance(refused, MissingRevision)
    assert [p.code for p in refused.problems] == ["CRM-E030"]
    text = str(refused)
    assert f"{versions}:0: CRM-E030 the database is at revision {revision}" in text
    assert "restore the file" in text and "CRM_MIGRATIONS_DIR" in text
    # `crm plan` on a live app (start-up leaves the schema to crm commands) says the same
    app = make_app(root, CRM_SCHEMA_MODE="off")
    result = app.test_cli_runner().invoke(crm, ["plan"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"CRM-E030 the database is at revision {revision}" in result.output
    # with the file back, all is well again
    for path in moved.iterdir():
        shutil.move(str(path), versions / path.name)
    assert app.test_cli_runner().invoke(crm, ["plan"]).exit_code == 0


# --- the documented examples (docs/metadata.md) are what these checks print -----------

def test_plugin_example_in_the_reference_is_what_validate_prints(tmp_path):
    from tests.test_metadata_docs import documented_lines
    misspelled = MISSPELLED.split("\n\n\n@hookimpl\ndef crm_validate")[0] + "\n"
    folder = _plugins(tmp_path, {"broken.py": "import os\nimport not_a_module_anywhere\n", "rules.py": misspelled})
    code, output = _validate(_tree(tmp_path / "meta"), folder)
    assert code == 1
    assert [line for line in output.splitlines() if "CRM-E" in line] == documented_lines("CRM-E029")


def test_missing_revision_example_in_the_reference_is_what_start_up_says(make_app, tmp_path, database_url):
    from tests.test_metadata_docs import documented_lines
    root = _tree(tmp_path / "meta")
    first = make_app(root)
    revision = next(Path(first.config["CRM_MIGRATIONS_DIR"]).glob("*.py")).name.split("_")[1]
    versions = tmp_path / "migrations" / "versions"  # CRM_MIGRATIONS_DIR pointing at another folder
    versions.mkdir()
    _forget_scripts(first)
    refused = _refused_app(database_url, root, tmp_path, CRM_MIGRATIONS_DIR=str(versions))
    shown = [p.format(tmp_path / "migrations") for p in refused.problems]
    (expected,) = documented_lines("CRM-E030")
    documented_revision = re.search(r"revision (\w+),", expected).group(1)
    assert shown == [expected.replace(documented_revision, revision)]
