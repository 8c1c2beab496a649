"""Entity renames: `renamed_from` on an entity renames its table and keeps the rows.

Autogenerate sees a renamed entity as a new empty table and an old one to keep.
Instead the plan compares the database with the metadata *as if the entity still
had its old name* (so a field added in the same change is added to the old table),
then renames: the table, its link tables, the indexes and constraints named after
them, and the entity name stored in MetaCRM's own rows (stage history, counters,
saved reports). Links from other tables follow the table (PostgreSQL keeps them by
oid; SQLite >= 3.26 rewrites them). Every step has its reverse, for rollback.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from alembic.operations import ops

from app.metadata.spec import CrmSpec, EntitySpec
from app.models import ModelSet, build_models

from .sort_indexes import is_sort_index

# MetaCRM's own tables that store an entity's name in a column `entity`.
ENTITY_COLUMNS = ("crm_stage_history", "crm_counter", "crm_saved_report", "crm_record_change", "crm_list_view",
                  "crm_list_pref")


@dataclass
class EntityRename:
    old: str
    new: str
    entity: EntitySpec
    up: list[Any] = field(default_factory=list)
    down: list[Any] = field(default_factory=list)  # in the order to run them


@dataclass
class RenameCheck:
    """What the database says about the entity renames of the metadata."""

    renames: list[EntityRename]
    refused: list[tuple[EntitySpec, str]]  # (entity, why), located by the caller
    before: ModelSet | None  # the models as if the renamed entities kept their old names


def find_renames(connection: sa.Connection, models: ModelSet) -> RenameCheck:
    tables = set(sa.inspect(connection).get_table_names())
    spec = models.spec
    fresh = not tables & ({e.table_name for e in spec.entities} | {e.renamed_from for e in spec.entities})
    renames: list[EntityRename] = []
    refused: list[tuple[EntitySpec, str]] = []
    for entity in spec.entities:
        old, new = entity.renamed_from, entity.table_name
        if old is None or fresh or (new in tables and old not in tables):
            continue  # nothing to rename, or renamed already
        if old in tables and new in tables:
            refused.append((entity, f"renamed_from '{old}': the database has both tables {old} and {new}; "
                                    f"the name is taken (drop or rename one of them by hand)"))
        elif old not in tables:
            refused.append((entity, f"renamed_from '{old}' names no table of the database"))
        else:
            renames.append(EntityRename(old, new, entity))
    before = build_models(_as_before(spec, {r.new: r.old for r in renames})) if renames else None
    return RenameCheck(renames, refused, before)


def _as_before(spec: CrmSpec, old_of: dict[str, str]) -> CrmSpec:
    """The spec with each renamed entity under its old name, links to it too."""
    entities = []
    for entity in spec.entities:
        fields = tuple(dataclasses.replace(f, to=old_of[f.to]) if f.to in old_of else f for f in entity.fields)
        entities.append(dataclasses.replace(entity, name=old_of.get(entity.name, entity.name), fields=fields))
    return dataclasses.replace(spec, entities=tuple(entities))


def table_pairs(rename: EntityRename, before: ModelSet, after: ModelSet) -> list[tuple[sa.Table, sa.Table]]:
    """The entity's table and its many-to-many link tables, before and after."""
    pairs = [(before.metadata.tables[rename.old], after.metadata.tables[rename.new])]
    for f in rename.entity.declared_fields:
        if f.is_many:
            pairs.append((before.link_tables[(rename.old, f.name)], after.link_tables[(rename.new, f.name)]))
    return pairs


def build_rename_ops(rename: EntityRename, before: ModelSet, after: ModelSet, dialect: str,
                     core_tables: set[str]) -> None:
    """Fill rename.up and rename.down with the Alembic operations."""
    for old_table, new_table in table_pairs(rename, before, after):
        rename.up.append(ops.RenameTableOp(old_table.name, new_table.name))
        rename.down.insert(0, ops.RenameTableOp(new_table.name, old_table.name))
        for up, down in _names(old_table, new_table, dialect):
            rename.up.extend(up)
            rename.down[0:0] = down
    for table in ENTITY_COLUMNS:
        if table in core_tables:
            rename.up.append(ops.ExecuteSQLOp(_set_entity(table, rename.old, rename.new)))
            rename.down.insert(0, ops.ExecuteSQLOp(_set_entity(table, rename.new, rename.old)))


