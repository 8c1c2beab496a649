"""Field type → SQLAlchemy column type (each type module decides), and constraint names."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator

from app.fieldtypes import field_type
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
    """The SQL type a field is stored as: its field type decides (app/fieldtypes/)."""
    return field_type(field.type).column_type(field)


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
