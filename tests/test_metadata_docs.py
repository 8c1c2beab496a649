"""The metadata reference and the JSON Schemas stay in step with the code.

docs/metadata.md is what consultants learn from, docs/schema/*.json is what
their editor checks against. These tests fail when a key, field type or
checker code is added without documentation, when the committed schemas are
stale, or when a documented example stops loading (or stops producing the
problems the reference shows for it).

Example conventions in docs/metadata.md (see its introduction):
- a ```yaml block starting with `# metadata/<path>` is a whole file;
- a ```yaml block starting with `# in fields:` goes under `fields:`;
- outside "## Checker codes", the whole-file examples under one heading
  (## or ###) are loaded together; a `# metadata/roles.yaml` example goes
  with the starter metadata's crm.yaml and entities (it names them), a
  `# metadata/dashboards.yaml` example with those and the starter roles.yaml,
  the others with the Checker codes base tree;
- under "## Checker codes", the files before the first `###` are the base
  tree every example uses, and each `### CRM-E...` section's ```text lines
  are exactly the problems its files produce.
"""

from __future__ import annotations

import json
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

from app.metadata import definitions
from app.metadata.dashboards import PARAM_DEFAULTS
from app.metadata.definitions import FIELD_TYPES
from app.metadata.jsonschema import SCHEMA_FILES, build_json_schema
from app.metadata.loader import load_metadata
from app.metadata.problems import CODES, NOT_FROM_METADATA

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "metadata.md"
SCHEMA_DIR = ROOT / "docs" / "schema"
STARTER = ROOT / "metadata"
ROLES_FILE = "metadata/roles.yaml"
DASHBOARDS_FILE = "metadata/dashboards.yaml"
ROLES = "Roles (roles.yaml)"
DASHBOARDS = "Dashboards (dashboards.yaml)"
PIPELINES = "Pipelines"
CONVERSION = "Conversion"
CHECKER = "Checker codes"
FILE_MARK = re.compile(r"^# (metadata/\S+\.ya?ml)\s*$")
FRAGMENT_MARK = "# in fields:"
WITHOUT = re.compile(r"<!-- example: without (metadata/\S+) -->")
FOLDER = re.compile(r"<!-- example: folder (metadata/\S+) -->")
CHECKED_ELSEWHERE = re.compile(r"<!-- example: \w+, checked by (tests/\S+\.py) -->")

# Which `## section` of the reference documents each *_KEYS tuple.
KEY_SECTIONS = {
    "CRM_KEYS": "crm.yaml",
    "MENU_KEYS": "Menu groups",
    "ENTITY_KEYS": "Entity files",
    "OWNER_KEYS": "Entity files",
    "LIST_KEYS": "List",
    "SECTION_KEYS": "Form sections",
    "PIPELINE_KEYS": PIPELINES,
    "STAGE_KEYS": PIPELINES,
    "TRANSITION_KEYS": PIPELINES,
    "CONVERT_KEYS": CONVERSION,
    "TARGET_KEYS": CONVERSION,
    "FIELD_KEYS": "Field keys",
    "CHOICE_KEYS": "Field keys",
    "RULE_KEYS": "Entity files",
    "ROLE_KEYS": ROLES,
    "ACTION_KEYS": ROLES,
    "DASHBOARD_FILE_KEYS": DASHBOARDS,
    "DASHBOARD_KEYS": DASHBOARDS,
    "CHART_KEYS": DASHBOARDS,
    "PERIOD_KEYS": DASHBOARDS,
}


@dataclass
class Block:
    """One fenced code block of the reference, with the headings above it."""

    lang: str
    text: str
    h2: str
    h3: str | None


def doc_text() -> str:
    return DOC.read_text(encoding="utf-8")


def sections(text: str, level: int) -> dict[str, str]:
    """Heading title -> body, for headings of exactly `level` (# count)."""
    marker = "#" * level + " "
    result: dict[str, str] = {}
    title: str | None = None
    body: list[str] = []
    fenced = False
    for line in text.splitlines():
        fenced ^= line.startswith("```")
        if not fenced and re.match(rf"^#{{1,{level}}} ", line):
            if title is not None:
                result[title] = "\n".join(body)
            title = line[len(marker):].strip() if line.startswith(marker) else None
            body = []
        elif title is not None:
            body.append(line)
    if title is not None:
        result[title] = "\n".join(body)
    return result


def blocks(text: str) -> list[Block]:
    result: list[Block] = []
    h2, h3, lang = "", None, None
    lines: list[str] = []
    for line in text.splitlines():
        if lang is None and line.startswith("## "):
            h2, h3 = line[3:].strip(), None
        elif lang is None and line.startswith("### "):
            h3 = line[4:].strip()
        elif line.startswith("```"):
            if lang is None:
                lang, lines = line[3:].strip(), []
            else:
                result.append(Block(lang, "\n".join(lines) + "\n", h2, h3))
                lang = None
        elif lang is not None:
            lines.append(line)
    assert lang is None, "unclosed code block in docs/metadata.md"
    return result