def _set_entity(table: str, old: str, new: str) -> str:
    return f"UPDATE \"{table}\" SET entity = '{new}' WHERE entity = '{old}'"


def _names(old: sa.Table, new: sa.Table, dialect: str) -> list[tuple[list[Any], list[Any]]]:
    """Index and constraint names derived from the table name, renamed (up, down) after the table
    (and back before the table goes back: both on the new name)."""
    steps: list[tuple[list[Any], list[Any]]] = []
    def key(index: sa.Index) -> tuple[Any, ...]:  # a collated index has its column's name too
        return (*(c.name for c in index.columns), is_sort_index(index.name, "index"))

    new_indexes = {key(i): i for i in new.indexes}
    for index in old.indexes:
        twin = new_indexes.get(key(index))
        if twin is None or index.name == twin.name or (dialect != "postgresql" and key(index)[-1]):
            continue  # (collated indexes exist on PostgreSQL only: sort_indexes.py)
        a, b = str(index.name), str(twin.name)
        if dialect == "postgresql":
            steps.append(([ops.ExecuteSQLOp(f'ALTER INDEX "{a}" RENAME TO "{b}"')],
                          [ops.ExecuteSQLOp(f'ALTER INDEX "{b}" RENAME TO "{a}"')]))
        else:
            cols = [c.name for c in index.columns]
            steps.append(([ops.DropIndexOp(a, table_name=new.name),
                           ops.CreateIndexOp(b, new.name, cols, unique=index.unique)],
                          [ops.DropIndexOp(b, table_name=new.name),
                           ops.CreateIndexOp(a, new.name, cols, unique=index.unique)]))
    if dialect != "postgresql":
        # SQLite keeps constraint names inside the table's DDL; only unique ones are compared,
        # and renaming one is a batch copy of the table.
        for a, b, cols in _constraint_names(old, new, only=sa.UniqueConstraint):
            steps.append(([ops.ModifyTableOps(new.name, [ops.DropConstraintOp(a, new.name, type_="unique"),
                                                         ops.CreateUniqueConstraintOp(b, new.name, cols)])],
                          [ops.ModifyTableOps(new.name, [ops.DropConstraintOp(b, new.name, type_="unique"),
                                                         ops.CreateUniqueConstraintOp(a, new.name, cols)])]))
        return steps
    for a, b, _cols in _constraint_names(old, new):
        steps.append(([ops.ExecuteSQLOp(f'ALTER TABLE "{new.name}" RENAME CONSTRAINT "{a}" TO "{b}"')],
                      [ops.ExecuteSQLOp(f'ALTER TABLE "{new.name}" RENAME CONSTRAINT "{b}" TO "{a}"')]))
    if "id" in old.c and old.c.id.primary_key:
        a, b = f"{old.name}_id_seq", f"{new.name}_id_seq"
        steps.append(([ops.ExecuteSQLOp(f'ALTER SEQUENCE IF EXISTS "{a}" RENAME TO "{b}"')],
                      [ops.ExecuteSQLOp(f'ALTER SEQUENCE IF EXISTS "{b}" RENAME TO "{a}"')]))
    return steps


def _constraint_names(old: sa.Table, new: sa.Table, only: Any = None) -> list[tuple[str, str, list[str]]]:
    kinds = only or (sa.PrimaryKeyConstraint, sa.UniqueConstraint, sa.ForeignKeyConstraint)

    def by_columns(table: sa.Table) -> dict[tuple[str, tuple[str, ...]], str]:
        out = {}
        for c in table.constraints:
            if isinstance(c, kinds) and c.name:
                out[(type(c).__name__, tuple(col.name for col in c.columns))] = str(c.name)
        return out
    before, after = by_columns(old), by_columns(new)
    return [(name, after[key], list(key[1])) for key, name in before.items() if key in after and after[key] != name]
