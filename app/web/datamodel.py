"""FAB's SQLAInterface, with the relationships a page shows loaded up front.

Relationships are lazy in the models (loading a maker must not load its
owner, creator and changer); each view names the ones its columns show and
they are fetched with one SELECT ... IN per relationship, whatever the page
size (no N+1).
"""

from __future__ import annotations

from typing import Any

from flask_appbuilder.models.filters import Filters
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.utils.base import get_column_root_relation, is_column_dotted
from sqlalchemy.orm import joinedload, selectinload

from app.security.access import current_access

from .counting import ListCount, capped_count, count_cap, page_count
from .filtering import EscapingFilterConverter, LinkedTo
from .linksort import list_sort, reader_collation


class LightFilters(Filters):
    """Filters that share the converted per-column filter lists of a template.

    FAB's Filters converts every column of the model each time one is made,
    and it makes several per request (get_filters, get_joined_filters, copy).
    """

    @classmethod
    def like(cls, template: Filters) -> LightFilters:
        obj = cls.__new__(cls)
        obj.__dict__.update(template.__dict__)
        obj.filters, obj.values = [], []
        return obj

    def get_joined_filters(self, filters: Filters) -> LightFilters:
        joined = LightFilters.like(self)
        joined.filters = self.filters + filters.filters
        joined.values = self.values + filters.values
        return joined

    def copy(self) -> LightFilters:
        copied = LightFilters.like(self)
        copied.filters, copied.values = list(self.filters), list(self.values)
        return copied


