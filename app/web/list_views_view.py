"""Saved views and the column chooser on the list screen (data: app/web/list_views.py).

A view opens as the list's own URL (its filters, search and sort) plus `view=<id>`,
which picks its columns; a bare list opens the user's default view, if any, else the
columns the chooser remembered, else the metadata's. Everything is re-checked for
the viewer: columns they may not read drop out, and so do filters on them.
"""

from __future__ import annotations

import threading
from typing import Any

from flask import current_app, g, redirect, request

from app.i18n import _t
from app.security.authcache import AuthCache

from .datamodel import CrmInterface, eager_for
from .labels import current_lang
from .list_views import checked_query, read_pref, readable_columns, visible_views

UI: dict[str, dict[str, str]] = {
    "views": _t("Views"),
    "standard": _t("Standard list"),
    "save": _t("Save this view…"),
    "name": _t("View name"),
    "share": _t("Share with roles"),
    "default": _t("Open this view by default"),
    "columns": _t("Columns"),
    "apply": _t("Apply"),
    "reset": _t("Standard columns"),
    "up": _t("Move up"),
    "down": _t("Move down"),
    "saved": _t("View saved."),
    "delete": _t("Delete this view"),
}


_CACHE_LOCK = threading.Lock()


def views_cache(state: Any) -> AuthCache:
    """Each app's memory of users' views and preferences, cleared by any write to their tables
    (through Redis for every process when REDIS_URL is set): a warm list reads them without SQL."""
    with _CACHE_LOCK:
        cache = getattr(state, "crm_views_cache", None)
        if cache is None:
            config = current_app.config
            cache = AuthCache(float(config["CRM_ACCESS_CACHE_SECONDS"]), config.get("REDIS_URL") or "",
                              tables=("crm_list_view", "crm_list_pref"), redis_key="crm:list-view-generation",
                              generations=state.auth_cache.generations)  # read with the app's others
            cache.watch(state.db.engine)
            state.crm_views_cache = cache
        return cache


def ui(key: str) -> str:
    table = UI[key]
    return table.get(current_lang()) or table["en"]


class ListViewsMixin:
    """Mixed into RecordModelView: the list's columns and views for this user and request."""

    def _tables(self) -> tuple[Any, Any]:
        core = current_app.extensions["crm"].models.core
        return core["crm_list_view"], core["crm_list_pref"]

    def view_href(self, view: Any) -> str:
        query = checked_query(view.query, self.entity, self._access())  # type: ignore[attr-defined]
        return f"{self.route_base}/list/?{query}{'&' if query else ''}view={view.id}"  # type: ignore[attr-defined]

    def open_list_view(self) -> Any:
        """Choose this request's columns (g.crm_list_columns); a redirect when the default view opens."""
        access, session = self._access(), self.datamodel.session  # type: ignore[attr-defined]
        view_table, pref_table = self._tables()
        name = self.entity.name  # type: ignore[attr-defined]
        state = current_app.extensions["crm"]
        default, chosen, views = views_cache(state).get(
            ("list", access.user_id, tuple(sorted(access.roles)), name),
            lambda: (*read_pref(session, pref_table, access.user_id, name),
                     visible_views(session, view_table, name, access)))
        active = next((v for v in views if str(v.id) == request.args.get("view")), None)
        if active is None and not request.args and default is not None:
            opened = next((v for v in views if v.id == default), None)
            if opened is not None:
                return redirect(self.view_href(opened))
        readable = readable_columns(self.entity, access)  # type: ignore[attr-defined]
        columns = [c for c in (active.columns if active else chosen) if c in readable]
        g.crm_list_columns = columns or None
        current = columns or self._visible(self.list_columns)  # type: ignore[attr-defined]
        g.crm_views = {
            "api": f"{current_app.config['CRM_API_PREFIX']}/listviews/{name}/",
            "views": [{"id": v.id, "name": v.name, "href": self.view_href(v), "mine": v.owner_id == access.user_id,
                       "default": v.id == default} for v in views],
            "active": active.id if active else None, "active_mine": bool(active and active.owner_id == access.user_id),
            "standard": f"{self.route_base}/list/?view=",  # type: ignore[attr-defined]
            "columns": current, **self._views_texts(current_lang(), tuple(readable))}
        return None

    def _views_texts(self, lang: str, readable: tuple[str, ...]) -> dict[str, Any]:
        """The column chooser's labels, the roles to share with and the menu's words: fixed per
        language and readable columns (the app's spec and labels), so made once per pair and
        kept on the view (bounded); a page gets them as they are (the template only reads them)."""
        kept: dict[tuple[str, tuple[str, ...]], dict[str, Any]] = self.__dict__.setdefault("_crm_views_texts", {})
        texts = kept.get((lang, readable))
        if texts is None:
            labels = self.label_columns  # type: ignore[attr-defined]
            texts = {"available": [{"name": c, "label": str(labels.get(c, c))} for c in readable],
                     "roles": [{"name": r.name, "label": r.label.get(lang)}
                               for r in current_app.extensions["crm"].spec.roles],
                     "ui": {k: ui(k) for k in UI}}
            if len(kept) >= 64:
                kept.clear()
            kept[(lang, readable)] = texts
        return texts

    def list_columns_now(self) -> list[str]:
        """The columns of this request's list: chosen (view or chooser) or the metadata's."""
        return list(getattr(g, "crm_list_columns", None) or self.list_columns)  # type: ignore[attr-defined]

    def list_datamodel(self, columns: list[str]) -> Any:
        """The datamodel, eager-loading the links among `columns` when they differ from the metadata's."""
        if columns == list(self.list_columns):  # type: ignore[attr-defined]
            return self.datamodel  # type: ignore[attr-defined]
        return CrmInterface(self.datamodel.obj, eager_for(self.entity, columns),  # type: ignore[attr-defined]
                            session=self.datamodel.session)  # type: ignore[attr-defined]

    def orderable(self, columns: list[str]) -> list[str]:
        entity = self.entity  # type: ignore[attr-defined]
        extra = [c for c in columns if "." not in c and c in entity.field_map and sortable(entity.field(c))]
        return list(dict.fromkeys([*self.order_columns, *extra]))  # type: ignore[attr-defined]


def sortable(field: Any) -> bool:
    """May a list be sorted on this field's column? A link or user by its target's title
    (app/web/linksort.py); not a collection or multichoice. The API's `order_columns` are the same."""
    return field.type not in ("links", "multichoice")