def file_path(block: Block) -> str | None:
    match = FILE_MARK.match(block.text.splitlines()[0])
    return match.group(1) if match else None


def run_tree(tmp: Path, files: dict[str, str], folders: tuple[str, ...] = ()) -> list[str]:
    """Write `files` (paths start with metadata/) under tmp, make `folders`, and load them."""
    for rel, text in files.items():
        path = tmp / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    for rel in folders:
        (tmp / rel).mkdir(parents=True)
    (tmp / "metadata" / "entities").mkdir(parents=True, exist_ok=True)
    _, problems = load_metadata(tmp / "metadata")
    return [p.format(tmp / "metadata") for p in problems]


def starter_files() -> dict[str, str]:
    """The starter crm.yaml and entity files, keyed like example files (metadata/...)."""
    paths = [STARTER / "crm.yaml", *sorted((STARTER / "entities").glob("*.y*ml"))]
    return {f"metadata/{path.relative_to(STARTER).as_posix()}": path.read_text(encoding="utf-8")
            for path in paths}


def base_files(all_blocks: list[Block]) -> dict[str, str]:
    base = {str(file_path(b)): b.text for b in all_blocks
            if b.h2 == CHECKER and b.h3 is None and b.lang == "yaml"}
    assert {"metadata/crm.yaml", "metadata/entities/account.yaml"} <= set(base)
    return base


# (a) every key of every *_KEYS tuple is documented, in its section.

def test_every_key_tuple_has_a_section() -> None:
    tuples = {n for n, v in vars(definitions).items() if n.endswith("_KEYS") and isinstance(v, tuple)}
    assert tuples == set(KEY_SECTIONS), "add new *_KEYS tuples to KEY_SECTIONS and the docs"


@pytest.mark.parametrize("tuple_name", sorted(KEY_SECTIONS))
def test_every_key_is_documented(tuple_name: str) -> None:
    body = sections(doc_text(), 2)[KEY_SECTIONS[tuple_name]]
    keys = getattr(definitions, tuple_name)
    assert keys, tuple_name
    missing = [k.name for k in keys if f"`{k.name}`" not in body]
    assert not missing, f"{tuple_name} keys not in '## {KEY_SECTIONS[tuple_name]}': {missing}"


def tables(body: str) -> dict[str, list[str]]:
    """Markdown tables of `body`: first header cell -> the backticked first cells of its rows."""
    result: dict[str, list[str]] = {}
    rows: list[str] | None = None
    for line in body.splitlines():
        if not line.startswith("|"):
            rows = None
        elif rows is None:
            rows = result.setdefault(line.split("|")[1].strip(), [])
        elif match := re.match(r"^\| `([^`]+)` \|", line):
            rows.append(match.group(1))
    return result


@pytest.mark.parametrize("header,values", [
    ("Key", [k.name for k in definitions.ROLE_KEYS]),
    ("Action", [k.name for k in definitions.ACTION_KEYS]),
    ("Scope", list(definitions.SCOPES)),
    ("Mode", list(definitions.FIELD_MODES)),
], ids=["ROLE_KEYS", "ACTION_KEYS", "SCOPES", "FIELD_MODES"])
def test_roles_tables_list_every_key_scope_and_mode(header: str, values: list[str]) -> None:
    """One table row per role key, action, scope and field mode, in definitions.py order."""
    body = sections(doc_text(), 2)[ROLES]
    assert tables(body).get(header) == values
    if header in ("Key", "Action"):  # each with an example in its last cell
        for name in values:
            row = re.search(rf"^\| `{name}` \|.*\| `{name}: [^`]+` \|$", body, re.M)
            assert row, f"the {name} row has no example `{name}: ...` in its last cell"


@pytest.mark.parametrize("section,header,keys", [
    (PIPELINES, "Key", definitions.PIPELINE_KEYS),
    (PIPELINES, "Stage key", definitions.STAGE_KEYS),
    (PIPELINES, "Transition key", definitions.TRANSITION_KEYS),
    (CONVERSION, "Key", definitions.CONVERT_KEYS),
    (CONVERSION, "Target key", definitions.TARGET_KEYS),
], ids=["PIPELINE_KEYS", "STAGE_KEYS", "TRANSITION_KEYS", "CONVERT_KEYS", "TARGET_KEYS"])
def test_pipeline_tables_list_every_key(section: str, header: str, keys: tuple[definitions.Key, ...]) -> None:
    """One row per pipeline, stage, convert and target key, in definitions.py order, each with an
    example (or a pointer to the section's example) in its last cell."""
    body = sections(doc_text(), 2)[section]
    assert tables(body).get(header) == [k.name for k in keys]
    for key in keys:
        row = re.search(rf"^\| `{key.name}` \| (yes|no) \|.*\| (`{key.name}: [^`]+`|see below) \|$",
                        body, re.M)
        assert row, f"the {key.name} row has no example `{key.name}: ...` in its last cell"
        assert (row.group(1) == "yes") == key.required, f"{key.name}: the Required cell is wrong"


