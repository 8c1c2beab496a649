"""Located metadata problems with stable codes.

Every code is listed in `CODES` with a one-line title; `docs/metadata.md`
documents each one (a test keeps the two in step). Codes never change
meaning once released: tools and consultants grep for them.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

CODES: dict[str, str] = {
    "CRM-E001": "malformed YAML",
    "CRM-E002": "unknown key",
    "CRM-E003": "wrong value type",
    "CRM-E004": "duplicate name",
    "CRM-E005": "invalid identifier",
    "CRM-E006": "reserved identifier",
    "CRM-E007": "missing required key",
    "CRM-E008": "unknown field type",
    "CRM-E009": "link to unknown entity",
    "CRM-E010": "reference to unknown field",
    "CRM-E011": "bad choices",
    "CRM-E012": "bad default",
    "CRM-E013": "option not valid for this field type",
    "CRM-E014": "bad option value",
    "CRM-E015": "entity name does not match its file",
    "CRM-E016": "bad menu entry",
    "CRM-E017": "bad title field",
    "CRM-E018": "unknown language",
    "CRM-E019": "missing metadata file or folder",
    "CRM-E020": "field cannot be used there",
    "CRM-E021": "role names unknown entity or field",
    "CRM-E022": "bad scope or field rule",
    "CRM-E023": "bad role inheritance",
    "CRM-E024": "bad pipeline",
    "CRM-E025": "unknown stage",
    "CRM-E026": "bad conversion",
    "CRM-E027": "bad dashboard or chart",
    "CRM-E028": "metadata file cannot be read",
    "CRM-E029": "broken plugin",
    "CRM-E030": "database revision not in the migrations folder",
    "CRM-E031": "bad expression: syntax error or unknown function",
    "CRM-E032": "expression or computed field names an unknown field",
    "CRM-E033": "type mismatch in an expression or computed field",
    "CRM-E034": "bad computed field: a cycle, or a lookup or rollup that does not fit its link",
    "CRM-E035": "unknown normaliser",
    "CRM-E036": "bad normaliser option",
    "CRM-E037": "bad unique set",
    "CRM-E038": "bad phone region or money units",
    "CRM-E039": "bad rule, condition or record lock",
    "CRM-E040": "own(field) or team(field) names no user field",
    "CRM-E041": "via(link) names no link, or via links go round in a circle",
    "CRM-E042": "user field limited to an unknown role",
    "CRM-E043": "transition names an unknown stage",
    "CRM-E044": "bad transition: a move the from stage's next forbids, listed twice, or an unknown role",
    "CRM-E045": "bad chart measures: several measures, median or count_distinct that do not fit",
    "CRM-E046": "bad chart ties: an unknown tie-break, or ties without top",
    "CRM-E047": "bad settings permission of a role (edit or read)",
    "CRM-E048": "mass_update granted without update",
    "CRM-E049": "mass_delete granted without delete",
    "CRM-E053": "a plugin's field type is not a FieldType, or has no lower-case name or doc",
    "CRM-E054": "a plugin's field type takes a name already taken",
    "CRM-E055": "a plugin's field type takes an option the metadata does not know",
    # automations.yaml (app/automations/checks.py)
    "CRM-E057": "automation names an unknown entity or trigger",
    "CRM-E058": "automation names an unknown field",
    "CRM-E059": "automation names an unknown stage or choice value",
    "CRM-E060": "automation condition is not a condition",
    "CRM-E061": "unknown automation action, or a write the field cannot take",
    "CRM-E062": "bad automation e-mail: recipient, template or language",
    "CRM-E063": "bad automation webhook",
    "CRM-E064": "automation rule defined twice",
    "CRM-E065": "bad automation assign action",
    "CRM-E066": "bad automation schedule",
    "CRM-E067": "bad date or inactivity trigger",
    "CRM-E068": "automation notify names no recipient",
    "CRM-E069": "automation notify names a field that is not a user field",
    "CRM-E070": "automation notify names an unknown role",
    "CRM-E071": "automation notify names a login that is not text",
    "CRM-E072": "bad automation notify message",
    "CRM-E073": "bad task reminder",
    "CRM-E074": "automation points or tag action on a field of the wrong type",
    "CRM-E075": "bad automation points or tag amount",
    "CRM-E076": "bad lead scoring",
    "CRM-E077": "bad SLA timer or business calendar",
    "CRM-E078": "bad territory",
    "CRM-E079": "bad lead pool",
    # metadata versions (app/metaversions/)
    "CRM-E080": "metadata file name not allowed in a version",
}

NOT_FROM_METADATA = ("CRM-E029", "CRM-E030", "CRM-E053", "CRM-E054", "CRM-E055", "CRM-E080")
"""Codes about what runs beside the metadata (plugins, the database's revision history):
reported in the same located form, but never by `load_metadata`."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong in the metadata, located to a file and line."""

    code: str
    path: Path
    line: int
    message: str
    hint: str = ""

    def format(self, root: Path | None = None) -> str:
        where = self.path
        if root is not None:
            try:
                where = self.path.relative_to(root.parent if root.name else root)
            except ValueError:
                where = self.path
        text = f"{where}:{self.line}: {self.code} {self.message}"
        if self.hint:
            text += f" (hint: {self.hint})"
        return text


class MetadataError(Exception):
    """Raised when metadata has problems; the app refuses to start."""

    subject = "metadata has"  # plugins and schema history say "plugins have", "the database has"

    def __init__(self, problems: Iterable[Problem], root: Path | None = None):
        self.problems = list(problems)
        self.root = root
        lines = [p.format(root) for p in self.problems]
        count = len(self.problems)
        header = f"{self.subject} {count} problem{'s' if count != 1 else ''}:"
        super().__init__("\n".join([header, *lines]))


def closest(word: str, choices: Iterable[str]) -> str | None:
    """The choice a misspelt `word` most likely meant, or None when nothing is close."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return close[0] if close else None


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """Return a 'did you mean' hint, or '' when nothing is close."""
    close = closest(word, choices)
    return f"did you mean '{close}'?" if close else ""


class ProblemSink:
    """Collects problems for one file so checks can report and go on."""

    def __init__(self, path: Path, problems: list[Problem]):
        self.path = path
        self.problems = problems
        # Fields that failed to parse: references to them are not reported twice.
        self.broken_fields: set[str] = set()

    def add(self, code: str, line: int, message: str, hint: str = "") -> None:
        assert code in CODES, code
        self.problems.append(Problem(code, self.path, line, message, hint))
