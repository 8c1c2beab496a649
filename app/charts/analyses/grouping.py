"""A chart's `group` for grouped analyses (win rate per owner, conversion per source).

Turns a Grouping into a SQL expression (a field, a link's field through an
outer join, or a date bucket), then names the raw keys the database returns
in the viewer's language and says which records lie behind each key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from app.charts.dates import bucket_end, bucket_expr, bucket_label, bucket_start
from app.charts.result import Drill
from app.metadata.spec import EntitySpec, FieldSpec, Grouping

from .labels import record_titles, text, user_names


@dataclass
class GroupColumn:
    """The SQL of a grouping and how to show and drill into its keys."""

    expr: Any
    field: FieldSpec
    path: str
    bucket: str | None = None
    join: tuple[Any, Any] | None = None  # (target alias, on clause) for link.field

    def apply_join(self, query: Any) -> Any:
        return query if self.join is None else query.outerjoin(*self.join)

    def key(self, raw: Any) -> Any:
        return bucket_start(raw) if self.bucket else raw

    def labels(self, ctx: Any, keys: list[Any]) -> dict[Any, str]:
        lang, f = ctx.lang, self.field
        found: dict[Any, str] = {}
        if f.type == "user":
            found = user_names(ctx, set(keys))
        elif f.type == "link":
            found = record_titles(ctx, f.target, set(keys))
        result: dict[Any, str] = {}
        for key in keys:
            if key is None:
                result[key] = text("empty", lang)
            elif self.bucket:
                result[key] = bucket_label(key, self.bucket)
            elif f.type == "choice":
                result[key] = f.choice_label(key, lang)
            elif f.type == "boolean":
                result[key] = text("yes" if key else "no", lang)
            else:
                result[key] = found.get(key, str(key))
        return result

    def order(self, keys: list[Any], labels: dict[Any, str]) -> list[Any]:
        """Choices in their declared order, dates in time, others by label; empty last."""
        if self.field.type == "choice" and not self.bucket:
            rank = {c.value: i for i, c in enumerate(self.field.choices)}
            return sorted(keys, key=lambda k: (k is None, rank.get(k, len(rank)), str(k)))
        if self.bucket:
            return sorted(keys, key=lambda k: (k is None, k or 0))
        return sorted(keys, key=lambda k: (k is None, labels.get(k, "")))

    def filters(self, key: Any) -> tuple[Drill, ...]:
        if key is None:
            return ((self.path, "empty", True),)
        if self.bucket:
            return ((self.path, "gte", key), (self.path, "lt", bucket_end(key, self.bucket)))
        return ((self.path, "eq", key),)


def group_column(ctx: Any, entity: EntitySpec, model: Any, grouping: Grouping) -> GroupColumn:
    head = entity.field(grouping.head)
    if grouping.tail is None:
        expr = getattr(model, head.column_name)
        if grouping.bucket:
            expr = bucket_expr(expr, grouping.bucket, ctx.session.get_bind().dialect.name)
        return GroupColumn(expr, head, grouping.path, grouping.bucket)
    target_entity = ctx.spec.entity(head.target)
    tail = target_entity.field(grouping.tail)
    target = aliased(ctx.models.model(target_entity.name))
    expr = getattr(target, tail.column_name)
    if grouping.bucket:
        expr = bucket_expr(expr, grouping.bucket, ctx.session.get_bind().dialect.name)
    on = target.id == getattr(model, head.column_name)
    return GroupColumn(expr, tail, grouping.path, grouping.bucket, (target, on))



def select_grouped(model: Any, group: GroupColumn | None, *columns: Any) -> Any:
    """SELECT [group key,] columns FROM model, grouped by the key when there is one.

    Without a group the rows carry no key: the caller reads `row[0]` as None.
    """
    if group is None:
        return sa.select(sa.null().label("group_key"), *columns).select_from(model)
    query = sa.select(group.expr.label("group_key"), *columns).select_from(model)
    return group.apply_join(query).group_by(group.expr)