def test_pipeline_sections_cover_gates_probability_and_when() -> None:
    body = sections(doc_text(), 2)[PIPELINES]
    assert list(sections(body, 3)) == ["Pipeline keys", "Stage keys", "The stage field", "Gates",
                                       "Transitions", "Probability", "Several pipelines (when)"]
    examples = [b for b in blocks(doc_text()) if b.h2 == PIPELINES and b.lang == "yaml"]
    assert any("when:" in b.text for b in examples), "show a pipeline with `when`"
    assert {o for o in definitions.OUTCOMES if f"outcome: {o}" in body} == {"won", "lost"}
    for code in ("CRM-E024", "CRM-E025"):
        assert f"`{code}`" in body


def test_every_field_key_has_a_heading() -> None:
    body = sections(doc_text(), 2)["Field keys"]
    assert list(sections(body, 3)) == [f"`{k.name}`" for k in definitions.FIELD_KEYS]


# (b) every field type has a heading under "## Field types".

def test_every_field_type_has_a_heading() -> None:
    body = sections(doc_text(), 2)["Field types"]
    assert list(sections(body, 3)) == [f"`{name}`" for name in FIELD_TYPES]


def test_field_type_sections_list_their_options() -> None:
    body = sections(sections(doc_text(), 2)["Field types"], 3)
    for name, ftype in FIELD_TYPES.items():
        keys_line = re.search(r"^Keys: (.*?)\.$", body[f"`{name}`"], re.M | re.S)
        assert keys_line, f"type {name}: no 'Keys:' paragraph"
        field_keys = {key.name for key in definitions.FIELD_KEYS}
        listed = set(re.findall(r"`(\w+)`", keys_line.group(1))) & field_keys
        assert listed == set(ftype.options) - {"type", "label", "help"}, name


# (c) every checker code has a heading "### CRM-E0xx title".

def test_every_code_has_a_heading() -> None:
    body = sections(doc_text(), 2)[CHECKER]
    documented = list(sections(body, 3))
    assert documented == [f"{code} {title}" for code, title in CODES.items()]


# (d) the committed schemas are current, and they accept and reject what they should.

@pytest.mark.parametrize("kind", sorted(SCHEMA_FILES))
def test_committed_schema_is_current(kind: str) -> None:
    committed = json.loads((SCHEMA_DIR / SCHEMA_FILES[kind]).read_text(encoding="utf-8"))
    assert committed == build_json_schema(kind), (
        "docs/schema is stale: run `flask --app run.py crm schema docs/schema`")


@pytest.mark.parametrize("kind", sorted(SCHEMA_FILES))
def test_schema_is_valid_draft_2020_12(kind: str) -> None:
    Draft202012Validator.check_schema(build_json_schema(kind))


def entity_errors(doc: object) -> list[str]:
    validator = Draft202012Validator(build_json_schema("entity"))
    return [error.message for error in validator.iter_errors(doc)]


VALID_ENTITY: dict[str, Any] = {
    "label": {"en": "Deal", "zh": "商机"},
    "fields": {
        "name": {"type": "string", "required": True, "max_length": 200},
        "account": {"type": "link", "to": "account", "on_delete": "restrict"},
        "stage": {"type": "choice", "choices": ["open", {"value": "won", "color": "#2e7d32"}]},
        "close_date": {"type": "date", "default": "today", "min": "2020-01-01"},
        "notes": "text",
    },
    "list": {"columns": ["name", "account.name"], "order": "-close_date", "page_size": 50},
    "form": [{"section": "Deal", "fields": ["name", "account"]}],
}


def with_field(definition: object) -> dict[str, Any]:
    return {**VALID_ENTITY, "fields": {**VALID_ENTITY["fields"], "extra": definition}}


def test_entity_schema_accepts_a_valid_entity() -> None:
    assert entity_errors(VALID_ENTITY) == []


@pytest.mark.parametrize("definition", [
    {"type": "string", "colour": "red"},          # unknown field key
    {"type": "strng"},                             # unknown type
    "strng",                                       # unknown type, shorthand
    {"type": "text", "unique": True},              # option the type does not take
    {"type": "link"},                              # link without to
    {"type": "choice"},                            # choice without choices
    {"type": "link", "to": "account", "on_delete": "delete"},
    {"type": "date", "default": "now"},            # keyword for another type
])
def test_entity_schema_rejects_bad_fields(definition: object) -> None:
    assert entity_errors(with_field(definition)), definition


