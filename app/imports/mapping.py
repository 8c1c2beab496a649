"""Which column of the file fills which field, checked before any row is read.

Columns are matched to fields on the field name, its labels in every language and its
`aliases:` (`公司`, `Company`, `company` all find `company`), then on the words people use for a
pipeline's stage field (`状态`, `阶段`, `Status`, `Stage` in every language) when no field
has that name or label, then on common synonyms (`电话` finds the field labelled `手机`:
synonyms.py); a mapping the user saved for the entity wins. `check_plan` refuses, by column, what the import may not do: a field the
user may not write, a required field with no column, a match key nobody can read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.i18n import _t, languages
from app.metadata.fields import heading_key
from app.metadata.spec import EntitySpec, FieldSpec

from .messages import text
from .synonyms import SYNONYMS

MODES = ("create", "update", "upsert")
OWNER = "owner"
# what a column of a pipeline's stage field is commonly headed, whatever the field's own label
STAGE_WORDS = (_t("Stage"), _t("Status"))


class MappingRefused(ValueError):
    """What the mapping may not do, by column (or `_plan`): a 400 naming each column."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class ImportPlan:
    """An import as the user set it up: entity, mode, columns to fields, match keys."""

    entity: str
    mode: str
    columns: tuple[str, ...]  # the file's header, in order
    mapping: dict[str, str]  # column -> field name (unmapped columns are ignored)
    keys: tuple[str, ...] = ()  # fields that find the record to update
    link_keys: dict[str, str] = field(default_factory=dict)  # link field -> unique field of the target

    def as_json(self) -> dict[str, Any]:
        return {"entity": self.entity, "mode": self.mode, "columns": list(self.columns), "mapping": self.mapping,
                "keys": list(self.keys), "link_keys": self.link_keys}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ImportPlan:
        return cls(data["entity"], data["mode"], tuple(data["columns"]), dict(data["mapping"]),
                   tuple(data.get("keys") or ()), dict(data.get("link_keys") or {}))

    def field_columns(self) -> dict[str, int]:
        """field name -> index of its column in a row."""
        return {name: self.columns.index(column) for column, name in self.mapping.items() if name}


_norm = heading_key  # the heading as compared: the metadata checks aliases the same way


def importable(entity: EntitySpec) -> list[FieldSpec]:
    """Fields a column may fill: editable ones, the owner (on create) and autonumbers (an imported
    number is kept on create, and finds the record to update)."""
    return [f for f in entity.fields if f.editable or f.name == OWNER or f.type == "autonumber"]


def _headings(f: FieldSpec) -> tuple[str, ...]:
    """What a column filling `f` may be headed: its name, labels (any language) and `aliases:`."""
    return (f.name, *(label for _, label in f.label.values), *f.aliases)


def _synonyms(fields: list[FieldSpec]) -> dict[str, str]:
    """Each word of a synonym group (synonyms.py) -> the one field whose headings are in that group."""
    groups = [frozenset(_norm(w) for w in group) for group in SYNONYMS]
    owners: dict[int, set[str]] = {}
    for f in fields:
        words = {_norm(h) for h in _headings(f)}
        for index, group in enumerate(groups):
            if words & group:
                owners.setdefault(index, set()).add(f.name)
    return {word: next(iter(names)) for index, names in owners.items() if len(names) == 1
            for word in groups[index]}


def auto_mapping(entity: EntitySpec, columns: list[str], saved: dict[str, str] | None = None) -> dict[str, str]:
    """column -> field for each column whose name is a field's name, label (any language) or alias,
    a word for the stage (Status, 状态...) and the entity has a pipeline's stage field, or a common
    synonym of one field's heading (电话 for 手机: synonyms.py)."""
    names: dict[str, str] = {}
    fields = importable(entity)
    for f in fields:
        for candidate in _headings(f):
            names.setdefault(_norm(candidate), f.name)
    for stage_field in dict.fromkeys(p.field for p in entity.pipelines):  # after every name and label
        for word in STAGE_WORDS:
            for lang in languages():
                names.setdefault(_norm(word.get(lang)), stage_field)
    for word, name in _synonyms(fields).items():  # last: a field's own heading always wins
        names.setdefault(word, name)
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    for column in columns:
        wanted = (saved or {}).get(column)
        if wanted is not None and (wanted == "" or wanted in entity.field_map):
            if wanted and wanted not in taken:
                mapping[column] = wanted
                taken.add(wanted)
            continue
        match = names.get(_norm(column))
        if match and match not in taken:
            mapping[column] = match
            taken.add(match)
    return mapping


def required_fields(entity: EntitySpec) -> list[FieldSpec]:
    """Fields a new record cannot do without, that no default or stage fills."""
    stage_fields = {p.field for p in entity.pipelines}
    return [f for f in entity.declared_fields
            if f.required and f.editable and f.default is None and f.name not in stage_fields]


def check_plan(plan: ImportPlan, entity: EntitySpec, spec: Any, access: Any, lang: str | None = None) -> None:
    """Raise MappingRefused naming each column (or field) the import may not use."""
    errors: dict[str, list[str]] = {}

    def refuse(key: str, message: str) -> None:
        errors.setdefault(key, []).append(message)

    label = entity.label.get(lang)
    if plan.mode not in MODES:
        refuse("mode", text("bad_mode", lang))
    if plan.mode in ("update", "upsert") and not plan.keys:
        refuse("keys", text("keys_needed", lang))
    by_field: dict[str, list[str]] = {}
    for column, name in plan.mapping.items():
        if not name:
            continue
        if column not in plan.columns:
            refuse(column, text("no_column", lang, field=name))
            continue
        by_field.setdefault(name, []).append(column)
        f = entity.field_map.get(name)
        hidden = f is not None and access is not None and access.field_mode(entity, name) == "hidden"
        if f is None or hidden or f not in importable(entity):
            refuse(column, text("unknown_column", lang, column=column, field=name, entity=label))
        elif name == OWNER:
            if plan.mode == "update":
                refuse(column, text("owner_on_update", lang, column=column))
            elif access is not None and access.scope(entity.name, "reassign") == "no":
                refuse(column, text("not_writable", lang, column=column, field=f.label.get(lang)))
        elif name in plan.keys and plan.mode == "update":
            pass  # a key of an update only finds the record: reading it is enough
        elif f.type == "autonumber":
            if plan.mode == "update":  # a number is given once, on create
                refuse(column, text("not_writable", lang, column=column, field=f.label.get(lang)))
        elif access is not None and not access.writable(entity, name):
            refuse(column, text("not_writable", lang, column=column, field=f.label.get(lang)))
    for name, columns in by_field.items():
        if len(columns) > 1:
            refuse(columns[-1], text("mapped_twice", lang, columns="', '".join(columns), field=name))
    for key in plan.keys:
        if key not in by_field:
            refuse("keys", text("no_column", lang, field=key))
    if plan.mode in ("create", "upsert"):
        for f in required_fields(entity):
            if f.name not in by_field:
                refuse(f.name, text("missing_required", lang, field=f.label.get(lang)))
    for name, key in plan.link_keys.items():
        f = entity.field_map.get(name)
        target = spec.entity_map.get(f.to) if f is not None and f.to else None
        tf = target.field_map.get(key) if target is not None else None
        if tf is None or not (tf.unique or key == target.title_field):  # type: ignore[union-attr]
            refuse(name, text("link_key", lang, key=key, entity=target.label.get(lang) if target else name))
    if errors:
        raise MappingRefused(errors)
