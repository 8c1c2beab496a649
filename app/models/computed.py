"""Formula, lookup and rollup fields on the generated models.

Not stored: a `column_property` (a SQL expression, or a correlated subquery for
lookups and rollups), so lists, filters, sorts, charts and exports compute it
in the same statement. Rollups run without row scope ("system rights"): an open
pipeline sums every child opportunity, also those the reader may not open.
They are correct after any write to children by construction: nothing is cached.
Stored (a formula with `stored: true`, a lookup with `copy_at_create`): a real
column, written by an UPDATE … SET col = <expression> after each insert (and,
for formulas, each update) of the record, so it can be indexed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import column_property
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.expression import ColumnElement

from app.expr import compile_sql, model_resolver, parse
from app.expr.sql import RoundHalfUp
from app.metadata.spec import FieldSpec

from .columns import column_type

if TYPE_CHECKING:
    from .builder import ModelSet

ROUNDED = ("money", "decimal", "percent")


def computed_expression(models: ModelSet, entity: str, field: FieldSpec) -> ColumnElement:
    """The SQL value of a computed field on the model of `entity`, typed like the field."""
    computed = field.computed
    assert computed is not None
    model = models.model(entity)
    timezone = models.spec.timezone
    if computed.kind == "formula":
        value = compile_sql(parse(str(computed.expression)), model, timezone=timezone)
        if field.type in ROUNDED:
            value = RoundHalfUp(value, sa.literal(field.scale, sa.Integer()))
    elif computed.kind == "lookup":
        link, _, leaf = str(computed.path).partition(".")
        value = model_resolver(model)((link, leaf))
    else:
        value = _rollup(models, entity, field)
    return sa.type_coerce(value, column_type(field))


def _rollup(models: ModelSet, entity: str, field: FieldSpec) -> ColumnElement:
    computed = field.computed
    assert computed is not None and computed.to and computed.via
    child = models.model(computed.to)
    child_spec = models.spec.entity_map[computed.to]
    parent = models.model(entity)
    via = sa.inspect(child).columns[child_spec.field(computed.via).column_name]
    if computed.function == "count":
        measure: ColumnElement = sa.func.count(sa.inspect(child).columns["id"])
    else:
        of = sa.inspect(child).columns[str(computed.of)]
        measure = getattr(sa.func, str(computed.function))(of)
    conditions = [via == sa.inspect(parent).columns["id"]]
    if computed.where:
        conditions.append(compile_sql(parse(computed.where), child, timezone=models.spec.timezone))
    query: ColumnElement = sa.select(measure).where(*conditions).correlate_except(child).scalar_subquery()
    if computed.function in ("count", "sum"):
        query = sa.func.coalesce(query, 0)
    if computed.function in ("sum", "avg") and field.type in ROUNDED:
        query = sa.cast(query, column_type(field))  # PostgreSQL: 0 and long averages at the field's scale
    return query


def add_computed_fields(models: ModelSet) -> None:
    """Add every computed field, each after the computed fields it reads."""
    stored: dict[str, list[FieldSpec]] = {}
    for entity, name in models.spec.computed_order:
        field = models.spec.entity_map[entity].field(name)
        assert field.computed is not None
        if field.computed.stored:
            stored.setdefault(entity, []).append(field)
            continue
        mapper: Any = sa.inspect(models.model(entity))
        mapper.add_property(name, column_property(computed_expression(models, entity, field)))
    for entity, fields in stored.items():
        _install_stored(models, entity, fields)


def _install_stored(models: ModelSet, entity: str, fields: list[FieldSpec]) -> None:
    model = models.model(entity)
    table: sa.Table = model.__table__

    def write(connection: Any, target: Any, creating: bool) -> None:
        for field in fields:
            assert field.computed is not None
            is_lookup = field.computed.kind == "lookup"
            if is_lookup and not creating:
                continue  # a copy at create is kept as it was
            column = table.c[field.name]
            where = [table.c.id == target.id]
            if is_lookup:
                where.append(column.is_(None))
            expression = computed_expression(models, entity, field)
            connection.execute(sa.update(table).where(*where).values({column: expression}))
            value = connection.execute(sa.select(column).where(table.c.id == target.id)).scalar()
            set_committed_value(target, field.name, value)

    event.listen(model, "after_insert", lambda _m, conn, target: write(conn, target, True))
    event.listen(model, "after_update", lambda _m, conn, target: write(conn, target, False))


def refresh_stored(connection: sa.Connection, models: ModelSet) -> None:
    """Recompute every stored formula and fill empty copied lookups on all rows
    (after bulk writes that bypass the ORM: demo data, imports)."""
    for entity, name in models.spec.computed_order:
        field = models.spec.entity_map[entity].field(name)
        assert field.computed is not None
        if not field.computed.stored:
            continue
        table: sa.Table = models.model(entity).__table__
        update = sa.update(table).values({table.c[name]: computed_expression(models, entity, field)})
        if field.computed.kind == "lookup":
            update = update.where(table.c[name].is_(None))
        connection.execute(update)
