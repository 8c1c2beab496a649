"""Typed, immutable metadata: the only thing the builders read.

Nothing past the loader sees YAML. Every object here is frozen so a built
app cannot drift from the metadata it was built from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Text:
    """A label in several languages; falls back to English, then any."""

    values: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, value: Any, fallback: str = "") -> Text:
        if isinstance(value, Text):
            return value
        if isinstance(value, dict):
            return cls(tuple((str(k), str(v)) for k, v in value.items()))
        if value is None or value == "":
            return cls((("en", fallback),)) if fallback else cls(())
        return cls((("en", str(value)),))

    def get(self, lang: str | None = None) -> str:
        table = dict(self.values)
        if lang and lang in table:
            return table[lang]
        if "en" in table:
            return table["en"]
        return next(iter(table.values()), "")

    def __bool__(self) -> bool:
        return bool(self.values)

    def __str__(self) -> str:
        return self.get()


@dataclass(frozen=True)
class Choice:
    value: str
    label: Text
    color: str | None = None
    renamed_from: str | None = None  # the value stored before: `crm apply` rewrites the rows


@dataclass(frozen=True)
class Normaliser:
    """One step that rewrites a typed-in value before it is checked and stored (normalise.py)."""

    name: str  # trim nfkc lower upper collapse_spaces phone email map replace
    arg: Any = None  # phone: e164|national; map: ((from, to), ...); replace: (pattern, replacement)


@dataclass(frozen=True)
class ComputedSpec:
    """How a formula, lookup or rollup field gets its value (see app/metadata/computed.py).

    kind: formula (`expression`), lookup (`path` link.field) or rollup (`function`
    of child entity `to`'s field `of`, over its link `via`, where `where`). `stored`:
    a real column (a stored formula, or a lookup copied at create); else computed in SQL.
    """

    kind: str
    expression: str | None = None
    path: str | None = None
    to: str | None = None
    via: str | None = None
    function: str | None = None
    of: str | None = None
    where: str | None = None
    returns: str | None = None
    stored: bool = False
    lines: tuple[tuple[str, int], ...] = ()

    def line_of(self, key: str, default: int) -> int:
        return dict(self.lines).get(key, default)


@dataclass(frozen=True)
class RuleSpec:
    """An entity-level `validate:` rule: `rule` must hold, else `message` on `fields`."""

    rule: str
    message: Text
    fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class FieldSpec:
    """One field of an entity, as declared (or a system field)."""

    name: str
    type: str
    label: Text
    help: Text = Text(())
    required: bool = False
    unique: bool = False
    default: Any = None
    min: Any = None
    max: Any = None
    max_length: int | None = None
    pattern: str | None = None
    pattern_message: Text = Text(())
    read_only: bool = False
    index: bool = False
    choices: tuple[Choice, ...] = ()
    to: str | None = None
    roles: tuple[str, ...] = ()  # user fields: the roles a chosen user must have (empty: any)
    on_delete: str = "restrict"
    format: str | None = None
    scale: int = 2
    renamed_from: str | None = None
    system: bool = False
    line: int = 0
    normalise: tuple[Normaliser, ...] = ()
    unique_ignore_case: bool = False  # unique: ignore_case (e-mails): Ann@x.cn repeats ann@x.cn
    units: tuple[tuple[str, Any], ...] = ()  # money: unit words typed after a number (万 -> 10000)
    aliases: tuple[str, ...] = ()  # other headings of an import column that fills the field (电话, Tel)
    currency: str = "CNY"  # money: the CRM's currency (crm.yaml), the only one typed in
    phone_region: str = "CN"  # phone normaliser: region of numbers typed without a country code
    # formula / lookup / rollup: `type` is then the type of the value (money, string…)
    computed: ComputedSpec | None = None
    # conditions (expressions of app/expr on the record), checked at load (rules.py)
    required_if: str | None = None
    visible_if: str | None = None
    read_only_if: str | None = None

    @cached_property  # read per value on every write: computed once
    def is_computed(self) -> bool:
        return self.computed is not None

    @cached_property  # read per value on every write: computed once
    def has_column(self) -> bool:
        """Stored in a table column (computed fields only when `stored`)."""
        return not self.is_many and (self.computed is None or self.computed.stored)

    @cached_property  # read per value on every write: computed once
    def is_link(self) -> bool:
        return self.type in ("link", "user")

    @cached_property  # read per value on every write: computed once
    def is_many(self) -> bool:
        return self.type == "links"

    @property
    def target(self) -> str:
        """The entity a link or links field points to (checked at load)."""
        assert self.to is not None, f"{self.name} is not a link"
        return self.to

    @cached_property  # read per value on every write: computed once
    def column_name(self) -> str:
        """Database column: links and users store the target's id."""
        return f"{self.name}_id" if self.is_link else self.name

    @cached_property  # read per value on every write: computed once
    def editable(self) -> bool:
        return not (self.read_only or self.system or self.type == "autonumber" or self.is_computed)

    @cached_property  # read per value on every write (the choice check): computed once
    def choice_values(self) -> frozenset[str]:
        return frozenset(c.value for c in self.choices)

    def choice_label(self, value: str, lang: str | None = None) -> str:
        for choice in self.choices:
            if choice.value == value:
                return choice.label.get(lang) or value
        return value

    def values_labelled(self, text: str, lang: str | None = None) -> list[str]:
        """Values of the choices whose label in `lang` contains `text` (any case): a search by
        what the user reads (`Online` finds the value 线上咨询 labelled "Online inquiry")."""
        wanted = text.casefold()
        return [c.value for c in self.choices if wanted and wanted in (c.label.get(lang) or c.value).casefold()]


@dataclass(frozen=True)
class StageSpec:
    name: str
    label: Text
    color: str | None = None
    probability: int | None = None
    outcome: str = "open"
    requires: tuple[str, ...] = ()
    next: tuple[str, ...] | None = None  # None: any stage of the pipeline
    roles: tuple[str, ...] = ()
    line: int = field(default=0, compare=False)  # where `roles` is written, for located errors


@dataclass(frozen=True)
class TransitionSpec:
    """Who may make one from→to move (on top of the to stage's own roles)."""

    source: str
    target: str
    roles: tuple[str, ...] = ()
    line: int = field(default=0, compare=False)


@dataclass(frozen=True)
class PipelineSpec:
    """An ordered set of stages a record moves through, with the gates of each."""

    name: str
    label: Text
    field: str
    stages: tuple[StageSpec, ...]
    when: tuple[str, str] | None = None  # (choice field, value)
    probability_field: str | None = None
    probability_overridable: bool = False
    amount_field: str | None = None
    card_fields: tuple[str, ...] = ()
    transitions: tuple[TransitionSpec, ...] = ()
    field_label: Text | None = None

    def stage(self, name: str | None) -> StageSpec | None:
        return self._stage_map.get(name)  # type: ignore[arg-type]

    @cached_property  # a stage by its name is asked several times per write: a map made once
    def _stage_map(self) -> dict[str, StageSpec]:
        return {s.name: s for s in reversed(self.stages)}  # reversed: the first of a name wins, as a scan finds

    def transition(self, source: str | None, target: str) -> TransitionSpec | None:
        return self._transition_map.get((source, target))  # type: ignore[arg-type]

    @cached_property  # asked on every stage move (each new record's first stage): a map made once
    def _transition_map(self) -> dict[tuple[str, str], TransitionSpec]:
        return {(t.source, t.target): t for t in reversed(self.transitions)}  # the first of a pair wins


@dataclass(frozen=True)
class ConvertTarget:
    entity: str
    fields: tuple[tuple[str, str], ...]  # (target field, source field or $entity)
    match: str | None = None
    link: str | None = None


@dataclass(frozen=True)
class ConvertSpec:
    """Turn a record into records of other entities, in one transaction."""

    label: Text
    from_stages: tuple[str, ...]
    to_stage: str
    targets: tuple[ConvertTarget, ...]


@dataclass(frozen=True)
class ListSpec:
    columns: tuple[str, ...]
    search: tuple[str, ...]
    filters: tuple[str, ...]
    order: tuple[str, str] | None  # (field, 'asc'|'desc')
    page_size: int = 25


@dataclass(frozen=True)
class FormSection:
    title: Text
    fields: tuple[str, ...]


@dataclass(frozen=True)
class EntitySpec:
    """One entity: its fields (declared then system), list and form."""

    name: str
    label: Text
    plural: Text
    title_field: str
    fields: tuple[FieldSpec, ...]
    list: ListSpec
    form: tuple[FormSection, ...]
    icon: str = "fa-table"
    description: Text = Text(())
    source: Path = field(default=Path("."), compare=False)
    pipelines: tuple[PipelineSpec, ...] = ()
    convert: ConvertSpec | None = None
    renamed_from: str | None = None  # the entity's previous name: its table is renamed
    renamed_line: int = field(default=0, compare=False)
    unique: tuple[tuple[str, ...], ...] = ()  # sets of fields no two records may share (unique together)
    rules: tuple[RuleSpec, ...] = ()  # validate: conditions every write must keep
    locked_if: str | None = None  # a record in this state cannot be changed ...
    unlock_roles: tuple[str, ...] = ()  # ... except by these roles (and Admin)

    def pipeline_for(self, record: Any) -> PipelineSpec | None:
        """The pipeline a record follows: the first whose `when` matches, else the default."""
        default = None
        for pipeline in self.pipelines:
            if pipeline.when is None:
                default = default or pipeline
            elif getattr(record, pipeline.when[0], None) == pipeline.when[1]:
                return pipeline
        return default

    @cached_property
    def field_map(self) -> dict[str, FieldSpec]:
        return {f.name: f for f in self.fields}

    def field(self, name: str) -> FieldSpec:
        return self.field_map[name]

    @cached_property  # read per row on every write: computed once
    def declared_fields(self) -> tuple[FieldSpec, ...]:
        return tuple(f for f in self.fields if not f.system)

    @cached_property  # read per record on every write (its outbox event): computed once
    def event_fields(self) -> tuple[FieldSpec, ...]:
        """The fields a change event carries: each declared one stored in a column or as links, the owner."""
        return (*(f for f in self.declared_fields if f.has_column or f.is_many), self.field("owner"))

    @cached_property  # read per row of an import (a new record's checks): computed once
    def editable_fields(self) -> tuple[FieldSpec, ...]:
        """The declared fields a write may give (`editable`), in their order."""
        return tuple(f for f in self.declared_fields if f.editable)

    @cached_property  # read per new record: computed once
    def defaulted_fields(self) -> tuple[FieldSpec, ...]:
        """The editable declared fields with a metadata default (a new record takes it when not given)."""
        return tuple(f for f in self.editable_fields if f.default is not None)

    @cached_property  # read several times per write (pipelines, stage moves): computed once
    def pipeline_fields(self) -> frozenset[str]:
        """The fields that say which pipeline a record follows and its stage: each pipeline's stage
        field and `when` field."""
        return frozenset(name for p in self.pipelines for name in (p.field, *(p.when or ())[:1]))

    @property
    def table_name(self) -> str:
        return self.name

    @property
    def class_name(self) -> str:
        """Deterministic class name: FAB names permissions and blueprints after it."""
        return "".join(part.capitalize() for part in self.name.split("_"))


@dataclass(frozen=True)
class RoleSpec:
    """One role as declared, before inheritance is resolved."""

    name: str
    label: Text
    extends: tuple[str, ...] = ()
    # (entity, action) -> scope: all | team | own | no
    grants: tuple[tuple[tuple[str, str], str], ...] = ()
    # (entity, field) -> hidden | read | write
    field_rules: tuple[tuple[tuple[str, str], str], ...] = ()
    description: Text = Text(())
    line: int = 0
    # (entity, stage): stages this role may move records into
    stages: tuple[tuple[str, str], ...] = ()
    # the Settings pages (web metadata editor): "edit", "read" or None
    settings: str | None = None


@dataclass(frozen=True)
class MenuGroup:
    name: str
    label: Text
    entities: tuple[str, ...]


@dataclass(frozen=True)
class Measure:
    """count, or an aggregate of one numeric field."""

    func: str = "count"  # count | sum | avg | min | max | median | count_distinct
    field: str | None = None

    def __str__(self) -> str:
        return self.func if self.field is None else f"{self.func}({self.field})"


@dataclass(frozen=True)
class Grouping:
    """What a chart's bars are: a field, a link's field (`account.industry`), or a date bucket."""

    path: str
    bucket: str | None = None  # day | week | month | quarter | year (date fields only)

    @property
    def head(self) -> str:
        return self.path.split(".", 1)[0]

    @property
    def tail(self) -> str | None:
        return self.path.split(".", 1)[1] if "." in self.path else None

    def __str__(self) -> str:
        return self.path if self.bucket is None else f"{self.path}:{self.bucket}"


@dataclass(frozen=True)
class Condition:
    """One filter of a chart: path op value. `relative` ranges are resolved when the chart runs."""

    path: str
    op: str  # eq ne in not_in gt gte lt lte between empty relative
    value: Any = None  # a tuple for in/not_in/between, a range name for relative, a bool for empty


@dataclass(frozen=True)
class Period:
    """The range a KPI covers (compared with the range just before it)."""

    field: str
    range: str


@dataclass(frozen=True)
class ChartSpec:
    """One chart: which records (entity, filters), what number (measure), split how (group, series)."""

    name: str
    title: Text
    kind: str
    entity: str
    measure: Measure = Measure()
    group: Grouping | None = None
    series: Grouping | None = None
    filters: tuple[Condition, ...] = ()
    period: Period | None = None
    sort: str | None = None
    top: int | None = None
    width: int = 6
    analysis: str | None = None
    pipeline: str | None = None
    params: tuple[tuple[str, Any], ...] = ()
    line: int = field(default=0, compare=False)
    # several measures side by side (issue 13): each is one series; `measure` is the first
    measures: tuple[Measure, ...] = ()
    ties: str | None = None  # how `top` breaks ties: label, -label or order

    @property
    def all_measures(self) -> tuple[Measure, ...]:
        return self.measures or (self.measure,)

    def param(self, name: str, default: Any = None) -> Any:
        return dict(self.params).get(name, default)

    def fields_used(self) -> tuple[str, ...]:
        """Paths of the chart's entity it reads: a viewer must see all of them to see the chart."""
        paths = [g.path for g in (self.group, self.series) if g is not None]
        paths += [c.path for c in self.filters]
        paths += [m.field for m in self.all_measures if m.field]
        if self.period:
            paths.append(self.period.field)
        return tuple(dict.fromkeys(paths))


@dataclass(frozen=True)
class DashboardSpec:
    name: str
    label: Text
    charts: tuple[ChartSpec, ...]
    roles: tuple[str, ...] = ()  # empty: every signed-in user
    description: Text = Text(())
    line: int = field(default=0, compare=False)

    def chart(self, name: str) -> ChartSpec:
        return next(c for c in self.charts if c.name == name)


@dataclass(frozen=True)
class CrmSpec:
    """The whole metadata tree, checked."""

    name: Text
    languages: tuple[str, ...]
    currency: str
    timezone: str
    menu: tuple[MenuGroup, ...]
    entities: tuple[EntitySpec, ...]
    root: Path = field(default=Path("."), compare=False)
    digest: str = ""
    roles: tuple[RoleSpec, ...] = ()
    dashboards: tuple[DashboardSpec, ...] = ()
    phone_region: str = "CN"
    # (entity, field) of every formula/lookup/rollup, each after those it reads
    computed_order: tuple[tuple[str, str], ...] = ()
    automations: tuple[Any, ...] = ()  # AutomationSpec, from automations.yaml (app/automations/)
    reminders: tuple[Any, ...] = ()  # ReminderSpec, automations.yaml `reminders:` (app/automations/reminders.py)

    @cached_property
    def dashboard_map(self) -> dict[str, DashboardSpec]:
        return {d.name: d for d in self.dashboards}

    @cached_property
    def role_map(self) -> dict[str, RoleSpec]:
        return {r.name: r for r in self.roles}

    @cached_property
    def entity_map(self) -> dict[str, EntitySpec]:
        return {e.name: e for e in self.entities}

    def entity(self, name: str) -> EntitySpec:
        return self.entity_map[name]

    def links_to(self, name: str) -> list[tuple[EntitySpec, FieldSpec]]:
        """Fields of any entity that link to `name` (for related lists)."""
        return [
            (entity, f)
            for entity in self.entities
            for f in entity.declared_fields
            if f.type in ("link", "links") and f.to == name
        ]
