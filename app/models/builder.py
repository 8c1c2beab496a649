"""Build SQLAlchemy models from the spec, on a fresh registry per build.

FAB's global `Model` cannot hold the same dynamic classes twice in one
process (FAB_NOTES), so each build gets its own registry and MetaData.
Users are reached through `UserRef`, a read-only mapping of a few columns
of FAB's `ab_user`: a plain foreign key, never the User model itself, so a
record can never serialize a password hash and rebuilds leak no mappers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import column_property, registry, relationship

from app.fieldtypes import field_type
from app.i18n.collation import indexed_collations, sort_index_name
from app.metadata.spec import CrmSpec, EntitySpec, FieldSpec

from .columns import ON_DELETE_SQL, column_type, constraint_name
from .computed import add_computed_fields
from .core import define_core_tables
from .events import install_record_events
from .versions import install_version_log, version_column

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s",
    "pk": "pk_%(table_name)s",
}
USER_TABLE = "ab_user"


class RecordBase:
    """Behaviour shared by every generated model."""

    __entity__: EntitySpec

    def __str__(self) -> str:
        value = getattr(self, self.__entity__.title_field, None)
        return str(value) if value not in (None, "") else f"#{getattr(self, 'id', '?')}"

    def __repr__(self) -> str:
        return f"<{self.__class__.__name__} {getattr(self, 'id', None)}>"


class UserRefBase:
    """Read-only view of a FAB user: name columns only."""

    first_name: Any
    last_name: Any
    username: Any

    def __str__(self) -> str:
        full = f"{self.first_name or ''} {self.last_name or ''}".strip()
        return str(full or self.username)

    __repr__ = __str__  # FAB shows a list of users as its repr


@dataclass
class ModelSet:
    """Everything the builders after this stage need about the database."""

    spec: CrmSpec
    registry: registry
    metadata: sa.MetaData
    models: dict[str, type]
    user_model: Any
    core: dict[str, sa.Table]
    team_model: Any = None
    link_tables: dict[tuple[str, str], sa.Table] = field(default_factory=dict)

    def model(self, entity: str) -> Any:
        return self.models[entity]

    def own_tables(self) -> list[sa.Table]:
        """Tables MetaCRM creates and migrates (FAB's ab_* are FAB's)."""
        return [t for t in self.metadata.sorted_tables if t.name != USER_TABLE]


def build_models(spec: CrmSpec) -> ModelSet:
    from app.events.outbox import install_outbox  # app.events builds on this package

    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    reg = registry(metadata=metadata)
    user_table = sa.Table(
        USER_TABLE, metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("first_name", sa.String(64)),
        sa.Column("last_name", sa.String(64)),
        sa.Column("username", sa.String(64)),
        sa.Column("email", sa.String(320)),
        sa.Column("active", sa.Boolean),  # read only: an inactive user is never assigned a record
    )
    user_model = type("UserRef", (UserRefBase,), {})
    reg.map_imperatively(user_model, user_table)
    core = define_core_tables(metadata)

    team_model = _map_team(reg, core, user_model)
    models: dict[str, type] = {}
    collations = indexed_collations(spec.languages)
    for entity in spec.entities:
        models[entity.name] = _map_entity(reg, metadata, entity, collations)
    result = ModelSet(spec, reg, metadata, models, user_model, core, team_model=team_model)
    for entity in spec.entities:
        _add_relationships(result, entity)
    reg.configure()
    add_computed_fields(result)
    for entity in spec.entities:
        install_record_events(models[entity.name], entity, core["crm_counter"])
        install_version_log(models[entity.name], entity, core["crm_record_change"])
        install_outbox(models[entity.name], entity, core["crm_event"])  # automations: the outbox
    return result


class TeamBase:
    """A sales (or support) team: members share `team` scope; the manager sees it too."""

    name: Any

    def __str__(self) -> str:
        return str(self.name)


def _map_team(reg: registry, core: dict[str, sa.Table], user_model: type) -> type:
    team = type("Team", (TeamBase,), {})
    table = core["crm_team"]
    mapper: Any = reg.map_imperatively(team, table, properties={
        "manager": relationship(user_model, foreign_keys=[table.c.manager_id]),
        "members": relationship(user_model, secondary=core["crm_team_member"],
                                order_by=user_model.username),  # type: ignore[attr-defined]
    })
    team.__table__ = table  # type: ignore[attr-defined]
    team.__mapper__ = mapper  # type: ignore[attr-defined]
    return team


def _map_entity(reg: registry, metadata: sa.MetaData, entity: EntitySpec, collations: dict[str, str]) -> type:
    columns: list[sa.Column] = [sa.Column("id", sa.Integer, primary_key=True)]
    for f in entity.fields:
        if not f.has_column:
            continue
        columns.append(_column(f))
    columns.append(version_column())
    # board cards: a column of a stage, newest change first, without sorting the whole column
    indexes = [sa.Index(f"ix_{entity.table_name}_{field}_changed", field, "changed_on")
               for field in dict.fromkeys(p.field for p in entity.pipelines)]
    table = sa.Table(entity.table_name, metadata, *columns, *indexes, *_unique_sets(entity))
    for f in entity.fields:  # unique ignoring case: one index on lower(column)
        if f.unique and f.unique_ignore_case:
            sa.Index(constraint_name(entity.table_name, (f.column_name,), "_ci"),
                     sa.func.lower(table.c[f.column_name]), unique=True)
    _sort_indexes(entity, table, collations)
    cls = type(entity.class_name, (RecordBase,), {"__entity__": entity})
    mapper: Any = reg.map_imperatively(cls, table, version_id_col=table.c.version,
                                       properties=_captured_columns(entity, table))
    cls.__table__ = table  # type: ignore[attr-defined]  # FAB's interface reads __table__ and __mapper__
    cls.__mapper__ = mapper  # type: ignore[attr-defined]
    return cls


def _sort_indexes(entity: EntitySpec, table: sa.Table, collations: dict[str, str]) -> None:
    """An indexed (or unique) text field's index in each language's collation too (PostgreSQL only): a reader
    of zh sorts `COLLATE "zh-x-icu"`, which a plain index cannot serve (app/i18n/collation.py)."""
    for f in entity.fields:
        plain = f.index or (f.unique and not f.unique_ignore_case)  # a btree on the column itself
        if plain and f.has_column and not f.is_computed and field_type(f.type).sorts_as_text:
            for lang, collation in collations.items():
                sa.Index(sort_index_name(entity.table_name, f.column_name, lang),
                         table.c[f.column_name].collate(collation)).ddl_if(dialect="postgresql")


def _captured_columns(entity: EntitySpec, table: sa.Table) -> dict[str, Any]:
    """The columns whose changes the outbox and the version log record, with `active_history`: a
    set on an attribute that was not loaded (expired after a commit) loads its old value first,
    so the event says what it was, not None. A loaded record (every command reads it) adds nothing."""
    return {f.column_name: column_property(table.c[f.column_name], active_history=True)
            for f in entity.event_fields if f.has_column}


def _column(f: FieldSpec) -> sa.Column:
    nullable = not f.required or f.system
    if f.type == "user":
        return sa.Column(f.column_name, sa.Integer,
                         sa.ForeignKey(f"{USER_TABLE}.id", ondelete="SET NULL"),
                         nullable=True, index=f.index or f.name == "owner")
    if f.type == "link":
        return sa.Column(f.column_name, sa.Integer,
                         sa.ForeignKey(f"{f.to}.id", ondelete=ON_DELETE_SQL[f.on_delete]),
                         nullable=nullable, index=not f.unique, unique=f.unique or None)
    case_sensitive_unique = f.unique and not f.unique_ignore_case
    return sa.Column(f.column_name, column_type(f), nullable=nullable, server_default=_server_default(f),
                     unique=case_sensitive_unique or None,
                     index=(f.index and not case_sensitive_unique) or None)


def _unique_sets(entity: EntitySpec) -> list[sa.UniqueConstraint]:
    """`unique: [campaign, contact]`: one constraint per set, named for the error mapping."""
    result = []
    for names in entity.unique:
        columns = tuple(entity.field(n).column_name for n in names)
        result.append(sa.UniqueConstraint(*columns, name=constraint_name(entity.table_name, columns)))
    return result


def _server_default(f: FieldSpec) -> Any:
    """A required field's literal default, in the database too: adding it to a filled
    table then gives existing rows that value instead of failing."""
    if not f.required or f.default is None or f.default in ("today", "now", "current_user"):
        return None
    if isinstance(f.default, bool):
        # `true`/`false` as SQL text: both SQLite and PostgreSQL take it, whereas the
        # compiled sa.false() is rendered for the revision's dialect ('0', which PostgreSQL refuses)
        return sa.text("true" if f.default else "false")
    if f.type == "multichoice" or f.unique:  # one default on every existing row cannot be unique
        return None
        return None
    return str(f.default)


def _add_relationships(models: ModelSet, entity: EntitySpec) -> None:
    cls = models.models[entity.name]
    mapper: Any = sa.inspect(cls)
    table = mapper.local_table
    for f in entity.fields:
        if f.type == "user":
            mapper.add_property(f.name, relationship(
                models.user_model, foreign_keys=[table.c[f.column_name]], lazy="select",
                viewonly=True))
        elif f.type == "link":
            target = models.models[f.target]
            target_table: Any = sa.inspect(target).local_table
            kwargs: dict[str, Any] = {}
            if f.to == entity.name:
                kwargs["remote_side"] = [target_table.c.id]
            mapper.add_property(f.name, relationship(
                target, foreign_keys=[table.c[f.column_name]], lazy="select",
                passive_deletes=True, **kwargs))
        elif f.type == "links":
            target = models.models[f.target]
            link_table = sa.Table(
                f"{entity.name}__{f.name}", models.metadata,
                sa.Column("source_id", sa.Integer,
                          sa.ForeignKey(f"{entity.name}.id", ondelete="CASCADE"), primary_key=True),
                sa.Column("target_id", sa.Integer,
                          sa.ForeignKey(f"{f.to}.id", ondelete="CASCADE"), primary_key=True,
                          index=True),
            )
            models.link_tables[(entity.name, f.name)] = link_table
            mapper.add_property(f.name, relationship(
                target, secondary=link_table, lazy="select", passive_deletes=True,
                primaryjoin=table.c.id == link_table.c.source_id,
                secondaryjoin=sa.inspect(target).local_table.c.id == link_table.c.target_id))
            # the other side, read-only: the related list of a target's page (a contact's campaigns
            # page lists them through the source; a campaign's contacts through this); `__` never
            # names a field, so it cannot clash
            sa.inspect(target).add_property(f"{entity.name}__{f.name}", relationship(
                cls, secondary=link_table, lazy="select", viewonly=True,
                primaryjoin=sa.inspect(target).local_table.c.id == link_table.c.target_id,
                secondaryjoin=table.c.id == link_table.c.source_id))
