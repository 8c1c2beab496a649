"""Uniqueness: one field, a field ignoring case (e-mails), a link, or a set of fields together.

The commands ask here before writing (values already normalised, so `+86 138…`
and `138 0013 8000` are one phone), and the database holds the same rule as a
constraint (models/builder.py), so two writers racing past the check still
cannot both win: the loser's IntegrityError becomes the same 422 (never a 500).

The error names the field(s) and nothing else: the other record may be one the
user cannot read, so neither its id nor its title is ever shown.
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa

from app.metadata.spec import EntitySpec, FieldSpec
from app.models.columns import constraint_name

from .messages import msg
from .rules import is_empty


def _column(model: Any, f: FieldSpec) -> Any:
    return getattr(model, f.column_name)


def _others(query: Any, model: Any, record: Any) -> Any:
    if record is not None and getattr(record, "id", None) is not None:
        return query.where(model.id != record.id)
    return query


def field_taken(session: Any, model: Any, f: FieldSpec, value: Any, record: Any) -> bool:
    """Does another record hold `value` in the unique field `f` (ignoring case when it says so)?"""
    column = _column(model, f)
    if f.unique_ignore_case and isinstance(value, str):
        clause = sa.func.lower(column) == value.lower()
    else:
        clause = column == value
    query = _others(sa.select(model.id).where(clause), model, record)
    return session.scalars(query.limit(1)).first() is not None


def set_errors(session: Any, entity: EntitySpec, model: Any, values: dict[str, Any], record: Any,
               lang: str | None) -> dict[str, list[str]]:
    """Errors on every field of each unique set another record already holds."""
    errors: dict[str, list[str]] = {}
    for names in entity.unique:
        if record is not None and not any(n in values for n in names):
            continue  # the update leaves the set as it was
        state = {}
        for name in names:
            f = entity.field(name)
            state[name] = values[name] if name in values else (
                getattr(record, f.column_name, None) if record is not None else None)
        if any(is_empty(v) for v in state.values()):
            continue  # like the database: a set with an empty member never repeats
        clauses = [_column(model, entity.field(n)) == v for n, v in state.items()]
        query = _others(sa.select(model.id).where(*clauses), model, record)
        if session.scalars(query.limit(1)).first() is not None:
            labels = " + ".join(entity.field(n).label.get(lang) for n in names)
            for name in names:
                errors.setdefault(name, []).append(msg("unique_together", lang, fields=labels))
    return errors


def unique_constraints(entity: EntitySpec) -> dict[str, tuple[str, ...]]:
    """Database constraint (or unique index) name -> the fields it guards."""
    found: dict[str, tuple[str, ...]] = {}
    for f in entity.fields:
        if f.unique:
            suffix = "_ci" if f.unique_ignore_case else ""
            found[constraint_name(entity.table_name, (f.column_name,), suffix)] = (f.name,)
    for names in entity.unique:
        columns = tuple(entity.field(n).column_name for n in names)
        found[constraint_name(entity.table_name, columns)] = names
    return found


SQLITE_COLUMNS = re.compile(r"UNIQUE constraint failed: (?P<cols>[\w.]+(?:, [\w.]+)*)")


def integrity_errors(entity: EntitySpec, error: Exception, lang: str | None) -> dict[str, list[str]]:
    """Field errors for a unique violation the database reported (a race lost); {} otherwise."""
    text = str(getattr(error, "orig", error))
    guarded = unique_constraints(entity)
    fields: tuple[str, ...] = ()
    for name, names in guarded.items():
        if re.search(rf"\b{re.escape(name)}\b", text):
            fields = names
            break
    match = SQLITE_COLUMNS.search(text)
    if not fields and match:
        columns = {c.split(".")[-1] for c in match["cols"].split(", ")}
        by_column = {entity.field(n).column_name: n for names in guarded.values() for n in names}
        fields = tuple(by_column[c] for c in columns if c in by_column)
    if not fields:
        return {}
    if len(fields) == 1:
        return {fields[0]: [msg("unique", lang)]}
    labels = " + ".join(entity.field(n).label.get(lang) for n in fields)
    return {n: [msg("unique_together", lang, fields=labels)] for n in fields}