def test_entity_schema_rejects_bad_names_and_keys() -> None:
    assert entity_errors({**VALID_ENTITY, "colour": "red"})
    assert entity_errors({**VALID_ENTITY, "fields": {"Close Date": "date"}})
    assert entity_errors({**VALID_ENTITY, "fields": {"owner": "user"}})
    assert entity_errors({key: v for key, v in VALID_ENTITY.items() if key != "label"})


VALID_PIPELINE: dict[str, Any] = {
    "name": "sales", "label": {"en": "Sales", "zh": "销售"}, "field": "phase",
    "probability_field": "probability", "probability_overridable": True, "amount_field": "amount",
    "card_fields": ["account", "owner"],
    "stages": [
        {"name": "qualify", "label": "Qualify", "color": "#1976d2", "probability": 10},
        {"name": "won", "probability": 100, "outcome": "won", "requires": ["amount"], "next": [],
         "roles": ["Sales Manager", "Admin"]},
        {"name": "lost", "probability": 0, "outcome": "lost", "next": ["qualify"]},
    ],
}


def with_pipelines(*pipelines: object) -> dict[str, Any]:
    fields = {**VALID_ENTITY["fields"], "probability": "percent", "amount": "money"}
    return {**VALID_ENTITY, "fields": fields, "pipelines": list(pipelines)}


def test_entity_schema_accepts_pipelines() -> None:
    renewal = {"name": "renewal", "field": "phase", "when": {"stage": "won"},
               "stages": [{"name": "due"}, {"name": "won", "outcome": "won"}]}
    assert entity_errors(with_pipelines(VALID_PIPELINE, renewal)) == []


def test_entity_schema_accepts_the_starter_entities() -> None:
    """The starter files, pipelines included (opportunity, lead, ticket), pass the editor's schema."""
    paths = sorted((STARTER / "entities").glob("*.yaml"))
    with_pipelines_ = [p.name for p in paths if "pipelines" in yaml.safe_load(p.read_text(encoding="utf-8"))]
    assert {"opportunity.yaml", "lead.yaml", "ticket.yaml"} <= set(with_pipelines_)
    for path in paths:
        assert entity_errors(yaml.safe_load(path.read_text(encoding="utf-8"))) == [], path.name


def with_stage(**change: object) -> dict[str, Any]:
    stages = [*VALID_PIPELINE["stages"], {"name": "extra", **change}]
    return with_pipelines({**VALID_PIPELINE, "stages": stages})


@pytest.mark.parametrize("pipeline", [
    {**VALID_PIPELINE, "colour": "red"},                  # unknown pipeline key
    {k: v for k, v in VALID_PIPELINE.items() if k != "field"},
    {k: v for k, v in VALID_PIPELINE.items() if k != "stages"},
    {**VALID_PIPELINE, "stages": []},
    {**VALID_PIPELINE, "field": "owner"},                 # a system field
    {**VALID_PIPELINE, "field": "Stage"},                 # not an identifier
    {**VALID_PIPELINE, "when": {"stage": "won", "name": "x"}},
    {**VALID_PIPELINE, "when": "renewal"},
    {**VALID_PIPELINE, "probability_overridable": "yes please"},
    "sales",
], ids=["unknown-key", "no-field", "no-stages", "empty-stages", "system-field", "bad-field",
        "when-two-keys", "when-string", "overridable-not-bool", "not-a-map"])
def test_entity_schema_rejects_bad_pipelines(pipeline: object) -> None:
    assert entity_errors(with_pipelines(pipeline)), pipeline


@pytest.mark.parametrize("change", [
    {"probabilty": 10},            # unknown stage key
    {"probability": 150},
    {"probability": -1},
    {"probability": 50.5},
    {"outcome": "win"},
    {"roles": ["Public"]},
    {"roles": "Sales Manager"},
    {"next": "won"},
    {"requires": ["Amount"]},
    {"name": "Extra"},
], ids=["unknown-key", "probability-150", "probability-negative", "probability-not-whole",
        "bad-outcome", "role-public", "roles-string", "next-string", "requires-bad-name", "bad-name"])
def test_entity_schema_rejects_bad_stages(change: dict[str, Any]) -> None:
    assert entity_errors(with_stage(**change)), change


def test_entity_schema_rejects_a_stage_without_name() -> None:
    stages = [*VALID_PIPELINE["stages"], {"label": "No name"}]
    assert entity_errors(with_pipelines({**VALID_PIPELINE, "stages": stages}))


def test_crm_schema_accepts_valid_and_rejects_unknown_key() -> None:
    validator = Draft202012Validator(build_json_schema("crm"))
    crm = {"name": {"en": "Acme", "zh": "演示"}, "languages": ["en", "zh"],
           "menu": [{"group": "sales", "entities": ["deal"]}]}
    assert list(validator.iter_errors(crm)) == []
    assert list(validator.iter_errors({**crm, "langauges": ["en"]}))
    assert list(validator.iter_errors({**crm, "languages": ["fr"]}))


# (e) the documented examples do what the reference says.

