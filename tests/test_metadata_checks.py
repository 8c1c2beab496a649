"""Every checker code, fed a small broken tree, gives an exact located message.

Each case writes a metadata tree into tmp_path (with conftest.write_tree),
loads it, and compares the problems with what a consultant should read: the
file, the exact line of the offending key or item, the code, the key words
of the message and, where there is one, the hint ("did you mean ...?").
Syntax errors (CRM-E001) are checked for the line and the words both YAML
backends use (PyYAML's SafeLoader and libyaml's CSafeLoader word them
differently).

The same broken trees then go through `create_app` (MetadataError with the
same located lines, and no database tables: no partial start) and through
`flask crm validate` (exit 1, the same lines; exit 0 and "metadata OK" on
valid metadata). A meta-test checks that every code in CODES is produced by
at least one case.

Cases marked xfail(strict=True) document checker bugs found while writing
these tests (wrong line, misleading message, crash, problem not detected);
each one turns into a failure as soon as the checker is fixed, so the mark
can then be removed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from app import create_app
from app.cli import crm
from app.metadata.dashboards import parse_dashboards
from app.metadata.loader import load_metadata, load_spec
from app.metadata.problems import CODES, NOT_FROM_METADATA, MetadataError, Problem
from app.metadata.spec import Choice, Condition, CrmSpec, Measure, Period, Text
from app.metadata.yamlsource import read_yaml
from tests.conftest import STARTER, write_tree

# ---------------------------------------------------------------------------
# Building cases
# ---------------------------------------------------------------------------


def lines(*rows: str) -> str:
    """YAML text where argument N is line N (no dedent surprises)."""
    return "\n".join(rows) + "\n"


@dataclass(frozen=True)
class Want:
    """One expected problem. `file` is relative to the tree root ('' = the root)."""

    file: str
    line: int
    code: str
    words: tuple[str, ...] = ()
    hint: str | None = None  # exact hint when given; None = not checked

    def prefix(self, root: Path) -> str:
        """How Problem.format(root) starts: '<root name>/<file>:<line>: <code> '."""
        where = (Path(root.name) / self.file).as_posix() if self.file else root.name
        return f"{where}:{self.line}: {self.code} "


def want(file: str, line: int, code: str, *words: str, hint: str | None = None) -> Want:
    return Want(file, line, code, tuple(words), hint)


@dataclass
class Case:
    id: str
    entities: dict[str, str]
    wants: list[Want]
    crm: str | None = None
    roles: str | None = None  # text of roles.yaml; None = no roles.yaml (only Admin exists)
    # Changes the tree after write_tree; may return another root to load.
    setup: Callable[[Path], Path | None] | None = None
    bug: str | None = None  # a checker bug: the case is xfail(strict=True)
    raises: type[BaseException] | None = None  # the bug is a crash of this type

    def build(self, tmp_path: Path) -> Path:
        root = write_tree(tmp_path / "meta", self.entities, self.crm)
        if self.roles is not None:
            (root / ROLES).write_text(self.roles, encoding="utf-8")
        if self.setup is not None:
            root = self.setup(root) or root
        return root

    def param(self) -> object:
        marks = ()
        if self.bug:
            marks = (pytest.mark.xfail(strict=True, reason=self.bug, raises=self.raises),)
        return pytest.param(self, id=self.id, marks=marks)


ACC = "entities/account.yaml"
DEAL = "entities/deal.yaml"
CRM = "crm.yaml"
ROLES = "roles.yaml"

ACCOUNT = lines(
    "label: {en: Account, zh: 客户}",            # 1
    "fields:",                                  # 2
    "  name: {type: string, required: true}",   # 3
    "  industry: {type: choice, choices: [tech, retail]}",  # 4
)

# For trees whose crm.yaml is broken or has no languages: those fall back to
# `en` alone, and a zh label would add a (documented) CRM-E018.
ACCOUNT_EN = lines(
    "label: Account",
    "fields:",
    "  name: {type: string, required: true}",
)

DEAL_HEAD = (
    "label: Deal",                              # 1
    "fields:",                                  # 2
    "  name: {type: string, required: true}",   # 3
    "  amount: money",                          # 4
    "  account: {type: link, to: account}",     # 5
    "  products: {type: links, to: account}",   # 6
    "  notes: text",                            # 7
    "  size: integer",                          # 8
)


def deal(*rows: str) -> dict[str, str]:
    """The account entity plus a deal whose extra rows start at line 9."""
    return {"account": ACCOUNT, "deal": lines(*DEAL_HEAD, *rows)}


def fields(*rows: str) -> dict[str, str]:
    """A deal with just a name field; extra field rows start at line 4."""
    return {"account": ACCOUNT, "deal": lines("label: Deal", "fields:", "  name: string", *rows)}


def _write(rel: str, data: bytes | str) -> Callable[[Path], None]:
    def setup(root: Path) -> None:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(data, encoding="utf-8")
    return setup


def _folder(rel: str) -> Callable[[Path], None]:
    def setup(root: Path) -> None:
        (root / rel).mkdir()
    return setup


def _link(rel: str, target: str) -> Callable[[Path], None]:
    def setup(root: Path) -> None:
        (root / rel).symlink_to(target)
    return setup


def _remove_crm(root: Path) -> None:
    (root / "crm.yaml").unlink()


def _remove_entities_dir(root: Path) -> None:
    (root / "entities").rmdir()


def _missing_root(root: Path) -> Path:
    return root / "no-such-folder"


TYPES_HINT = ("types: string, text, integer, decimal, money, percent, boolean, date, datetime, "
              "email, phone, url, choice, multichoice, link, links, user, autonumber, formula, lookup, rollup")
IDENT_HINT = "use lower-case letters, digits and single underscores, starting with a letter"
RESERVED_ENTITY_HINT = ("names used by the app itself (user, role, team, ab_*, crm_*) "
                        "cannot be entities")
DUP_KEY_HINT = "YAML keeps only the last one; remove the other"
SEARCH_HINT = "search looks in text fields; offer it as a filter instead"
PATH_HINT = "only a link field can be followed by .field, and only in columns and search"
ROLE_KEYS_HINT = "allowed keys: label, description, extends, entities, fields, stages, settings"
ACTION_KEYS_HINT = "allowed keys: read, create, update, delete, export, import, reassign, mass_update, mass_delete"
BUILTIN_HINT = "Admin has every permission and Public is for anonymous users; pick another name"
CYCLE_HINT = "remove one of the extends"


def role_tree() -> dict[str, str]:
    """Entities for roles.yaml cases: account and deal (name, amount, account, ...)."""
    return {"account": ACCOUNT, "deal": lines(*DEAL_HEAD)}


PIPE_HEAD = (
    "label: Deal",                                      # 1
    "fields:",                                          # 2
    "  name: {type: string, required: true}",           # 3
    "  amount: money",                                  # 4
    "  probability: percent",                           # 5
    "  kind: {type: choice, choices: [new, renewal]}",  # 6
    "  notes: text",                                    # 7
    "pipelines:",                                       # 8
)
PIPE_OK = (
    "  - name: sales",
    "    field: stage",
    "    stages: [{name: open}, {name: won, outcome: won}, {name: closed}]",
)


def pipes(*rows: str) -> dict[str, str]:
    """The account entity plus a deal whose pipeline rows start at line 9."""
    return {"account": ACCOUNT, "deal": lines(*PIPE_HEAD, *rows)}


def pipe_tree(*rows: str) -> dict[str, str]:
    """pipes(), with a valid pipeline (stages open, won, closed) unless rows are given."""
    return pipes(*(rows or PIPE_OK))


CONVERT_HEAD = (
    "label: Deal",                                      # 1
    "fields:",                                          # 2
    "  name: {type: string, required: true}",           # 3
    "  company: string",                                # 4
    "  account: {type: link, to: account}",             # 5
    "pipelines:",                                       # 6
    "  - name: sales",                                  # 7
    "    field: stage",                                 # 8
    "    stages: [{name: new}, {name: qualified}, {name: converted}]",  # 9
)


def convert(*targets: str, from_: str = "[qualified]", to: str = "converted") -> dict[str, str]:
    """A deal that converts; `convert:` is line 12, the target rows start at line 15."""
    return {"account": ACCOUNT, "deal": lines(
        *CONVERT_HEAD, "", "", "convert:", f"  from: {from_}", f"  to: {to}", "  targets:", *targets)}


# ---------------------------------------------------------------------------
# The cases, grouped by code
# ---------------------------------------------------------------------------

CASES: list[Case] = [
    # --- CRM-E001 malformed YAML ------------------------------------------
    Case("E001-bad-indent", {"account": ACCOUNT, "deal": lines(
        "label: Deal",
        "fields:",
        "  name:",
        "    type: string",
        "   required: true",   # 5: one space short
    )}, [want(DEAL, 5, "CRM-E001", "malformed YAML", "block mapping",
              hint="check indentation and quoting around this line")]),
    Case("E001-tab", {"account": ACCOUNT, "deal": lines(
        "label: Deal",
        "\tfields: {}",        # 2: a tab cannot start a token
    )}, [want(DEAL, 2, "CRM-E001", "malformed YAML")]),
    Case("E001-flow-mapping", {"account": ACCOUNT, "deal": lines(
        "label: Deal",
        "fields:",
        "  name: {type: string",
        "  amount: money",     # 4: the parser meets ':' inside the open {...}
    )}, [want(DEAL, 4, "CRM-E001", "malformed YAML", "flow mapping", "',' or '}'")]),
    Case("E001-crm-yaml", {"account": ACCOUNT_EN}, [
        want(CRM, 2, "CRM-E001", "malformed YAML", "mapping values are not allowed"),
    ], crm=lines("name: Test CRM", "  languages: [en]")),
    Case("E001-undefined-alias", {"account": ACCOUNT, "deal": lines(
        "fields: {name: string}",
        "label: *missing",     # 2
    )}, [want(DEAL, 2, "CRM-E001", "malformed YAML", "undefined alias")]),
    Case("E001-two-documents", {"account": ACCOUNT, "deal": lines(
        "label: Deal",
        "---",                 # 2
        "fields: {name: string}",
    )}, [want(DEAL, 2, "CRM-E001", "expected a single document")]),
    Case("E001-python-tag", {"account": ACCOUNT, "deal": lines(
        "label: !!python/object:os.system x",   # 1: SafeLoader refuses it
        "fields: {name: string}",
    )}, [want(DEAL, 1, "CRM-E001", "could not determine a constructor")]),
    Case("E001-not-utf8", {"account": ACCOUNT}, [
        want(DEAL, 1, "CRM-E001", "not UTF-8"),
    ], setup=_write(DEAL, b"label: \xff\xfe\nfields: {}\n")),
    Case("E001-unterminated-quote", {"account": ACCOUNT, "deal": lines(
        "label: 'Deal",        # 1: the quote opened here is never closed
        "fields: {name: string}",
    )}, [want(DEAL, 1, "CRM-E001", "malformed YAML", "quoted scalar")]),
    Case("E001-unterminated-flow-list-crm", {"account": ACCOUNT_EN}, [
        want(CRM, 2, "CRM-E001", "malformed YAML", "flow sequence"),
    ], crm=lines("name: Test CRM", "languages: [en, zh")),

    # --- CRM-E002 unknown key ----------------------------------------------
    Case("E002-field-key", fields(
        "  stage:",
        "    type: string",
        "    requird: true",   # 6
    ), [want(DEAL, 6, "CRM-E002", "unknown key 'requird' in field 'stage'",
             hint="did you mean 'required'?")]),
    Case("E002-entity-key", {"account": ACCOUNT, "deal": lines(
        "label: Deal",
        "icn: fa-money",       # 2
        "fields: {name: string}",
    )}, [want(DEAL, 2, "CRM-E002", "unknown key 'icn' in entity", hint="did you mean 'icon'?")]),
    Case("E002-list-key", deal(
        "list:",
        "  columns: [name]",
        "  serch: [name]",     # 11
    ), [want(DEAL, 11, "CRM-E002", "unknown key 'serch' in list", hint="did you mean 'search'?")]),
    Case("E002-choice-key", fields(
        "  stage:",
        "    type: choice",
        "    choices:",
        "      - {value: open, colour: green}",   # 7
    ), [want(DEAL, 7, "CRM-E002", "unknown key 'colour' in a choice of field 'stage'",
             hint="did you mean 'color'?")]),
    Case("E002-crm-key", {"account": ACCOUNT_EN}, [
        want(CRM, 2, "CRM-E002", "unknown key 'language' in crm.yaml",
             hint="did you mean 'languages'?"),
    ], crm=lines("name: Test CRM", "language: [en]")),
    Case("E002-no-close-match", deal(
        "form:",
        "  - section: Main",
        "    fields: [name]",
        "    collapsed: true",  # 12
    ), [want(DEAL, 12, "CRM-E002", "unknown key 'collapsed' in form section",
             hint="allowed keys: section, fields")]),
    Case("E002-menu-key-and-E007", {"account": ACCOUNT}, [
        want(CRM, 5, "CRM-E002", "unknown key 'entites' in menu group",
             hint="did you mean 'entities'?"),
        want(CRM, 4, "CRM-E007", "menu group has no 'entities'"),
    ], crm=lines("name: Test CRM", "languages: [en, zh]", "menu:",
                 "  - group: main",
                 "    entites: [account]")),

    # --- CRM-E003 wrong value type -----------------------------------------
    Case("E003-required-yes-please", fields(
        "  stage:",
        "    type: string",
        '    required: "yes please"',   # 6
    ), [want(DEAL, 6, "CRM-E003", "'required' in field 'stage' must be true or false",
             "got str 'yes please'")]),
    Case("E003-fields-as-list", {"account": ACCOUNT, "deal": lines(
        "label: Deal",
        "fields:",              # 2
        "  - name",
        "  - amount",
    )}, [want(DEAL, 2, "CRM-E003", "'fields' in entity must be a map of field name", "got a list")]),
    Case("E003-field-is-number", fields(
        "  stage: 5",           # 4
    ), [want(DEAL, 4, "CRM-E003", "field 'stage' must be a mapping, got int 5")]),
    Case("E003-field-is-empty", fields(
        "  stage:",             # 4
    ), [want(DEAL, 4, "CRM-E003", "field 'stage' must be a mapping, got nothing")]),
    Case("E003-max-length-string", fields(
        "  code:",
        "    type: string",
        "    max_length: '200'",   # 6
    ), [want(DEAL, 6, "CRM-E003", "'max_length' in field 'code' must be a whole number")]),
    Case("E003-columns-string", deal(
        "list:",
        "  columns: name",      # 10
    ), [want(DEAL, 10, "CRM-E003", "'columns' in list must be a list", "got str 'name'")]),
    Case("E003-search-entry-number", deal(
        "list:",
        "  search:",
        "    - name",
        "    - 5",              # 12
    ), [want(DEAL, 12, "CRM-E003", "list search entry must be a field name, got int 5")]),
    Case("E003-crm-languages-string", {"account": ACCOUNT_EN}, [
        want(CRM, 2, "CRM-E003", "'languages' in crm.yaml must be a list of language codes"),
    ], crm=lines("name: Test CRM", "languages: en")),
    Case("E003-crm-is-list", {"account": ACCOUNT_EN}, [
        want(CRM, 1, "CRM-E003", "crm.yaml must be a mapping, got a list"),
    ], crm=lines("- name", "- languages")),
    Case("E003-entity-is-list", {"account": ACCOUNT, "deal": lines("- label", "- fields")},
         [want(DEAL, 1, "CRM-E003", "entity must be a mapping, got a list")]),

    # --- CRM-E004 duplicate name --------------------------------------------
    Case("E004-key-twice-in-field", fields(
        "  stage:",
        "    type: string",
        "    type: text",       # 6
    ), [want(DEAL, 6, "CRM-E004", "field 'stage' repeats key 'type'", hint=DUP_KEY_HINT)]),
    Case("E004-alias-names-another-field", fields(
        "  mobile:",
        "    type: phone",
        "    label: {en: Mobile, zh: 手机}",
        "  office:",
        "    type: phone",
        "    label: {en: Office phone, zh: 座机}",
        "    aliases:",
        "      - 办公电话",
        "      - Mobile",          # 12
    ), [want(DEAL, 12, "CRM-E004", "field 'office': alias 'Mobile' already names field 'mobile'",
             hint="an import column so headed could fill either: drop the alias or rename the label")]),
    Case("E004-field-twice", fields(
        "  amount: money",
        "  name: text",         # 5
    ), [want(DEAL, 5, "CRM-E004", "field 'name' is defined twice")]),
    Case("E004-crm-key-twice", {"account": ACCOUNT_EN}, [
        want(CRM, 3, "CRM-E004", "crm.yaml repeats key 'name'", hint=DUP_KEY_HINT),
    ], crm=lines("name: Test CRM", "currency: CNY", "name: Other")),
    Case("E004-entity-in-yaml-and-yml", {"account": ACCOUNT}, [
        want("entities/account.yml", 1, "CRM-E004",
             "entity 'account' is also defined in account.yaml"),
    ], setup=_write("entities/account.yml", ACCOUNT)),
    Case("E004-entity-name-in-two-files", {"account": ACCOUNT, "company": lines(
        "label: Company",
        "name: account",        # 2
        "fields: {name: string}",
    )}, [
        want("entities/company.yaml", 2, "CRM-E015", "entity 'account' is in file 'company.yaml'"),
        want("entities/company.yaml", 2, "CRM-E004",
             "entity 'account' is also defined in account.yaml"),
    ]),
    Case("E004-form-places-twice", deal(
        "form:",
        "  - section: Main",
        "    fields: [name, amount]",
        "  - section: More",
        "    fields:",
        "      - notes",
        "      - name",         # 15
    ), [want(DEAL, 15, "CRM-E004", "form places field 'name' twice")]),

    # --- CRM-E005 invalid identifier ----------------------------------------
    *[
        Case(f"E005-field-{bad}", fields(f"  {bad}: string"),   # 4
             [want(DEAL, 4, "CRM-E005", f"field name '{bad}' is not a valid identifier",
                   hint=IDENT_HINT)])
        for bad in ("Field-Name", "1abc", "a__b", "_x")
    ],
    Case("E005-entity-file-name", {"account": ACCOUNT, "Bad-Name": ACCOUNT}, [
        want("entities/Bad-Name.yaml", 1, "CRM-E005",
             "entity name 'Bad-Name' is not a valid identifier", hint=IDENT_HINT),
    ]),
    Case("E005-entity-name-key", {"account": ACCOUNT, "deal": lines(
        "label: Deal",
        "name: 1abc",           # 2
        "fields: {name: string}",
    )}, [want(DEAL, 2, "CRM-E005", "entity name '1abc' is not a valid identifier")]),
    Case("E005-menu-group", {"account": ACCOUNT}, [
        want(CRM, 4, "CRM-E005", "menu group 'Main' is not a valid identifier"),
    ], crm=lines("name: Test CRM", "languages: [en, zh]", "menu:",
                 "  - group: Main",
                 "    entities: [account]")),

    # --- CRM-E006 reserved identifier ---------------------------------------
    Case("E006-field-owner", fields("  owner: user"), [
        want(DEAL, 4, "CRM-E006", "field name 'owner' is reserved",
             hint="every entity already has it"),
    ]),
    Case("E006-field-created-on", fields("  name2: string", "  created_on: datetime"), [
        want(DEAL, 5, "CRM-E006", "field name 'created_on' is reserved",
             hint="every entity already has it"),
    ]),
    Case("E006-field-id", fields("  id: integer"), [
        want(DEAL, 4, "CRM-E006", "field name 'id' is reserved", hint="pick another name"),
    ]),
    *[
        Case(f"E006-entity-{bad}", {"account": ACCOUNT, bad: ACCOUNT}, [
            want(f"entities/{bad}.yaml", 1, "CRM-E006", f"entity name '{bad}' is reserved",
                 hint=RESERVED_ENTITY_HINT),
        ])
        for bad in ("user", "ab_x", "crm_notes", "team")
    ],
    Case("E006-entity-name-key", {"account": ACCOUNT, "role": lines(
        "label: Role",
        "name: role",           # 2
        "fields: {name: string}",
    )}, [want("entities/role.yaml", 2, "CRM-E006", "entity name 'role' is reserved")]),

    # --- CRM-E007 missing required key --------------------------------------
    Case("E007-no-label", {"account": ACCOUNT, "deal": lines(
        "fields:",
        "  name: string",
    )}, [want(DEAL, 1, "CRM-E007", "entity has no 'label'",
              hint="Singular label, e.g. {en: Account, zh: 客户}.")]),
    Case("E007-no-fields-key", {"account": ACCOUNT, "deal": lines("label: Deal")},
         [want(DEAL, 1, "CRM-E007", "entity has no 'fields'")]),
    Case("E007-fields-empty", {"account": ACCOUNT, "deal": lines(
        "label: Deal",
        "fields: {}",           # 2
    )}, [want(DEAL, 2, "CRM-E007", "entity has no fields")]),
    Case("E007-empty-entity-file", {"account": ACCOUNT, "deal": "# nothing yet\n"}, [
        want(DEAL, 1, "CRM-E007", "entity has no 'label'"),
        want(DEAL, 1, "CRM-E007", "entity has no 'fields'"),
    ]),
    Case("E007-field-without-type-flow", fields(
        "  stage: {label: Stage}",   # 4
    ), [want(DEAL, 4, "CRM-E007", "field 'stage' has no 'type'")]),
    Case("E007-link-without-to-flow", fields(
        "  parent: {type: link}",    # 4
    ), [want(DEAL, 4, "CRM-E007", "field 'parent' of type link has no 'to'",
             hint="name the entity it points to: to: account")]),
    Case("E007-links-without-to", fields(
        "  tags: {type: links, label: Tags}",   # 4
    ), [want(DEAL, 4, "CRM-E007", "field 'tags' of type links has no 'to'")]),
    Case("E007-choice-without-value", fields(
        "  stage:",
        "    type: choice",
        "    choices:",
        "      - open",
        "      - {label: Won}",     # 8
    ), [want(DEAL, 8, "CRM-E007", "a choice of field 'stage' has no 'value'")]),
    Case("E007-section-without-fields", deal(
        "form:",
        "  - section: Main",       # 10
    ), [want(DEAL, 10, "CRM-E007", "form section has no 'fields'")]),
    Case("E007-crm-without-name", {"account": ACCOUNT}, [
        want(CRM, 1, "CRM-E007", "crm.yaml has no 'name'"),
    ], crm=lines("languages: [en, zh]")),
    Case("E007-field-without-type-block", fields(
        "  stage:",                # 4: the field
        "    label: Stage",        # 5
    ), [want(DEAL, 4, "CRM-E007", "field 'stage' has no 'type'")]),
    Case("E007-link-without-to-block", fields(
        "  parent:",               # 4: the field
        "    type: link",          # 5
    ), [want(DEAL, 4, "CRM-E007", "field 'parent' of type link has no 'to'")]),

    # --- CRM-E008 unknown field type ----------------------------------------
    Case("E008-typo", fields(
        "  stage:",
        "    type: strng",          # 5
    ), [want(DEAL, 5, "CRM-E008", "field 'stage' has unknown type 'strng'",
             hint="did you mean 'string'?")]),
    Case("E008-shorthand", fields("  stage: Integer"), [   # 4
        want(DEAL, 4, "CRM-E008", "field 'stage' has unknown type 'Integer'",
             hint="did you mean 'integer'?"),
    ]),
    Case("E008-no-close-match", fields("  blob: {type: blob}"), [
        want(DEAL, 4, "CRM-E008", "field 'blob' has unknown type 'blob'", hint=TYPES_HINT),
    ]),
    # a typo'd type is one problem: the field is checked on as the close type, so the stage that
    # requires it and the list that shows it do not report it unknown (one typo was 21 problems)
    Case("E008-typo-reported-once", {"account": ACCOUNT, "deal": lines(
        "label: Deal",                                      # 1
        "fields:",                                          # 2
        "  name: {type: string, required: true}",           # 3
        "  amount: mony",                                   # 4
        "list:",                                            # 5
        "  columns: [name, amount]",                        # 6
        "pipelines:",                                       # 7
        "  - name: sales",                                  # 8
        "    field: stage",                                 # 9
        "    amount_field: amount",                         # 10
        "    stages: [{name: open, requires: [amount]}, {name: won, outcome: won}]",
    )}, [want(DEAL, 4, "CRM-E008", "field 'amount' has unknown type 'mony'", hint="did you mean 'money'?")]),

    # --- CRM-E009 link to unknown entity ------------------------------------
    Case("E009-typo", fields(
        "  customer:",              # 4
        "    type: link",
        "    to: acount",
    ), [want(DEAL, 4, "CRM-E009", "field 'customer' links to unknown entity 'acount'",
             hint="did you mean 'account'?")]),
    Case("E009-links-no-close-match", fields(
        "  tags: {type: links, to: zzz}",   # 4
    ), [want(DEAL, 4, "CRM-E009", "field 'tags' links to unknown entity 'zzz'",
             hint="entities: account, deal")]),

    # --- CRM-E010 reference to unknown field --------------------------------
    Case("E010-columns", deal(
        "list:",
        "  columns:",
        "    - name",
        "    - amout",              # 12
    ), [want(DEAL, 12, "CRM-E010", "list columns names unknown field 'amout'",
             hint="did you mean 'amount'?")]),
    Case("E010-search", deal(
        "list:",
        "  search: [name, nmae]",   # 10
    ), [want(DEAL, 10, "CRM-E010", "list search names unknown field 'nmae'",
             hint="did you mean 'name'?")]),
    Case("E010-filters", deal(
        "list:",
        "  filters:",
        "    - acount",             # 11
    ), [want(DEAL, 11, "CRM-E010", "list filters names unknown field 'acount'",
             hint="did you mean 'account'?")]),
    Case("E010-order-flow", deal(
        "list: {order: -amout}",   # 9
    ), [want(DEAL, 9, "CRM-E010", "list order names unknown field 'amout'",
             hint="did you mean 'amount'?")]),
    Case("E010-form", deal(
        "form:",
        "  - section: Main",
        "    fields:",
        "      - name",
        "      - notse",            # 13
    ), [want(DEAL, 13, "CRM-E010", "form names unknown field 'notse'",
             hint="did you mean 'notes'?")]),
    Case("E010-form-system-field", deal(
        "form:",
        "  - section: Main",
        "    fields: [name, owner, created_on]",   # 11: owner may be placed, created_on not
    ), [want(DEAL, 11, "CRM-E010", "form names system field 'created_on'")]),
    Case("E010-path-unknown-target-field", deal(
        "list:",
        "  columns:",
        "    - name",
        "    - account.industy",    # 12
    ), [want(DEAL, 12, "CRM-E010", "list columns: 'account' has no field 'industy'",
             hint="did you mean 'industry'?")]),
    Case("E010-path-in-search", deal(
        "list:",
        "  search:",
        "    - name",
        "    - account.nmae",       # 12
    ), [want(DEAL, 12, "CRM-E010", "list search: 'account' has no field 'nmae'",
             hint="did you mean 'name'?")]),
    Case("E010-path-after-user", deal(
        "list:",
        "  columns: [name, owner.email]",   # 10
    ), [want(DEAL, 10, "CRM-E010", "list columns: users have no field 'email'",
             hint="use username, first_name or last_name")]),
    Case("E010-order-block", deal(
        "list:",
        "  columns: [name]",
        "  order: -amout",          # 11
    ), [want(DEAL, 11, "CRM-E010", "list order names unknown field 'amout'",
             hint="did you mean 'amount'?")]),
    Case("E010-same-bad-path-twice", deal(
        "list:",
        "  columns:",
        "    - account.nam",        # 11
        "    - name",
        "    - account.nam",        # 13
    ), [want(DEAL, 11, "CRM-E010", "list columns: 'account' has no field 'nam'"),
        want(DEAL, 13, "CRM-E010", "list columns: 'account' has no field 'nam'")]),

    # --- CRM-E011 bad choices -----------------------------------------------
    Case("E011-empty", fields(
        "  stage:",
        "    type: choice",
        "    choices: []",          # 6
    ), [want(DEAL, 6, "CRM-E011", "field 'stage' of type choice needs a non-empty 'choices' list")]),
    Case("E011-missing-flow", fields(
        "  tags: {type: multichoice}",   # 4
    ), [want(DEAL, 4, "CRM-E011", "field 'tags' of type multichoice needs a non-empty 'choices'")]),
    Case("E011-duplicate", fields(
        "  stage:",
        "    type: choice",
        "    choices:",
        "      - open",
        "      - won",
        "      - open",             # 9
    ), [want(DEAL, 9, "CRM-E011", "field 'stage': choice 'open' is listed twice")]),
    Case("E011-invalid-value", fields(
        "  stage:",
        "    type: choice",
        "    choices:",
        "      - open",
        "      - 'Closed, Won'",    # 8: a comma (lists and exports separate values with it)
    ), [want(DEAL, 8, "CRM-E011", "choice value 'Closed, Won' is not valid",
             hint="a value is text without leading or trailing spaces, line breaks or commas "
                  "(web, 线上咨询); put longer words in the label")]),
    Case("E011-invalid-value-in-mapping", fields(
        "  stage:",
        "    type: choice",
        "    choices:",
        "      - {value: open}",
        "      - {value: 'Won ', label: Won}",   # 8: a trailing space
    ), [want(DEAL, 8, "CRM-E011", "choice value 'Won ' is not valid")]),
    Case("E011-not-a-value", fields(
        "  stage:",
        "    type: choice",
        "    choices:",
        "      - [a, b]",           # 7
        "      - true",             # 8
    ), [want(DEAL, 7, "CRM-E011", "choice a list is not a value"),
        want(DEAL, 8, "CRM-E011", "choice boolean True is not a value")]),
    Case("E011-value-too-long", fields(
        "  stage:",
        "    type: choice",
        "    choices:",
        "      - open",
        "      - " + "a" * 65,       # 8
    ), [want(DEAL, 8, "CRM-E011", "choice value 'aaaaaaaaaaaaaaaaaaaa…' is longer than 64 characters")]),
    Case("E011-missing-block", fields(
        "  stage:",                 # 4: the field
        "    type: choice",         # 5
    ), [want(DEAL, 4, "CRM-E011", "field 'stage' of type choice needs a non-empty 'choices'")]),

    # --- CRM-E012 bad default -----------------------------------------------
    Case("E012-today-on-string", fields(
        "  code:",
        "    type: string",
        "    default: today",       # 6
    ), [want(DEAL, 6, "CRM-E012", "field 'code': default 'today' does not fit type string",
             hint="'today' is for date fields")]),
    Case("E012-now-on-date", fields("  due: {type: date, default: now}"), [
        want(DEAL, 4, "CRM-E012", "default 'now' does not fit type date",
             hint="'now' is for datetime fields"),
    ]),
    Case("E012-choice-not-among-choices", fields(
        "  stage:",
        "    type: choice",
        "    choices: [open, won]",
        "    default: lost",        # 7
    ), [want(DEAL, 7, "CRM-E012", "field 'stage': default 'lost' is not one of the choices (open, won)")]),
    Case("E012-integer-above-max", fields(
        "  seats:",
        "    type: integer",
        "    min: 0",
        "    max: 10",
        "    default: 11",          # 8
    ), [want(DEAL, 8, "CRM-E012", "field 'seats': default 11 is outside min/max")]),
    Case("E012-integer-below-min", fields(
        "  seats:",
        "    type: integer",
        "    default: 1",           # 6
        "    min: 5",
    ), [want(DEAL, 6, "CRM-E012", "field 'seats': default 1 is outside min/max")]),
    Case("E012-integer-not-whole", fields("  seats: {type: integer, default: 1.5}"), [
        want(DEAL, 4, "CRM-E012", "default 1.5 is not a whole number"),
    ]),
    Case("E012-boolean-string", fields("  active: {type: boolean, default: 'yes'}"), [
        want(DEAL, 4, "CRM-E012", "default 'yes' is not true or false"),
    ]),
    Case("E012-user-literal", fields("  rep: {type: user, default: admin}"), [
        want(DEAL, 4, "CRM-E012", "default 'admin' is not valid for a user field; use current_user"),
    ]),
    Case("E012-percent-over-100", fields(
        "  share:",
        "    type: percent",
        "    default: 150",         # 6
    ), [want(DEAL, 6, "CRM-E012", "field 'share': default 150 is outside min/max")]),
    Case("E012-percent-below-0", fields("  share: {type: percent, default: -1}"), [
        want(DEAL, 4, "CRM-E012", "field 'share': default -1 is outside min/max"),
    ]),

    # --- CRM-E013 option not valid for the type -----------------------------
    Case("E013-max-length-on-integer", fields(
        "  seats:",
        "    type: integer",
        "    max_length: 5",        # 6
    ), [want(DEAL, 6, "CRM-E013", "field 'seats': option 'max_length' does not apply to type integer",
             hint="integer takes: aliases, default, help, index, label, max, min, read_only, read_only_if, "
                  "renamed_from, required, required_if, type, unique, visible_if")]),
    Case("E013-default-on-link", fields(
        "  parent:",
        "    type: link",
        "    to: account",
        "    default: 1",           # 7
    ), [want(DEAL, 7, "CRM-E013", "option 'default' does not apply to type link")]),
    Case("E013-choices-on-string", fields("  code: {type: string, choices: [a]}"), [
        want(DEAL, 4, "CRM-E013", "option 'choices' does not apply to type string"),
    ]),

    # --- CRM-E014 bad option value ------------------------------------------
    Case("E014-empty-alias", fields(
        "  mobile:",
        "    type: phone",
        "    aliases: [电话, '  ']",   # 6
    ), [want(DEAL, 6, "CRM-E014", "field 'mobile': alias '  ' is not a heading")]),
    Case("E003-aliases-not-a-list", fields(
        "  mobile: {type: phone, aliases: 电话}",   # 4
    ), [want(DEAL, 4, "CRM-E003", "'aliases' in field 'mobile' must be a list of strings, got str '电话'")]),
    Case("E014-on-delete-bogus", fields(
        "  parent:",
        "    type: link",
        "    to: account",
        "    on_delete: bogus",     # 7
    ), [want(DEAL, 7, "CRM-E014", "on_delete 'bogus' is not one of restrict, set_null, cascade",
             hint="")]),
    Case("E014-on-delete-typo", fields(
        "  parent: {type: link, to: account, on_delete: cascde}",   # 4
    ), [want(DEAL, 4, "CRM-E014", "on_delete 'cascde'", hint="did you mean 'cascade'?")]),
    Case("E014-set-null-required", fields(
        "  parent:",
        "    type: link",
        "    to: account",
        "    required: true",
        "    on_delete: set_null",  # 8
    ), [want(DEAL, 8, "CRM-E014", "on_delete set_null contradicts required: true")]),
    Case("E014-min-greater-than-max", fields(
        "  seats:",
        "    type: integer",
        "    min: 10",              # 6
        "    max: 5",
    ), [want(DEAL, 6, "CRM-E014", "field 'seats': min 10 is greater than max 5")]),
    Case("E014-bad-regex", fields(
        "  code:",
        "    type: string",
        "    pattern: '[A-'",       # 6
    ), [want(DEAL, 6, "CRM-E014", "pattern is not a valid regular expression")]),
    Case("E014-autonumber-no-placeholder", fields(
        "  number:",
        "    type: autonumber",
        "    format: TCK-",         # 6
    ), [want(DEAL, 6, "CRM-E014", "autonumber needs a format with one {000} placeholder",
             hint="for example TCK-{00000}")]),
    Case("E014-autonumber-two-placeholders", fields(
        "  number: {type: autonumber, format: 'A{00}-{00}'}",   # 4
    ), [want(DEAL, 4, "CRM-E014", "autonumber needs a format with one {000} placeholder")]),
    Case("E014-autonumber-no-format", fields("  number: {type: autonumber}"), [
        want(DEAL, 4, "CRM-E014", "autonumber needs a format"),
    ]),
    Case("E014-max-length-zero", fields("  code: {type: string, max_length: 0}"), [
        want(DEAL, 4, "CRM-E014", "max_length 0 is out of range"),
    ]),
    Case("E014-scale-11", fields("  weight: {type: decimal, scale: 11}"), [
        want(DEAL, 4, "CRM-E014", "scale 11 is out of range"),
    ]),
    Case("E014-date-min-number", fields(
        "  start:",
        "    type: date",
        "    min: 5",               # 6
    ), [want(DEAL, 6, "CRM-E014", "min must be a date (2024-01-31)")]),
    Case("E014-integer-max-date", fields("  seats: {type: integer, max: 2024-01-01}"), [
        want(DEAL, 4, "CRM-E014", "max must be a number"),
    ]),
    Case("E014-page-size-0-flow", deal("list: {page_size: 0}"), [   # 9
        want(DEAL, 9, "CRM-E014", "list page_size 0 must be between 1 and 100"),
    ]),
    Case("E014-page-size-101-flow", deal("list: {page_size: 101}"), [
        want(DEAL, 9, "CRM-E014", "list page_size 101 must be between 1 and 100"),
    ]),
    Case("E014-page-size-block", deal(
        "list:",
        "  columns: [name]",
        "  page_size: 0",           # 11
    ), [want(DEAL, 11, "CRM-E014", "list page_size 0 must be between 1 and 100")]),
    Case("E014-percent-min-over-100", fields(
        "  share:",
        "    type: percent",
        "    min: 150",             # 6
    ), [want(DEAL, 6, "CRM-E014", "min 150 is greater than max 100")]),
    Case("E014-integer-min-date-with-default", fields(
        "  seats:",
        "    type: integer",
        "    min: 2024-01-01",      # 6
        "    default: 5",
    ), [want(DEAL, 6, "CRM-E014", "min must be a number")]),

    # --- CRM-E015 entity name does not match its file -----------------------
    Case("E015-name-mismatch", {"account": ACCOUNT, "deal": lines(
        "label: Deal",
        "name: deals",              # 2
        "fields: {name: string}",
    )}, [want(DEAL, 2, "CRM-E015", "entity 'deals' is in file 'deal.yaml'",
              hint="rename the file to deals.yaml or drop the name key")]),

    # --- CRM-E016 bad menu entry --------------------------------------------
    Case("E016-unknown-entity", {"account": ACCOUNT}, [
        want(CRM, 6, "CRM-E016", "menu group 'main' names unknown entity 'acount'",
             hint="did you mean 'account'?"),
    ], crm=lines("name: Test CRM", "languages: [en, zh]", "menu:",
                 "  - group: main",
                 "    entities:",
                 "      - acount")),
    Case("E016-entity-twice", {"account": ACCOUNT}, [
        want(CRM, 8, "CRM-E016", "entity 'account' is in the menu twice"),
    ], crm=lines("name: Test CRM", "languages: [en, zh]", "menu:",
                 "  - group: main",
                 "    entities: [account]",
                 "  - group: more",
                 "    entities:",
                 "      - account")),
    Case("E016-group-twice", {"account": ACCOUNT, "deal": lines("label: Deal", "fields: {name: string}")}, [
        want(CRM, 6, "CRM-E016", "menu group 'main' is defined twice"),
    ], crm=lines("name: Test CRM", "languages: [en, zh]", "menu:",
                 "  - group: main",
                 "    entities: [account]",
                 "  - group: main",     # 6
                 "    entities: [deal]")),
    Case("E003-menu-entry-mapping", {"account": ACCOUNT}, [
        want(CRM, 6, "CRM-E003", "menu entities entry must be an entity name, got a mapping"),
    ], crm=lines("name: Test CRM", "languages: [en, zh]", "menu:",
                 "  - group: main",
                 "    entities:",
                 "      - {name: account}")),   # 6
    Case("E003-menu-not-a-list", {"account": ACCOUNT}, [
        want(CRM, 3, "CRM-E003", "'menu' in crm.yaml must be a list of menu groups",
             "got str 'account'"),
    ], crm=lines("name: Test CRM", "languages: [en, zh]", "menu: account")),

    # --- CRM-E017 bad title field -------------------------------------------
    Case("E017-unknown", {"account": ACCOUNT, "deal": lines(
        "label: Deal",
        "title: nmae",              # 2
        "fields: {name: string}",
    )}, [want(DEAL, 2, "CRM-E017", "title 'nmae' is not a field of 'deal'",
              hint="did you mean 'name'?")]),
    *[
        Case(f"E017-{ftype}", {"account": ACCOUNT, "deal": lines(
            "label: Deal",
            "fields:",
            "  name: string",
            f"  extra: {spec}",
            "title: extra",         # 5
        )}, [want(DEAL, 5, "CRM-E017", f"title 'extra' is a {ftype} field",
                  hint="use a one-line field")])
        for ftype, spec in (("text", "text"), ("links", "{type: links, to: account}"),
                            ("multichoice", "{type: multichoice, choices: [a]}"))
    ],
    Case("E017-title-of-broken-field", {"account": ACCOUNT, "deal": lines(
        "label: Deal",
        "title: name",              # 2
        "fields:",
        "  name: strng",            # 4
    )}, [want(DEAL, 4, "CRM-E008", "field 'name' has unknown type 'strng'")]),

    # --- CRM-E018 unknown language ------------------------------------------
    Case("E018-crm-languages", {"account": lines("label: Account", "fields: {name: string}")}, [
        want(CRM, 4, "CRM-E018", "language 'fr' is not supported", hint="supported: en, zh"),
        want(CRM, 5, "CRM-E018", "language 'zh_' is not supported", hint="did you mean 'zh'?"),
    ], crm=lines("name: Test CRM", "languages:", "  - en", "  - fr", "  - zh_")),
    Case("E018-entity-label", {"account": ACCOUNT, "deal": lines(
        "label: {en: Deal, fr: Affaire}",   # 1
        "fields: {name: string}",
    )}, [want(DEAL, 1, "CRM-E018", "entity 'deal' has a label in unknown language 'fr'",
              hint="languages in crm.yaml: en, zh; supported: en, zh")]),
    Case("E018-field-label", fields(
        "  stage:",
        "    type: string",
        "    label:",               # 6
        "      en: Stage",
        "      de: Phase",
    ), [want(DEAL, 6, "CRM-E018", "field 'stage' has a label in unknown language 'de'")]),
    Case("E018-language-not-enabled", {"account": ACCOUNT}, [
        want(ACC, 1, "CRM-E018", "entity 'account' has a label in unknown language 'zh'",
             hint="languages in crm.yaml: en"),
    ], crm=lines("name: Test CRM", "languages: [en]")),
    Case("E018-crm-name", {"account": lines("label: Account", "fields: {name: string}")}, [
        want(CRM, 2, "CRM-E018", "crm.yaml name has a label in unknown language 'ja'"),
    ], crm=lines("languages: [en]", "name: {en: Test, ja: テスト}")),
    Case("E018-menu-label-line", {"account": ACCOUNT}, [
        want(CRM, 5, "CRM-E018", "menu group has a label in unknown language 'fr'"),
    ], crm=lines("name: Test CRM", "languages: [en, zh]", "menu:",
                 "  - group: main",
                 "    label: {en: Main, fr: Principal}",   # 5
                 "    entities: [account]")),
    Case("E018-section-label-line", deal(
        "form:",
        "  - fields: [name]",
        "    section: {en: Main, fr: Principal}",   # 11
    ), [want(DEAL, 11, "CRM-E018", "form section has a label in unknown language 'fr'")]),
    Case("E018-choice-label-line", fields(
        "  stage:",
        "    type: choice",
        "    choices:",
        "      - value: open",
        "        label: {en: Open, fr: Ouvert}",    # 8
    ), [want(DEAL, 8, "CRM-E018", "field 'stage' has a label in unknown language 'fr'")]),
    Case("E003-languages-entry-list", {"account": ACCOUNT_EN}, [
        want(CRM, 4, "CRM-E003", "languages entry must be a language code, got a list"),
    ], crm=lines("name: Test CRM", "languages:", "  - en", "  - [zh]")),

    # --- CRM-E019 missing metadata file or folder ---------------------------
    Case("E019-no-crm-yaml", {"account": lines("label: Account", "fields: {name: string}")}, [
        want(CRM, 0, "CRM-E019", "crm.yaml is missing", hint="every metadata folder needs crm.yaml"),
    ], setup=_remove_crm),
    Case("E019-no-crm-yaml-zh-labels-cascade", {"account": ACCOUNT}, [
        want(CRM, 0, "CRM-E019", "crm.yaml is missing"),
        want(ACC, 1, "CRM-E018", "entity 'account' has a label in unknown language 'zh'",
             hint="languages in crm.yaml: en"),
    ], setup=_remove_crm),
    Case("E019-no-entities-folder", {}, [
        want("entities", 0, "CRM-E019", "the entities folder is missing",
             hint="create metadata/entities/ with one <entity>.yaml per entity"),
    ], setup=_remove_entities_dir),
    Case("E019-empty-entities-folder", {}, [
        want("entities", 0, "CRM-E019", "no entity files found"),
    ], setup=_write("entities/README.txt", "not an entity\n")),
    Case("E019-no-root", {}, [
        want("", 0, "CRM-E019", "metadata folder", "does not exist",
             hint="set CRM_METADATA_DIR to the folder holding crm.yaml"),
    ], setup=_missing_root),

    # --- CRM-E028 metadata file cannot be read ------------------------------
    Case("E028-folder-named-yaml", {"account": ACCOUNT}, [
        want("entities/deal.yaml", 0, "CRM-E028", "deal.yaml is a folder, not a file",
             hint="metadata files are YAML files; rename or move the folder"),
    ], setup=_folder("entities/deal.yaml")),
    Case("E028-dangling-link", {"account": ACCOUNT}, [
        want("entities/deal.yaml", 0, "CRM-E028", "deal.yaml is a symbolic link to", "which does not exist",
             hint="restore the file it points to, or remove the link"),
    ], setup=_link("entities/deal.yaml", "gone.yaml")),
    Case("E028-roles-link-loop", {"account": ACCOUNT}, [
        want(ROLES, 0, "CRM-E028", "roles.yaml is a symbolic link loop",
             hint="point the link at a real file, or remove it"),
    ], setup=_link(ROLES, "roles.yaml")),
    Case("E001-nested-too-deep", {"account": ACCOUNT, "deal": lines(
        "label: Deal",
        "fields:",
        "  name: string",
        "  notes: {type: text, help: " + "[" * 500 + "]" * 500 + "}",   # 4
    )}, [want(DEAL, 4, "CRM-E001", "malformed YAML", "nested more than 50 levels deep")]),

    # --- CRM-E020 field cannot be used there --------------------------------
    Case("E020-search-integer", deal(
        "list:",
        "  search:",
        "    - name",
        "    - size",               # 12
    ), [want(DEAL, 12, "CRM-E020", "list search: 'size' is an integer field", hint=SEARCH_HINT)]),
    Case("E020-search-user", deal(
        "list:",
        "  search: [name, owner]",  # 10
    ), [want(DEAL, 10, "CRM-E020", "list search: 'owner' is a user field")]),
    Case("E020-filter-links", deal(
        "list:",
        "  filters:",
        "    - name",
        "    - products",           # 12
    ), [want(DEAL, 12, "CRM-E020", "list filters: 'products' is a links field",
             hint="filter on a link field instead")]),
    Case("E020-path-in-filters", deal(
        "list:",
        "  filters:",
        "    - account.name",       # 11
    ), [want(DEAL, 11, "CRM-E020", "list filters: 'account.name' is not allowed here",
             hint=PATH_HINT)]),
    Case("E020-path-after-non-link", deal(
        "list:",
        "  columns: [name.first]",  # 10
    ), [want(DEAL, 10, "CRM-E020", "list columns: 'name.first' is not allowed here")]),
    Case("E020-path-after-links", deal(
        "list:",
        "  columns: [products.name]",  # 10
    ), [want(DEAL, 10, "CRM-E020", "list columns: 'products.name' is not allowed here")]),
    Case("E020-path-in-form", deal(
        "form:",
        "  - section: Main",
        "    fields: [name, account.name]",   # 11
    ), [want(DEAL, 11, "CRM-E020", "form: 'account.name' is not allowed here")]),
    Case("E020-order-links-flow", deal("list: {order: products}"), [   # 9
        want(DEAL, 9, "CRM-E020", "list order: cannot sort by links field 'products'"),
    ]),
    Case("E020-search-line-after-dropped-entry", deal(
        "list:",
        "  search:",
        "    - nmae",               # 11: E010, dropped
        "    - size",               # 12
    ), [want(DEAL, 11, "CRM-E010", "list search names unknown field 'nmae'"),
        want(DEAL, 12, "CRM-E020", "list search: 'size' is an integer field")]),
    Case("E020-filter-line-after-dropped-entry", deal(
        "list:",
        "  filters:",
        "    - acount",             # 11: E010, dropped
        "    - products",           # 12
    ), [want(DEAL, 11, "CRM-E010", "list filters names unknown field 'acount'"),
        want(DEAL, 12, "CRM-E020", "list filters: 'products' is a links field")]),
    Case("E020-order-links-block", deal(
        "list:",
        "  columns: [name]",
        "  order: -products",       # 11
    ), [want(DEAL, 11, "CRM-E020", "list order: cannot sort by links field 'products'")]),
    Case("E020-same-search-entry-twice", deal(
        "list:",
        "  search:",
        "    - size",               # 11
        "    - name",
        "    - size",               # 13
    ), [want(DEAL, 11, "CRM-E020", "list search: 'size' is an integer field"),
        want(DEAL, 13, "CRM-E020", "list search: 'size' is an integer field")]),
    Case("E020-search-path-to-integer", {"account": lines(
        "label: Account",
        "fields:",
        "  name: string",
        "  employees: integer",
    ), "deal": lines(
        *DEAL_HEAD,
        "list:",
        "  search:",
        "    - name",
        "    - account.employees",  # 12
    )}, [want(DEAL, 12, "CRM-E020", "account.employees")]),
    Case("E020-path-two-levels", deal(
        "list:",
        "  columns:",
        "    - account.account.name",   # 11
    ) | {"account": lines(
        "label: Account",
        "fields:",
        "  name: string",
        "  account: {type: link, to: account}",
    )}, [want(DEAL, 11, "CRM-E020", "account.account.name")]),

    # --- roles.yaml (CRM-E021/E022/E023, and the shared codes) -------------
    Case("E021-unknown-entity", role_tree(), [
        want(ROLES, 5, "CRM-E021", "role 'Sales Rep' names unknown entity 'acount'",
             hint="did you mean 'account'?"),
    ], roles=lines(
        "Sales Rep:",
        "  label: {en: Sales Rep, zh: 销售代表}",
        "  entities:",
        "    deal: {read: own, create: yes}",
        "    acount: {read: all}",          # 5
    )),
    Case("E021-field-rule-unknown-entity", role_tree(), [
        want(ROLES, 6, "CRM-E021", "role 'Sales Rep': field rule names unknown entity 'deals'",
             hint="did you mean 'deal'?"),
    ], roles=lines(
        "Sales Rep:",
        "  entities:",
        "    deal: all",
        "  fields:",
        "    deal.amount: read",
        "    deals.size: hidden",           # 6
    )),
    Case("E021-unknown-field", role_tree(), [
        want(ROLES, 4, "CRM-E021", "role 'Sales Rep': 'deal' has no field 'amout'",
             hint="did you mean 'amount'?"),
        want(ROLES, 5, "CRM-E021", "role 'Sales Rep': 'account' has no field 'id'", hint=""),
    ], roles=lines(
        "Sales Rep:",
        "  entities: {deal: all}",
        "  fields:",
        "    deal.amout: hidden",           # 4
        "    account.id: read",             # 5: id is no field of the metadata
    )),
    Case("E021-key-not-entity-dot-field", role_tree(), [
        want(ROLES, 3, "CRM-E021", "role 'Support': field rule key 'amount' must be entity.field",
             hint="for example opportunity.amount"),
        want(ROLES, 4, "CRM-E021", "field rule key 'deal.account.name' must be entity.field"),
    ], roles=lines(
        "Support:",
        "  fields:",
        "    amount: hidden",               # 3
        "    deal.account.name: hidden",    # 4: one level only
    )),
    Case("E022-scope-some", role_tree(), [
        want(ROLES, 4, "CRM-E022", "role 'Sales Rep', entity 'deal': scope 'some' for read "
             "is not one of all, team, own, no, yes", hint=""),
    ], roles=lines(
        "Sales Rep:",
        "  entities:",
        "    deal:",
        "      read: some",                 # 4
        "      update: own",
    )),
    Case("E022-scope-typo-hint", role_tree(), [
        want(ROLES, 3, "CRM-E022", "scope 'tem' for update", hint="did you mean 'team'?"),
    ], roles=lines(
        "Sales Manager:",
        "  entities:",
        "    deal: {read: team, update: tem}",   # 3
    )),
    Case("E022-field-rule-visible", role_tree(), [
        want(ROLES, 5, "CRM-E022", "role 'Support': field rule 'visible' for deal.amount "
             "is not one of hidden, read, write", hint=""),
    ], roles=lines(
        "Support:",
        "  entities: {deal: {read: all}}",
        "  fields:",
        "    deal.name: read",
        "    deal.amount: visible",         # 5
    )),
    Case("E022-field-rule-boolean", role_tree(), [
        want(ROLES, 3, "CRM-E022", "field rule 'False' for deal.amount"),
    ], roles=lines(
        "Support:",
        "  fields:",
        "    deal.amount: no",              # 3: YAML reads no as false; write hidden
    )),
    Case("E023-extends-unknown-role", role_tree(), [
        want(ROLES, 4, "CRM-E023", "role 'Sales Manager' extends unknown role 'Sales Reps'",
             hint="did you mean 'Sales Rep'?"),
    ], roles=lines(
        "Sales Rep:",
        "  entities: {deal: own}",
        "",
        "Sales Manager:",                   # 4: reported at the role, not at extends
        "  extends: [Sales Reps]",
        "  entities: {deal: team}",
    )),
    Case("E023-cycle", role_tree(), [
        want(ROLES, 1, "CRM-E023", "role 'A' extends itself through A -> B -> A", hint=CYCLE_HINT),
        want(ROLES, 4, "CRM-E023", "role 'B' extends itself through B -> A -> B", hint=CYCLE_HINT),
    ], roles=lines(
        "A:",                               # 1
        "  extends: [B]",
        "  entities: {deal: own}",
        "B:",                               # 4
        "  extends: [A]",
    )),
    Case("E023-extends-itself", role_tree(), [
        want(ROLES, 1, "CRM-E023", "role 'Rep' extends itself through Rep -> Rep"),
    ], roles=lines("Rep:", "  extends: [Rep]")),
    Case("E023-cycle-seen-from-outside", role_tree(), [
        want(ROLES, 3, "CRM-E023", "role 'A' extends itself through A -> B -> A"),
        want(ROLES, 5, "CRM-E023", "role 'B' extends itself through B -> A -> B"),
    ], roles=lines(
        "C:",                               # 1: extends the cycle but is not part of it
        "  extends: [A]",
        "A:",                               # 3
        "  extends: [B]",
        "B:",                               # 5
        "  extends: [A]",
    )),
    Case("E006-role-admin", role_tree(), [
        want(ROLES, 3, "CRM-E006", "role name 'Admin' is built in", hint=BUILTIN_HINT),
    ], roles=lines(
        "Sales Rep:",
        "  entities: {deal: own}",
        "Admin:",                           # 3
        "  entities: {deal: all}",
    )),
    Case("E006-role-public", role_tree(), [
        want(ROLES, 1, "CRM-E006", "role name 'Public' is built in"),
    ], roles=lines("Public:", "  entities: {account: {read: all}}")),
    Case("E005-role-name-too-long", role_tree(), [
        want(ROLES, 2, "CRM-E005", "must be 1-64 characters"),
    ], roles=lines("Rep: {}", "R" * 65 + ": {}")),
    Case("E002-unknown-action", role_tree(), [
        want(ROLES, 3, "CRM-E002", "unknown key 'edit' in role 'Sales Rep', entity 'deal'",
             hint=ACTION_KEYS_HINT),
    ], roles=lines(
        "Sales Rep:",
        "  entities:",
        "    deal: {read: own, edit: own}",      # 3: the action is update
    )),
    Case("E002-action-typo", role_tree(), [
        want(ROLES, 5, "CRM-E002", "unknown key 'delte' in role 'Sales Rep', entity 'deal'",
             hint="did you mean 'delete'?"),
    ], roles=lines(
        "Sales Rep:",
        "  entities:",
        "    deal:",
        "      read: own",
        "      delte: own",                 # 5
    )),
    Case("E002-unknown-role-key", role_tree(), [
        want(ROLES, 3, "CRM-E002", "unknown key 'extend' in role 'Sales Manager'",
             hint="did you mean 'extends'?"),
        want(ROLES, 4, "CRM-E002", "unknown key 'teams' in role 'Sales Manager'",
             hint=ROLE_KEYS_HINT),
    ], roles=lines(
        "Sales Rep: {}",
        "Sales Manager:",
        "  extend: [Sales Rep]",            # 3
        "  teams: [north]",                 # 4: teams are data, managed in the app
    )),
    Case("E003-role-entities-list", role_tree(), [
        want(ROLES, 2, "CRM-E003", "'entities' in role 'Sales Rep' must be a map of entity name "
             "to {action: scope}, got a list"),
    ], roles=lines(
        "Sales Rep:",
        "  entities: [account, deal]",      # 2
    )),
    Case("E003-roles-file-list", role_tree(), [
        want(ROLES, 1, "CRM-E003", "roles.yaml must map role names to roles, got a list"),
    ], roles=lines("- Sales Rep", "- Support")),
    Case("E003-role-extends-string", role_tree(), [
        want(ROLES, 4, "CRM-E003", "'extends' in role 'Sales Manager' must be a list of role names",
             "got str 'Sales Rep'"),
    ], roles=lines(
        "Sales Rep: {}",
        "",
        "Sales Manager:",
        "  extends: Sales Rep",             # 4
    )),
    Case("E003-scope-number", role_tree(), [
        want(ROLES, 2, "CRM-E003", "'read' in role 'Rep', entity 'deal' must be all, team, own "
             "or no (yes means all), got int 1"),
    ], roles=lines("Rep:", "  entities: {deal: {read: 1}}")),
    Case("E004-role-twice", role_tree(), [
        want(ROLES, 5, "CRM-E004", "role 'Sales Rep' is defined twice"),
    ], roles=lines(
        "Sales Rep:",
        "  entities: {deal: own}",
        "Support:",
        "  entities: {account: {read: all}}",
        "Sales Rep:",                       # 5
        "  entities: {deal: team}",
    )),
    Case("E004-action-twice", role_tree(), [
        want(ROLES, 3, "CRM-E004", "role 'Rep', entity 'deal' repeats key 'read'", hint=DUP_KEY_HINT),
    ], roles=lines("Rep:", "  entities:", "    deal: {read: own, update: own, read: all}")),
    Case("E004-entity-or-field-rule-twice", role_tree(), [
        want(ROLES, 4, "CRM-E004", "'deal'"),
        want(ROLES, 7, "CRM-E004", "'deal.amount'"),
    ], roles=lines(
        "Rep:",
        "  entities:",
        "    deal: {read: all}",
        "    deal: {read: own}",            # 4: silently replaces line 3
        "  fields:",
        "    deal.amount: read",
        "    deal.amount: hidden",          # 7: silently replaces line 6
    )),
    Case("E022-bare-scope-some", role_tree(), [
        want(ROLES, 3, "CRM-E022", "scope 'some'"),
    ], roles=lines(
        "Rep:",
        "  entities:",
        "    deal: some",                   # 3
    )),
    Case("E018-role-label-language", role_tree(), [
        want(ROLES, 2, "CRM-E018", "role 'Rep' has a label in unknown language 'fr'"),
    ], roles=lines("Rep:", "  label: {en: Rep, fr: Commercial}")),
    Case("E001-roles-yaml", role_tree(), [
        want(ROLES, 4, "CRM-E001", "malformed YAML", "flow mapping"),
    ], roles=lines(
        "Rep:",
        "  entities:",
        "    deal: {read: own",
        "    account: all",                 # 4: the parser meets ':' inside the open {...}
    )),

    # --- pipelines (CRM-E024/E025, and the shared codes) -------------------
    Case("E024-stage-field-declared", pipes(
        "  - name: sales",
        "    field: notes",                 # 10: notes is declared under fields
        "    stages: [{name: open}]",
    ), [want(DEAL, 10, "CRM-E024", "pipeline 'sales': field 'notes' is declared in fields",
             hint="the pipeline makes its stage field from its stages: remove the declaration")]),
    Case("E024-no-stages", pipes(
        "  - name: sales",
        "    field: stage",
        "    stages: []",                   # 11
    ), [want(DEAL, 11, "CRM-E024", "pipeline 'sales' has no stages", hint="")]),
    Case("E024-when-not-a-choice-field", pipes(
        "  - name: sales",
        "    field: stage",
        "    when: {notes: urgent}",        # 11
        "    stages: [{name: open}]",
    ), [want(DEAL, 11, "CRM-E024", "pipeline 'sales': when names 'notes', which is not a choice field",
             hint="")]),
    Case("E024-when-unknown-field", pipes(
        "  - name: sales",
        "    field: stage",
        "    when: {knd: renewal}",         # 11
        "    stages: [{name: open}]",
    ), [want(DEAL, 11, "CRM-E024", "when names 'knd', which is not a choice field",
             hint="did you mean 'kind'?")]),
    Case("E024-when-value-not-a-choice", pipes(
        "  - name: sales",
        "    field: stage",
        "    when:",
        "      kind: renew",                # 12: reported at `when:`, line 11
        "    stages: [{name: open}]",
    ), [want(DEAL, 11, "CRM-E024", "pipeline 'sales': when value 'renew' is not a choice of 'kind'",
             hint="did you mean 'renewal'?")]),
    Case("E024-when-two-keys", pipes(
        "  - name: sales",
        "    field: stage",
        "    when: {kind: new, name: x}",   # 11
        "    stages: [{name: open}]",
    ), [want(DEAL, 11, "CRM-E024", "pipeline 'sales': when must name one field and one value")]),
    Case("E024-bad-outcome", pipes(
        "  - name: sales",
        "    field: stage",
        "    stages:",
        "      - {name: open}",
        "      - name: won",
        "        outcome: win",             # 14
    ), [want(DEAL, 14, "CRM-E024", "pipeline 'sales': stage 'won' outcome 'win' is not one of "
             "open, won, lost", hint="did you mean 'won'?")]),
    Case("E024-probability-field-not-percent", pipes(
        "  - name: sales",
        "    field: stage",
        "    probability_field: amount",    # 11: a money field
        "    stages: [{name: open}]",
    ), [want(DEAL, 11, "CRM-E024", "pipeline 'sales': probability_field 'amount' must be a percent field",
             hint="")]),
    Case("E024-amount-field-not-money", pipes(
        "  - name: sales",
        "    field: stage",
        "    amount_field: notes",          # 11: a text field
        "    stages: [{name: open}]",
        "  - name: service",
        "    field: status",
        "    amount_field: amont",          # 15: no such field
        "    stages: [{name: new}]",
    ), [want(DEAL, 11, "CRM-E024", "pipeline 'sales': amount_field 'notes' must be a money or decimal "
             "or integer field"),
        want(DEAL, 15, "CRM-E024", "pipeline 'service': amount_field 'amont'", hint="did you mean 'amount'?")]),
    Case("E024-two-default-pipelines", pipes(
        "  - name: sales",
        "    field: stage",
        "    stages: [{name: open}]",
        "  - name: service",
        "    field: stage",
        "    stages: [{name: new}]",
        "  - name: renewal",
        "    field: stage",
        "    when: {kind: renewal}",
        "    stages: [{name: due}]",
    ), [want(DEAL, 8, "CRM-E024", "pipelines sales, service all claim every record of 'stage'",
             hint="give all but one of them a `when`")]),
    Case("E025-next-unknown-stage", pipes(
        "  - name: sales",
        "    field: stage",
        "    stages:",
        "      - {name: open, next: [wonn]}",     # 12
        "      - {name: won, next: []}",
    ), [want(DEAL, 12, "CRM-E025", "pipeline 'sales': stage 'open' moves next to unknown stage 'wonn'",
             hint="did you mean 'won'?")]),
    Case("E025-next-block-list", pipes(
        "  - name: sales",
        "    field: stage",
        "    stages:",
        "      - name: open",
        "        next:",
        "          - won",
        "          - clsed",                # 15
        "      - {name: won}",
        "      - {name: closed}",
    ), [want(DEAL, 15, "CRM-E025", "stage 'open' moves next to unknown stage 'clsed'",
             hint="did you mean 'closed'?")]),
    Case("E025-next-names-a-stage-of-another-pipeline", pipes(
        "  - name: sales",
        "    field: stage",
        "    stages: [{name: open, next: [due]}, {name: won}]",   # 11: due is renewal's
        "  - name: renewal",
        "    field: stage",
        "    when: {kind: renewal}",
        "    stages: [{name: due}]",
    ), [want(DEAL, 11, "CRM-E025", "pipeline 'sales': stage 'open' moves next to unknown stage 'due'")]),
    Case("E043-transition-unknown-stage", pipes(
        "  - name: sales",
        "    field: stage",
        "    stages: [{name: open}, {name: won, next: []}, {name: lost, next: [open]}]",
        "    transitions:",
        "      - {from: lost, to: opn, roles: [Admin]}",     # 13
    ), [want(DEAL, 13, "CRM-E043", "pipeline 'sales': transition to unknown stage 'opn'",
             hint="did you mean 'open'?")]),
    Case("E044-transition-next-forbids-twice-unknown-role", pipes(
        "  - name: sales",
        "    field: stage",
        "    stages: [{name: open}, {name: won, next: []}, {name: lost, next: [open]}]",
        "    transitions:",
        "      - {from: won, to: open}",                     # 13
        "      - {from: lost, to: open}",
        "      - {from: lost, to: open}",                    # 15
        "      - {from: open, to: open}",                    # 16
        "      - {from: open, to: won, roles: [Manager]}",   # 17
    ), [want(DEAL, 13, "CRM-E044", "transition won → open is not a move stage 'won' allows",
             hint="add 'open' to the next of 'won'"),
        want(DEAL, 15, "CRM-E044", "transition lost → open is listed twice"),
        want(DEAL, 16, "CRM-E044", "transition open → open is not a move",
             hint="a transition moves between two different stages"),
        want(DEAL, 17, "CRM-E044", "transition open → won names unknown role 'Manager'")]),
    Case("E025-role-stages-unknown-stage", pipe_tree(), [
        want(ROLES, 6, "CRM-E025", "role 'Sales Rep': 'deal' has no stage 'wonn'", hint="did you mean 'won'?"),
    ], roles=lines(
        "Sales Rep:",
        "  entities: {deal: own}",
        "  stages:",
        "    deal:",
        "      - open",
        "      - wonn",                     # 6
    )),
    Case("E025-role-stages-entity-without-pipelines", pipe_tree(), [
        want(ROLES, 3, "CRM-E025", "role 'Rep': 'account' has no stage 'open'", hint=""),
    ], roles=lines(
        "Rep:",
        "  stages:",
        "    account: [open]",              # 3: account has no pipelines
    )),
    Case("E021-role-stages-unknown-entity", pipe_tree(), [
        want(ROLES, 3, "CRM-E021", "role 'Rep': stages names unknown entity 'deals'",
             hint="did you mean 'deal'?"),
    ], roles=lines("Rep:", "  stages:", "    deals: [open]")),
    Case("E003-role-stages-list", pipe_tree(), [
        want(ROLES, 2, "CRM-E003", "'stages' in role 'Rep' must be a map of entity name to the stages "
             "the role may move records into, got a list"),
    ], roles=lines("Rep:", "  stages: [open, won]")),
    Case("E010-requires-unknown-field", pipes(
        "  - name: sales",
        "    field: stage",
        "    stages:",
        "      - {name: open}",
        "      - name: won",
        "        requires:",
        "          - amout",                # 15
        "          - owner",                # 16: system fields are always filled
    ), [want(DEAL, 15, "CRM-E010", "pipeline 'sales': stage 'won' requires unknown field 'amout'",
             hint="did you mean 'amount'?"),
        want(DEAL, 16, "CRM-E010", "stage 'won' requires unknown field 'owner'")]),
    Case("E010-card-fields-unknown-field", pipes(
        "  - name: sales",
        "    field: stage",
        "    card_fields:",
        "      - owner",                    # a system field is fine
        "      - notse",                    # 13
        "    stages: [{name: open}]",
    ), [want(DEAL, 13, "CRM-E010", "pipeline 'sales': card_fields names unknown field 'notse'",
             hint="did you mean 'notes'?")]),
    Case("E004-stage-twice", pipes(
        "  - name: sales",
        "    field: stage",
        "    stages:",
        "      - {name: open}",
        "      - {name: won}",
        "      - {name: open, color: red}",   # 14
    ), [want(DEAL, 14, "CRM-E004", "pipeline 'sales': stage 'open' is listed twice")]),
    Case("E004-pipeline-twice", pipes(
        "  - name: sales",
        "    field: stage",
        "    stages: [{name: open}]",
        "  - name: sales",                  # 12
        "    field: stage",
        "    when: {kind: renewal}",
        "    stages: [{name: due}]",
    ), [want(DEAL, 12, "CRM-E004", "pipeline 'sales' is defined twice")]),
    Case("E014-stage-probability-150", pipes(
        "  - name: sales",
        "    field: stage",
        "    stages:",
        "      - name: won",
        "        probability: 150",         # 13
        "      - {name: lost, probability: -1}",   # 14
    ), [want(DEAL, 13, "CRM-E014", "pipeline 'sales': stage 'won' probability 150 must be between 0 and 100"),
        want(DEAL, 14, "CRM-E014", "stage 'lost' probability -1 must be between 0 and 100")]),
    Case("E005-bad-stage-name", pipes(
        "  - name: sales",
        "    field: stage",
        "    stages:",
        "      - {name: open}",
        "      - {name: Closed Won}",       # 13
    ), [want(DEAL, 13, "CRM-E005", "stage name 'Closed Won' is not a valid identifier", hint=IDENT_HINT)]),
    Case("E005-bad-pipeline-name-and-stage-field", pipes(
        "  - name: New Business",           # 9
        "    field: stage",
        "    stages: [{name: open}]",
        "  - name: service",
        "    field: Status",                # 13
        "    stages: [{name: open}]",
    ), [want(DEAL, 9, "CRM-E005", "pipeline name 'New Business' is not a valid identifier"),
        want(DEAL, 13, "CRM-E005", "stage field 'Status' is not a valid identifier")]),
    Case("E002-pipeline-and-stage-keys", pipes(
        "  - name: sales",
        "    field: stage",
        "    probability_feild: probability",   # 11
        "    stages:",
        "      - {name: open, probabilty: 10}",  # 13
    ), [want(DEAL, 11, "CRM-E002", "unknown key 'probability_feild' in pipeline",
             hint="did you mean 'probability_field'?"),
        want(DEAL, 13, "CRM-E002", "unknown key 'probabilty' in a stage of pipeline 'sales'",
             hint="did you mean 'probability'?")]),
    Case("E003-pipelines-and-stage-values", pipes(
        "  - name: sales",
        "    field: stage",
        "    probability_overridable: yes please",   # 11
        "    stages:",
        "      - open",                     # 13: a stage is a mapping
        "      - {name: won, probability: 50.5}",   # 14
    ), [want(DEAL, 11, "CRM-E003", "'probability_overridable' in pipeline must be true or false"),
        want(DEAL, 13, "CRM-E003", "a stage of pipeline 'sales' must be a mapping, got str 'open'"),
        want(DEAL, 14, "CRM-E003", "'probability' in a stage of pipeline 'sales' must be a whole number, "
             "got float 50.5")]),
    Case("E007-pipeline-and-stage-keys", pipes(
        "  - name: sales",                  # 9: no field
        "    stages: [{name: open}]",
        "  - name: service",
        "    field: status",
        "    stages:",
        "      - {name: new}",
        "      - {label: Done}",            # 15: no name
    ), [want(DEAL, 9, "CRM-E007", "pipeline has no 'field'"),
        want(DEAL, 15, "CRM-E007", "a stage of pipeline 'service' has no 'name'")]),
    Case("E018-stage-label-language", pipes(
        "  - name: sales",
        "    field: stage",
        "    stages:",
        "      - name: won",
        "        label: {en: Won, fr: Gagné}",   # 13
    ), [want(DEAL, 13, "CRM-E018", "pipeline 'sales' has a label in unknown language 'fr'")]),

    # --- conversion (CRM-E026; all reported at the line of `convert:`) ------
    Case("E026-bad-targets", convert(
        "    - entity: acount",
        "      fields: {name: name}",
        "    - entity: account",
        "      match: title",
        "      fields: {name: compnay, owner: name}",
        "      link: company",
    ), [want(DEAL, 12, "CRM-E026", "convert target 'acount' is not an entity", hint="did you mean 'account'?"),
        want(DEAL, 12, "CRM-E026", "convert target 'account': 'deal' has no field 'compnay'",
             hint="did you mean 'company'?"),
        want(DEAL, 12, "CRM-E026", "'account' has no writable field 'owner'"),
        want(DEAL, 12, "CRM-E026", "convert target 'account': match names unknown field 'title'"),
        want(DEAL, 12, "CRM-E026", "link 'company' must be a link field of 'deal' to 'account'")]),
    Case("E026-dollar-not-made-earlier", convert(
        "    - entity: account",
        "      fields: {name: $account}",     # made by this very target, not earlier
    ), [want(DEAL, 12, "CRM-E026", "convert target 'account': $account is not a record made earlier "
             "in the conversion")]),
    Case("E025-convert-unknown-stages", convert(
        "    - entity: account",
        "      fields: {name: company}",
        "      link: account",
        from_="[qualifed]", to="done",
    ), [want(DEAL, 12, "CRM-E025", "convert names unknown stage 'qualifed'", hint="did you mean 'qualified'?"),
        want(DEAL, 12, "CRM-E025", "convert names unknown stage 'done'")]),

    # --- pipeline checker bugs (xfail strict: each turns into a failure once fixed) ----------
    Case("BUG-E024-unknown-stage-role-line", pipe_tree(
        "  - name: sales",
        "    field: stage",
        "    stages:",
        "      - {name: open}",
        "      - {name: won, roles: [Sales Manger]}",   # 13: the role is named here
    ), [want(DEAL, 13, "CRM-E024", "pipeline 'sales': stage 'won' names unknown role 'Sales Manger'",
             hint="did you mean 'Sales Manager'?")],
        roles=lines("Sales Manager:", "  entities: {deal: all}")),
    Case("BUG-stage-field-system-field", pipes(
        "  - name: sales",
        "    field: owner",                 # 10: owner is a system field
        "    stages: [{name: open}]",
    ), [want(DEAL, 10, "CRM-E006", "'owner'")]),
    Case("BUG-stage-field-id", pipes(
        "  - name: sales",
        "    field: id",                    # 10: the primary key
        "    stages: [{name: open}]",
    ), [want(DEAL, 10, "CRM-E006", "'id'")]),
    Case("BUG-missing-stages-reported-twice", pipes(
        "  - name: sales",                  # 9
        "    field: stage",
    ), [want(DEAL, 9, "CRM-E007", "pipeline has no 'stages'")]),
    Case("BUG-bad-when-also-claims-every-record", pipes(
        "  - name: sales",
        "    field: stage",
        "    stages: [{name: open}]",
        "  - name: renewal",
        "    field: stage",
        "    when: {kind: renew}",          # 14
        "    stages: [{name: due}]",
    ), [want(DEAL, 14, "CRM-E024", "when value 'renew' is not a choice of 'kind'")]),
    Case("BUG-role-stages-entity-twice", pipe_tree(), [
        want(ROLES, 5, "CRM-E004", "'deal'"),
    ], roles=lines(
        "Rep:",
        "  entities: {deal: own}",
        "  stages:",
        "    deal: [open]",
        "    deal: [won]",                  # 5: silently replaces line 4
    )),
    Case("BUG-role-stages-empty-entry", pipe_tree(), [
        want(ROLES, 3, "CRM-E003", "'deal'"),
    ], roles=lines("Rep:", "  stages:", "    deal:")),
]


# ---------------------------------------------------------------------------
# dashboards.yaml: CRM-E027 for chart semantics, the shape codes as elsewhere
# ---------------------------------------------------------------------------

DASH = "dashboards.yaml"

DASH_DEAL_ROWS = (
    "label: {en: Deal, zh: 商机}",                            # 1
    "fields:",                                              # 2
    "  name: {type: string, required: true}",               # 3
    "  amount: money",                                      # 4
    "  account: {type: link, to: account}",                 # 5
    "  products: {type: links, to: account}",               # 6
    "  notes: text",                                        # 7
    "  size: integer",                                      # 8
    "  close_date: date",                                   # 9
    "  tags: {type: multichoice, choices: [vip, partner]}",  # 10
    "  signed: boolean",                                    # 11
    "  due: datetime",                                      # 12
    "  rate: percent",                                      # 13
    "pipelines:",                                           # 14
    "  - name: sales",                                      # 15
    "    field: stage",                                     # 16
    "    amount_field: amount",                             # 17
    "    stages: [{name: open}, {name: won, outcome: won}, {name: lost, outcome: lost}]",  # 18
)
DASH_DEAL = lines(*DASH_DEAL_ROWS)
# The deal with a link to an entity that does not exist, at line 14.
DEAL_BROKEN_LINK = lines(*DASH_DEAL_ROWS[:13], "  partner: {type: link, to: partners}", *DASH_DEAL_ROWS[13:])
ACTIVITY = lines("label: {en: Activity, zh: 活动}", "fields:", "  subject: string", "  account: {type: link, to: account}")
DASH_ROLES = lines("Sales Rep:", "  entities: {deal: own}", "Sales Manager:", "  entities: {deal: team}")
ROLES_HINT = "did you mean 'Sales Rep'?"


def dash_case(case_id: str, dashboards: str, wants: list[Want], entities: dict[str, str] | None = None,
              bug: str | None = None) -> Case:
    """account, a deal with every kind of field and a pipeline, an activity linking to account; two roles."""
    tree = {"account": ACCOUNT, "deal": DASH_DEAL, "activity": ACTIVITY, **(entities or {})}
    return Case(case_id, tree, wants, roles=DASH_ROLES, setup=_write(DASH, dashboards), bug=bug)


CHART_HEAD = (
    "dashboards:",          # 1
    "  - name: sales",      # 2
    "    charts:",          # 3
    "      - name: c",      # 4
)


def chart(*rows: str) -> str:
    """dashboards.yaml with one chart 'c' of dashboard 'sales'; its other keys are rows from line 5."""
    return lines(*CHART_HEAD, *(f"        {row}" for row in rows))


def bar(*rows: str) -> str:
    """A bar chart of deals by stage (lines 5-7); extra rows from line 8."""
    return chart("kind: bar", "entity: deal", "group: stage", *rows)


def kpi(*rows: str) -> str:
    """A kpi chart of deals (lines 5-6); extra rows from line 7."""
    return chart("kind: kpi", "entity: deal", *rows)


C = "dashboard 'sales', chart 'c': "

DASHBOARD_CASES: list[Case] = [
    # --- the file and its dashboards: shapes ---------------------------------
    dash_case("E027-dashboard-unknown-role", lines(
        "dashboards:",
        "  - name: sales",
        "    roles:",
        "      - Sales Rep",
        "      - Sales Reps",           # 5
        "      - Admin",                # Admin is built in: fine
        "    charts:",
        "      - {name: c, kind: bar, entity: deal, group: stage}",
    ), [want(DASH, 5, "CRM-E027", "dashboard 'sales' names unknown role 'Sales Reps'", hint=ROLES_HINT)]),
    dash_case("E027-dashboard-role-public-and-no-close-match", lines(
        "dashboards:",
        "  - name: sales",
        "    roles: [Public]",          # 3: not a role of roles.yaml
        "    charts: [{name: c, kind: kpi, entity: deal}]",
    ), [want(DASH, 3, "CRM-E027", "names unknown role 'Public'",
             hint="roles: Admin, Sales Manager, Sales Rep")]),
    dash_case("E003-E004-dashboard-roles-entries", lines(
        "dashboards:",
        "  - name: sales",
        "    roles:",
        "      - [Sales Rep]",          # 4: a list, not a name
        "      - Sales Rep",
        "      - Sales Rep",            # 6
        "    charts: [{name: c, kind: kpi, entity: deal}]",
    ), [want(DASH, 4, "CRM-E003", "roles entry of dashboard 'sales' must be a role name, got a list"),
        want(DASH, 6, "CRM-E004", "dashboard 'sales' names role 'Sales Rep' twice")]),
    dash_case("E027-dashboard-without-charts", lines(
        "dashboards:",
        "  - name: sales",
        "    label: {en: Sales, zh: 销售}",
        "    charts: []",               # 4
    ), [want(DASH, 4, "CRM-E027", "dashboard 'sales' has no charts",
             hint="list at least one chart, or remove the dashboard")]),
    dash_case("E004-dashboard-and-chart-twice", lines(
        "dashboards:",
        "  - name: sales",
        "    charts:",
        "      - {name: c, kind: kpi, entity: deal}",
        "      - {name: c, kind: kpi, entity: account}",   # 5
        "  - name: sales",              # 6
        "    charts: [{name: c, kind: kpi, entity: deal}]",
    ), [want(DASH, 5, "CRM-E004", "dashboard 'sales' has two charts named 'c'"),
        want(DASH, 6, "CRM-E004", "dashboard 'sales' is defined twice")]),
    dash_case("E003-file-is-a-list", lines(
        "- name: sales",                # 1
        "  charts: []",
    ), [want(DASH, 1, "CRM-E003", "dashboards.yaml must be a mapping, got a list")]),
    dash_case("E007-E002-file-keys", lines(
        "dashbords:",                   # 1
        "  - name: sales",
    ), [want(DASH, 1, "CRM-E002", "unknown key 'dashbords' in dashboards.yaml", hint="did you mean 'dashboards'?"),
        want(DASH, 1, "CRM-E007", "dashboards.yaml has no 'dashboards'")]),
    dash_case("E003-dashboards-is-a-mapping", lines(
        "dashboards:",                  # 1
        "  sales: {charts: []}",
    ), [want(DASH, 1, "CRM-E003", "'dashboards' in dashboards.yaml must be a list of dashboards, got a mapping")]),
    dash_case("E003-dashboard-and-chart-not-mappings", lines(
        "dashboards:",
        "  - sales",                    # 2
        "  - name: service",
        "    charts:",
        "      - pipeline_by_stage",    # 5
        "      - [bar, deal]",          # 6
    ), [want(DASH, 2, "CRM-E003", "dashboard must be a mapping, got str 'sales'"),
        want(DASH, 5, "CRM-E003", "chart of dashboard 'service' must be a mapping, got str 'pipeline_by_stage'"),
        want(DASH, 6, "CRM-E003", "chart of dashboard 'service' must be a mapping, got a list")]),
    dash_case("E003-chart-values", lines(
        "dashboards:",
        "  - name: sales",
        "    roles: Sales Rep",         # 3: one name, not a list
        "    charts:",
        "      - name: c",
        "        kind: bar",
        "        entity: deal",
        "        group: [stage]",       # 8
        "        measure: 5",           # 9
        "        filters: [stage]",     # 10
        "        period: this_month",   # 11
        "        top: ten",             # 12
        "        width: 6.5",           # 13
        "        params: [days]",       # 14
    ), [want(DASH, 3, "CRM-E003", "'roles' in dashboard must be a list of role names, got str 'Sales Rep'"),
        want(DASH, 8, "CRM-E003", "'group' in chart of dashboard 'sales' must be a field, a link.field"),
        want(DASH, 9, "CRM-E003", "'measure' in chart of dashboard 'sales' must be count, or sum(field)",
             "got int 5"),
        want(DASH, 10, "CRM-E003", "'filters' in chart of dashboard 'sales' must be a map of field"),
        want(DASH, 11, "CRM-E003", "'period' in chart of dashboard 'sales' must be a map {field"),
        want(DASH, 12, "CRM-E003", "'top' in chart of dashboard 'sales' must be a whole number"),
        want(DASH, 13, "CRM-E003", "'width' in chart of dashboard 'sales' must be a whole number, got float 6.5"),
        want(DASH, 14, "CRM-E003", "'params' in chart of dashboard 'sales' must be a map of analysis option")]),
    dash_case("E002-E007-E005-dashboard-and-chart-keys", lines(
        "dashboards:",
        "  - name: Sales Board",        # 2
        "    charts: [{name: c, kind: kpi, entity: deal}]",
        "  - label: Service",           # 4: no name, no charts
        "  - name: marketing",
        "    chrats: []",               # 6
        "    charts:",
        "      - name: c",              # 8
        "        kind: bar",
        "        entity: deal",
        "        gruop: stage",         # 11
        "      - name: Chart 2",        # 12
        "        kind: kpi",
        "        entity: deal",
        "      - name: d",              # 15: no kind, no entity
    ), [want(DASH, 2, "CRM-E005", "dashboard name 'Sales Board' is not a valid identifier", hint=IDENT_HINT),
        want(DASH, 4, "CRM-E007", "dashboard has no 'name'"),
        want(DASH, 4, "CRM-E007", "dashboard has no 'charts'"),
        want(DASH, 6, "CRM-E002", "unknown key 'chrats' in dashboard", hint="did you mean 'charts'?"),
        want(DASH, 8, "CRM-E027", "dashboard 'marketing', chart 'c': a bar chart needs a group"),
        want(DASH, 11, "CRM-E002", "unknown key 'gruop' in chart of dashboard 'marketing'",
             hint="did you mean 'group'?"),
        want(DASH, 12, "CRM-E005", "chart name 'Chart 2' is not a valid identifier"),
        want(DASH, 15, "CRM-E007", "chart of dashboard 'marketing' has no 'kind'"),
        want(DASH, 15, "CRM-E007", "chart of dashboard 'marketing' has no 'entity'")]),
    dash_case("E004-repeated-keys", lines(
        "dashboards:",
        "  - name: sales",
        "    charts:",
        "      - name: c",
        "        kind: bar",
        "        entity: deal",
        "        group: stage",
        "        group: account",       # 8
        "        filters: {stage: won, stage: lost}",      # 9
        "      - name: d",
        "        kind: table",
        "        entity: account",
        "        analysis: churn_risk",
        "        params: {days: 30, days: 60}",            # 14
    ), [want(DASH, 8, "CRM-E004", "chart of dashboard 'sales' repeats key 'group'", hint=DUP_KEY_HINT),
        want(DASH, 9, "CRM-E004", C + "filters repeat 'stage'", hint=DUP_KEY_HINT),
        want(DASH, 14, "CRM-E004", "dashboard 'sales', chart 'd': params repeat 'days'", hint=DUP_KEY_HINT)]),
    dash_case("E018-dashboard-and-chart-labels", lines(
        "dashboards:",
        "  - name: sales",
        "    label: {en: Sales, fr: Ventes}",                 # 3
        "    description: {zh: 销售漏斗, de: Trichter}",        # 4
        "    charts:",
        "      - name: c",
        "        title: {zh: 在途商机, ja: 商談}",                # 7
        "        kind: kpi",
        "        entity: deal",
    ), [want(DASH, 3, "CRM-E018", "dashboard 'sales' has a label in unknown language 'fr'"),
        want(DASH, 4, "CRM-E018", "dashboard 'sales' has a label in unknown language 'de'"),
        want(DASH, 7, "CRM-E018", C.rstrip(": ") + " has a label in unknown language 'ja'")]),

    # --- a chart's kind and entity ------------------------------------------
    dash_case("E027-unknown-kind-and-entity", chart(
        "kind: donut",                  # 5
        "entity: deals",                # 6
    ), [want(DASH, 5, "CRM-E027", C + "unknown kind 'donut'",
             hint="kinds: bar, stacked_bar, line, area, pie, funnel, kpi, table, pivot"),
        want(DASH, 6, "CRM-E027", C + "unknown entity 'deals'", hint="did you mean 'deal'?")]),
    dash_case("E027-kind-typo", chart("kind: stacked", "entity: deal", "group: stage"),
              [want(DASH, 5, "CRM-E027", C + "unknown kind 'stacked'", hint="did you mean 'stacked_bar'?")]),
    dash_case("E027-unknown-entity-no-close-match", chart("kind: kpi", "entity: invoice"),
              [want(DASH, 6, "CRM-E027", C + "unknown entity 'invoice'", hint="entities: account, activity, deal")]),

    # --- what a kind needs ----------------------------------------------------
    dash_case("E027-kinds-need-a-group", lines(
        *CHART_HEAD,
        "        kind: line",           # 5
        "        entity: deal",
        "      - name: d",              # 7
        "        kind: pie",
        "        entity: deal",
    ), [want(DASH, 4, "CRM-E027", C + "a line chart needs a group",
             hint="e.g. group: stage, or group: close_date:month"),
        want(DASH, 7, "CRM-E027", "chart 'd': a pie chart needs a group")]),
    dash_case("E027-kpi-is-one-number", kpi(
        "group: stage",                 # 7
        "series: owner",                # 8
    ), [want(DASH, 7, "CRM-E027", C + "a kpi chart is one number; remove group (use period to compare)"),
        want(DASH, 8, "CRM-E027", C + "a kpi chart has one series; remove series")]),
    dash_case("E027-sort-and-top-need-a-group", kpi(
        "sort: -value",                 # 7
        "top: 5",                       # 8
    ), [want(DASH, 7, "CRM-E027", C + "sort orders the groups, and this chart has none",
             hint="remove it, or add a group"),
        want(DASH, 8, "CRM-E027", C + "top orders the groups, and this chart has none")]),
    dash_case("E027-pie-and-funnel-have-one-series", lines(
        *CHART_HEAD,
        "        kind: pie",
        "        entity: deal",
        "        group: stage",
        "        series: owner",        # 8
        "      - name: d",
        "        kind: funnel",
        "        entity: deal",
        "        group: stage",
        "        series: signed",       # 13
    ), [want(DASH, 8, "CRM-E027", C + "a pie chart has one series; remove series"),
        want(DASH, 13, "CRM-E027", "chart 'd': a funnel chart has one series; remove series")]),
    dash_case("E027-pivot-needs-series", chart("kind: pivot", "entity: deal", "group: stage"),
              [want(DASH, 4, "CRM-E027", C + "a pivot needs a series: its columns",
                    hint="e.g. group: channel, series: priority")]),
    dash_case("E027-series-without-group-and-repeating-it", lines(
        *CHART_HEAD,
        "        kind: table",
        "        entity: deal",
        "        series: stage",        # 7
        "      - name: d",
        "        kind: stacked_bar",
        "        entity: deal",
        "        group: stage",
        "        series: stage",        # 12
    ), [want(DASH, 7, "CRM-E027", C + "series splits each group: add a group"),
        want(DASH, 12, "CRM-E027", "chart 'd': series repeats the group 'stage'", hint="split by another field")]),
    dash_case("E027-mistyped-group-is-not-also-missing", chart(
        "kind: bar", "entity: deal",
        "group: 5",                     # 7: CRM-E003 only, not also 'needs a group'
    ), [want(DASH, 7, "CRM-E003", "'group' in chart of dashboard 'sales' must be a field")]),
    dash_case("E027-sort-top-width", bar(
        "sort: desc",                   # 8
        "top: 0",                       # 9
        "width: 13",                    # 10
    ), [want(DASH, 8, "CRM-E027", C + "unknown sort 'desc'", hint="sorts: value, -value, label, -label"),
        want(DASH, 9, "CRM-E027", C + "top must be 1 or more, got 0"),
        want(DASH, 10, "CRM-E027", C + "width is in twelfths of the page: 1 to 12, got 13")]),
    dash_case("E027-sort-typo-and-width-zero", bar("sort: -values", "width: 0"), [
        want(DASH, 8, "CRM-E027", C + "unknown sort '-values'", hint="did you mean '-value'?"),
        want(DASH, 9, "CRM-E027", C + "width is in twelfths of the page: 1 to 12, got 0")]),

    # --- measure ---------------------------------------------------------------
    dash_case("E027-measure-shapes", lines(
        *CHART_HEAD,
        "        kind: bar", "        entity: deal", "        group: stage",
        "        measure: sum",         # 8: no field
        "      - {name: d, kind: bar, entity: deal, group: stage, measure: count(amount)}",   # 9
        "      - {name: e, kind: bar, entity: deal, group: stage, measure: total(amount)}",   # 10
        "      - {name: f, kind: bar, entity: deal, group: stage, measure: avrg(amount)}",    # 11
        "      - {name: g, kind: bar, entity: deal, group: stage, measure: sum(account.name)}",  # 12
    ), [want(DASH, 8, "CRM-E027", C + "measure 'sum' is not count or func(field)",
             hint="e.g. count, sum(amount), avg(amount), min(close_date), max(amount), median(amount), "
                  "count_distinct(account)"),
        want(DASH, 9, "CRM-E027", "chart 'd': measure 'count(amount)' is not count or func(field)"),
        want(DASH, 10, "CRM-E027", "chart 'e': measure 'total(amount)': unknown function 'total'",
             hint="functions: count, sum, avg, min, max, median, count_distinct"),
        want(DASH, 11, "CRM-E027", "chart 'f': measure 'avrg(amount)': unknown function 'avrg'",
             hint="did you mean 'avg'?"),
        want(DASH, 12, "CRM-E027", "chart 'g': measure 'sum(account.name)' is not count or func(field)")]),
    dash_case("E027-measure-fields", lines(
        *CHART_HEAD,
        "        kind: bar", "        entity: deal", "        group: stage",
        "        measure: sum(amout)",  # 8
        "      - {name: d, kind: bar, entity: deal, group: stage, measure: avg(close_date)}",   # 9
        "      - {name: e, kind: bar, entity: deal, group: stage, measure: max(name)}",         # 10
        "      - {name: f, kind: bar, entity: deal, group: stage, measure: min(close_date)}",   # fine
        "      - {name: g, kind: bar, entity: deal, group: stage, measure: sum(rate)}",         # fine
    ), [want(DASH, 8, "CRM-E027", C + "measure field 'amout': deal has no field 'amout'",
             hint="did you mean 'amount'?"),
        want(DASH, 9, "CRM-E027", "chart 'd': measure 'avg(close_date)': close_date is a date field; "
             "avg needs a number", hint=""),
        want(DASH, 10, "CRM-E027", "chart 'e': measure 'max(name)': name is a string field; "
             "max needs a number or a date")]),

    # --- group and series --------------------------------------------------------
    dash_case("E027-group-paths", lines(
        *CHART_HEAD,
        "        kind: bar", "        entity: deal",
        "        group: stge",          # 7
        "      - {name: d, kind: bar, entity: deal, group: account.industri}",     # 8
        "      - {name: e, kind: bar, entity: deal, group: account.owner.name}",   # 9
        "      - {name: f, kind: bar, entity: deal, group: owner.email}",          # 10
        "      - {name: g, kind: bar, entity: deal, group: name.first}",           # 11
        "      - {name: h, kind: bar, entity: deal, group: owner.username}",       # fine
    ), [want(DASH, 7, "CRM-E027", C + "group 'stge': deal has no field 'stge'", hint="did you mean 'stage'?"),
        want(DASH, 8, "CRM-E027", "chart 'd': group 'account.industri': account has no field 'industri'",
             hint="did you mean 'industry'?"),
        want(DASH, 9, "CRM-E027", "chart 'e': group 'account.owner.name' goes more than one link deep",
             hint="paths are link.field, one level"),
        want(DASH, 10, "CRM-E027", "chart 'f': group 'owner.email': users have no field 'email'",
             hint="use username, first_name, last_name"),
        want(DASH, 11, "CRM-E027", "chart 'g': group 'name.first': 'name' is a string field, not a link")]),
    dash_case("E027-group-types-and-buckets", lines(
        *CHART_HEAD,
        "        kind: bar", "        entity: deal",
        "        group: amount",        # 7
        "      - {name: d, kind: line, entity: deal, group: close_date}",          # 8
        "      - {name: e, kind: line, entity: deal, group: 'stage:month'}",       # 9
        "      - {name: f, kind: line, entity: deal, group: 'close_date:fortnight'}",  # 10
        "      - {name: g, kind: line, entity: deal, group: 'due:quartr'}",        # 11
        "      - {name: h, kind: bar, entity: deal, group: tags}",                 # 12
        "      - {name: i, kind: bar, entity: deal, group: stage, series: notes}",  # 13
        "      - {name: j, kind: line, entity: deal, group: 'created_on:week'}",   # fine
    ), [want(DASH, 7, "CRM-E027", C + "group 'amount' is a money field, which cannot group a chart",
             hint="group by a choice, link, user, boolean, text-like or date field; amounts belong in the measure"),
        want(DASH, 8, "CRM-E027", "chart 'd': group 'close_date' is a date: say how to bucket it",
             hint="e.g. close_date:month; buckets: day, week, month, quarter, year"),
        want(DASH, 9, "CRM-E027", "chart 'e': group 'stage:month': only date fields take a bucket"),
        want(DASH, 10, "CRM-E027", "chart 'f': group 'close_date:fortnight': unknown date bucket 'fortnight'",
             hint="buckets: day, week, month, quarter, year"),
        want(DASH, 11, "CRM-E027", "chart 'g': group 'due:quartr': unknown date bucket 'quartr'",
             hint="did you mean 'quarter'?"),
        want(DASH, 12, "CRM-E027", "chart 'h': group 'tags' is a multichoice field, which cannot group"),
        want(DASH, 13, "CRM-E027", "chart 'i': series 'notes' is a text field, which cannot group")]),
    dash_case("E009-link-to-unknown-entity-is-not-a-crash", lines(
        *CHART_HEAD,
        "        kind: bar", "        entity: deal",
        "        group: partner.name",  # the link is reported in its file, not again here
        "        filters: {partner.name: Acme}",
    ), [want(DEAL, 14, "CRM-E009", "field 'partner' links to unknown entity 'partners'")],
        entities={"deal": DEAL_BROKEN_LINK}),

    # --- filters -------------------------------------------------------------------
    dash_case("E027-filter-fields-and-operators", bar(
        "filters:",
        "  stge: won",                  # 9
        "  products: 3",                # 10
        "  amount: {}",                 # 11
        "  size: {gte: 1, like: 3}",    # 12
        "  rate: {above: 3}",           # 13
    ), [want(DASH, 9, "CRM-E027", C + "filter 'stge': deal has no field 'stge'", hint="did you mean 'stage'?"),
        want(DASH, 10, "CRM-E027", C + "filter 'products' is a links field, which charts cannot filter on"),
        want(DASH, 11, "CRM-E027", C + "filter 'amount' has no condition"),
        want(DASH, 12, "CRM-E027", C + "filter 'size': unknown operator 'like'",
             hint="operators: eq, ne, in, not_in, gt, gte, lt, lte, between, empty"),
        want(DASH, 13, "CRM-E027", C + "filter 'rate': unknown operator 'above'")]),
    dash_case("E027-filter-operator-typo-and-ops-on-lines", bar(
        "filters:",
        "  size:",
        "    gte: 1",
        "    nott_in: [2, 3]",          # 11: the op's own line
        "  stage: {in: [open], in: [won]}",   # 12
    ), [want(DASH, 11, "CRM-E027", C + "filter 'size': unknown operator 'nott_in'", hint="did you mean 'not_in'?"),
        want(DASH, 12, "CRM-E004", C + "filter 'stage' repeat 'in'", hint=DUP_KEY_HINT)]),
    dash_case("E027-filter-empty-text-and-tags", bar(
        "filters:",
        "  name: {empty: yes please}",  # 9
        "  notes: 报价",                 # 10: text filters only with empty
        "  tags: {in: [vip]}",          # 11
        "  close_date:",                # fine: no value means empty
        "  signed: {empty: false}",     # fine
    ), [want(DASH, 9, "CRM-E027", C + "filter 'name': empty takes true or false, got str 'yes please'"),
        want(DASH, 10, "CRM-E027", C + "filter 'notes' is a text field: charts filter it only with empty",
             hint="e.g. notes: {empty: false}"),
        want(DASH, 11, "CRM-E027", C + "filter 'tags' is a multichoice field: charts filter it only with empty")]),
    dash_case("E027-filter-lists", bar(
        "filters:",
        "  stage: {in: won}",           # 9
        "  size: {between: [1, 2, 3]}",  # 10
        "  amount: {not_in: []}",       # 11
        "  rate: {gte: [1, 2]}",        # 12
        "  account: {eq: {id: 1}}",     # 13
        "  name: [Acme, [x]]",          # 14
    ), [want(DASH, 9, "CRM-E027", C + "filter 'stage': in takes a non-empty list, got str 'won'"),
        want(DASH, 10, "CRM-E027", C + "filter 'size': between takes a list of two values [from, to], got a list"),
        want(DASH, 11, "CRM-E027", C + "filter 'amount': not_in takes a non-empty list, got a list"),
        want(DASH, 12, "CRM-E027", C + "filter 'rate': gte takes one value, got a list",
             hint="in and not_in take a list"),
        want(DASH, 13, "CRM-E027", C + "filter 'account': eq takes one value, got a mapping", hint=""),
        want(DASH, 14, "CRM-E027", C + "filter 'name': each value must be a single value, got a list")]),
    dash_case("E027-filter-ranges-only-on-numbers-dates-text", bar(
        "filters:",
        "  stage: {gt: open}",          # 9
        "  signed: {between: [false, true]}",  # 10
        "  account: {lte: 3}",          # 11
        "  name: {gte: M}",             # fine: text compares
    ), [want(DASH, 9, "CRM-E027", C + "filter 'stage': gt compares numbers, dates and text, not a choice field",
             hint="use eq, ne, in or not_in"),
        want(DASH, 10, "CRM-E027", C + "filter 'signed': between compares numbers, dates and text, not a boolean"),
        want(DASH, 11, "CRM-E027", C + "filter 'account': lte compares numbers, dates and text, not a link")]),
    dash_case("E027-filter-relative-ranges", bar(
        "filters:",
        "  close_date: last_0_days",    # 9
        "  due: {gte: this_month}",     # 10
        "  created_on: {in: [this_year, last_year]}",  # 11
        "  changed_on: next_9999_days",  # 12
        "  name: this_month",           # fine: a string field, compared as text
    ), [want(DASH, 9, "CRM-E027", C + "filter 'close_date': 'last_0_days' is not a relative date range",
             hint="ranges: today, yesterday, this_week, last_week, this_month, last_month, this_quarter, "
                  "last_quarter, this_year, last_year, last_N_days, next_N_days (N from 1 to 3660)"),
        want(DASH, 10, "CRM-E027", C + "filter 'due': relative ranges stand alone, not with gte",
             hint="e.g. due: this_month, or due: last_30_days"),
        want(DASH, 11, "CRM-E027", C + "filter 'created_on': relative ranges stand alone, not with in"),
        want(DASH, 12, "CRM-E027", C + "filter 'changed_on': 'next_9999_days' is not a relative date range")]),
    dash_case("E027-filter-choice-values", bar(
        "filters:",
        "  stage: wonn",                # 9
        "  account.industry: [tech, finance]",  # 10
        "  signed: yes",                # fine: a boolean field
        "  size: 3",                    # fine
    ), [want(DASH, 9, "CRM-E027", C + "filter 'stage': 'wonn' is not one of its choices", hint="did you mean 'won'?"),
        want(DASH, 10, "CRM-E027", C + "filter 'account.industry': 'finance' is not one of its choices",
             hint="choices: tech, retail")]),
    dash_case("E027-filter-choice-yes-is-a-boolean", bar(
        "filters: {stage: yes}",        # 8
    ), [want(DASH, 8, "CRM-E027", C + "filter 'stage': boolean True is not one of its choices",
             hint="yes, no, on and off are booleans in YAML: quote them, or use the choice's value")]),
    dash_case("E027-filter-value-types", bar(
        "filters:",
        "  amount: {gte: lots}",        # 9
        "  size: {lt: 2.5}",            # 10
        "  rate: {lte: 100000}",        # 11: percent is NUMERIC(7, 2)
        "  signed: maybe",              # 12
        "  close_date: {gte: '2024-13-01'}",  # 13
        "  due: {lt: tomorrow morning}",    # 14
        "  account: Acme",              # 15
        "  owner: {in: [1, admin]}",    # 16
        "  name: true",                 # 17
        "  stage: {ne: }",              # 18
    ), [want(DASH, 9, "CRM-E027", C + "filter 'amount': takes a number, got str 'lots'"),
        want(DASH, 10, "CRM-E027", C + "filter 'size': takes a whole number, got float 2.5"),
        want(DASH, 11, "CRM-E027", C + "filter 'rate': 100000 is too large for a percent field"),
        want(DASH, 12, "CRM-E027", C + "filter 'signed': takes true or false, got str 'maybe'"),
        want(DASH, 13, "CRM-E027", C + "filter 'close_date': takes a date (2024-01-31), got str '2024-13-01'",
             hint="or, alone, a relative range: close_date: this_month"),
        want(DASH, 14, "CRM-E027", C + "filter 'due': takes a date or a date and time (2024-01-31 09:30)"),
        want(DASH, 15, "CRM-E027", C + "filter 'account': takes a record id (a whole number), got str 'Acme'",
             hint="to filter by a name, filter on account.name"),
        want(DASH, 16, "CRM-E027", C + "filter 'owner': takes a record id (a whole number), got str 'admin'",
             hint="to filter by a name, filter on owner.username"),
        want(DASH, 17, "CRM-E027", C + "filter 'name': takes text, got boolean True", hint="quote it"),
        want(DASH, 18, "CRM-E027", C + "filter 'stage': a value is missing",
             hint="for records with no value use {empty: true}")]),

    # --- period -----------------------------------------------------------------------
    dash_case("E027-period", lines(
        *CHART_HEAD,
        "        kind: kpi", "        entity: deal",
        "        period:",
        "          field: amount",      # 8
        "          range: this_month",
        "      - name: d",
        "        kind: kpi", "        entity: deal",
        "        period: {field: close_date, range: this_quartr}",   # 13
        "      - name: e",
        "        kind: kpi", "        entity: deal",
        "        period: {field: close_dat, range: today}",          # 17
        "      - name: f",
        "        kind: bar", "        entity: deal", "        group: stage",
        "        period: {field: close_date, range: this_year}",     # 22
    ), [want(DASH, 8, "CRM-E027", C + "period field 'amount' is a money field, not a date"),
        want(DASH, 13, "CRM-E027", "chart 'd': period range 'this_quartr' is not a relative date range",
             hint="did you mean 'this_quarter'?"),
        want(DASH, 17, "CRM-E027", "chart 'e': period field 'close_dat': deal has no field 'close_dat'",
             hint="did you mean 'close_date'?"),
        want(DASH, 22, "CRM-E027", "chart 'f': period is for kpi charts; filter other charts by a relative date",
             hint="e.g. filters: {close_date: this_year}")]),
    dash_case("E002-E007-period-keys", lines(
        *CHART_HEAD,
        "        kind: kpi", "        entity: deal",
        "        period:",              # 7
        "          field: close_date",
        "          rnage: this_month",  # 9
    ), [want(DASH, 9, "CRM-E002", "unknown key 'rnage' in " + C.rstrip(": ") + " period",
             hint="did you mean 'range'?"),
        want(DASH, 7, "CRM-E007", C.rstrip(": ") + " period has no 'range'")]),
    dash_case("E027-period-range-far", kpi("period: {field: due, range: last_4000_days}"), [
        want(DASH, 7, "CRM-E027", C + "period range 'last_4000_days' is not a relative date range",
             hint="ranges: today, yesterday, this_week, last_week, this_month, last_month, this_quarter, "
                  "last_quarter, this_year, last_year, last_N_days, next_N_days (N from 1 to 3660)")]),

    # --- analyses ---------------------------------------------------------------------
    dash_case("E027-analysis-keys-on-a-plain-chart", bar(
        "pipeline: sales",              # 8
        "params: {days: 3}",            # 9
    ), [want(DASH, 8, "CRM-E027", C + "'pipeline' is only for analyses", hint="add analysis: ..., or remove it"),
        want(DASH, 9, "CRM-E027", C + "'params' is only for analyses")]),
    dash_case("E027-unknown-analysis", chart("kind: bar", "entity: deal", "analysis: win_rates"), [
        want(DASH, 7, "CRM-E027", C + "unknown analysis 'win_rates'", hint="did you mean 'win_rate'?")]),
    dash_case("E027-analysis-kind-pipeline", lines(
        *CHART_HEAD,
        "        kind: pie",            # 5
        "        entity: deal",
        "        analysis: stage_funnel",
        "      - name: d",
        "        kind: bar",
        "        entity: deal",
        "        analysis: win_rate",
        "        pipeline: renewals",   # 12
        "      - name: e",
        "        kind: bar",
        "        entity: account",      # 15
        "        analysis: stage_time",
        "      - name: f",
        "        kind: table",
        "        entity: account",
        "        analysis: churn_risk",
        "        pipeline: sales",      # 21
        "        params: {activity: activity}",
    ), [want(DASH, 5, "CRM-E027", C + "analysis stage_funnel draws funnel, bar, table, not pie"),
        want(DASH, 12, "CRM-E027", "chart 'd': deal has no pipeline 'renewals'", hint="pipelines: sales"),
        want(DASH, 15, "CRM-E027", "chart 'e': analysis stage_time needs a pipeline entity; account has no "
             "pipeline", hint="choose an entity with pipelines: in its file"),
        want(DASH, 21, "CRM-E027", "chart 'f': analysis churn_risk takes no pipeline")]),
    dash_case("E027-analysis-params", lines(
        *CHART_HEAD,
        "        kind: table", "        entity: account", "        analysis: churn_risk",
        "        params:",
        "          days: 0",            # 9
        "          activty: activity",     # 10
        "      - name: d",
        "        kind: table", "        entity: account", "        analysis: churn_risk",
        "        params: {activity: [activity], days: ninety}",   # 15
        "      - name: e",
        "        kind: bar", "        entity: deal", "        analysis: stage_time",
        "        params: {date: close_date}",                  # 20
    ), [want(DASH, 9, "CRM-E027", C + "param days must be a whole number of days from 1 to 3660, got int 0"),
        want(DASH, 10, "CRM-E027", C + "analysis churn_risk has no param 'activty'", hint="did you mean 'activity'?"),
        want(DASH, 15, "CRM-E027", "chart 'd': param activity must be an entity name, got a list"),
        want(DASH, 15, "CRM-E027", "chart 'd': param days must be a whole number of days from 1 to 3660, "
             "got str 'ninety'"),
        want(DASH, 20, "CRM-E027", "chart 'e': analysis stage_time has no param 'date'", hint="it takes none")]),
    dash_case("E027-analysis-param-fields-and-defaults", lines(
        *CHART_HEAD,
        "        kind: bar", "        entity: deal",
        "        analysis: rfm",        # 7: the default customer 'account' is fine, date given
        "        params: {date: due, customer: name}",   # 8
        "      - name: d",
        "        kind: table", "        entity: account",
        "        analysis: churn_risk",
        "        params: {activity: visits}",   # 13
        "      - name: e",
        "        kind: bar", "        entity: deal",
        "        analysis: forecast",
        "        params: {date: amount}",   # 18
    ), [want(DASH, 8, "CRM-E027", C + "param customer 'name' of deal: a string field",
             hint="needs a link field of deal"),
        want(DASH, 13, "CRM-E027", "chart 'd': param activity names unknown entity 'visits'",
             hint="entities: account, activity, deal"),
        want(DASH, 18, "CRM-E027", "chart 'e': param date 'amount' of deal: a money field",
             hint="needs a date or datetime field of deal")]),
    dash_case("E027-analysis-default-field-missing", chart(
        "kind: table", "entity: deal",
        "analysis: ticket_sla",         # 7: deal has no sla_due
    ), [want(DASH, 7, "CRM-E027", C + "param due 'sla_due' of deal: no such field (the default; "
             "set params: {due: ...})", hint="needs a datetime or date field of deal")]),
    dash_case("E027-analysis-links-back", lines(
        *CHART_HEAD,
        "        kind: table", "        entity: deal",
        "        analysis: churn_risk",  # 7: activitys link to accounts, not deals
        "        params: {activity: activity}",
        "      - name: d",
        "        kind: table", "        entity: account",
        "        analysis: campaign_roi",   # 12
        "        params: {leads: activity, deals: activity, cost: industry}",   # 13
        "      - name: e",
        "        kind: table", "        entity: account",
        "        analysis: campaign_roi",   # 17
        "        params: {leads: activity, deals: activity}",
    ), [want(DASH, 7, "CRM-E027", C + "analysis churn_risk: activity has no link to deal",
             hint="add a link field to: deal in activity, or set params: {activity: ...}"),
        want(DASH, 13, "CRM-E027", "chart 'd': param cost 'industry' of account: a choice field",
             hint="needs a integer or decimal or money or percent field of account"),
        want(DASH, 17, "CRM-E027", "chart 'e': param cost 'actual_cost' of account: no such field (the default"),
        ], entities={}),
    dash_case("E027-campaign-roi-deals-need-an-amount", lines(
        *CHART_HEAD,
        "        kind: table", "        entity: account",
        "        analysis: campaign_roi",   # 7
        "        params: {leads: activity, deals: activity, cost: budget}",
    ), [want(DASH, 7, "CRM-E027", C + "analysis campaign_roi: activity needs a pipeline with an amount_field")],
        entities={"account": lines("label: {en: Account, zh: 客户}", "fields:", "  name: string",
                                   "  industry: {type: choice, choices: [tech, retail]}", "  budget: money")}),
]
DASHBOARD_CASES.append(
    # PyYAML builds the date while reading; its ValueError becomes a located CRM-E001.
    dash_case("E001-impossible-date", bar(
        "filters: {close_date: {gte: 2024-13-01}}",   # 8
    ), [want(DASH, 8, "CRM-E001")]))
# issue 13 charts: several measures, median, count_distinct (CRM-E045); ties in top (CRM-E046)
DASHBOARD_CASES += [
    dash_case("E045-new-measures", lines(
        *CHART_HEAD,
        "        kind: bar", "        entity: deal", "        group: stage",
        "        measure: median(name)",  # 8
        "      - {name: d, kind: bar, entity: deal, group: stage, measure: count_distinct(tags)}",   # 9
        "      - {name: e, kind: bar, entity: deal, group: stage, measures: [count, sum(amount)]}",  # fine
        "      - {name: f, kind: pie, entity: deal, group: stage, measures: [count, median(amount)]}",  # 11
        "      - {name: g, kind: bar, entity: deal, group: account, series: stage, measures: [count, sum(amount)]}",
        "      - {name: h, kind: bar, entity: deal, group: stage, measures: [count]}",  # 13
        "      - {name: i, kind: bar, entity: deal, group: stage, measure: count, measures: [count, sum(amount)]}",
        "      - {name: j, kind: bar, entity: deal, group: stage, measures: [count, count]}",  # 15
        "      - {name: k, kind: bar, entity: deal, group: stage, measures: [count, median(amount), "
        "count_distinct(account)]}",  # fine
    ), [want(DASH, 8, "CRM-E045", "chart 'c': measure 'median(name)': name is a string field; median needs a number",
             hint="e.g. median(amount)"),
        want(DASH, 9, "CRM-E045", "chart 'd': measure 'count_distinct(tags)': tags is a multichoice field"),
        want(DASH, 11, "CRM-E045", "chart 'f': a pie chart shows one measure",
             hint="several measures go on bar, line, area charts"),
        want(DASH, 12, "CRM-E045", "chart 'g': several measures are the series: remove series"),
        want(DASH, 13, "CRM-E045", "chart 'h': measures lists two or more measures"),
        want(DASH, 14, "CRM-E045", "chart 'i': give measure or measures, not both"),
        want(DASH, 15, "CRM-E045", "chart 'j': measures repeat 'count'")]),
    dash_case("E046-ties", lines(
        *CHART_HEAD,
        "        kind: bar", "        entity: deal", "        group: account",
        "        top: 3",
        "        ties: lable",   # 9
        "      - {name: d, kind: bar, entity: deal, group: stage, ties: order}",  # 10
        "      - {name: e, kind: bar, entity: deal, group: stage, top: 2, ties: -label}",  # fine
    ), [want(DASH, 9, "CRM-E046", "chart 'c': unknown ties 'lable'", hint="did you mean 'label'?"),
        want(DASH, 10, "CRM-E046", "chart 'd': ties breaks ties in top, and this chart has no top",
             hint="add top: N, or remove ties")]),
]
CASES += DASHBOARD_CASES

# --- CRM-E035..E038 normalisers, unique sets, phone region, money units (issue 12) ---
CASES += [
    Case("E035-unknown-normaliser", fields(
        "  mobile: {type: phone, normalise: [trim, phnoe]}",                  # 4
    ), [want(DEAL, 4, "CRM-E035", "unknown normaliser 'phnoe'", hint="did you mean 'phone'?")]),
    Case("E035-normaliser-wrong-type", fields(
        "  notes:",                                                           # 4
        "    type: text",                                                     # 5
        "    normalise:",                                                     # 6
        "      - trim",                                                       # 7
        "      - phone",                                                      # 8
    ), [want(DEAL, 8, "CRM-E035", "'phone' does not apply to type text")]),
    Case("E036-bad-regex", fields(
        "  code:",                                                            # 4
        "    type: string",                                                   # 5
        "    normalise:",                                                     # 6
        "      - replace: ['([a-z', '']",                                     # 7
    ), [want(DEAL, 7, "CRM-E036", "not a valid regular expression")]),
    Case("E036-phone-form", fields(
        "  mobile: {type: phone, normalise: [{phone: global}]}",              # 4
    ), [want(DEAL, 4, "CRM-E036", "phone form 'global'", "e164, national")]),
    Case("E036-empty-map", fields(
        "  source: {type: string, normalise: [{map: {}}]}",                    # 4
    ), [want(DEAL, 4, "CRM-E036", "map needs a non-empty map")]),
    Case("E037-unknown-field-in-unique", {"account": ACCOUNT, "deal": lines(
        "label: Deal",                                                        # 1
        "fields:",                                                            # 2
        "  name: string",                                                     # 3
        "  account: {type: link, to: account}",                               # 4
        "unique: [name, acount]",                                             # 5
    )}, [want(DEAL, 5, "CRM-E037", "unknown field 'acount'", hint="did you mean 'account'?")]),
    Case("E037-one-field-set", {"account": ACCOUNT, "deal": lines(
        "label: Deal",                                                        # 1
        "fields:",                                                            # 2
        "  name: string",                                                     # 3
        "  notes: text",                                                      # 4
        "unique:",                                                            # 5
        "  - [name]",                                                         # 6
        "  - [name, notes]",                                                  # 7
    )}, [want(DEAL, 6, "CRM-E037", "two or more fields"),
         want(DEAL, 7, "CRM-E037", "'notes' is a text field")]),
    Case("E038-phone-region", {"account": ACCOUNT}, [
        want(CRM, 3, "CRM-E038", "phone_region 'China' is not a region code"),
    ], crm=lines("name: Test CRM", "languages: [en, zh]", "phone_region: China")),
    Case("E039-condition-not-bool", fields(
        "  closed: {type: date, required_if: name}",                          # 4
    ), [want(DEAL, 4, "CRM-E039", "required_if is a text, not a condition")]),
    Case("E039-unknown-unlock-role", {"account": ACCOUNT, "deal": lines(
        "label: Deal",                                                        # 1
        "fields:",                                                            # 2
        "  name: string",                                                     # 3
        "  stage: {type: choice, choices: [open, won]}",                      # 4
        "locked_if: stage = 'won'",                                           # 5
        "unlock_roles: [Sales Boss]",                                         # 6
        "validate:",                                                          # 7
        "  - rule: not is_empty(name)",                                       # 8
        "    message: {en: Name it, zh: 请命名}",                              # 9
        "    fields: [nmae]",                                                 # 10
    )}, [want(DEAL, 6, "CRM-E039", "unknown role 'Sales Boss'"),
         want(DEAL, 10, "CRM-E039", "marks unknown field 'nmae'", hint="did you mean 'name'?")]),
    Case("E032-rule-unquoted-text", fields(
        "  reason: {type: text, visible_if: name = won}",                     # 4
    ), [want(DEAL, 4, "CRM-E032", "unknown field 'won'")]),
    Case("E038-money-units", fields(
        "  budget: {type: money, units: {万: -1}}",                            # 4
    ), [want(DEAL, 4, "CRM-E038", "unit '万' needs a positive number")]),
]


_ids = [c.id for c in CASES]
assert len(_ids) == len(set(_ids)), "case ids must be unique"
# Formula, lookup and rollup fields (app/metadata/computed.py).
CASES += [
    Case("E031-expression-syntax", deal(
        "  unit: {type: formula, expression: 'amount / size +'}",       # 9
        "  net: {type: formula, expression: 'sqrt(amount)'}",           # 10
    ), [want(DEAL, 9, "CRM-E031", "field 'unit': expression column 16: unexpected the end"),
        want(DEAL, 10, "CRM-E031", "unknown function 'sqrt'")]),
    Case("E032-unknown-field", deal(
        "  rate: {type: formula, expression: 'amout * 2'}",             # 9
        "  sector: {type: lookup, path: account.industri}",             # 10
        "  far: {type: formula, expression: 'account.owner.username'}",  # 11
    ), [want(DEAL, 9, "CRM-E032", "unknown field 'amout'", hint="did you mean 'amount'?"),
        want(DEAL, 10, "CRM-E032", "'account' has no field 'industri'", hint="did you mean 'industry'?"),
        want(DEAL, 11, "CRM-E032", "unknown field 'account.owner.username'")]),
    Case("E033-type-mismatch", deal(
        "  double: {type: formula, expression: 'name * 2'}",            # 9
        "  due: {type: formula, returns: date, expression: 'amount + 1'}",  # 10
        "  notes_total: {type: formula, expression: 'upper(size)'}",    # 11
    ), [want(DEAL, 9, "CRM-E033", "'*' needs number, got text"),
        want(DEAL, 10, "CRM-E033", "the expression gives number, not date"),
        want(DEAL, 11, "CRM-E033", "upper() needs text, got number")]),
    Case("E034-cycle-and-bad-links", {"account": lines(
        "label: {en: Account, zh: 客户}",                                 # 1
        "fields:",                                                      # 2
        "  name: {type: string, required: true}",                       # 3
        "  industry: {type: choice, choices: [tech, retail]}",          # 4
        "  total: {type: rollup, to: deal, via: name, function: sum, of: amount}",  # 5
    ), "deal": lines(
        *DEAL_HEAD,
        "  gross: {type: formula, expression: 'net * 2'}",              # 9
        "  net: {type: formula, expression: 'gross / 2'}",              # 10
        "  bad: {type: lookup, path: name.x}",                          # 11
    )}, [want(DEAL, 9, "CRM-E034", "deal.gross → deal.net → deal.gross"),
         want(DEAL, 10, "CRM-E034", "deal.gross → deal.net → deal.gross"),
         want(DEAL, 11, "CRM-E034", "lookup path starts with 'name', which is not a link field"),
         want(ACC, 5, "CRM-E034", "'deal.name' is not a link from deal to account")]),
    Case("E040-own-names-no-user-field", deal("  presales: user"), [
        want(ROLES, 4, "CRM-E040", "role 'Rep', entity 'deal': read: own(name): 'name' is a string field, "
             "not a user field"),
        want(ROLES, 5, "CRM-E040", "update: team(presale): 'deal' has no field 'presale'",
             hint="did you mean 'presales'?"),
    ], roles=lines(
        "Rep:",
        "  entities:",
        "    deal:",
        "      read: own(name)",                   # 4
        "      update: own or team(presale)",      # 5
        "      export: [own, own(presales)]",      # 6: fine
    )),
    Case("E041-via-names-no-link-or-circles", deal("  parent: {type: link, to: deal}"), [
        want(ROLES, 4, "CRM-E041", "export: via(amount): 'amount' is a money field, not a link"),
        want(ROLES, 5, "CRM-E041", "read: via(deals): 'account' has no field 'deals', not a link"),
        want(ROLES, 1, "CRM-E041", "role 'Rep': read via links of 'deal' leads back to 'deal'"),
    ], roles=lines(
        "Rep:",                                                         # 1: the circle deal -> deal
        "  entities:",
        "    deal: {read: via(parent), update: own or via(account),",
        "           export: via(amount)}",                              # 4
        "    account: {read: via(deals)}",                              # 5
    )),
    Case("E047-bad-settings-permission", deal(), [
        want(ROLES, 2, "CRM-E047", "role 'Ops': settings 'write' is not edit or read",
             hint="edit: see and save the Settings pages; read: see only"),
        want(ROLES, 4, "CRM-E047", "role 'Viewer': settings 'raed' is not edit or read", hint="did you mean 'read'?"),
    ], roles=lines(
        "Ops:",
        "  settings: write",                        # 2
        "Viewer:",
        "  settings: raed",                         # 4
        "Editor:",
        "  settings: edit",                         # fine
    )),
    Case("E048-E049-bulk-verb-without-its-single-verb", deal(), [
        want(ROLES, 1, "CRM-E048", "role 'Clerk': mass_update on 'deal' without update",
             hint="grant update on 'deal' too: bulk work changes only records the role may update one by one"),
        want(ROLES, 1, "CRM-E049", "role 'Clerk': mass_delete on 'deal' without delete",
             hint="grant delete on 'deal' too: bulk work changes only records the role may delete one by one"),
    ], roles=lines(
        "Clerk:",                                                            # 1
        "  entities:",
        "    deal: {read: all, mass_update: all, mass_delete: own}",
        "Lead:",                                                             # fine: update and delete
        "  extends: [Clerk]",
        "  entities:",
        "    deal: {update: all, delete: own}",
        "Boss:",                                                             # fine: inherits update, own delete
        "  extends: [Lead]",
        "  entities:",
        "    deal: {mass_update: team, mass_delete: no}",
    )),
    Case("E042-user-field-unknown-role", deal("  presales: {type: user, roles: [Presales]}"), [
        want(DEAL, 9, "CRM-E042", "field 'deal.presales': roles names unknown role 'Presales'",
             hint="did you mean 'Pre-sales'?"),
    ], roles=lines(
        "Pre-sales:",
        "  entities:",
        "    deal: {read: own(presales)}",
    )),
]

PASSING = [c for c in CASES if not c.bug]


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def rel(problem: Problem, root: Path) -> str:
    resolved = root.resolve()
    if problem.path == resolved:
        return ""
    return problem.path.relative_to(resolved).as_posix()


def assert_problems(problems: list[Problem], wants: list[Want], root: Path) -> None:
    """Same problems, in any order: file, line and code exactly; words and hint."""
    got = sorted((rel(p, root), p.line, p.code) for p in problems)
    expected = sorted((w.file, w.line, w.code) for w in wants)
    assert got == expected, "\n".join(p.format(root) for p in problems)
    remaining = list(problems)
    for w in wants:
        for p in remaining:
            if (rel(p, root), p.line, p.code) != (w.file, w.line, w.code):
                continue
            if not all(word in p.message for word in w.words):
                continue
            if w.hint is not None and p.hint != w.hint:
                continue
            remaining.remove(p)
            break
        else:
            pytest.fail(f"no problem matches {w}; got:\n"
                        + "\n".join(p.format(root) for p in problems))


def matching_line(text_lines: list[str], w: Want, root: Path) -> str | None:
    for text in text_lines:
        if not text.startswith(w.prefix(root)):
            continue
        message = text[len(w.prefix(root)):]
        if not all(word in message for word in w.words):
            continue
        if w.hint and not message.endswith(f" (hint: {w.hint})"):
            continue
        if w.hint == "" and "(hint:" in message:
            continue
        return text
    return None


def representative(code: str) -> Case:
    """The first passing case whose problems include `code`."""
    return next(c for c in PASSING if any(w.code == code for w in c.wants))


# ---------------------------------------------------------------------------
# Every code: exact located problems
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("case", [c.param() for c in CASES])
def test_broken_tree_reports_located_problem(case: Case, tmp_path: Path) -> None:
    root = case.build(tmp_path)
    spec, problems = load_metadata(root)
    assert spec is None
    assert_problems(problems, case.wants, root)


@pytest.mark.parametrize("case", [c.param() for c in PASSING])
def test_formatted_line_is_path_line_code_message_hint(case: Case, tmp_path: Path) -> None:
    """Problem.format gives `<root>/<file>:<line>: <code> <message> (hint: ...)`."""
    root = case.build(tmp_path)
    _, problems = load_metadata(root)
    formatted = [p.format(root) for p in problems]
    for w in case.wants:
        assert matching_line(formatted, w, root), (w, formatted)


def test_every_code_is_exercised(tmp_path: Path) -> None:
    """Meta-test: the passing cases, run again, produce every code in CODES."""
    produced: set[str] = set()
    for index, case in enumerate(PASSING):
        root = case.build(tmp_path / str(index))
        _, problems = load_metadata(root)
        produced |= {p.code for p in problems}
    loader_codes = set(CODES) - set(NOT_FROM_METADATA)  # plugins and the database: test_metadata_edges.py
    assert produced == loader_codes, f"never produced: {sorted(loader_codes - produced)}"
    # and the declared expectations say the same (no code is only a side effect)
    assert {w.code for c in PASSING for w in c.wants} == loader_codes


def test_menu_group_named_other_is_not_called_a_duplicate(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "meta", {"account": ACCOUNT}, lines(
        "name: Test CRM", "languages: [en, zh]", "menu:",
        "  - group: other",         # 4: the only group of that name
        "    entities: [account]"))
    _, problems = load_metadata(root)
    assert not any("defined twice" in p.message for p in problems), \
        [p.format(root) for p in problems]


def test_load_spec_raises_with_all_problems(tmp_path: Path) -> None:
    case = representative("CRM-E002")
    root = case.build(tmp_path)
    with pytest.raises(MetadataError) as info:
        load_spec(root)
    assert len(info.value.problems) == len(case.wants)
    assert str(info.value).splitlines()[0] == "metadata has 1 problem:"


# ---------------------------------------------------------------------------
# (a) several problems in two files are all reported in one run
# ---------------------------------------------------------------------------

MULTI_CRM = lines(
    "name: Test CRM",
    "languages: [en, zh]",
    "menu:",
    "  - group: main",
    "    entities: [account, acount]",      # 5: E016
)
MULTI_ACCOUNT = lines(
    "label: {en: Account, zh: 客户}",
    "fields:",
    "  name:",
    "    type: string",
    "    requird: true",                     # 5: E002
    "  Size: integer",                       # 6: E005
    "  owner: user",                         # 7: E006
    "  stage: {type: choice, choices: [a, a]}",   # 8: E011
)
MULTI_DEAL = lines(
    "label: Deal",
    "fields:",
    "  name: {type: strng}",                 # 3: E008
    "  account: {type: link, to: acount}",   # 4: E009
    "  seats: {type: integer, max_length: 3}",  # 5: E013
    "list:",
    "  columns: [account, amout]",           # 7: E010
    "  filters: [account.name]",             # 8: E020
)
MULTI_WANTS = [
    want(CRM, 5, "CRM-E016", "unknown entity 'acount'"),
    want(ACC, 5, "CRM-E002", "'requird'"),
    want(ACC, 6, "CRM-E005", "'Size'"),
    want(ACC, 7, "CRM-E006", "'owner'"),
    want(ACC, 8, "CRM-E011", "choice 'a' is listed twice"),
    want(DEAL, 3, "CRM-E008", "'strng'"),
    want(DEAL, 4, "CRM-E009", "'acount'"),
    want(DEAL, 5, "CRM-E013", "'max_length'"),
    want(DEAL, 7, "CRM-E010", "'amout'"),
    want(DEAL, 8, "CRM-E020", "'account.name'"),
]


def test_many_problems_in_two_files_all_reported(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "meta", {"account": MULTI_ACCOUNT, "deal": MULTI_DEAL}, MULTI_CRM)
    spec, problems = load_metadata(root)
    assert spec is None
    assert len(problems) == 10
    assert len({p.code for p in problems}) == 10
    assert {rel(p, root) for p in problems} == {CRM, ACC, DEAL}
    assert_problems(problems, MULTI_WANTS, root)


def test_syntax_error_in_one_file_does_not_hide_others(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "meta", {
        "account": lines("label: Account", "fields:", "  name: {type: string"),  # unclosed
        "deal": lines("label: Deal", "fields:", "  name: strng"),
    })
    _, problems = load_metadata(root)
    assert sorted((rel(p, root), p.code) for p in problems) == [
        (ACC, "CRM-E001"), (DEAL, "CRM-E008")]


# ---------------------------------------------------------------------------
# (b) create_app refuses broken metadata before building anything
# ---------------------------------------------------------------------------


def _assert_no_tables(db_file: Path) -> None:
    if not db_file.exists():
        return
    engine = sa.create_engine(f"sqlite:///{db_file}")
    try:
        assert sa.inspect(engine).get_table_names() == []
    finally:
        engine.dispose()


@pytest.mark.parametrize("code", sorted(set(CODES) - set(NOT_FROM_METADATA)))
def test_create_app_raises_located_metadata_error(code: str, tmp_path: Path) -> None:
    case = representative(code)
    root = case.build(tmp_path)
    db_file = tmp_path / "x.db"
    with pytest.raises(MetadataError) as info:
        create_app({"CRM_METADATA_DIR": str(root),
                    "SQLALCHEMY_DATABASE_URI": "sqlite:///" + str(db_file)})
    text = str(info.value)
    count = len(case.wants)
    assert text.splitlines()[0] == f"metadata has {count} problem{'s' if count != 1 else ''}:"
    for w in case.wants:
        assert matching_line(text.splitlines()[1:], w, root), (w, text)
    assert {p.code for p in info.value.problems} == {w.code for w in case.wants}
    _assert_no_tables(db_file)


def test_create_app_error_matches_cli_output(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "meta", {"account": MULTI_ACCOUNT, "deal": MULTI_DEAL}, MULTI_CRM)
    db_file = tmp_path / "x.db"
    with pytest.raises(MetadataError) as info:
        create_app({"CRM_METADATA_DIR": str(root),
                    "SQLALCHEMY_DATABASE_URI": "sqlite:///" + str(db_file)})
    result = CliRunner().invoke(crm, ["validate", "--metadata", str(root)])
    assert result.exit_code == 1
    assert str(info.value).splitlines()[1:] == result.stdout.splitlines()
    assert str(info.value).splitlines()[0] == "metadata has 10 problems:"
    _assert_no_tables(db_file)


# ---------------------------------------------------------------------------
# (c) `crm validate`
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("code", sorted(set(CODES) - set(NOT_FROM_METADATA)))
def test_cli_validate_prints_located_problems_and_exits_1(code: str, tmp_path: Path) -> None:
    case = representative(code)
    root = case.build(tmp_path)
    result = CliRunner().invoke(crm, ["validate", "--metadata", str(root)])
    assert result.exit_code == 1, result.output
    out = result.stdout.splitlines()
    assert len(out) == len(case.wants), result.stdout
    for w in case.wants:
        assert matching_line(out, w, root), (w, result.stdout)
    assert f"{len(case.wants)} problem(s) in {root}" in result.stderr
    assert "metadata OK" not in result.output


def test_cli_validate_reports_all_problems_of_a_tree(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "meta", {"account": MULTI_ACCOUNT, "deal": MULTI_DEAL}, MULTI_CRM)
    result = CliRunner().invoke(crm, ["validate", "--metadata", str(root)])
    assert result.exit_code == 1
    out = result.stdout.splitlines()
    assert len(out) == 10
    for w in MULTI_WANTS:
        assert matching_line(out, w, root), (w, result.stdout)
    assert "10 problem(s)" in result.stderr


def test_cli_validate_starter_metadata_ok() -> None:
    result = CliRunner().invoke(crm, ["validate", "--metadata", str(STARTER)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("metadata OK: ")
    spec, problems = load_metadata(STARTER)
    assert problems == []
    assert f"{len(spec.entities)} entities" in result.stdout


# ---------------------------------------------------------------------------
# (d) a valid tree with Chinese labels
# ---------------------------------------------------------------------------

ZH_CRM = lines(
    "name: {en: Test CRM, zh: 测试客户管理}",
    "languages: [en, zh]",
    "menu:",
    "  - group: customers",
    "    label: {en: Customers, zh: 客户}",
    "    entities: [account, contact]",
)
ZH_ACCOUNT = lines(
    "label: {en: Account, zh: 客户}",
    "plural: {en: Accounts, zh: 客户列表}",
    "description: {en: Companies we sell to., zh: 我们销售的公司。}",
    "fields:",
    "  name: {type: string, required: true, label: {en: Account name, zh: 客户名称}}",
    "  tier:",
    "    type: choice",
    "    label: {en: Tier, zh: 客户等级}",
    "    default: key",
    "    choices:",
    "      - {value: strategic, label: {en: Strategic, zh: 战略客户}}",
    "      - {value: key, label: {en: Key, zh: 重点客户}}",
    "  employees: {type: integer, min: 0, default: 10, help: {en: Head count, zh: 员工人数}}",
    "  share: {type: percent, default: 50}",
    "  number: {type: autonumber, format: 'ACC-{0000}'}",
    "list:",
    "  columns: [number, name, tier, owner, owner.username]",
    "  search: [name, number]",
    "  filters: [tier, owner, created_on]",
    "  order: -created_on",
    "  page_size: 50",
    "form:",
    "  - section: {en: Main, zh: 基本信息}",
    "    fields: [name, tier]",
)
ZH_CONTACT = lines(
    "label: {en: Contact, zh: 联系人}",
    "title: full_name",
    "fields:",
    "  full_name: {type: string, label: {en: Name, zh: 姓名}}",
    "  account: {type: link, to: account, on_delete: cascade, label: {en: Account, zh: 客户}}",
    "  mobile: phone",
    "list:",
    "  columns: [full_name, account, account.name, account.tier]",
    "  search: [full_name, mobile, account.name]",
    "  filters: [account]",
)


def _zh_tree(tmp_path: Path) -> Path:
    return write_tree(tmp_path / "meta", {"account": ZH_ACCOUNT, "contact": ZH_CONTACT}, ZH_CRM)


def test_chinese_labels_load(tmp_path: Path) -> None:
    spec, problems = load_metadata(_zh_tree(tmp_path))
    assert problems == []
    assert spec is not None
    assert spec.languages == ("en", "zh")
    assert spec.name.get("zh") == "测试客户管理"
    account = spec.entity("account")
    assert account.label.get("zh") == "客户"
    assert account.label.get("en") == "Account"
    assert account.label.get() == "Account"
    assert account.label.get("fr") == "Account"  # unknown language falls back to English
    assert account.plural.get("zh") == "客户列表"
    assert account.description.get("zh") == "我们销售的公司。"
    assert account.field("name").label.get("zh") == "客户名称"
    assert account.field("employees").help.get("zh") == "员工人数"
    assert account.field("tier").choice_label("key", "zh") == "重点客户"
    assert account.field("tier").default == "key"
    assert account.field("owner").label.get("zh") == "负责人"
    assert account.form[0].title.get("zh") == "基本信息"
    assert account.list.order == ("created_on", "desc")
    assert account.list.page_size == 50
    assert account.title_field == "name"  # the first string field
    assert spec.menu[0].label.get("zh") == "客户"
    assert spec.menu[0].entities == ("account", "contact")
    contact = spec.entity("contact")
    assert contact.label.get("zh") == "联系人"
    assert contact.list.columns == ("full_name", "account", "account.name", "account.tier")


def test_text_get_zh() -> None:
    text = Text.of({"en": "Account", "zh": "客户"})
    assert text.get("zh") == "客户"
    assert text.get("en") == "Account"
    assert Text.of({"zh": "客户"}).get("en") == "客户"  # no English: any language


def test_cli_validate_valid_tree_ok(tmp_path: Path) -> None:
    root = _zh_tree(tmp_path)
    result = CliRunner().invoke(crm, ["validate", "--metadata", str(root)])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"metadata OK: 2 entities, 8 fields ({root})\n"


def test_create_app_accepts_valid_chinese_tree(tmp_path: Path) -> None:
    """The same valid tree builds an app (control for the no-partial-start tests)."""
    root = _zh_tree(tmp_path)
    db_file = tmp_path / "ok.db"
    app = create_app({"CRM_METADATA_DIR": str(root),
                      "SQLALCHEMY_DATABASE_URI": "sqlite:///" + str(db_file),
                      "CRM_PLUGINS_DIR": str(tmp_path / "no-plugins"),
                      "CRM_MIGRATIONS_DIR": str(tmp_path / "migrations"),
                      "SECRET_KEY": "a-test-key-long-enough-for-the-strong-key-check"})
    try:
        spec = app.extensions["crm"].spec
        assert spec.entity("account").label.get("zh") == "客户"
        engine = sa.create_engine(f"sqlite:///{db_file}")
        tables = set(sa.inspect(engine).get_table_names())
        engine.dispose()
        assert {"account", "contact"} <= tables
    finally:
        with app.app_context():
            app.extensions["crm"].db.session.remove()
            app.extensions["crm"].db.engine.dispose()


# ---------------------------------------------------------------------------
# (e) roles.yaml: what a valid file loads into
# ---------------------------------------------------------------------------


def _roles_tree(tmp_path: Path, roles: str | None) -> Path:
    return Case("roles", role_tree(), [], roles=roles).build(tmp_path)


def _grants(spec: CrmSpec, role: str) -> dict[tuple[str, str], str]:
    return dict(spec.role_map[role].grants)


def test_no_roles_yaml_means_no_declared_roles(tmp_path: Path) -> None:
    spec, problems = load_metadata(_roles_tree(tmp_path, None))
    assert problems == [] and spec is not None
    assert spec.roles == ()


def test_empty_roles_yaml_means_no_declared_roles(tmp_path: Path) -> None:
    spec, problems = load_metadata(_roles_tree(tmp_path, "# roles come later\n"))
    assert problems == [] and spec is not None
    assert spec.roles == ()


def test_role_scopes_yes_no_and_bare_scope(tmp_path: Path) -> None:
    spec, problems = load_metadata(_roles_tree(tmp_path, lines(
        "Sales Rep:",
        "  label: {en: Sales Rep, zh: 销售代表}",
        "  description: Works their own deals.",
        "  entities:",
        "    deal: {read: own, create: yes, update: true, delete: no, export: false, import: team}",
        "    account: all",
        "  fields:",
        "    deal.amount: read",
        "    account.industry: hidden",
    )))
    assert problems == [], [p.format() for p in problems]
    assert spec is not None
    role = spec.role_map["Sales Rep"]
    assert role.label.get("zh") == "销售代表" and role.line == 1
    assert role.description.get("en") == "Works their own deals."
    grants = _grants(spec, "Sales Rep")
    assert {a: grants[("deal", a)] for a in ("read", "create", "update", "delete", "export", "import")} \
        == {"read": "own", "create": "all", "update": "all", "delete": "no", "export": "no",
            "import": "team"}
    assert {grants[("account", a)] for a in ("read", "create", "update", "delete", "export", "import")} \
        == {"all"}
    assert dict(role.field_rules) == {("deal", "amount"): "read", ("account", "industry"): "hidden"}


def test_role_extends_is_kept_unresolved_in_the_spec(tmp_path: Path) -> None:
    spec, problems = load_metadata(_roles_tree(tmp_path, lines(
        "Sales Rep:",
        "  entities: {deal: {read: own}}",
        "Sales Manager:",
        "  extends: [Sales Rep]",
        "  entities: {deal: {read: team}}",
    )))
    assert problems == [] and spec is not None
    assert spec.role_map["Sales Manager"].extends == ("Sales Rep",)
    assert _grants(spec, "Sales Manager") == {("deal", "read"): "team"}


def test_bare_yes_and_no_grant_every_action(tmp_path: Path) -> None:
    spec, problems = load_metadata(_roles_tree(tmp_path, lines(
        "Rep:",
        "  entities:",
        "    account: no",
        "    deal: yes",
    )))
    assert [p.format() for p in problems] == []
    assert spec is not None
    grants = _grants(spec, "Rep")
    assert {grants[("account", a)] for a in ("read", "create", "update", "delete")} == {"no"}
    assert {grants[("deal", a)] for a in ("read", "create", "update", "delete")} == {"all"}


def test_starter_roles_load() -> None:
    spec, problems = load_metadata(STARTER)
    assert problems == [] and spec is not None
    names = [r.name for r in spec.roles]
    assert "Admin" not in names and "Public" not in names
    assert {"Executive", "Sales Rep", "Sales Manager", "Support Agent", "Marketing"} <= set(names)
    assert spec.role_map["Sales Manager"].extends == ("Sales Rep",)
    assert _grants(spec, "Sales Rep")[("lead", "create")] == "all"  # `create: yes`
    assert dict(spec.role_map["Support Agent"].field_rules)[("opportunity", "amount")] == "hidden"


# ---------------------------------------------------------------------------
# (f) pipelines: what a valid tree loads into
# ---------------------------------------------------------------------------

TWO_PIPELINES = lines(
    "label: {en: Deal, zh: 商机}",
    "fields:",
    "  name: {type: string, required: true}",
    "  amount: money",
    "  probability: percent",
    "  kind: {type: choice, default: new, choices: [new, renewal]}",
    "pipelines:",
    "  - name: renewal",                # listed first, but not the default pipeline
    "    label: {en: Renewal, zh: 续约}",
    "    field: stage",
    "    when: {kind: renewal}",
    "    stages:",
    "      - {name: due, label: {en: Due, zh: 待续约}, color: '#90caf9', probability: 60}",
    "      - {name: won, label: {en: Renewed, zh: 已续约}, probability: 100, outcome: won, next: []}",
    "  - name: sales",
    "    field: stage",
    "    probability_field: probability",
    "    probability_overridable: true",
    "    amount_field: amount",
    "    card_fields: [amount, owner]",
    "    stages:",
    "      - {name: qualify, label: {en: Qualify, zh: 资格确认}, color: '#1976d2', probability: 10}",
    "      - name: won",
    "        label: {en: Won, zh: 赢单}",
    "        color: '#2e7d32'",
    "        probability: 100",
    "        outcome: won",
    "        requires: [amount]",
    "        roles: [Admin]",
    "        next: []",
    "      - {name: lost, outcome: lost, next: [qualify]}",
    "  - name: support",
    "    field: phase",
    "    stages: [{name: open}, {name: closed_for_good}]",
    "list:",
    "  columns: [name, stage, phase, amount]",
    "  search: [name, stage]",
    "  filters: [stage, phase]",
    "  order: stage",
    "form:",
    "  - section: Deal",
    "    fields: [name, kind, stage, amount, probability]",
)


def _pipeline_spec(tmp_path: Path, roles: str | None = None) -> CrmSpec:
    root = Case("pipelines", {"account": ACCOUNT, "deal": TWO_PIPELINES}, [], roles=roles).build(tmp_path)
    spec, problems = load_metadata(root)
    assert [p.format(root) for p in problems] == []
    assert spec is not None
    return spec


def test_two_pipelines_with_when_make_one_stage_field(tmp_path: Path) -> None:
    deal = _pipeline_spec(tmp_path).entity("deal")
    stage = deal.field("stage")
    assert (stage.type, stage.required, stage.index, stage.system) == ("choice", True, True, False)
    assert stage.default == "qualify"  # the first stage of the pipeline without `when`
    # every stage of both pipelines, in order; `won` once, as its first pipeline has it
    assert stage.choices == (
        Choice("due", Text((("en", "Due"), ("zh", "待续约"))), "#90caf9"),
        Choice("won", Text((("en", "Renewed"), ("zh", "已续约"))), None),
        Choice("qualify", Text((("en", "Qualify"), ("zh", "资格确认"))), "#1976d2"),
        Choice("lost", Text((("en", "Lost"),)), None),
    )
    assert (stage.label.get("en"), stage.label.get("zh")) == ("Stage", "阶段")
    assert stage in deal.declared_fields
    assert [f.name for f in deal.declared_fields] == ["name", "amount", "probability", "kind", "stage", "phase"]
    assert deal.list.filters == ("stage", "phase") and deal.list.order == ("stage", "asc")
    assert "stage" in deal.form[0].fields


def test_a_second_stage_field_gets_its_own_default_and_label(tmp_path: Path) -> None:
    phase = _pipeline_spec(tmp_path).entity("deal").field("phase")
    assert (phase.type, phase.required, phase.index, phase.default) == ("choice", True, True, "open")
    assert [c.value for c in phase.choices] == ["open", "closed_for_good"]
    assert phase.choice_label("closed_for_good") == "Closed for good"
    assert phase.label.get("zh") == "Phase"  # only stage and status get 阶段


def test_pipelines_keep_their_gates_and_when(tmp_path: Path) -> None:
    deal = _pipeline_spec(tmp_path).entity("deal")
    renewal, sales, support = deal.pipelines
    assert (renewal.name, renewal.when, renewal.label.get("zh")) == ("renewal", ("kind", "renewal"), "续约")
    assert (sales.when, sales.probability_field, sales.probability_overridable, sales.amount_field,
            sales.card_fields) == (None, "probability", True, "amount", ("amount", "owner"))
    assert renewal.probability_field is None and renewal.probability_overridable is False
    assert sales.label.get() == "Sales" and support.field == "phase"
    won = sales.stage("won")
    assert won is not None
    assert (won.probability, won.outcome, won.requires, won.roles, won.next) == (
        100, "won", ("amount",), ("Admin",), ())
    qualify = sales.stage("qualify")
    assert qualify is not None and (qualify.next, qualify.outcome, qualify.roles) == (None, "open", ())
    assert sales.stage("lost").next == ("qualify",)  # type: ignore[union-attr]
    assert deal.pipeline_for(type("R", (), {"kind": "renewal"})) is renewal
    assert deal.pipeline_for(type("R", (), {"kind": "new"})) is sales
    assert deal.pipeline_for(type("R", (), {"kind": None})) is sales


def test_role_stage_grants_load(tmp_path: Path) -> None:
    spec = _pipeline_spec(tmp_path, roles=lines(
        "Sales Rep:",
        "  entities: {deal: own}",
        "  stages:",
        "    deal: [qualify, lost, due]",
        "Renewals:",
        "  stages: {deal: won}",             # one stage alone is taken too
        "Sales Manager:",
        "  extends: [Sales Rep]",             # stage grants are not inherited
    ))
    assert spec.role_map["Sales Rep"].stages == (("deal", "qualify"), ("deal", "lost"), ("deal", "due"))
    assert spec.role_map["Renewals"].stages == (("deal", "won"),)
    assert spec.role_map["Sales Manager"].stages == ()


def test_stage_naming_an_unknown_role_is_reported(tmp_path: Path) -> None:
    """The message and hint (the line is the BUG-E024-unknown-stage-role-line case)."""
    root = Case("role", pipe_tree(
        "  - name: sales",
        "    field: stage",
        "    stages: [{name: open}, {name: won, roles: [Sales Manger, Admin]}]",
    ), [], roles=lines("Sales Manager:", "  entities: {deal: all}")).build(tmp_path)
    spec, problems = load_metadata(root)
    assert spec is None
    assert [(rel(p, root), p.code, p.message, p.hint) for p in problems] == [
        (DEAL, "CRM-E024", "pipeline 'sales': stage 'won' names unknown role 'Sales Manger'",
         "did you mean 'Sales Manager'?")]


def test_stage_role_without_roles_yaml_is_unknown_but_admin_is_fine(tmp_path: Path) -> None:
    root = Case("role", pipe_tree(
        "  - name: sales",
        "    field: stage",
        "    stages: [{name: open, roles: [Admin]}, {name: won, roles: [Sales Manager]}]",
    ), []).build(tmp_path)
    _, problems = load_metadata(root)
    assert [(p.code, p.message) for p in problems] == [
        ("CRM-E024", "pipeline 'sales': stage 'won' names unknown role 'Sales Manager'")]


def test_starter_pipelines_make_their_stage_fields() -> None:
    spec, problems = load_metadata(STARTER)
    assert problems == [] and spec is not None
    opportunity = spec.entity("opportunity")
    stage = opportunity.field("stage")
    assert (stage.type, stage.required, stage.index, stage.default) == ("choice", True, True, "prospecting")
    assert [c.value for c in stage.choices] == ["prospecting", "needs_analysis", "proposal", "negotiation",
                                                "won", "lost", "renewal_due", "quoted"]
    assert stage.choice_label("proposal", "zh") == "方案提供"
    assert [p.when for p in opportunity.pipelines] == [None, ("deal_type", "renewal")]
    for name, label in (("lead", "阶段"), ("ticket", "工单状态")):  # ticket: the pipeline's field_label
        status = spec.entity(name).field("status")
        assert status.label.get("zh") == label and status.default == "new" and status.required


# ---------------------------------------------------------------------------
# (g) dashboards.yaml: what a valid file loads into, and no YAML shape escapes the loader
# ---------------------------------------------------------------------------

VALID_DASHBOARDS = lines(
    "dashboards:",
    "  - name: sales",
    "    label: {en: Sales, zh: 销售}",
    "    description: {en: Pipeline and revenue., zh: 销售漏斗与收入。}",
    "    roles: [Sales Rep, Admin]",
    "    charts:",
    "      - name: open_by_stage",
    "        title: {en: Open pipeline, zh: 在途商机}",
    "        kind: stacked_bar",
    "        entity: deal",
    "        measure: sum( amount )",
    "        group: 'close_date : quarter'",
    "        series: account.industry",
    "        filters:",
    "          stage: [open, won]",
    "          account.industry: tech",
    "          close_date: last_90_days",
    "          size: {between: [1, 10], ne: 5}",
    "          amount: {gte: 1000.5}",
    "          due: {lt: 2025-03-01 09:30:00}",
    "          signed: {eq: true}",
    "          owner: {in: [1, 2]}",
    "          name: {gte: 报价}",
    "          notes:",
    "        sort: -value",
    "        top: 5",
    "        width: 12",
    "      - name: won_this_month",
    "        kind: kpi",
    "        entity: deal",
    "        measure: max(close_date)",
    "        period: {field: due, range: next_7_days}",
    "  - name: customers",
    "    charts:",
    "      - name: tiers",
    "        kind: pie",
    "        entity: deal",
    "        analysis: rfm",
    "        params: {date: due}",
    "      - name: churn",
    "        kind: table",
    "        entity: account",
    "        analysis: churn_risk",
)


def test_valid_dashboards_load_into_typed_specs(tmp_path: Path) -> None:
    case = dash_case("valid", VALID_DASHBOARDS, [])
    spec, problems = load_metadata(case.build(tmp_path))
    assert problems == [] and spec is not None
    assert [d.name for d in spec.dashboards] == ["sales", "customers"]
    sales = spec.dashboard_map["sales"]
    assert (sales.label.get("zh"), sales.description.get("zh"), sales.roles) == ("销售", "销售漏斗与收入。",
                                                                              ("Sales Rep", "Admin"))
    chart = sales.chart("open_by_stage")
    assert (chart.title.get("zh"), chart.kind, chart.entity, str(chart.measure)) == (
        "在途商机", "stacked_bar", "deal", "sum(amount)")
    assert (str(chart.group), str(chart.series), chart.sort, chart.top, chart.width) == (
        "close_date:quarter", "account.industry", "-value", 5, 12)
    assert chart.filters == (
        Condition("stage", "in", ("open", "won")),
        Condition("account.industry", "eq", "tech"),
        Condition("close_date", "relative", "last_90_days"),
        Condition("size", "between", (1, 10)),
        Condition("size", "ne", 5),
        Condition("amount", "gte", 1000.5),
        Condition("due", "lt", dt.datetime(2025, 3, 1, 9, 30)),
        Condition("signed", "eq", True),
        Condition("owner", "in", (1, 2)),
        Condition("name", "gte", "报价"),
        Condition("notes", "empty", True),
    )
    assert chart.fields_used() == ("close_date", "account.industry", "stage", "size", "amount", "due", "signed",
                                   "owner", "name", "notes")
    kpi_chart = sales.chart("won_this_month")
    assert (kpi_chart.period, kpi_chart.measure, kpi_chart.title.get("zh")) == (
        Period("due", "next_7_days"), Measure("max", "close_date"), "Won this month")
    customers = spec.dashboard_map["customers"]
    assert customers.roles == () and customers.label.get() == "Customers"
    tiers, churn = customers.charts
    # Params not given take their defaults; the pipeline defaults to the entity's first.
    assert (tiers.pipeline, tiers.params) == ("sales", (("customer", "account"), ("date", "due")))
    assert (churn.pipeline, churn.params) == (None, (("activity", "activity"), ("days", 90)))


def test_choice_and_text_filter_numbers_load_as_text(tmp_path: Path) -> None:
    """`priority: 1` on a choice field is its stored value '1', as the chart query compares it."""
    account = lines("label: Account", "fields:", "  name: string", "  tier: {type: choice, choices: [1, 2]}",
                    "  phone: phone")
    text = chart("kind: kpi", "entity: account", "filters: {tier: [1, 2], phone: 13800000000}")
    spec, problems = load_metadata(dash_case("numbers", text, [], {"account": account}).build(tmp_path))
    assert problems == [] and spec is not None
    assert spec.dashboards[0].charts[0].filters == (Condition("tier", "in", ("1", "2")),
                                                    Condition("phone", "eq", "13800000000"))


def test_starter_dashboards_load() -> None:
    spec, problems = load_metadata(STARTER)
    assert problems == [] and spec is not None
    assert [d.name for d in spec.dashboards] == ["sales", "service", "marketing"]
    funnel = spec.dashboard_map["sales"].chart("funnel")
    assert (funnel.analysis, funnel.pipeline, funnel.kind) == ("stage_funnel", "new_business", "funnel")
    roi = spec.dashboard_map["marketing"].chart("campaign_roi")
    assert roi.params == (("cost", "actual_cost"), ("leads", "lead"), ("deals", "opportunity"))


# Values every key of a dashboards.yaml may be given by mistake: none may crash the loader.
ODD_VALUES = ["5", "x", "[a, [b]]", "{a: {b: 1}}", "", "true", "[]", "{}", "[{a: 1}]", "2024-01-01", "-1", "1.5",
              "'a.b.c'", "报价", "{in: [[1]], between: [{a: 1}, 2]}", "{field: [a], range: {b: 1}}",
              "{activity: [a], days: {b: 1}, date: [c]}"]
CHART_KEYS_TRIED = ["kind", "entity", "measure", "group", "series", "filters", "period", "sort", "top", "width",
                    "analysis", "pipeline", "params", "title", "name"]


@pytest.mark.parametrize("kind,entity,analysis", [
    ("bar", "deal", None), ("kpi", "deal", None), ("table", "account", "churn_risk"), ("pivot", "deal", "rfm"),
])
def test_no_dashboards_yaml_shape_escapes_the_loader(kind: str, entity: str, analysis: str | None,
                                                     tmp_path: Path) -> None:
    """Each odd value under each chart key (and in filters and period) gives located problems in
    dashboards.yaml, never an exception. The rest of the tree is loaded once; each text goes through
    the loader's reading and dashboards stages."""
    root = dash_case("odd", "dashboards: []\n", []).build(tmp_path)
    spec, problems = load_metadata(root)
    assert problems == [] and spec is not None
    entities, roles = spec.entity_map, {r.name for r in spec.roles} | {"Admin"}
    texts = [lines("- a"), lines("dashboards: 5"), lines("dashboards: [a, [b], {name: x, charts: [1, [2]]}]")]
    for key in CHART_KEYS_TRIED:
        for value in ODD_VALUES:
            texts.append(chart(f"kind: {kind}", f"entity: {entity}", f"analysis: {analysis}" if analysis else "",
                               f"{key}: {value}"))
    for field in ("stage", "amount", "close_date", "account.industry", "owner", "products", "tags", "notes"):
        for value in ODD_VALUES:
            texts.append(chart(f"kind: {kind}", f"entity: {entity}", f"filters: {{{field}: {value}}}"))
    path = root / DASH
    for text in texts:
        path.write_text(text, encoding="utf-8")
        found: list[Problem] = []
        parse_dashboards(read_yaml(path).data, path, found, entities, roles, spec.languages)
        count = len(text.splitlines())
        assert all(p.path == path and 1 <= p.line <= count and p.code in CODES for p in found), (text, found)


