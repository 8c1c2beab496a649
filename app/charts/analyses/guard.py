"""What the viewer may read, for analyses: omission and row scope.

An analysis reads several entities (history joins records, ROI joins leads
and deals to campaigns). Each is asked here: an unreadable entity or a
hidden field the analysis needs makes the chart (or the part of it that
needs it) left out with a note naming what is hidden, never an error and
never the value; every statement is limited to the rows the viewer reads.
"""

from __future__ import annotations

from typing import Any

from app.security.scoped import Records

from .labels import text


class Omitted(Exception):
    """The viewer may not see something the analysis reads; the message says what."""


def hidden_reason(ctx: Any, entity_name: str, paths: tuple[str, ...] | list[str] = (),
                  what: str | None = None) -> str | None:
    """Why the viewer may not use `paths` of `entity_name` (None when they may).

    `what` names the part of the chart left out (a column), for partial omission.
    """
    lang = ctx.lang
    entity = ctx.spec.entity(entity_name)
    plural = entity.plural.get(lang)
    if ctx.access.scope(entity_name, "read") == "no":
        if what:
            return text("part_hidden_entity", lang, what=what, entity=plural)
        return text("hidden_entity", lang, entity=plural)
    for path in paths:
        if ctx.access.path_hidden(ctx.spec, entity, path):
            label = path_label(ctx, entity_name, path)
            if what:
                return text("part_hidden", lang, what=what, field=label, entity=entity.label.get(lang))
            return text("hidden_field", lang, field=label, entity=entity.label.get(lang))
    return None


def require(ctx: Any, entity_name: str, paths: tuple[str, ...] | list[str] = ()) -> Any:
    """The entity's model, or Omitted when the viewer may not read it or one of `paths`."""
    reason = hidden_reason(ctx, entity_name, paths)
    if reason is not None:
        raise Omitted(reason)
    return ctx.models.model(entity_name)


def scoped(ctx: Any, query: Any, model: Any, entity_name: str) -> Any:
    """`query` limited to the rows of `model` the viewer may read."""
    return Records(ctx.access, ctx.models, entity_name).where(query, model=model)


def path_label(ctx: Any, entity_name: str, path: str) -> str:
    """`Amount`, or `Account Industry` for a link path, in the viewer's language."""
    entity = ctx.spec.entity(entity_name)
    head, _, tail = path.partition(".")
    f = entity.field_map.get(head)
    if f is None:
        return path
    label = f.label.get(ctx.lang)
    if tail and f.to:
        target = ctx.spec.entity(f.to).field_map.get(tail)
        label = f"{label} {target.label.get(ctx.lang) if target else tail}"
    return label