def test_every_yaml_example_is_checked() -> None:
    unmarked = [b.text.splitlines()[0] for b in blocks(doc_text())
                if b.lang == "yaml" and not file_path(b)
                and not b.text.startswith(FRAGMENT_MARK)]
    assert not unmarked, f"yaml examples without a '# metadata/...' or '{FRAGMENT_MARK}' line"


def valid_example_cases() -> list[tuple[str, dict[str, str]]]:
    """(id, files) for every example outside Checker codes; each must load cleanly."""
    all_blocks = blocks(doc_text())
    base = base_files(all_blocks)
    cases: list[tuple[str, dict[str, str]]] = []
    by_heading: dict[str, dict[str, str]] = {}
    for block in all_blocks:
        if block.lang != "yaml" or block.h2 == CHECKER:
            continue
        path = file_path(block)
        where = f"{block.h2} > {block.h3}" if block.h3 else block.h2
        if path:
            files = by_heading.setdefault(where, {})
            assert path not in files, f"'{where}' shows {path} twice; only one can be checked"
            files[path] = block.text
        else:
            body = textwrap.indent(block.text.split("\n", 1)[1], "  ")
            entity = f"label: Example\nfields:\n{body}"
            cases.append((f"{where}: fragment", {**base, "metadata/entities/example.yaml": entity}))
    for where, files in by_heading.items():
        tree = starter_files() if ROLES_FILE in files else base
        if DASHBOARDS_FILE in files:
            tree = {**starter_files(), ROLES_FILE: (STARTER / "roles.yaml").read_text(encoding="utf-8")}
        cases.append((f"{where}: files", {**tree, **files}))
    return cases


@pytest.mark.parametrize("files", [c[1] for c in valid_example_cases()],
                         ids=[c[0] for c in valid_example_cases()])
def test_documented_example_loads(files: dict[str, str], tmp_path: Path) -> None:
    assert run_tree(tmp_path, files) == []


def checker_cases() -> list[tuple[str, dict[str, str], list[str], tuple[str, ...]]]:
    text = doc_text()
    all_blocks = blocks(text)
    base = base_files(all_blocks)
    bodies = sections(sections(text, 2)[CHECKER], 3)
    cases = []
    for heading, body in bodies.items():
        files = dict(base)
        for block in all_blocks:
            if block.h2 == CHECKER and block.h3 == heading and block.lang == "yaml":
                files[str(file_path(block))] = block.text
        for removed in WITHOUT.findall(body):
            files.pop(removed)
        expected = [line for block in all_blocks if block.h2 == CHECKER and block.h3 == heading
                    and block.lang == "text" for line in block.text.splitlines() if line]
        cases.append((heading, files, expected, tuple(FOLDER.findall(body))))
    return cases


def documented_lines(code: str) -> list[str]:
    """The example output of one code's section (for the tests that produce it elsewhere)."""
    return next(expected for heading, _, expected, _ in checker_cases() if heading.split()[0] == code)


@pytest.mark.parametrize("heading,files,expected,folders", checker_cases(),
                         ids=[c[0].split()[0] for c in checker_cases()])
def test_checker_example_gives_documented_problems(heading: str, files: dict[str, str], expected: list[str],
                                                   folders: tuple[str, ...], tmp_path: Path) -> None:
    code = heading.split()[0]
    assert expected, f"{code} has no example output"
    assert all(f": {code} " in line for line in expected), f"{code}: output shows other codes"
    elsewhere = CHECKED_ELSEWHERE.findall(sections(sections(doc_text(), 2)[CHECKER], 3)[heading])
    if code in NOT_FROM_METADATA:  # plugins, the database: that test compares its output with these lines
        assert elsewhere and code in (ROOT / elsewhere[0]).read_text(encoding="utf-8"), code
        return
    assert not elsewhere, f"{code} comes from the metadata: its example is loaded here"
    assert sorted(run_tree(tmp_path, files, folders)) == sorted(expected)


def test_checker_base_tree_is_valid(tmp_path: Path) -> None:
    assert run_tree(tmp_path, base_files(blocks(doc_text()))) == []


# (f) roles.yaml: its examples are checked, and its schema accepts and rejects what it should.

def roles_examples() -> list[Block]:
    return [b for b in blocks(doc_text()) if b.lang == "yaml" and b.h2 != CHECKER
            and file_path(b) == ROLES_FILE]


def test_roles_examples_are_loaded_with_the_starter_entities() -> None:
    examples = roles_examples()
    assert examples and all(b.h2 == ROLES for b in examples), "the roles section shows roles.yaml"
    checked = [files for _, files in valid_example_cases()
               if ROLES_FILE in files and DASHBOARDS_FILE not in files]
    assert [files[ROLES_FILE] for files in checked] == [b.text for b in examples]
    assert all("metadata/entities/opportunity.yaml" in files for files in checked)


