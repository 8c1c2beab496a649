"""The record page's header: the record's title, Edit and Delete as the user's rights allow,
the stage path of its pipeline; and where a save or a delete lands.

FAB's show page titled every record "Opportunity", offered no Edit or Delete on the record
itself, and after a save sent the user back to wherever they were before (a blank add form,
the home page). Buttons are shown only when the role has the permission *and* the record's
row rules allow it; the routes check the same again (403), so hiding is not the guard.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import current_app, g, redirect, request

from app.clock import to_local
from app.i18n import _t
from app.metadata.spec import EntitySpec, PipelineSpec

from .labels import current_lang, label_value

_T = {
    "edit": _t("Edit"),
    "delete": _t("Delete"),
    "confirm": _t("Delete this record? This cannot be undone."),
    "needs": _t("needs"),
    "current": _t("current stage"),
}


def text(key: str) -> str:
    return _T[key].get(current_lang())


class RecordPageMixin:
    """Mixed into RecordModelView (which has entity, datamodel, _access, appbuilder)."""

    entity: EntitySpec

    def record_page_extras(self, pk: Any) -> dict[str, Any]:
        item = self.datamodel.get(pk, self._base_filters)  # type: ignore[attr-defined]
        if item is None:
            return {"crm_local_stamp": local_stamp}
        lang, access, name = current_lang(), self._access(), self.entity.name  # type: ignore[attr-defined]
        sm = self.appbuilder.sm  # type: ignore[attr-defined]
        return {
            "title": label_value(self.entity.label.get(lang), item, lang),
            "crm_page_title": f"{item} - {self.entity.label.get(lang)}",  # the browser tab: the record first
            "crm_record_title": str(item),
            "crm_can_edit": sm.has_access("can_write", name) and access.allows(name, "update", item),
            "crm_can_delete": sm.has_access("can_delete", name) and access.allows(name, "delete", item),
            "crm_record_version": item.version,
            "crm_stage_path": stage_path(self.entity, item, lang),
            "crm_text": {key: text(key) for key in _T},
            "crm_local_stamp": local_stamp,
        }

    # -- where a save lands: the record ------------------------------------------------------
    def _to_saved_record(self) -> Any:
        pk = getattr(g, "crm_saved_pk", None)
        if pk is None:
            return redirect(self.get_redirect())  # type: ignore[attr-defined]
        return redirect(f"{self.route_base}/show/{pk}")  # type: ignore[attr-defined]

    def post_add_redirect(self) -> Any:
        return self._to_saved_record()

    def post_edit_redirect(self) -> Any:
        return self._to_saved_record()

    def post_delete_redirect(self) -> Any:
        """Deleted from its own page: back to the list (the record page would be a 404)."""
        if request.form.get("crm_from") == "record":
            return redirect(f"{self.route_base}/list/")  # type: ignore[attr-defined]
        return redirect(self.get_redirect())  # type: ignore[attr-defined]


def convertible(entity: EntitySpec, item: Any, access: Any, sm: Any) -> bool:
    """Convert is offered only where ConvertRecord would run: a record in one of the `from`
    stages, a user who may change it, may create each record it makes and move it into the
    `to` stage, and a value for every required field the made records take from it."""
    spec = entity.convert
    if spec is None:
        return False
    pipeline = entity.pipeline_for(item)
    current = getattr(item, pipeline.field, None) if pipeline else None
    if not (current in spec.from_stages and sm.has_access("can_write", entity.name)
            and access.allows(entity.name, "update", item)):
        return False
    stage = next((s for s in pipeline.stages if s.name == spec.to_stage), None) if pipeline else None
    if stage is not None and stage.roles and not access.is_admin and not set(stage.roles) & set(access.roles):
        return False
    crm = current_app.extensions["crm"].spec
    for target in spec.targets:
        if access.scope(target.entity, "create") == "no":
            return False
        made = crm.entity(target.entity)
        for to_field, source in target.fields:
            f = made.field_map.get(to_field)
            if f is None or not f.required or source.startswith("$") or source not in entity.field_map:
                continue
            if getattr(item, entity.field(source).column_name, None) in (None, "", []):
                return False
    return True


def local_stamp(stamp: Any) -> str:
    """A stored instant (naive UTC, or ISO text with or without offset) on the CRM's clock."""
    moment = stamp if isinstance(stamp, dt.datetime) else dt.datetime.fromisoformat(str(stamp))
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return to_local(moment).strftime("%Y-%m-%d %H:%M")


def stage_path(entity: EntitySpec, item: Any, lang: str) -> list[dict[str, Any]]:
    """The stages of the record's pipeline in order, the current one marked; later stages say
    which fields their gate needs (`requires`) that the record has not filled yet."""
    pipeline: PipelineSpec | None = entity.pipeline_for(item)
    if pipeline is None:
        return []
    current = getattr(item, pipeline.field, None)
    names = [s.name for s in pipeline.stages]
    at = names.index(current) if current in names else -1
    path = []
    for index, stage in enumerate(pipeline.stages):
        missing = [entity.field(f).label.get(lang) for f in stage.requires
                   if f in entity.field_map and getattr(item, f, None) in (None, "", [])]
        path.append({"name": stage.name, "label": stage.label.get(lang), "current": index == at,
                     "done": 0 <= index < at and stage.outcome == "open", "outcome": stage.outcome,
                     "color": stage.color, "needs": missing if index > at else []})
    return path
