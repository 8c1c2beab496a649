"""Plugins: hooks run on every write path; a broken plugin stops start-up."""

from __future__ import annotations

import textwrap

import pytest

from app.plugins.manager import PluginError
from tests.alltypes import alltypes_tree
from tests.conftest import login

RULE = '''
from app.plugins.hookspecs import hookimpl

SEEN = []

@hookimpl
def crm_validate(entity, values, record, lang):
    if entity.name == "gadget" and values.get("qty") == 13:
        return {"qty": ["不吉利的数量" if lang == "zh" else "Unlucky quantity."]}

@hookimpl
def crm_before_insert(entity, record, session):
    if entity.name == "gadget":
        record.notes = (record.notes or "") + "[checked]"

@hookimpl
def crm_on_delete(entity, record, session):
    SEEN.append(("delete", entity.name, record.id))
'''


def _plugin_dir(tmp_path, source, name="rules.py"):
    folder = tmp_path / "plugins"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(textwrap.dedent(source), encoding="utf-8")
    return folder


def test_validate_and_insert_hooks_apply_to_api_and_forms(make_app, tmp_path):
    app = make_app(alltypes_tree(tmp_path / "meta"), CRM_PLUGINS_DIR=str(_plugin_dir(tmp_path, RULE)))
    client = login(app.test_client())
    refused = client.post("/api/v1/gadget/", json={"name": "x", "qty": 13})
    assert refused.status_code == 422 and refused.json["message"] == {"qty": ["Unlucky quantity."]}
    form = client.post("/crm/gadget/add", data={"name": "y", "qty": "13"})
    assert form.status_code == 200 and "Unlucky quantity." in form.data.decode()
    created = client.post("/api/v1/gadget/", json={"name": "z", "qty": 12, "notes": "n"})
    assert created.json["result"]["notes"] == "n[checked]"


def test_a_misspelled_hook_stops_start_up(make_app, tmp_path):
    source = "from app.plugins.hookspecs import hookimpl\n\n@hookimpl\ndef crm_validdate(entity):\n    pass\n"
    with pytest.raises(PluginError, match="crm_validdate"):
        make_app(alltypes_tree(tmp_path / "meta"), CRM_PLUGINS_DIR=str(_plugin_dir(tmp_path, source)))


def test_a_plugin_that_fails_to_import_names_its_file(make_app, tmp_path):
    folder = _plugin_dir(tmp_path, "import not_a_module_anywhere\n", name="broken.py")
    with pytest.raises(PluginError, match=r"broken.py:1: CRM-E029 plugin cannot be imported: ModuleNotFoundError"):
        make_app(alltypes_tree(tmp_path / "meta"), CRM_PLUGINS_DIR=str(folder))