def test_roles_example_is_a_shortened_starter_roles_yaml() -> None:
    """Every role, key, entity and field rule of the '### Example' is as in metadata/roles.yaml."""
    example = next(b for b in roles_examples() if b.h3 == "Example")
    shown = yaml.safe_load(example.text)
    starter = yaml.safe_load((STARTER / "roles.yaml").read_text(encoding="utf-8"))
    assert len(shown) >= 3
    for name, role in shown.items():
        assert name in starter, f"role {name!r} is not in metadata/roles.yaml"
        for key, value in role.items():
            if isinstance(value, dict) and key in ("entities", "fields"):
                for entry, rule in value.items():
                    assert starter[name][key].get(entry) == rule, (name, key, entry)
            else:
                assert starter[name].get(key) == value, (name, key)


def roles_errors(doc: object) -> list[str]:
    validator = Draft202012Validator(build_json_schema("roles"))
    return [error.message for error in validator.iter_errors(doc)]


def test_roles_schema_accepts_the_starter_roles_and_the_examples() -> None:
    assert roles_errors(yaml.safe_load((STARTER / "roles.yaml").read_text(encoding="utf-8"))) == []
    for block in roles_examples():
        assert roles_errors(yaml.safe_load(block.text)) == [], block.h3


def test_roles_schema_accepts_yes_no_and_the_shorthand() -> None:
    # The editor reads YAML 1.2, where an unquoted yes is the string "yes".
    assert roles_errors({"Rep": {"entities": {
        "lead": {"read": "own", "create": "yes", "update": True, "delete": False, "import": "no"},
        "product": "all", "ticket": "yes", "contact": True, "campaign": False, "account": "no"}}}) == []


VALID_ROLES: dict[str, Any] = {
    "Sales Rep": {"label": {"en": "Sales Rep", "zh": "销售代表"},
                  "entities": {"opportunity": {"read": "own", "create": True}},
                  "fields": {"opportunity.amount": "read"}},
    "Sales Manager": {"extends": ["Sales Rep"], "entities": {"opportunity": "team"}},
}


BAD_ROLES: dict[str, dict[str, Any]] = {
    "bad-scope": {"Sales Rep": {"entities": {"opportunity": {"read": "some"}}}},
    "bad-shorthand-scope": {"Sales Rep": {"entities": {"opportunity": "some"}}},
    "unknown-action": {"Sales Rep": {"entities": {"opportunity": {"edit": "own"}}}},
    "bad-field-mode": {"Sales Rep": {"fields": {"opportunity.amount": "visible"}}},
    "rule-key-not-entity-field": {"Sales Rep": {"fields": {"amount": "hidden"}}},
    "unknown-role-key": {"Sales Rep": {"colour": "red"}},
    "entities-as-list": {"Sales Rep": {"entities": ["opportunity"]}},
    "extends-not-a-list": {"Sales Manager": {"extends": "Sales Rep"}},
    "built-in-role": {"Admin": {}},
    "name-too-long": {"R" * 65: {}},
}


def test_roles_schema_accepts_stage_grants() -> None:
    assert roles_errors({**VALID_ROLES, "Sales Rep": {
        **VALID_ROLES["Sales Rep"],
        "stages": {"opportunity": ["prospecting", "proposal"], "ticket": "resolved"}}}) == []


@pytest.mark.parametrize("stages", [
    ["prospecting"],                                 # a list, not a map of entity to stages
    {"opportunity": ["Won"]},                        # not a stage name
    {"Opportunity": ["won"]},                        # not an entity name
    {"opportunity": [{"name": "won"}]},
    {"opportunity": 3},
], ids=["list", "bad-stage", "bad-entity", "stage-mapping", "number"])
def test_roles_schema_rejects_bad_stage_grants(stages: object) -> None:
    assert roles_errors({"Sales Rep": {"stages": stages}}), stages


@pytest.mark.parametrize("change", list(BAD_ROLES.values()), ids=list(BAD_ROLES))
def test_roles_schema_rejects_bad_roles(change: dict[str, Any]) -> None:
    assert roles_errors(VALID_ROLES) == []
    assert roles_errors({**VALID_ROLES, **change}), change


# (g) dashboards.yaml: its tables list every key, kind, measure, operator and analysis; its
# examples load with the starter metadata; its schema accepts and rejects what it should.

@pytest.mark.parametrize("header,values", [
    ("Key", [k.name for k in definitions.DASHBOARD_FILE_KEYS]),
    ("Dashboard key", [k.name for k in definitions.DASHBOARD_KEYS]),
    ("Chart key", [k.name for k in definitions.CHART_KEYS]),
    ("Period key", [k.name for k in definitions.PERIOD_KEYS]),
    ("Kind", list(definitions.CHART_KINDS)),
    ("Operator", list(definitions.FILTER_OPS)),
    ("Analysis", list(definitions.ANALYSES)),
], ids=["DASHBOARD_FILE_KEYS", "DASHBOARD_KEYS", "CHART_KEYS", "PERIOD_KEYS", "CHART_KINDS", "FILTER_OPS",
        "ANALYSES"])
