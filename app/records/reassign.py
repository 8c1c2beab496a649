"""Reassign: give records another owner, one or many at once (its own permission, `reassign`).

Owner is a system field no form or API update writes; this command is the one way
to change it after create. It checks, for every record, that the user's `reassign`
scope covers it, and that the new owner is an active user of the owner field's
roles and (for a `team` scope) a teammate. The change is logged in the record
change log (`crm_record_change`, field `owner`) like any update, and bumps the
record's version.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm.exc import StaleDataError

from app.metadata.spec import EntitySpec

from .assignees import assignee_errors, user_named
from .commands import (
    Forbidden,
    RecordContext,
    RecordNotFound,
    ValidationFailed,
    check_version,
    lost_race,
)
from .messages import forbidden_text, msg
from .parse import is_record_id
from .scopes_text import scope_kinds


def owner_errors(ctx: RecordContext, entity: EntitySpec, value: Any) -> list[str]:
    """Why `value` cannot become the owner of `entity` records for this user (empty: it can)."""
    lang = ctx.lang
    try:
        user_id = int(value)
    except (TypeError, ValueError):
        return [msg("user", lang, id=value)]
    if not is_record_id(user_id):  # no user has it; past the column's range it must not reach SQL
        return [msg("user", lang, id=value)]
    errors = assignee_errors(ctx.session, ctx.models.user_model, entity.field("owner"), user_id, lang)
    if errors or ctx.access is None or ctx.access.is_admin:
        return errors
    kinds = scope_kinds(ctx.access.scope(entity.name, "reassign"))
    if "all" not in kinds and "team" in kinds and user_id not in ctx.access.team_user_ids:
        user = ctx.session.get(ctx.models.user_model, user_id)
        return [msg("reassign_scope", lang, name=user_named(user))]
    return []


class ReassignRecords:
    """Set the owner of records `ids` (of one entity) to `owner`; all or none."""

    def __init__(self, ctx: RecordContext, entity: str, ids: Iterable[Any], owner: Any,
                 versions: dict[Any, int] | None = None):
        self.ctx = ctx
        self.entity = ctx.entity(entity)
        self.model = ctx.models.model(entity)
        self.ids = list(dict.fromkeys(ids))
        self.owner = owner
        self.versions = versions or {}  # id -> the version the client read (optimistic locking)
        self.records: list[Any] = []
        self.autocommit = True  # an automation commits with the rest of its rule's writes

    def _forbidden(self) -> Forbidden:
        return Forbidden(forbidden_text("reassign", self.entity.label, self.ctx.lang))

    def validate(self) -> None:
        access = self.ctx.access
        if access is not None and access.scope(self.entity.name, "reassign") == "no":
            raise self._forbidden()
        if not self.ids:
            raise ValidationFailed({"ids": [msg("required", self.ctx.lang)]})
        unknown = [i for i in self.ids if not is_record_id(i)]
        if unknown:  # no record has it; past the column's range it must not reach SQL
            raise RecordNotFound(f"no {self.entity.name} with id {unknown[0]}")
        stmt = sa.select(self.model).where(self.model.id.in_(self.ids))
        if access is not None:  # a record the user cannot read does not exist for them
            stmt = access.records(self.ctx.models, self.entity.name).where(stmt)
        found = {r.id: r for r in self.ctx.session.scalars(stmt)}
        missing = [i for i in self.ids if i not in found]
        if missing:
            raise RecordNotFound(f"no {self.entity.name} with id {missing[0]}")
        self.records = [found[i] for i in self.ids]
        for record in self.records:
            if access is not None and not access.allows(self.entity.name, "reassign", record):
                raise self._forbidden()
            check_version(self.ctx, self.entity, record, self.versions.get(record.id))
        errors = owner_errors(self.ctx, self.entity, self.owner)
        if errors:
            raise ValidationFailed({"owner": errors})

    def run(self) -> list[Any]:
        self.validate()
        owner = int(self.owner)
        for record in self.records:
            record.owner_id = owner
        if not self.autocommit:
            self.ctx.session.flush()
            return self.records
        try:
            self.ctx.session.commit()
        except StaleDataError as exc:
            raise lost_race(self.ctx, self.entity, self.records[0], None, exc) from None
        return self.records
