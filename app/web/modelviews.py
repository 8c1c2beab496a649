"""The generated CRUD screens: one FAB ModelView subclass per entity.

Writes go through the record commands (field errors land on the form),
filters are built fresh per request and checked, and FAB's legacy JSON
endpoints on ModelView are switched off so nothing bypasses the commands.
"""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, g, redirect, request
from flask_appbuilder import ModelView, expose, has_access
from flask_appbuilder.urltools import get_filter_args, get_order_args, get_page_args, get_page_size_args
from flask_appbuilder.widgets import ListWidget

from app.i18n import _t
from app.metadata.spec import EntitySpec
from app.models import ModelSet
from app.records.commands import (
    CommandError,
    CreateRecord,
    DeleteRecord,
    FieldErrors,
    RecordContext,
    StaleVersion,
    UpdateRecord,
    ValidationFailed,
    default_for,
    field_error_text,
)
from app.security.access import Access, allowed_ids, current_access

from .board import BoardViewMixin
from .bulk_view import BULK_VIEW_PERMISSIONS, BulkViewMixin
from .conditions import ConditionsViewMixin
from .context import request_record_context
from .datamodel import CrmInterface, eager_for
from .display import formatters
from .export import csv_response, export_columns
from .export_job import export_format, start_export, too_big
from .export_xlsx import xlsx_response
from .fieldrules import visible
from .filtering import FilterError, search_filter_for, typed_filter_value
from .filterops import filter_config
from .forms import build_form, build_search_form, form_values, owner_placed, shown_errors
from .labels import UI, current_lang, label_value, lazy, lazy_format
from .list_views_view import ListViewsMixin, sortable
from .listlayout import list_layout_cached, render_list_page
from .listrows import PageRows, list_read_rows, read_page_rows
from .listwidget import kept_widget
from .pool_view import POOL_VIEW_PERMISSIONS, PoolViewMixin
from .reassign_view import REASSIGN_METHOD_PERMISSIONS, ReassignViewMixin
from .record_page import RecordPageMixin, convertible
from .rowscope import row_scope
from .versioning import form_version, request_version, show_stale

_SYSTEM = _t("Record", "section")
EXPORT_QUEUED = _t("A large export: it runs in the background; download it here when done.")

# Every permission an entity has: four words, shared by screens and the API.
ENTITY_PERMISSIONS = ["can_read", "can_create", "can_write", "can_delete", "can_export", "can_import"]
VIEW_METHOD_PERMISSIONS = {
    "list": "read", "show": "read", "add": "create", "edit": "write", "delete": "delete",
    "export": "export", "convert": "write", "board": "read", "conditions": "read",
    **REASSIGN_METHOD_PERMISSIONS,
    **POOL_VIEW_PERMISSIONS,
    **BULK_VIEW_PERMISSIONS,
}
# FAB's legacy ModelView JSON API, file download and single-record actions bypass the commands:
# their routes are not registered at all. `action_post` (list actions) is ours: reassign_view.py.
LEGACY_ROUTES = ("download", "action", "api", "api_read", "api_get", "api_create",
                 "api_update", "api_delete", "api_column_add", "api_column_edit", "api_readvalues")


class CrmListWidget(ListWidget):
    """FAB's list widget with links built once per page and row-level edit/delete buttons; on the
    list screen (`crm_skeleton`) kept as a skeleton with the page's parts filled in (listwidget.py)."""

    template = "crm/widgets/list.html"

    def __call__(self, **kwargs: Any) -> Any:
        args = {**self.template_args, **kwargs}
        if args.get("crm_skeleton"):
            html = kept_widget(lambda marked: ListWidget.__call__(self, **marked), args)
            if html is not None:
                return html
        return super().__call__(**kwargs)


class LaterForm:
    """The list's search form, made on first use: the search bar (app/web/searchbar.py) reads it
    only to draw its inputs, which it keeps per version, language and columns; FAB's search
    template reads the drawn inputs, not the form. Making the WTForms form of every filterable
    column on every page cost about a twentieth of a list page's CPU."""

    def __init__(self, make: Any) -> None:
        self._make, self._form = make, None

    def _made(self) -> Any:
        if self._form is None:
            self._form = self._make()
        return self._form

    def __getattr__(self, name: str) -> Any:
        return getattr(self._made(), name)

    def __getitem__(self, key: Any) -> Any:
        return self._made()[key]

    def __contains__(self, key: Any) -> bool:
        return key in self._made()

    def __iter__(self) -> Any:
        return iter(self._made())

    def __len__(self) -> int:
        return len(self._made())