def test_dashboards_tables_list_every_key_kind_operator_and_analysis(header: str, values: list[str]) -> None:
    """One row each, in definitions.py order; key rows say whether the key is required."""
    body = sections(doc_text(), 2)[DASHBOARDS]
    assert tables(body).get(header) == values
    keys = {k.name: k for t in (definitions.DASHBOARD_FILE_KEYS, definitions.DASHBOARD_KEYS,
                                definitions.CHART_KEYS, definitions.PERIOD_KEYS) for k in t}
    if header.endswith("Key") or header.endswith("key"):
        for name in values:
            row = re.search(rf"^\| `{name}` \| (yes|no) \|.*\| (`{name}: [^`]+`|see [^|]+) \|$", body, re.M)
            assert row, f"the {name} row has no Required cell or no example `{name}: ...` in its last cell"
            assert (row.group(1) == "yes") == keys[name].required, f"{name}: the Required cell is wrong"


def test_dashboards_section_documents_measures_buckets_ranges_and_params() -> None:
    body = sections(doc_text(), 2)[DASHBOARDS]
    assert [m.split("(")[0] for m in tables(body)["Measure"]] == list(definitions.MEASURES)
    for word in (*definitions.DATE_BUCKETS, *definitions.RELATIVE_RANGES, *definitions.CHART_SORTS,
                 "last_N_days", "next_N_days"):
        assert f"`{word}`" in body, word
    for analysis in definitions.ANALYSES.values():
        row = re.search(rf"^\| `{analysis.name}` \| (.*?) \| (.*?) \|", body, re.M)
        assert row, analysis.name
        assert [k.strip("`") for k in row.group(1).split(", ")] == list(analysis.kinds), analysis.name
        for param, _ in analysis.params:
            default = PARAM_DEFAULTS[param]
            assert f"`{param}` (`{default}`)" in row.group(2), (analysis.name, param)
        assert ("*pipeline*" in row.group(2)) == analysis.needs_pipeline, analysis.name
    assert list(sections(body, 3)) == ["File and dashboard keys", "Chart keys", "Chart kinds", "Measures",
                                       "Grouping", "Filters", "Period (kpi charts)", "Analyses", "Who sees what"]


def dashboards_examples() -> list[Block]:
    return [b for b in blocks(doc_text()) if b.lang == "yaml" and b.h2 != CHECKER
            and file_path(b) == DASHBOARDS_FILE]


def test_dashboards_examples_are_loaded_with_the_starter_metadata() -> None:
    examples = dashboards_examples()
    assert len(examples) >= 3 and all(b.h2 == DASHBOARDS for b in examples)
    checked = [files for _, files in valid_example_cases() if DASHBOARDS_FILE in files]
    assert [files[DASHBOARDS_FILE] for files in checked] == [b.text for b in examples]
    starter_roles = (STARTER / "roles.yaml").read_text(encoding="utf-8")
    assert all(files[ROLES_FILE] == starter_roles and "metadata/entities/opportunity.yaml" in files
               for files in checked)


def test_dashboards_whole_file_example_is_a_shortened_starter_dashboards_yaml() -> None:
    """Every dashboard and chart of the first example is as in metadata/dashboards.yaml."""
    shown = yaml.safe_load(dashboards_examples()[0].text)["dashboards"]
    starter = {d["name"]: d for d in yaml.safe_load((STARTER / "dashboards.yaml").read_text(encoding="utf-8"))
               ["dashboards"]}
    assert len(shown) >= 2
    for dashboard in shown:
        full = starter[dashboard["name"]]
        charts = {c["name"]: c for c in full["charts"]}
        assert {k: v for k, v in dashboard.items() if k != "charts"} == {
            k: v for k, v in full.items() if k != "charts" and k in dashboard}
        for chart in dashboard["charts"]:
            assert chart == charts[chart["name"]], chart["name"]


def dashboards_errors(doc: object) -> list[str]:
    validator = Draft202012Validator(build_json_schema("dashboards"))
    return [error.message for error in validator.iter_errors(doc)]


def test_dashboards_schema_accepts_the_starter_and_the_examples() -> None:
    assert dashboards_errors(yaml.safe_load((STARTER / "dashboards.yaml").read_text(encoding="utf-8"))) == []
    for block in dashboards_examples():
        assert dashboards_errors(yaml.safe_load(block.text)) == [], block.h3


VALID_CHART: dict[str, Any] = {"name": "c", "title": {"en": "Open deals", "zh": "在途商机"}, "kind": "bar",
                               "entity": "opportunity", "measure": "sum(amount)", "group": "close_date:month",
                               "series": "stage", "filters": {"stage": ["won", "lost"], "close_date": "last_30_days",
                                                              "amount": {"gte": 100, "between": [1, 2]},
                                                              "next_step": None, "name": {"empty": False}},
                               "sort": "-value", "top": 5, "width": 12}


