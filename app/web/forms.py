"""WTForms forms built from the spec.

Fields parse with the same `parse_value` as the API, so a value means the
same on a screen and over REST; rules (required, min, unique...) are checked
by the record commands, whose errors are put back on the form's fields.
Links use search-as-you-type pickers: no dropdown loads a whole table.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from flask_appbuilder.forms import DynamicForm
from markupsafe import Markup, escape
from wtforms import Field, HiddenField, StringField
from wtforms.widgets import html_params

from app.clock import to_local
from app.fieldtypes import FormContext, field_type
from app.metadata.spec import EntitySpec, FieldSpec
from app.records.parse import FieldValueError, parse_value

from .labels import current_lang, lazy
from .linktitles import link_text, picker_titles


class MarksRequired:
    """Flags a field as required, so FAB stars its label and the browser asks for it.
    The rule itself is checked by the record commands, with the same message as the API."""

    field_flags = {"required": True}

    def __call__(self, form: Any, field: Field) -> None:
        return None


class TypedField(Field):
    """A text input whose value is parsed by the records layer."""

    def __init__(self, spec: FieldSpec, **kwargs: Any):
        super().__init__(**kwargs)
        self.spec = spec

    def process_formdata(self, valuelist: list[str]) -> None:
        if not valuelist:
            return
        raw = valuelist[0]
        if field_type(self.spec.type).form_blank_is_empty and raw.strip() == "":
            self.data = None
            return
        try:
            self.data = parse_value(self.spec, raw, current_lang())
        except FieldValueError as exc:
            self.data = raw
            raise ValueError(str(exc)) from None

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        if self.data is None:
            return ""
        if isinstance(self.data, dt.datetime):  # stored UTC, typed and read in the CRM time zone
            return to_local(self.data).strftime("%Y-%m-%d %H:%M")
        if isinstance(self.data, Decimal):
            return format(self.data, "f")
        return str(self.data)


class DateTextWidget:
    """A date (or date and time) typed as text, checked by the server. FAB's bootstrap
    date picker rewrote what it could not read (an impossible `2026-13-45` was emptied
    before the post, so the user was never told); here the text is posted as typed and a
    bad one comes back as a field error."""

    def __init__(self, placeholder: str):
        self.placeholder = placeholder

    def __call__(self, field: Field, **kwargs: Any) -> Markup:
        from wtforms.widgets import TextInput
        kwargs.setdefault("placeholder", self.placeholder)
        kwargs.setdefault("autocomplete", "off")
        kwargs["class"] = f"form-control crm-date-input {kwargs.get('class', '')}".strip()
        return TextInput()(field, **kwargs)


class PickerWidget:
    """A <select> that select2 fills from the target's picker endpoint as the user types."""

    def __init__(self, url: str, multiple: bool = False):
        self.url = url
        self.multiple = multiple

    def __call__(self, field: PickerField, **kwargs: Any) -> Markup:
        kwargs.setdefault("id", field.id)
        kwargs["class"] = "crm-picker form-control"
        attrs = html_params(name=field.name, multiple=self.multiple, **{"data-url": self.url}, **kwargs)
        options = "".join(
            f'<option value="{escape(pk)}" selected>{escape(label)}</option>'
            for pk, label in field.selected()
        )
        empty = "" if self.multiple else '<option value=""></option>'
        return Markup(f"<select {attrs}>{empty}{options}</select>")


class PickerField(Field):
    """Holds an id (or ids) of linked records; renders the current ones as options."""

    def __init__(self, spec: FieldSpec, url: str, **kwargs: Any):
        super().__init__(widget=PickerWidget(url, spec.is_many), **kwargs)
        self.spec = spec
        self.labels: dict[Any, str] = {}
        self.data: Any = None

    def process_data(self, value: Any) -> None:
        if value is None:
            self.data = [] if self.spec.is_many else None
        elif self.spec.is_many:
            self.data = [getattr(v, "id", v) for v in value]
            self.labels = {getattr(v, "id", v): link_text(v) for v in value}
        else:
            self.data = getattr(value, "id", value)
            self.labels = {self.data: link_text(value)}

    def process_formdata(self, valuelist: list[str]) -> None:
        values = [v for v in valuelist if v != ""]
        try:
            if self.spec.is_many:
                self.data = parse_value(self.spec, values, current_lang())
            else:
                self.data = parse_value(self.spec, values[0], current_lang()) if values else None
        except FieldValueError as exc:
            self.data = [] if self.spec.is_many else None
            raise ValueError(str(exc)) from None

    def selected(self) -> list[tuple[Any, str]]:
        ids = self.data if self.spec.is_many else ([self.data] if self.data else [])
        missing = [pk for pk in ids or [] if pk not in self.labels]
        if missing:  # a form shown again after a refused save has ids, not titles
            self.labels.update(_titles(self.spec, missing))
        return [(pk, self.labels.get(pk, f"#{pk}")) for pk in ids or []]