class RecordModelView(RecordPageMixin, ConditionsViewMixin, BoardViewMixin, ListViewsMixin, BulkViewMixin,
                      ReassignViewMixin, PoolViewMixin, ModelView):
    """Behaviour every generated screen shares; attributes come from the spec."""

    entity: EntitySpec
    crm_models: ModelSet
    list_template = "crm/list.html"
    show_template = "crm/show.html"
    list_widget = CrmListWidget
    search_filters: dict[str, Any] = {}
    base_permissions = ENTITY_PERMISSIONS
    method_permission_name = VIEW_METHOD_PERMISSIONS

    # -- context -------------------------------------------------------
    def _ctx(self) -> RecordContext:
        return request_record_context(self.datamodel.session)

    # -- field rules (per request: FAB fixes columns at start-up) --------
    def _access(self) -> Access:
        return current_access()

    def _visible(self, columns: Any) -> list[str]:
        return visible(self.crm_models.spec, self.entity, list(columns), self._access())

    def _get_list_widget(self, filters: Any, actions: Any = None, order_column: str = "",
                         order_direction: str = "", page: Any = None, page_size: Any = None,
                         widgets: Any = None, offer_actions: bool = False, **kwargs: Any) -> Any:
        """FAB's list widget, with only the columns (and sort) this user may see. List actions
        (`offer_actions`) only on the entity's own list: a record page's related lists would
        each render FAB's one `#action_form`."""
        widgets = widgets or {}
        if not order_column and self.base_order:
            order_column, order_direction = self.base_order
        if order_column and self._access().path_hidden(self.crm_models.spec, self.entity, order_column):
            order_column, order_direction = "", ""
        columns = self._visible(self.list_columns_now() if offer_actions else self.list_columns)
        joined = filters.get_joined_filters(self._base_filters)
        read = read_page_rows(self.datamodel, self.entity, columns, self.formatters_columns, self.route_base,
                              joined, order_column, order_direction, page, page_size or self.page_size,
                              self._access()) if list_read_rows() else None
        g.crm_list_read = "rows" if read is not None else "orm"  # which path drew the page (tests)
        count, rows = read if read is not None else self._orm_page(columns, joined, order_column, order_direction,
                                                                   page, page_size, offer_actions)
        widgets["list"] = self.list_widget(
            crm_rows=rows, crm_route=self.route_base,
            label_columns=self.label_columns, include_columns=columns, value_columns=rows.values,
            order_columns=[c for c in self.orderable(columns) if c in columns],
            formatters_columns=self.formatters_columns, page=page, page_size=page_size or self.page_size,
            count=count, pks=rows.pks, actions=self.list_actions() if offer_actions else {},
            crm_owner_picker=self.owner_picker_url(), crm_lang=current_lang(), crm_skeleton=offer_actions,
            **(self.bulk_list_args(count) if offer_actions else {}),
            filters=filters, modelview_name=self.__class__.__name__, **kwargs)
        return widgets

    def _orm_page(self, columns: list[str], joined: Any, order_column: str, order_direction: str, page: Any,
                  page_size: Any, offer_actions: bool) -> tuple[Any, PageRows]:
        """A list page read as ORM records (`CRM_LIST_READ=orm`, or a page the plain rows do not cover)."""
        datamodel = self.list_datamodel(columns) if offer_actions else self.datamodel
        count, items = datamodel.query(joined, order_column, order_direction, page=page,
                                       page_size=page_size or self.page_size)
        access, name = self._access(), self.entity.name
        may_update, may_delete = (allowed_ids(access, name, action, items) for action in ("update", "delete"))
        pks, values = self.datamodel.get_keys(items), list(self.datamodel.get_values(items, columns))
        return count, PageRows(columns=columns, formatters=self.formatters_columns, route=self.route_base, pks=pks,
                               values=values, rights={item.id: (item.id in may_update, item.id in may_delete)
                                                      for item in items},
                               versions={item.id: item.version for item in items})

    def _get_show_widget(self, pk: Any, item: Any, widgets: Any = None, actions: Any = None,
                         show_fieldsets: Any = None) -> Any:
        hidden = self._access().hidden_fields(self.entity)
        fieldsets = visible_sections(show_fieldsets or self.show_fieldsets, hidden)
        columns = [c for c in self.show_columns if c not in hidden]
        widgets = widgets or {}
        widgets["show"] = self.show_widget(
            pk=pk, label_columns=self.label_columns, include_columns=columns,
            value_columns=self.datamodel.get_values_item(item, columns),
            formatters_columns=self.formatters_columns, actions=actions or self.actions,
            fieldsets=fieldsets, modelview_name=self.__class__.__name__)
        return widgets

    def _ruled_form(self, form: Any, create: bool) -> Any:
        """Read-only fields render disabled (and are never taken from the post)."""
        read_only = [f.name for f in self.entity.declared_fields
                     if f.name in form and not self._access().writable(self.entity, f.name)]
        if "owner" in form and not (create and self._owner_settable()):
            read_only.append("owner")  # on edit the owner changes only through Reassign
        for name in read_only:
            form[name].render_kw = {**(form[name].render_kw or {}), "disabled": True}
        return form

    def _owner_settable(self) -> bool:
        """`owner` on the add form is taken from roles that may reassign (CreateRecord checks it)."""
        access = self._access()
        return access.is_admin or access.scope(self.entity.name, "reassign") != "no"

    def _get_add_widget(self, form: Any, exclude_cols: Any = None, widgets: Any = None) -> Any:
        return self._form_widget("add", form, exclude_cols, widgets)

    def _get_edit_widget(self, form: Any, exclude_cols: Any = None, widgets: Any = None) -> Any:
        return self._form_widget("edit", form, exclude_cols, widgets)

    def _form_widget(self, kind: str, form: Any, exclude_cols: Any, widgets: Any) -> Any:
        """FAB's add/edit widget without the role's hidden fields, nor the sections left empty."""
        excluded = [*(exclude_cols or []), *self._access().hidden_fields(self.entity)]
        widgets = widgets or {}
        widgets[kind] = getattr(self, f"{kind}_widget")(
            form=self._ruled_form(form, kind == "add"), include_cols=getattr(self, f"{kind}_columns"),
            exclude_cols=excluded, fieldsets=visible_sections(getattr(self, f"{kind}_fieldsets"), excluded))
        return widgets

    def _form_values(self, form: Any, create: bool = False) -> dict[str, Any]:
        values = form_values(form, self.entity)
        values = {k: v for k, v in values.items() if self._access().writable(self.entity, k)}
        if create and "owner" in form and form["owner"].data and self._owner_settable():
            values["owner"] = form["owner"].data
        return values

    # -- list ----------------------------------------------------------
    def _request_filters(self) -> Any:
        filters = self.datamodel.get_filters(self.search_columns, self.search_filters)
        get_filter_args(filters)
        checked = self.datamodel.get_filters(self.search_columns, self.search_filters)
        shown = self.datamodel.get_filters(self.search_columns, self.search_filters)  # as typed, for the bar
        for flt, value in zip(filters.filters, filters.values, strict=True):
            if self._access().path_hidden(self.crm_models.spec, self.entity, flt.column_name):
                # a filter on a hidden field would reveal its values: refused, and said so
                flash(f"Filter column '{flt.column_name}' cannot be filtered on", "warning")
                continue
            try:
                typed = typed_filter_value(self.entity, flt.column_name, flt.arg_name, value)
            except FilterError as exc:
                flash(exc.text(current_lang()), "warning")
                continue
            checked.add_filter(flt.column_name, type(flt), typed)
            shown.add_filter(flt.column_name, type(flt), value)
        query = request.args.get("q", "").strip()
        if query:
            checked.add_filter(self.entity.title_field if self.entity.title_field != "id"
                               else "id", self.quick_search, query)
        g.crm_filters, g.crm_filters_shown = checked, shown
        return checked

    def _list(self, **kwargs: Any) -> Any:
        name = self.__class__.__name__
        order_column, order_direction = get_order_args().get(name, ("", ""))
        if order_column and order_column not in self.orderable(self.list_columns_now()):
            order_column, order_direction = "", ""
        filters = self._request_filters()
        widgets = self._get_list_widget(
            filters=filters, order_column=order_column, order_direction=order_direction,
            page=get_page_args().get(name), page_size=get_page_size_args().get(name), offer_actions=True, **kwargs)
        form = LaterForm(self.search_form.refresh)  # made if the search bar's inputs are not kept
        self.update_redirect()
        return self._get_search_widget(form=form, widgets=widgets)

    @expose("/list/")
    @has_access
    def list(self) -> Any:
        """FAB's list, after the user's default view (a redirect) or chosen columns are settled.
        FAB's body is run without its own `has_access` (`__wrapped__`): the access decision above is
        the same one (same permission, same view), made once per request instead of twice."""
        opened = self.open_list_view()
        return opened if opened is not None else ModelView.list.__wrapped__(self)  # type: ignore[attr-defined]

    def _get_search_widget(self, form: Any = None, exclude_cols: Any = None, widgets: Any = None) -> Any:
        widgets = widgets or {}
        widgets["search"] = self.search_widget(
            route_base=self.route_base, form=form, include_cols=self._visible(self.search_columns),
            exclude_cols=exclude_cols or [], filters=getattr(g, "crm_filters_shown", self._filters))
        return widgets

    def _filter_config(self, lang: str) -> dict[str, Any]:
        """The filter bar's script config (operators per column, date and choice columns, relative
        ranges): fixed per view and language, so made once per language (never changed by a page)."""
        kept: dict[str, dict[str, Any]] = self.__dict__.setdefault("_crm_filter_configs", {})
        if lang not in kept:
            kept[lang] = filter_config(self.entity, self.datamodel.get_filters(self.search_columns,
                                                                               self.search_filters), lang)
        return kept[lang]

    def render_template(self, template: str, **kwargs: Any) -> Any:
        kwargs.setdefault("crm_entity", self.entity)
        kwargs.setdefault("crm_query", request.args.get("q", ""))
        kwargs.setdefault("crm_lang", current_lang())
        kwargs.setdefault("crm_route", self.route_base)
        kwargs.setdefault("crm_can_export", self._access().scope(self.entity.name, "export") != "no")
        kwargs.setdefault("crm_can_import", self._access().scope(self.entity.name, "import") != "no")
        kwargs.setdefault("crm_pool", self.pool_label())  # the pool (公海) button, for those who may claim
        if template == self.list_template:
            kwargs.setdefault("crm_views", g.get("crm_views"))
            kwargs.setdefault("crm_filter_config", {**self._filter_config(current_lang()), "active": any(
                flt.arg_name != "search" for flt in getattr(g, "crm_filters", self._filters).filters)})
        if template == self.show_template and "pk" in kwargs:
            extras = {**self.render_show_extras(kwargs["pk"]), **self.reassign_extras(kwargs["pk"]),
                      **self.record_page_extras(kwargs["pk"])}
            kwargs.update(extras)  # the record's own title replaces FAB's "Opportunity"
        if template == self.list_template and list_layout_cached():
            # FAB's BaseView.render_template's arguments; the layout kept, the list per request
            return render_list_page(template, {**kwargs, "base_template": self.appbuilder.base_template,
                                               "appbuilder": self.appbuilder, "current_app": current_app,
                                               **self.extra_args})
        return super().render_template(template, **kwargs)

    # -- writes --------------------------------------------------------
    def _add(self) -> Any:
        form = self.add_form.refresh()
        if request.method == "GET":
            for f in self.entity.declared_fields:
                if f.editable and f.default is not None and f.name in form:
                    form[f.name].process_data(default_for(f, self._ctx().user_id))
        errors = self._input_errors(form) if request.method == "POST" else None
        if errors is not None:
            values = {k: v for k, v in self._form_values(form, create=True).items() if k not in errors}
            command = CreateRecord(self._ctx(), self.entity.name, values, errors)
            if self._run(command, form):
                flash(str(UI["saved"].get(current_lang())), "success")
                return None
        if "owner" in form and not form["owner"].data:  # shown: the creator, unless one who may chooses another
            form["owner"].data = self._ctx().user_id
        self.update_redirect()
        return self._get_add_widget(form=shown_errors(form))

    def _edit(self, pk: Any) -> Any:
        item = self.datamodel.get(pk, self._base_filters)
        if not item:
            abort(404)
        if not self._access().allows(self.entity.name, "update", item):
            abort(403)
        if request.method == "POST":
            form = self.edit_form.refresh(request.form)
            if "owner" in form:  # read-only here: shown as stored, never taken from the post
                form["owner"].process_data(item.owner)
            errors = self._input_errors(form)
            if errors is not None:
                values = {k: v for k, v in self._form_values(form).items() if k not in errors}
                command = UpdateRecord(self._ctx(), self.entity.name, item, values, errors,
                                       version=form_version(form))
                if self._run(command, form):
                    flash(str(UI["saved"].get(current_lang())), "success")
                    return None
        else:
            form = self.edit_form.refresh(obj=item)
        self.update_redirect()
        widgets = self._get_edit_widget(form=shown_errors(form))
        return self._get_related_views_widgets(
            item, filters={}, orders=get_order_args(), pages=get_page_args(),
            page_sizes=get_page_size_args(), widgets=widgets)

    def _input_errors(self, form: Any) -> dict[str, list[str]] | None:
        """The form's errors by field (values that did not parse), for the command to report with its
        own (required, ranges, gates), so every mistake shows at once and not in two rounds; None
        when the post itself is bad (CSRF, the version): nothing is attempted."""
        form.validate()
        errors = {f.name: list(f.errors) for f in form if f.errors}
        return None if any(name not in self.entity.field_map for name in errors) else errors

    def _run(self, command: Any, form: Any) -> bool:
        try:
            saved = command.run()
            g.crm_saved_pk = getattr(saved, "id", None)  # a save lands on the record (record_page.py)
            return True
        except StaleVersion as exc:
            show_stale(form, self.entity, exc)
        except ValidationFailed as exc:
            for name, messages in exc.errors.items():
                if name in form:
                    form[name].errors = list(dict.fromkeys([*form[name].errors, *messages]))
                else:
                    flash(field_error_text(self.entity, name, messages, current_lang()), "danger")
            flash(str(UI["fix_errors"].get(current_lang())), "danger")
        except CommandError as exc:
            flash(exc.text(self.entity, current_lang()) if isinstance(exc, FieldErrors) else str(exc), "danger")
        return False

    @expose("/convert/<int:pk>", methods=["POST"])
    @has_access
    def convert(self, pk: int) -> Any:
        """Convert the record (e.g. a qualified lead) and show what was made."""
        from app.records.conversion import ConvertRecord

        item = self.datamodel.get(pk, self._base_filters)
        if not item or self.entity.convert is None:
            abort(404)
        try:
            made = ConvertRecord(self._ctx(), self.entity.name, item, version=request_version()).run()
        except ValidationFailed as exc:
            flash(" ".join(m for messages in exc.errors.values() for m in messages), "danger")
        except CommandError as exc:
            flash(str(exc), "danger")
        else:
            flash(", ".join(label_value(self.crm_models.spec.entity(k).label.get(current_lang()), v)
                            for k, v in made.items()), "success")
        return redirect(f"{self.route_base}/show/{pk}")

    def render_show_extras(self, pk: Any) -> dict[str, Any]:
        """Stage history and the convert button for the record page."""
        from .pipeline_api import stage_history
        from .timeline import record_timeline

        moves = stage_history(self.crm_models, self.entity.name, int(pk))
        labels = {c.value: c.label.get(current_lang()) for p in self.entity.pipelines
                  for c in self.entity.field(p.field).choices}
        # automations: field history (audit) merged with the stage moves, hidden fields left out
        timeline = record_timeline(self.datamodel.session, self.crm_models, self.entity, int(pk), self._access(),
                                   current_lang(), moves, labels)
        if not self.entity.pipelines:
            return {"crm_timeline": timeline}
        item = self.datamodel.get(pk, self._base_filters) if self.entity.convert else None
        return {"crm_timeline": timeline, "crm_history": moves,
                "crm_convert": self.entity.convert if item is not None and convertible(
                    self.entity, item, self._access(), self.appbuilder.sm) else None,  # only leads that can
                "crm_version": getattr(item, "version", ""),  # the conversion is refused if the lead changed
                "crm_stage_field_label": self.entity.field(self.entity.pipelines[0].field).label.get(current_lang()),
                "crm_stage_labels": {c.value: c.label.get(current_lang())
                                     for p in self.entity.pipelines for c in
                                     self.entity.field(p.field).choices}}

    @expose("/export")
    @has_access
    def export(self) -> Any:
        """The list as CSV: this list's filters and search, the user's export scope."""
        asked = self._request_filters()
        filters = asked.get_joined_filters(self.datamodel.get_filters().add_filter_list(row_scope("export")))
        order_column, order_direction = self.base_order or ("", "")
        query = self.datamodel.apply_all(self.datamodel.session.query(self.datamodel.obj), filters,
                                         order_column, order_direction)
        if too_big(query):  # above CRM_EXPORT_JOB_ROWS: a job writes the file, the jobs page has it
            start_export(self.entity, asked, (order_column, order_direction), export_format())
            flash(str(EXPORT_QUEUED.get(current_lang())), "info")
            return redirect("/crm/jobs/")
        columns = export_columns(self.entity, self._access().hidden_fields(self.entity))
        if export_format() == "xlsx":
            return xlsx_response(self.entity, query, columns, f"{self.entity.name}.xlsx")
        return csv_response(self.entity, query, columns, f"{self.entity.name}.csv")

    def _delete(self, pk: Any) -> None:
        item = self.datamodel.get(pk, self._base_filters)
        if not item:
            abort(404)
        try:
            DeleteRecord(self._ctx(), self.entity.name, item, version=request_version()).run()
            flash(str(UI["deleted"].get(current_lang())), "success")
        except CommandError as exc:
            flash(exc.text(self.entity, current_lang()) if isinstance(exc, FieldErrors) else str(exc), "danger")
        self.update_redirect()