def with_chart(**change: object) -> dict[str, Any]:
    chart = {k: v for k, v in {**VALID_CHART, **change}.items() if v is not None}
    return {"dashboards": [{"name": "sales", "roles": ["Sales Rep", "Admin"], "charts": [chart]}]}


def test_dashboards_schema_accepts_a_valid_chart_kpi_and_analysis() -> None:
    assert dashboards_errors(with_chart()) == []
    assert dashboards_errors(with_chart(kind="kpi", group=None, series=None, sort=None, top=None,
                                        period={"field": "close_date", "range": "next_7_days"})) == []
    assert dashboards_errors(with_chart(kind="table", group=None, series=None, analysis="churn_risk",
                                        params={"days": 30, "activity": "activity"}, entity="account")) == []


BAD_CHARTS: dict[str, dict[str, Any]] = {
    "unknown-key": {"colour": "red"},
    "unknown-kind": {"kind": "donut"},
    "measure-total": {"measure": "total(amount)"},
    "measure-path": {"measure": "sum(account.revenue)"},
    "group-bad-bucket": {"group": "close_date:fortnight"},
    "group-two-links": {"group": "account.owner.name"},
    "filter-unknown-op": {"filters": {"amount": {"like": 3}}},
    "filter-between-one": {"filters": {"amount": {"between": [1]}}},
    "filter-in-scalar": {"filters": {"stage": {"in": "won"}}},
    "filter-empty-not-bool": {"filters": {"stage": {"empty": "yes"}}},
    "sort-desc": {"sort": "desc"},
    "top-zero": {"top": 0},
    "width-13": {"width": 13},
    "period-on-bar": {"period": {"field": "close_date", "range": "this_month"}},
    "bar-without-group": {"group": None},
    "pipeline-without-analysis": {"pipeline": "new_business"},
    "params-without-analysis": {"params": {"days": 3}},
    "analysis-wrong-kind": {"analysis": "rfm", "kind": "line"},
    "analysis-unknown-param": {"analysis": "churn_risk", "kind": "table", "params": {"dayz": 3}},
    "analysis-no-pipeline": {"analysis": "churn_risk", "kind": "table", "pipeline": "new_business"},
    "days-zero": {"analysis": "churn_risk", "kind": "table", "params": {"days": 0}},
    "kpi-with-group": {"kind": "kpi", "series": None},
    "pie-with-series": {"kind": "pie"},
    "pivot-without-series": {"kind": "pivot", "series": None},
}


@pytest.mark.parametrize("change", list(BAD_CHARTS.values()), ids=list(BAD_CHARTS))
def test_dashboards_schema_rejects_bad_charts(change: dict[str, Any]) -> None:
    assert dashboards_errors(with_chart(**change)), change


@pytest.mark.parametrize("doc", [
    {"dashboards": [{"name": "sales", "charts": []}]},
    {"dashboards": [{"name": "Sales", "charts": [VALID_CHART]}]},
    {"dashboards": [{"name": "sales", "roles": ["Public"], "charts": [VALID_CHART]}]},
    {"dashboards": [{"name": "sales", "roles": ["Sales Rep", "Sales Rep"], "charts": [VALID_CHART]}]},
    {"dashboards": [{"name": "sales"}]},
    {"dashboards": {"sales": {}}},
    {"dashbords": []},
    with_chart(kind="kpi", group=None, series=None, sort=None, top=None,
               period={"field": "close_date", "range": "last_month_or_so"}),
], ids=["no-charts", "bad-name", "role-public", "role-twice", "no-charts-key", "not-a-list", "unknown-key",
        "bad-range"])
def test_dashboards_schema_rejects_bad_dashboards(doc: object) -> None:
    assert dashboards_errors(doc), doc


def test_entity_schema_accepts_transitions_and_field_label() -> None:
    pipeline = {**VALID_PIPELINE, "field_label": {"en": "Status", "zh": "工单状态"},
                "transitions": [{"from": "lost", "to": "qualify", "roles": ["Sales Manager"]},
                                {"from": "qualify", "to": "won"}]}
    assert entity_errors(with_pipelines(pipeline)) == []


@pytest.mark.parametrize("transition", [
    {"from": "lost"},                                            # no to
    {"to": "qualify"},                                           # no from
    {"from": "lost", "to": "qualify", "roles": ["Public"]},      # Public never moves records
    {"from": "lost", "to": "qualify", "roles": []},              # empty roles: write none instead
    {"from": "lost", "to": "qualify", "who": ["Admin"]},         # unknown key
    {"from": "Lost Deals", "to": "qualify"},                     # not a stage name
])
def test_entity_schema_rejects_bad_transitions(transition: dict[str, Any]) -> None:
    assert entity_errors(with_pipelines({**VALID_PIPELINE, "transitions": [transition]})), transition
