"""What a field type is: one object owning every per-type decision.

A `FieldType` says how a field of its type is stored (column), read from input
(parse), checked (validate), offered on a form, described in the API and in the
metadata JSON Schema, shown in lists, filtered, made up for demo data and
converted when the column's type changes. Callers ask `field_type(f.type)`
(registry.py) instead of branching on the type's name, so a new type, a
plugin's included, plugs in at one place.

The defaults are those of a one-line text field; each type module overrides
what differs. Imports of the web layers are made inside the methods: the
metadata layer loads this module before any of them.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

if TYPE_CHECKING:
    from marshmallow import fields as ma_fields
    from wtforms import Field

    from app.metadata.spec import Choice, CrmSpec, EntitySpec, FieldSpec

# Option sets of the metadata (which keys a field of the type takes; CRM-E003 otherwise).
COMMON = frozenset({"type", "label", "help", "aliases", "required", "read_only", "index", "default", "renamed_from",
                    "required_if", "visible_if", "read_only_if"})
TEXTUAL = COMMON | {"unique", "max_length", "pattern", "pattern_message", "normalise"}
NUMERIC = COMMON | {"unique", "min", "max"}
DATE_PATTERN = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"  # the YAML extension reads 2024-01-31 as a string


class LangFormatter:
    """A formatter whose text depends on the page's language: called with a value it asks
    `current_lang()` (as a lambda reading it did); `fmt(value, lang)` is the same text for a
    language the caller fixed, which a list's rows ask once per page instead of once per cell
    (app/web/listrows.py)."""

    def __init__(self, fmt: Callable[[Any, str], Any]) -> None:
        from app.web.labels import current_lang
        self.fmt, self._lang = fmt, current_lang

    def __call__(self, value: Any) -> Any:
        return self.fmt(value, self._lang())


@dataclass(frozen=True)
class FormContext:
    """What a form field needs besides the field: where pickers fetch their options."""

    api_prefix: str
    entity: str = ""


class FieldType:
    """A field type. Subclass it (one module per type) and override what differs."""

    name: str = ""
    doc: str = ""
    options: frozenset[str] = COMMON
    example: str = ""
    numeric: bool = False  # min/max are numbers: checked as such at load, in the schema and on input
    keeps_blank: bool = False  # '' is a value (string, text) rather than empty
    form_blank_is_empty: bool = False  # a form input of spaces only means no value
    searchable: bool = False  # the quick search matches it with LIKE (app/web/search.py)
    in_unique_set: bool = True  # may be part of a `unique: [a, b]` set (one comparable value)
    text_default: bool = False  # a literal `default:` must be text
    sorts_as_text: bool = False  # lists sort it in the reader's language's collation (app/i18n/collation.py)
    filled_by_loader: bool = False  # demo data: the loader sets it (links to earlier records, numbers)
    # what a field of the type has when the metadata does not say (app/metadata/fields.py)
    python_type: type = str  # the type of a parsed value (demo data checks planned values with it)
    default_min: Any = None
    default_max: Any = None
    default_max_length: int | None = None
    default_scale: int = 2
    always_unique: bool = False
    computed: bool = False  # formula / lookup / rollup: the value comes from `returns` / the source field

    def __repr__(self) -> str:
        return f"<field type {self.name}>"

    # -- storage ----------------------------------------------------------------------------
    def column_type(self, field: FieldSpec) -> sa.types.TypeEngine:
        """The SQL type a field of this type is stored as."""
        return sa.String(field.max_length or 255)

    # -- input ------------------------------------------------------------------------------
    def parse_value(self, field: FieldSpec, raw: Any, lang: str | None = None) -> Any:
        """Typed value for `raw` (JSON, form text or CSV); None and '' mean empty.
        Raises `FieldValueError` with a message for the user."""
        if raw is None or (raw == "" and not self.keeps_blank):
            return None
        return self.parse(field, raw, lang)

    def parse(self, field: FieldSpec, raw: Any, lang: str | None) -> Any:
        """Typed value for a non-empty `raw`."""
        from .values import text_value
        return text_value(raw, lang, strip=True)

    def validate(self, field: FieldSpec, value: Any, lang: str | None) -> list[str]:
        """Messages about a typed, non-empty value beyond length and pattern ([] when fine)."""
        return []

    def default_error(self, value: Any, choices: tuple[Choice, ...], values: dict[str, Any]) -> str:
        """Why a literal `default:` in the metadata does not fit the type, or ''."""
        return "is not text" if self.text_default and not isinstance(value, str) else ""

    def filter_value(self, field: FieldSpec, value: Any, lang: str | None) -> Any:
        """A filter's value typed as the column compares it (URL and API filters)."""
        return self.parse_value(field, value, lang)

    # -- forms (WTForms, app/web/forms.py) ----------------------------------------------------
    def form_field(self, field: FieldSpec, common: dict[str, Any], context: FormContext) -> Field:
        from app.web.forms import TypedField
        return TypedField(field, widget=self.form_widget(), **common)

    def form_widget(self) -> Any:
        from flask_appbuilder.fieldwidgets import BS3TextFieldWidget
        return BS3TextFieldWidget()

    def form_data(self, data: Any) -> Any:
        """The value a validated form field holds, as the record commands take it."""
        return data

    # -- API (marshmallow, app/web/schemas.py) -------------------------------------------------
    def output_field(self, field: FieldSpec) -> ma_fields.Field:
        from marshmallow import fields
        return fields.String(allow_none=True)

    def input_field(self, field: FieldSpec, meta: dict[str, Any]) -> ma_fields.Field:
        result = self.output_field(field)
        result.metadata = {**result.metadata, **meta}
        return result

    def json_value(self, field: FieldSpec, value: Any) -> Any:
        """A stored value (None included) as the API returns it."""
        if isinstance(value, (dt.date, dt.datetime)):
            return value.isoformat()
        return value

    def plain_text(self, field: FieldSpec, value: Any, lang: str) -> str:
        """A non-empty value as text for CSV exports (labels, not codes; ISO dates)."""
        if hasattr(value, "isoformat"):
            return value.isoformat(sep=" ") if hasattr(value, "hour") else value.isoformat()
        return str(value)

    def card_text(self, field: FieldSpec, value: Any, spec: CrmSpec, lang: str) -> str:
        """A non-empty value as plain text on a board card (the page inserts it as text, never HTML)."""
        return str(value)

    # -- metadata JSON Schema (app/metadata/jsonschema.py) --------------------------------------
    def schema_rule(self, then: dict[str, Any]) -> None:
        """Add to the `then` of "if type is this one" what the type says about its options."""
        if self.numeric:
            then["properties"].update(min={"type": "number"}, max={"type": "number"})

    # -- display (lists and record pages, app/web/display.py) -----------------------------------
    def formatter(self, field: FieldSpec, spec: CrmSpec) -> Callable[[Any], Any] | None:
        """How a value looks on lists and record pages; None: as FAB shows it."""
        return None

    # -- demo data (app/demo/values.py) -------------------------------------------------------
    def demo_value(self, entity: EntitySpec, field: FieldSpec, index: int, rng: random.Random,
                   today: dt.date, plan: dict[str, Any]) -> Any:
        """A valid made-up value for record `index` (None: the loader fills it, e.g. links)."""
        from app.demo.values import generic_text
        return generic_text(entity, field, index, rng, plan)

    # -- schema changes (app/schema/plan.py) ---------------------------------------------------
    def conversion_input(self, field: FieldSpec, stored: Any) -> Any:
        """A value stored under the column's old type, as input to this type's parser: the
        plan counts the rows whose value would not convert."""
        return stored