def _not_routed(self: Any, *args: Any, **kwargs: Any) -> None:
    abort(404)


for _name in LEGACY_ROUTES:  # a plain method has no @expose, so FAB adds no URL for it
    setattr(RecordModelView, _name, _not_routed)


def visible_sections(fieldsets: Any, hidden: Any) -> list[Any]:
    """The form's sections without the fields this viewer does not get; a section left with none
    (computed fields only on a form, every field hidden from the role) is not drawn as an empty box."""
    kept = []
    for title, section in fieldsets:
        fields = [name for name in section["fields"] if name not in hidden]
        if fields:
            kept.append((title, {**section, "fields": fields}))
    return kept


def build_model_view(entity: EntitySpec, models: ModelSet, api_prefix: str) -> type[RecordModelView]:
    spec = models.spec
    model = models.model(entity.name)
    editable = [f.name for f in entity.declared_fields if f.editable] + (["owner"] if owner_placed(entity) else [])
    shown = [f.name for f in entity.fields if f.type != "id"]
    sections = [(lazy(s.title), {"fields": [n for n in s.fields if n in editable]}) for s in entity.form]
    placed = {n for s in entity.form for n in s.fields}
    show_sections = [(lazy(s.title), {"fields": list(s.fields)}) for s in entity.form] + [
        (lazy_format(_SYSTEM), {"fields": [n for n in ("owner", "created_by", "created_on", "changed_by",
                                                       "changed_on") if n not in placed], "expanded": False})]
    columns = list(entity.list.columns)
    labels = {f.name: lazy(f.label) for f in entity.fields}
    for column in columns:
        if "." in column:
            head, tail = column.split(".", 1)
            link = entity.field(head)
            target = spec.entity(link.to) if link.type == "link" and link.to else None
            labels[column] = lazy(target.field(tail).label) if target else tail.replace("_", " ")
    filters = list(dict.fromkeys(entity.list.filters))
    order_columns = [c for c in columns if "." not in c and sortable(entity.field(c))]
    attrs: dict[str, Any] = {
        "entity": entity,
        "crm_models": models,
        "datamodel": CrmInterface(model, eager_for(entity, columns)),
        "route_base": f"/crm/{entity.name}",
        "class_permission_name": entity.name,
        "list_title": lazy(entity.plural),
        "show_title": lazy_format(UI["show"], entity=entity.label),
        "add_title": lazy_format(UI["add"], entity=entity.label),
        "edit_title": lazy_format(UI["edit"], entity=entity.label),
        "list_columns": columns,
        "show_columns": shown,
        "add_columns": editable,
        "edit_columns": editable,
        "add_fieldsets": sections,
        "edit_fieldsets": sections,
        "show_fieldsets": show_sections,
        "label_columns": labels,
        "description_columns": {f.name: lazy(f.help) for f in entity.fields if f.help},
        "search_columns": filters,
        "order_columns": order_columns,
        "formatters_columns": formatters(entity, spec),
        "page_size": entity.list.page_size,
        "crm_api_prefix": api_prefix,
        "add_form": build_form(entity, api_prefix),
        "edit_form": build_form(entity, api_prefix, versioned=True),
        "search_form": build_search_form(entity, filters, api_prefix),
        "quick_search": search_filter_for(entity, models),
        "base_filters": row_scope("read"),
    }
    # FAB searches every column when `search_columns` is empty; ours are the metadata's filters only
    attrs["search_exclude_columns"] = [c for c in attrs["datamodel"].get_search_columns_list() if c not in filters]
    if entity.list.order:
        attrs["base_order"] = entity.list.order
    return type(f"{entity.class_name}View", (RecordModelView,), attrs)