def _titles(spec: FieldSpec, ids: list[Any]) -> dict[Any, str]:
    if spec.type != "user":  # records through the scoped layer: unreadable ones restricted
        return picker_titles(spec.to, ids)
    import sqlalchemy as sa
    from flask import current_app

    state = current_app.extensions["crm"]
    model = state.models.user_model
    rows = state.db.session.scalars(sa.select(model).where(model.id.in_(ids)))
    return {row.id: str(row) for row in rows}


def build_form(entity: EntitySpec, api_prefix: str, versioned: bool = False) -> type[DynamicForm]:
    """One form class per entity, with a field per editable declared field, and `owner` when the
    entity's form places it (the view decides per request who may set it); an edit form
    (`versioned`) also carries the record's version, hidden, so a save from a stale copy is refused."""
    attrs: dict[str, Any] = {}
    for f in entity.declared_fields:
        if not f.editable:
            continue
        attrs[f.name] = _form_field(f, api_prefix, entity.name)
    if owner_placed(entity):
        attrs["owner"] = _form_field(entity.field("owner"), api_prefix, entity.name)
    if versioned:
        attrs["version"] = HiddenField()
    return type(f"{entity.class_name}Form", (DynamicForm,), attrs)


def owner_placed(entity: EntitySpec) -> bool:
    """The entity's form sections name `owner` (docs/metadata.md, form)."""
    return any("owner" in section.fields for section in entity.form)


def _form_field(f: FieldSpec, api_prefix: str, entity: str = "") -> Field:
    """The input of one field: its field type decides (app/fieldtypes/)."""
    common: dict[str, Any] = {"label": lazy(f.label), "description": lazy(f.help) if f.help else ""}
    if f.required:
        common["validators"] = [MarksRequired()]
    return field_type(f.type).form_field(f, common, FormContext(api_prefix, entity))


def _search_field(f: FieldSpec, api_prefix: str) -> Field:
    if f.type in ("date", "datetime"):
        return StringField(lazy(f.label), render_kw={"class": "form-control crm-date-filter",
                                                     "placeholder": "YYYY-MM-DD", "autocomplete": "off"})
    return _form_field(f, api_prefix)


def build_search_form(entity: EntitySpec, columns: list[str], api_prefix: str) -> type[DynamicForm]:
    """Inputs FAB's filter bar clones per filter: pickers for links, selects for choices, and
    for dates a plain input that crm-filters.js turns into a native date input (or two for
    between, or a select of relative ranges): FAB's own called a date picker it never loads."""
    attrs = {name: _search_field(entity.field(name), api_prefix) for name in columns}
    return type(f"{entity.class_name}SearchForm", (DynamicForm,), attrs)


def form_values(form: DynamicForm, entity: EntitySpec) -> dict[str, Any]:
    """Typed values from a validated form, keyed by field name."""
    values = {}
    for f in entity.declared_fields:
        if f.editable and f.name in form:
            values[f.name] = field_type(f.type).form_data(form[f.name].data)
    return values


class ShownError(str):
    """A field's error as FAB's form template shows it, `{{ _(error) }}`. Jinja's newstyle gettext
    formats every result with `%`, so an error quoting what the user typed ('50%', '%s') raised
    TypeError: a 500 for a bad form. Not in a catalog, the message comes back from gettext as this
    object: its HTML doubles each '%' for that formatting to give back, and `%` with no values
    leaves it as it is (a template without autoescape)."""

    def __html__(self) -> str:
        return str(escape(str(self))).replace("%", "%%")

    def __mod__(self, values: Any) -> Any:
        return self if not values else str.__mod__(self, values)


def shown_errors(form: Any) -> Any:
    """`form` with its fields' errors made ShownErrors, before FAB's template renders them."""
    for field in form:
        if field.errors:
            field.errors = [m if isinstance(m, ShownError) else ShownError(m) for m in field.errors]
    return form
