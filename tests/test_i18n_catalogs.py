"""The catalogs (app/translations): complete in en and zh, compiled files in step with their
sources, ours winning over FAB's, and a third language added as a catalog only (issue 17)."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import flask_appbuilder
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from app.i18n import CATALOG_DIR, Phrase, _t, translate
from app.i18n.catalogs import add, compile_all, load, stale
from tests.conftest import ROOT, STARTER

TEMPLATE_KEYWORDS = {"_": None, "gettext": None, "pgettext": ((1, "c"), 2)}


def used_msgids() -> set[tuple[str | None, str]]:
    """(context, msgid) of every catalog text the code (`_t`, `Phrase`) and templates ask for."""
    found: set[tuple[str | None, str]] = set()
    for path in (ROOT / "app").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("_t", "Phrase") \
                    and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                second = node.args[1] if len(node.args) > 1 and node.func.id == "_t" else None
                found.add((second.value if isinstance(second, ast.Constant) else None, node.args[0].value))
    for _file, _line, message, _comments, context in extract_from_dir(
            str(ROOT / "app" / "web" / "templates"), [("**.html", "jinja2")], keywords=TEMPLATE_KEYWORDS):
        msgid = message[-1] if isinstance(message, tuple) else message
        if msgid:
            found.add((context, msgid))
    return found


def fab_zh() -> set[str]:
    path = Path(flask_appbuilder.__file__).parent / "translations" / "zh" / "LC_MESSAGES" / "messages.po"
    return {m.id for m in read_po(path.open("rb")) if m.id and m.string}


def test_every_text_the_code_uses_is_translated_in_zh_and_en():
    zh, en, fab = load("zh"), load("en"), fab_zh()
    used = used_msgids()
    assert len(used) > 400  # the extraction sees the app (a broken pattern would find nothing)
    missing_zh = sorted(m for c, m in used if not ((zh.get(m, c) and zh.get(m, c).string) or (c is None and m in fab)))
    missing_en = sorted(m for c, m in used if not (en.get(m, c) or (c is None and m in fab)))
    assert not missing_zh, f"not in the zh catalog: {missing_zh}"
    assert not missing_en, f"not in the en catalog: {missing_en}"


def test_compiled_catalogs_match_their_sources():
    assert not stale(), "run `make translations` (python -m app.i18n.catalogs compile)"


def test_a_msgid_with_two_meanings_takes_its_context():
    assert translate("After", "zh", "date") == "晚于" and translate("After", "zh", "history") == "新值"
    assert _t("After", "position").get("zh") == "位于其后"
    assert translate("At most {n} characters.", "zh", n=3) == "最多 3 个字符。"
    assert translate("At most {n} characters.", None, n=3) == "At most 3 characters."


def test_a_phrase_is_english_as_a_string_and_translated_on_request():
    reason = Phrase("due {due} UTC, but {reason}", due="2026-12-07 10:00", reason=Phrase("trigger and condition hold"))
    assert reason == "due 2026-12-07 10:00 UTC, but trigger and condition hold"  # logs, API, CLI
    assert reason.get("zh") == "已于 2026-12-07 10:00 UTC 到期，但触发条件与判断条件均满足"


def test_our_translation_wins_over_fabs(client):
    assert "注销" in {m.string for m in read_po((Path(flask_appbuilder.__file__).parent / "translations" / "zh"
                                               / "LC_MESSAGES" / "messages.po").open("rb")) if m.id == "Logout"}
    client.post("/lang/zh")
    page = client.get("/crm/my_tasks/").get_data(as_text=True)
    assert "退出登录" in page and "注销" not in page  # FAB says 注销 for Logout; our catalog overrides it
    assert 'data-dismiss="modal">取消</button>' in page  # FAB's modal writes Cancel in English
    users = client.get("/users/list/").get_data(as_text=True)
    assert ">True<" not in users.replace(" ", "").replace("\n", "") and "[Admin]" not in users


def test_a_third_language_is_a_catalog_not_code(tmp_path):
    """Copy the catalogs, add ja with two texts, list ja in crm.yaml: the app speaks Japanese."""
    catalogs, metadata = tmp_path / "translations", tmp_path / "metadata"
    shutil.copytree(CATALOG_DIR, catalogs)
    shutil.copytree(STARTER, metadata)
    rules = metadata / "automations.yaml"  # a notice's text is metadata: it names every language
    rules.write_text(rules.read_text(encoding="utf-8").replace(
        'zh: "商机 {{ name }} 已赢单"}', 'zh: "商机 {{ name }} 已赢单", ja: "{{ name }} を受注"}'), encoding="utf-8")
    crm = metadata / "crm.yaml"
    crm.write_text(crm.read_text(encoding="utf-8").replace("languages: [en, zh]", "languages: [en, zh, ja]"),
                   encoding="utf-8")
    (catalogs / "ja" / "LC_MESSAGES").mkdir(parents=True)
    (catalogs / "ja" / "LC_MESSAGES" / "messages.po").write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n\n'
        'msgid "My tasks"\nmsgstr "マイタスク"\n\nmsgid "Nothing to do."\nmsgstr "やることはありません。"\n',
        encoding="utf-8")
    assert add([], root=catalogs) == [] and compile_all(catalogs)
    script = f"""
import sys
from tests.conftest import build_test_app, login
from pathlib import Path
app = build_test_app("sqlite:///{tmp_path}/ja.db", Path({str(metadata)!r}), Path({str(tmp_path / 'plugins')!r}))
client = login(app.test_client())
assert client.post("/lang/ja").status_code == 302
page = client.get("/crm/my_tasks/").get_data(as_text=True)
client.post("/lang/en")
menu = client.get("/crm/my_tasks/").get_data(as_text=True)
print("マイタスク" in page, "やることはありません。" in page, "日本語" in menu)
"""
    env = {**os.environ, "CRM_TRANSLATIONS_DIR": str(catalogs), "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300,
                          cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split()[-3:] == ["True", "True", "True"], done.stdout[-2000:]  # texts and the menu name