class CrmInterface(SQLAInterface):
    filter_converter_class = EscapingFilterConverter
    FilterRelationManyToManyEqual = LinkedTo  # a record page's to-many related lists (FAB's name)

    def __init__(self, obj: Any, eager: dict[str, set[str]] | None = None, session: Any = None):
        super().__init__(obj, session=session)
        self.eager = dict(eager or {})  # relationship -> columns of the target a page shows
        self._filter_templates: dict[Any, Filters] = {}

    def get_filters(self, search_columns: Any = None, search_filters: Any = None) -> LightFilters:
        key = (tuple(search_columns or ()), id(search_filters) if search_filters else None)
        if key not in self._filter_templates:
            self._filter_templates[key] = super().get_filters(search_columns, search_filters)
        return LightFilters.like(self._filter_templates[key])

    def get_inner_filters(self, filters: Any) -> LightFilters:
        """FAB's inner filters (the non-dotted and to-one ones), from the converted template
        rather than converting every column of the model again on every query."""
        inner = self.get_filters()
        if filters:
            inner.add_filter_list([(flt.column_name, flt.__class__, value)
                                   for flt, value in zip(filters.filters, filters.values, strict=True)
                                   if not is_column_dotted(flt.column_name)
                                   or self.is_relation_many_to_one(get_column_root_relation(flt.column_name))
                                   or self.is_relation_one_to_one(get_column_root_relation(flt.column_name))])
        return inner

    def query(self, filters: Any = None, order_column: str = "", order_direction: str = "",
              page: Any = None, page_size: Any = None, select_columns: Any = None,
              outer_default_load: bool = False) -> tuple[int, list[Any]]:
        """A page as the ids (filtered, sorted, cut: narrow rows, index friendly) joined to
        their rows with the relationships the page shows, in one statement (two when sorted
        by a related column: the ids, then the rows). Sorting full-width rows to cut a deep
        page cost 30-50% more on PostgreSQL (bench/). The count is capped
        (app/web/counting.py): a `ListCount` saying whether it is exact."""
        if page_size is None or select_columns:
            return super().query(filters, order_column, order_direction, page, page_size,
                                 select_columns, outer_default_load)
        offset = (page or 0) * page_size
        ids_query = super().apply_all(self.session.query(self.obj), filters, order_column, order_direction)
        ids_query = ids_query.offset(offset).limit(page_size + 1)  # one more: is there a next page?
        if order_column and not is_column_dotted(order_column):  # the ids and their rows in one statement
            items = self.rows_of_page(ids_query.with_entities(self.obj.id).subquery(), order_column,
                                      order_direction)
        else:
            items = self.rows([row[0] for row in ids_query.with_entities(self.obj.id)])
        has_next, items = len(items) > page_size, items[:page_size]
        if not has_next and (items or not offset):  # the last page: the total is known, no count at all
            return ListCount(offset + len(items)), items
        base = ids_query.with_entities(self.obj.id).offset(None).limit(None)  # the filters, built once
        counted = capped_count(self.session, base, count_cap())
        return page_count(counted, offset, len(items), has_next), items

    def rows_of_page(self, page_ids: Any, order_column: str, order_direction: str) -> list[Any]:
        """The records whose ids the `page_ids` subquery cuts (filtered, sorted, limited), joined
        to it and sorted again the same way (FAB's order has the id as its tie breaker, so
        the order is the subquery's), with the relationships the page shows: one statement
        where the ids and then their rows took two round trips."""
        rows = self.session.query(self.obj).join(page_ids, page_ids.c.id == self.obj.id)
        if self.eager:
            rows = rows.options(*[self._load(name, tails, joined=True) for name, tails in self.eager.items()])
        return list(self.apply_order_by(rows, order_column, order_direction, add_pk=True))

    def rows(self, ids: list[Any]) -> list[Any]:
        """The records of `ids`, in that order, with the relationships the page shows."""
        if not ids:
            return []
        rows = self.session.query(self.obj).filter(self.obj.id.in_(ids))
        if self.eager:
            rows = rows.options(*[self._load(name, tails, joined=True) for name, tails in self.eager.items()])
        by_id = {row.id: row for row in rows}
        return [by_id[i] for i in ids if i in by_id]

    def apply_order_by(self, query: Any, order_column: str, order_direction: str, aliases_mapping: Any = None,
                       bypass_many_to_many: bool = False, add_pk: bool = False) -> Any:
        """FAB's order, but a link or user column by its target's title and text in the reader's
        collation (app/web/linksort.py)."""
        sort = list_sort(self.obj, order_column, current_access(), reader_collation()) if order_column else None
        if sort is None:
            return super().apply_order_by(query, order_column, order_direction, aliases_mapping,
                                          bypass_many_to_many, add_pk)
        return sort.apply(query, order_direction, self.obj.id)

    def apply_all(self, query: Any, *args: Any, **kwargs: Any) -> Any:
        query = super().apply_all(query, *args, **kwargs)
        if self.eager:
            query = query.options(*[self._load(name, tails) for name, tails in self.eager.items()])
        return query

    def _load(self, name: str, tails: set[str], joined: bool = False) -> Any:
        """The columns the page shows (id, title, paths) of a relationship: joined into the page's
        own SELECT for a link when `joined` (a page of ids: no extra statement), else and for a
        collection one SELECT ... IN (exports add their own loads to apply_all's query)."""
        prop = getattr(self.obj, name).property
        option = joinedload(getattr(self.obj, name)) if joined and not prop.uselist \
            else selectinload(getattr(self.obj, name))
        target = prop.mapper.class_
        entity = getattr(target, "__entity__", None)
        if entity is None:
            return option
        wanted = {entity.title_field, *tails} - {"id"}
        columns = [getattr(target, entity.field(n).column_name) for n in wanted
                   if n in entity.field_map and not entity.field(n).is_many]
        return option.load_only(target.id, *columns)


def eager_for(entity: Any, columns: list[str]) -> dict[str, set[str]]:
    """Relationships among the given columns, each with the target columns paths name."""
    eager: dict[str, set[str]] = {}
    for column in columns:
        head, _, tail = column.partition(".")
        f = entity.field_map.get(head)
        if f is not None and f.type in ("link", "links", "user"):
            eager.setdefault(head, set())
            if tail:
                eager[head].add(tail)
    return eager
