"""Round-trip edits of the metadata files: only the changed lines change, comments and Chinese stay,
and the edited files still load (the checker is the judge of validity)."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from app.editor import pipelines_edit as pe
from app.editor import yamledit as ye
from app.editor.roundtrip import splice
from app.metadata.loader import load_metadata

STARTER = Path(__file__).resolve().parents[1] / "metadata"


def starter_files() -> dict[str, str]:
    return {p.relative_to(STARTER).as_posix(): p.read_text(encoding="utf-8") for p in STARTER.rglob("*.yaml")}


def changed_lines(old: str, new: str) -> tuple[list[str], list[str]]:
    """(removed, added) lines of a git-style diff."""
    removed, added = [], []
    for line in difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=0):
        if line.startswith(("---", "+++", "@@")):
            continue
        (removed if line.startswith("-") else added).append(line[1:])
    return removed, added


def load(root: Path):  # noqa: ANN201 - the spec
    spec, problems = load_metadata(root)
    assert not problems, [p.format() for p in problems]
    return spec


def write_tree(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "metadata"
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return root


def test_add_field_with_chinese_label_and_choice_only_adds_lines(tmp_path: Path) -> None:
    files = starter_files()
    ws = ye.Workspace(files)
    ye.add_field(ws, "opportunity", "region", "choice", {"en": "Region", "zh": "区域"}, required=True,
                 choices=[{"value": "east", "label": {"en": "East", "zh": "华东"}, "color": "#1e88e5"}])
    changed = ws.changed()
    assert list(changed) == ["entities/opportunity.yaml"]
    removed, added = changed_lines(files["entities/opportunity.yaml"], changed["entities/opportunity.yaml"])
    assert removed == []
    assert added == ["  region:", "    type: choice", "    label: {en: Region, zh: 区域}", "    required: true",
                     "    choices:", '      - {value: east, label: {en: East, zh: 华东}, color: "#1e88e5"}']
    text = changed["entities/opportunity.yaml"]
    assert '      - {value: east, label: {en: East, zh: 华东}, color: "#1e88e5"}\n\npipelines:' in text
    assert text.startswith("# Opportunity: a potential deal with an account")
    assert "# reopening a lost deal is a manager's call" in text
    spec = load(write_tree(tmp_path, {**files, **changed}))
    region = spec.entity("opportunity").field("region")
    assert region.required and region.label.get("zh") == "区域"


def test_relabel_a_choice_changes_one_line() -> None:
    files = starter_files()
    ws = ye.Workspace(files)
    ye.edit_choice(ws, "opportunity", "source", "web", label={"en": "Web site", "zh": "网站"})
    removed, added = changed_lines(files["entities/opportunity.yaml"], ws.changed()["entities/opportunity.yaml"])
    assert removed == ["      - {value: web, label: {en: Website, zh: 官网}}"]
    assert added == ["      - {value: web, label: {en: Web site, zh: 网站}}"]


def test_an_edit_near_a_line_ruamel_would_rewrap_keeps_that_line() -> None:
    """campaign.contacts' help is a flow map over two lines; editing the label next to it
    must not rewrite it (ruamel alone would join it into one line)."""
    files = starter_files()
    ws = ye.Workspace(files)
    ye.set_field(ws, "campaign", "contacts", label={"en": "Attendees", "zh": "参与者"})
    old, new = files["entities/campaign.yaml"], ws.changed()["entities/campaign.yaml"]
    removed, added = changed_lines(old, new)
    assert removed == ["    label: {en: Contacts, zh: 参与联系人}"]
    assert added == ["    label: {en: Attendees, zh: 参与者}"]
    assert "           zh: 受邀或参加活动的联系人；联系人页面列出其参加的活动。}" in new


def test_editing_a_rewrapped_passage_replaces_only_that_passage() -> None:
    files = starter_files()
    ws = ye.Workspace(files)
    ye.set_field(ws, "campaign", "contacts", help={"en": "People", "zh": "人"})
    removed, added = changed_lines(files["entities/campaign.yaml"], ws.changed()["entities/campaign.yaml"])
    assert len(removed) == 2 and removed[0].startswith("    help: {en: People invited")
    assert added == ["    help: {en: People, zh: 人}"]


def test_stage_role_scope_settings_menu_and_list_edits(tmp_path: Path) -> None:
    files = starter_files()
    ws = ye.Workspace(files)
    pe.add_stage(ws, "opportunity", "new_business", "contract", label={"en": "Contract", "zh": "合同"},
                 probability=90, requires=["amount"])
    pe.set_stage(ws, "opportunity", "new_business", "proposal", probability=40)
    pe.set_scope(ws, "Sales Rep", "lead", "read", "team")
    pe.set_field_rule(ws, "Marketing", "lead.score", "read")
    pe.set_settings(ws, "Executive", "read")
    ye.set_list(ws, "opportunity", filters=["stage", "owner"])
    ye.set_menu_group(ws, "product", "customers")
    changed = ws.changed()
    removed, added = changed_lines(files["entities/opportunity.yaml"], changed["entities/opportunity.yaml"])
    assert added[0] == '      - {name: proposal, label: {en: Proposal, zh: 方案提供}, color: "#1e88e5", ' \
                       'probability: 40, requires: [amount]}'
    assert "      - {name: contract, label: {en: Contract, zh: 合同}, probability: 90, requires: [amount]}" in added
    assert len(removed) == 2 and len(added) == 3
    r_removed, r_added = changed_lines(files["roles.yaml"], changed["roles.yaml"])
    assert r_added == ["  settings: read",
                       "    lead: {read: team, create: yes, update: own, delete: own, export: own, import: yes}",
                       "    lead.score: read"]
    assert len(r_removed) == 1
    assert changed["roles.yaml"].startswith("# Roles: what each kind of user may do")
    spec = load(write_tree(tmp_path, {**files, **changed}))
    assert spec.role_map["Executive"].settings == "read"
    stages = [s.name for s in spec.entity("opportunity").pipelines[0].stages]
    assert stages.index("contract") == stages.index("won") - 1
    assert "product" in spec.menu[0].entities


def test_choice_order_and_colour() -> None:
    files = starter_files()
    ws = ye.Workspace(files)
    ye.order_choices(ws, "opportunity", "deal_type", ["renewal", "new_business"])
    ye.edit_choice(ws, "opportunity", "deal_type", "renewal", color="#2e7d32")
    new = ws.changed()["entities/opportunity.yaml"]
    removed, added = changed_lines(files["entities/opportunity.yaml"], new)
    assert removed == ["      - {value: renewal, label: {en: Renewal, zh: 续约}}"]
    assert added == ['      - {value: renewal, label: {en: Renewal, zh: 续约}, color: "#2e7d32"}']
    assert new.index("value: renewal") < new.index("value: new_business")
    with pytest.raises(ye.EditError):
        ye.order_choices(ws, "opportunity", "deal_type", ["renewal"])


def test_form_sections_and_field_rules() -> None:
    files = starter_files()
    ws = ye.Workspace(files)
    ye.set_field(ws, "opportunity", "lost_reason", required_if="stage = 'lost'", visible_if="stage = 'lost'")
    ye.set_form(ws, "opportunity", [
        {"section": {"en": "Deal", "zh": "商机信息"}, "fields": ["name", "account", "stage"]},
        {"section": {"en": "Origin", "zh": "来源"}, "fields": ["source", "campaign"]},
    ])
    removed, added = changed_lines(files["entities/opportunity.yaml"], ws.changed()["entities/opportunity.yaml"])
    assert "    required_if: stage = 'lost'" in added and "    visible_if: stage = 'lost'" in added
    assert "    fields: [name, account, stage]" in added
    assert "  - section: {en: Progress, zh: 进展}" in removed


def test_checker_judges_an_edit_that_breaks_the_metadata(tmp_path: Path) -> None:
    files = starter_files()
    ws = ye.Workspace(files)
    pe.set_settings(ws, "Marketing", "write")
    _spec, problems = load_metadata(write_tree(tmp_path, {**files, **ws.changed()}))
    assert [(p.path.name, p.code) for p in problems] == [("roles.yaml", "CRM-E047")]
    line = changed_lines(files["roles.yaml"], ws.changed()["roles.yaml"])[1]
    assert line == ["  settings: write"]
    assert ws.changed()["roles.yaml"].splitlines()[problems[0].line - 1] == "  settings: write"


def test_unknown_targets_are_edit_errors() -> None:
    ws = ye.Workspace(starter_files())
    with pytest.raises(ye.EditError):
        ye.set_field(ws, "opportunity", "nope", required=True)
    with pytest.raises(ye.EditError):
        pe.set_stage(ws, "opportunity", "new_business", "nope", probability=1)
    with pytest.raises(ye.EditError):
        pe.set_scope(ws, "Nobody", "lead", "read", "all")


@pytest.mark.parametrize("original, before, after, expected", [
    ("a: 1\nb: [x,\n  y]\nc: 3\n", "a: 1\nb: [x, y]\nc: 3\n", "a: 2\nb: [x, y]\nc: 3\n", "a: 2\nb: [x,\n  y]\nc: 3\n"),
    ("a: 1\nb: [x,\n  y]\nc: 3\n", "a: 1\nb: [x, y]\nc: 3\n", "a: 1\nb: [x, y]\nc: 3\nd: 4\n",
     "a: 1\nb: [x,\n  y]\nc: 3\nd: 4\n"),
    ("a: 1\nb: [x,\n  y]\n", "a: 1\nb: [x, y]\n", "a: 1\nb: [x, z]\n", "a: 1\nb: [x, z]\n"),
    ("a: 1\n", "a: 1\n", "z: 0\na: 1\n", "z: 0\na: 1\n"),
])
def test_splice(original: str, before: str, after: str, expected: str) -> None:
    assert splice(original, before, after) == expected


def test_field_aliases_are_written_after_the_help_in_their_style_and_load(tmp_path: Path) -> None:
    """`aliases:` (import headings, docs/metadata.md) from the field form: a new list is written
    `[a, b]` after the label and help; a list written one item a line stays so; none removes it."""
    files = starter_files()
    ws = ye.Workspace(files)
    ye.set_field(ws, "opportunity", "amount", aliases=["合同金额", "Deal value", "金额（元，含税）"])
    text = ws.changed()["entities/opportunity.yaml"]
    assert changed_lines(files["entities/opportunity.yaml"], text) == (
        [], ["    aliases: [合同金额, Deal value, 金额（元，含税）]"])
    assert "zh: 预计合同金额（人民币）}\n    aliases: [合同金额" in text
    spec = load(write_tree(tmp_path / "flow", {**files, "entities/opportunity.yaml": text}))
    assert spec.entity("opportunity").field("amount").aliases == ("合同金额", "Deal value", "金额（元，含税）")

    block = files["entities/opportunity.yaml"].replace(
        "    label: {en: Account, zh: 客户}\n", "    label: {en: Account, zh: 客户}\n    aliases:  # 客户的导入表头\n"
        "      - 公司名称\n      - Company\n")
    ws = ye.Workspace({**files, "entities/opportunity.yaml": block})
    ye.set_field(ws, "opportunity", "account", aliases=["公司名称", "Company", "123"])
    text = ws.changed()["entities/opportunity.yaml"]
    assert changed_lines(block, text) == ([], ["      - '123'"])  # a heading of digits stays a text
    spec = load(write_tree(tmp_path / "block", {**files, "entities/opportunity.yaml": text}))
    assert spec.entity("opportunity").field("account").aliases == ("公司名称", "Company", "123")
    ws = ye.Workspace({**files, "entities/opportunity.yaml": text})
    ye.set_field(ws, "opportunity", "account", aliases=[])
    assert ws.changed()["entities/opportunity.yaml"] == files["entities/opportunity.yaml"]