# automations.yaml (app/automations/checks.py): CRM-E057..E064, on the deal of pipe_tree()
AUTO = "automations.yaml"


def auto(*rows: str) -> Callable[[Path], None]:
    """automations.yaml: `rules:` on line 1, the given rows from line 2."""
    return _write(AUTO, lines("rules:", *rows))


RULE_HEAD = ("  - name: r", "    label: {en: Rule, zh: 规则}")  # lines 2, 3

CASES += [
    Case("E057-unknown-entity-or-trigger", pipe_tree(), [
        want(AUTO, 4, "CRM-E057", "automation 'r' names unknown entity 'dael'", hint="did you mean 'deal'?"),
        want(AUTO, 10, "CRM-E057", "automation 's' has unknown trigger 'changed'", hint="did you mean 'stage_changed'?"),
    ], setup=auto(
        *RULE_HEAD, "    entity: dael", "    trigger: created", "    do: [{set: {notes: \"'x'\"}}]",  # 4
        "  - name: s", "    label: S", "    entity: deal", "    trigger: changed",  # 10
        "    do: [{set: {notes: \"'x'\"}}]")),
    Case("E058-unknown-field", pipe_tree(), [
        want(AUTO, 6, "CRM-E058", "field_changed names 'amout' of deal", hint="did you mean 'amount'?"),
        want(AUTO, 13, "CRM-E058", "set names unknown field 'nots' of deal", hint="did you mean 'notes'?"),
    ], setup=auto(
        *RULE_HEAD, "    entity: deal", "    trigger: field_changed", "    field: amout",  # 6
        "    do: [{set: {notes: \"'x'\"}}]",
        "  - name: s", "    label: S", "    entity: deal", "    trigger: created", "    do:",
        "      - set: {nots: \"'x'\"}")),  # 13
    Case("E059-unknown-stage-or-choice", pipe_tree(), [
        want(AUTO, 6, "CRM-E059", "to names unknown stage 'wonn'", hint="did you mean 'won'?"),
        want(AUTO, 13, "CRM-E059", "'renew' is not a choice of kind", hint="did you mean 'renewal'?"),
    ], setup=auto(
        *RULE_HEAD, "    entity: deal", "    trigger: stage_changed", "    to: wonn",  # 6
        "    do: [{set: {notes: \"'x'\"}}]",
        "  - name: s", "    label: S", "    entity: deal", "    trigger: field_changed", "    field: kind",
        "    to: renew",  # 13
        "    do: [{set: {notes: \"'x'\"}}]")),
    Case("E060-condition-not-a-condition", pipe_tree(), [
        want(AUTO, 6, "CRM-E060", "automation 'r' if is a number, not a condition"),
    ], setup=auto(
        *RULE_HEAD, "    entity: deal", "    trigger: updated", "    if: amount * 2",  # 6
        "    do: [{set: {notes: \"'x'\"}}]")),
    Case("E061-unknown-action-or-bad-write", pipe_tree(), [
        want(AUTO, 7, "CRM-E061", "automation 'r': unknown action 'sms'", hint="actions: set, create, email, webhook, assign, notify, points, tag"),
        want(AUTO, 8, "CRM-E061", "automation 'r' set writes a text to deal.amount, a money field",
             hint="give a number expression"),
        want(AUTO, 9, "CRM-E061", "automation 'r' set cannot write deal.created_on"),
    ], setup=auto(
        *RULE_HEAD, "    entity: deal", "    trigger: created", "    do:",
        "      - sms: {to: owner}",  # 7
        "      - set: {amount: \"concat(name, '!')\",",  # 8
        "              created_on: now()}")),  # 9
    Case("E062-bad-email", pipe_tree(), [
        want(AUTO, 8, "CRM-E062", "automation 'r' email to is a number, not an address"),
        want(AUTO, 11, "CRM-E062", "automation 'r' email lang 'fr' is not a language of crm.yaml"),
    ], setup=auto(
        *RULE_HEAD, "    entity: deal", "    trigger: created", "    do:",
        "      - email:",
        "          to: amount",  # 8
        "          subject: {en: 'Deal {{ name }}', zh: '商机 {{ name }}'}",
        "          body: {en: 'Amount {{ amount }}', zh: '金额 {{ amount }}'}",
        "          lang: fr")),  # 11
    Case("E063-bad-webhook", pipe_tree(), [
        want(AUTO, 8, "CRM-E063", "automation 'r' webhook url 'ftp://erp.example.com' is not an http(s) URL"),
    ], setup=auto(
        *RULE_HEAD, "    entity: deal", "    trigger: created", "    do:",
        "      - webhook:",
        "          url: ftp://erp.example.com",  # 8
        "          body: {deal: name}")),
    Case("E064-rule-defined-twice", pipe_tree(), [
        want(AUTO, 7, "CRM-E064", "automation 'r' is defined twice", hint="give each rule its own name"),
    ], setup=auto(
        *RULE_HEAD, "    entity: deal", "    trigger: created", "    do: [{set: {notes: \"'x'\"}}]",
        *RULE_HEAD, "    entity: deal", "    trigger: deleted", "    do: [{webhook: {url: 'https://x.cn/h'}}]")),
    Case("E065-bad-assign", pipe_tree(), [
        want(AUTO, 7, "CRM-E065", "automation 'r' assign round_robin names unknown role 'Sales Reps'",
             hint="roles: Admin"),
        want(AUTO, 8, "CRM-E065", "automation 'r' assign needs exactly one of user, round_robin, least_loaded"),
        want(AUTO, 9, "CRM-E065", "automation 'r' assign least_loaded open is a number, not a condition"),
    ], setup=auto(
        *RULE_HEAD, "    entity: deal", "    trigger: created", "    do:",
        "      - assign: {round_robin: {role: Sales Reps}}",  # 7
        "      - assign: {}",  # 8
        "      - assign: {least_loaded: {role: Admin, open: amount}}")),  # 9
    Case("E066-bad-schedule", pipe_tree(), [
        want(AUTO, 6, "CRM-E066", "automation 'r' schedule cron hour '25' is outside 0-23"),
    ], setup=auto(
        *RULE_HEAD, "    entity: deal", "    trigger: schedule",
        "    schedule: {cron: '0 25 * * *'}",  # 6
        "    do: [{set: {notes: \"'x'\"}}]")),
    Case("E067-bad-time-trigger", pipe_tree(), [
        want(AUTO, 6, "CRM-E067", "automation 'r' date field 'notes' is a text, not a date of deal"),
    ], setup=auto(
        *RULE_HEAD, "    entity: deal", "    trigger: date",
        "    date: {field: notes, offset_days: 1}",  # 6
        "    do: [{set: {notes: \"'x'\"}}]")),
    # notify and reminders (app/automations/notify.py, reminders.py)
    Case("E068-E072-bad-notify", pipe_tree(), [
        want(AUTO, 7, "CRM-E068", "notify names no recipient"),
        want(AUTO, 8, "CRM-E069", "field 'amount' is a money, not a user field"),
        want(AUTO, 9, "CRM-E070", "unknown role 'Sales Boss'"),
        want(AUTO, 10, "CRM-E071", "notify users has '', not a login"),
        want(AUTO, 11, "CRM-E072", "notify message has no zh text"),
    ], setup=auto(
        *RULE_HEAD, "    entity: deal", "    trigger: created", "    do:",
        "      - notify: {message: {en: hi, zh: 你好}}",  # 7
        "      - notify: {fields: [amount], message: {en: hi, zh: 你好}}",  # 8
        "      - notify: {roles: [Sales Boss], message: {en: hi, zh: 你好}}",  # 9
        "      - notify: {users: [''], message: {en: hi, zh: 你好}}",  # 10
        "      - notify: {users: [li], message: {en: hi}}")),  # 11
    Case("E073-bad-reminder", pipe_tree(), [
        want(AUTO, 2, "CRM-E073", "due 'name' is a string of deal, not a datetime"),
    ], setup=_write(AUTO, lines("reminders:", "  - {entity: deal, due: name, assignee: owner}"))),
    # points, tag, scoring, sla, territories, pool (app/automations/adjust.py, scoring.py, sla.py, ...)
    Case("E074-points-or-tag-on-a-wrong-field", pipe_tree(), [
        want(AUTO, 7, "CRM-E074", "points action names deal.notes, of type text"),
        want(AUTO, 8, "CRM-E074", "tag action names deal.kind, of type choice"),
    ], setup=auto(
        *RULE_HEAD, "    entity: deal", "    trigger: created", "    do:",
        "      - points: {field: notes, add: 1}",  # 7
        "      - tag: {field: kind, add: new}")),  # 8
    Case("E075-bad-points-or-tag", pipe_tree(), [
        want(AUTO, 7, "CRM-E075", "points action add is a text, not a number of points"),
        want(AUTO, 8, "CRM-E075", "points action on amount needs exactly one of add, remove"),
    ], setup=auto(
        *RULE_HEAD, "    entity: deal", "    trigger: created", "    do:",
        "      - points: {field: amount, add: name}",  # 7
        "      - points: {field: amount}")),  # 8
    Case("E076-bad-scoring", pipe_tree(), [
        want(AUTO, 5, "CRM-E076", "scoring 's' field 'notes' is not a writable number field of deal"),
    ], setup=_write(AUTO, lines(
        "scoring:", "  - name: s", "    label: S", "    entity: deal", "    field: notes",  # 5
        "    points: [{if: \"kind = 'new'\", points: 10}]"))),
    Case("E077-bad-sla-or-calendar", pipe_tree(), [
        want(AUTO, 2, "CRM-E077", "calendar weekdays [0] must be numbers 1 (Monday) .. 7 (Sunday)"),
        want(AUTO, 8, "CRM-E077", "sla 's' due 'notes' is not a writable datetime field of deal"),
    ], setup=_write(AUTO, lines(
        "calendar:", "  weekdays: [0]",  # 2
        "sla:", "  - name: s", "    label: S", "    entity: deal", "    priority: kind",
        "    due: notes",  # 8
        "    hours: {new: 4}", "    escalate: [{set: {notes: \"'late'\"}}]"))),
    Case("E078-bad-territory", pipe_tree(), [
        want(AUTO, 7, "CRM-E078", "territory 't': 'renew' is not a choice of the field", hint="did you mean 'renewal'?"),
    ], setup=_write(AUTO, lines(
        "territories:", "  - name: t", "    label: T", "    entity: deal", "    field: kind", "    areas:",
        "      - {values: [renew], role: Admin}"))),  # 7
    Case("E079-bad-pool", pipe_tree(), [
        want(AUTO, 5, "CRM-E079", "pool 'p' flag 'notes' is not a writable boolean field of deal"),
    ], setup=_write(AUTO, lines(
        "pool:", "  - name: p", "    label: P", "    entity: deal", "    flag: notes",  # 5
        "    claimed_on: notes", "    user: pool", "    after_days: 7", "    claim_limit: 5"))),
]
PASSING = [c for c in CASES if not c.bug]
