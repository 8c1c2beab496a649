"""Field type → SQLAlchemy column type, the one place that decides storage."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator

from app.metadata.spec import FieldSpec


class JSONList(TypeDecorator):
    """A list of strings stored as JSON text: portable across SQLite and PostgreSQL,
    and searchable with LIKE '%"value"%' for tag filters."""

    impl = sa.Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        if value is None:
            return None
        return json.dumps(sorted(set(value)), ensure_ascii=False)

    def process_result_value(self, value: Any, dialect: Any) -> list[str] | None:
        if value is None:
            return None
        try:
            return list(json.loads(value))
        except (ValueError, TypeError):
            return []


def column_type(field: FieldSpec) -> sa.types.TypeEngine:
    """The SQL type a field is stored as (links excluded: they are foreign keys)."""
    t = field.type
    if t in ("string",):
        return sa.String(field.max_length or 255)
    if t == "choice":
        return sa.String(64)
    if t == "email":
        return sa.String(field.max_length or 254)
    if t == "phone":
        return sa.String(field.max_length or 32)
    if t == "url":
        return sa.String(field.max_length or 2048)
    if t == "autonumber":
        return sa.String(64)
    if t == "text":
        return sa.Text()
    if t == "integer":
        return sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    if t == "decimal":
        return sa.Numeric(18, field.scale)
    if t == "money":
        return sa.Numeric(18, 2)
    if t == "percent":
        return sa.Numeric(7, 2)
    if t == "boolean":
        return sa.Boolean()
    if t == "date":
        return sa.Date()
    if t == "datetime":
        return sa.DateTime()
    if t == "multichoice":
        return JSONList()
    raise ValueError(f"field type {t} has no column type")


ON_DELETE_SQL = {"restrict": "RESTRICT", "set_null": "SET NULL", "cascade": "CASCADE"}


PG_NAME_LIMIT = 63


def constraint_name(table: str, columns: tuple[str, ...], suffix: str = "") -> str:
    """A stable unique-constraint name that fits PostgreSQL's 63 characters; the record
    commands read it back from a unique violation to name the fields (records/uniqueness.py)."""
    name = f"uq_{table}_{'_'.join(columns)}{suffix}"
    if len(name) <= PG_NAME_LIMIT:
        return name
    digest = hashlib.sha1(name.encode()).hexdigest()[:8]
    return f"{name[:PG_NAME_LIMIT - 9]}_{digest}"
