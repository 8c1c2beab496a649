"""Bulk work: update a field, reassign or delete many records, each row on its own.

Every row goes through the single-record command (UpdateRecord, ReassignRecords,
DeleteRecord), so rules, field rules, gates, locks, the change log and the outbox
hold as for one edit; each row commits (or fails) alone, and a failed row is
reported with its title and reason while the others go on. Rows are read through
the user's scoped query layer: an id outside the read scope is "not found" and
never touched. Bulk update and delete need their own verbs (`mass_update`,
`mass_delete`) on top of `update` / `delete`; bulk reassign needs `reassign`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from app.i18n import _t

from .commands import (
    CommandError,
    DeleteRecord,
    FieldErrors,
    FieldsRefused,
    Forbidden,
    RecordContext,
    UpdateRecord,
    ValidationFailed,
)
from .messages import forbidden_text, msg
from .parse import is_record_id
from .reassign import ReassignRecords, owner_errors

BULK_ACTIONS = ("update", "reassign", "delete")
# the verb each bulk action needs on top of the single-record one the command checks
BULK_VERBS = {"update": "mass_update", "reassign": "reassign", "delete": "mass_delete"}
CHUNK = 500  # rows read per SELECT

TEXT = {
    "not_found": _t("Not found, or not yours to see."),
    "out_of_scope": _t("Outside the records you may {action} in bulk."),
    "no_fields": _t("Choose a field and its value."),
    "no_rows": _t("Tick the records first."),
    "verb_update": _t("update"),
    "verb_reassign": _t("reassign"),
    "verb_delete": _t("delete"),
}


def text(key: str, lang: str | None, **params: Any) -> str:
    """The catalog's text in `lang` (English when None), placeholders filled."""
    return TEXT[key].get(lang or "en").format(**params)


@dataclass
class RowFailure:
    id: int
    title: str | None  # None: a record the user may not read (its title is not theirs either)
    reason: str

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "reason": self.reason}


@dataclass
class BulkOutcome:
    action: str
    done: list[int] = field(default_factory=list)
    failed: list[RowFailure] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"action": self.action, "done": len(self.done), "ids": self.done,
                "failed": [f.as_json() for f in self.failed]}


def reason_of(exc: CommandError, entity: Any, lang: str | None) -> str:
    """One line a user reads: field errors with the fields' labels, else the error's text."""
    return exc.text(entity, lang) if isinstance(exc, FieldErrors) else str(exc)


class BulkRecords:
    """`action` on records `ids` of `entity` with `values` (update) or `owner` (reassign)."""

    def __init__(self, ctx: RecordContext, entity: str, action: str, ids: Iterable[Any],
                 values: dict[str, Any] | None = None, input_errors: dict[str, list[str]] | None = None,
                 owner: Any = None):
        self.ctx = ctx
        self.entity = ctx.entity(entity)
        self.model = ctx.models.model(entity)
        self.action = action
        self.ids = list(dict.fromkeys(ids))
        self.values = dict(values or {})
        self.input_errors = dict(input_errors or {})
        self.owner = owner

    def _forbidden(self) -> Forbidden:
        return Forbidden(forbidden_text(BULK_VERBS[self.action], self.entity.label, self.ctx.lang))

    def validate(self) -> None:
        """What holds for every row is judged once: the verb, the field and value, the owner."""
        lang, access = self.ctx.lang, self.ctx.access
        if self.action not in BULK_ACTIONS:
            raise ValidationFailed({"action": [msg("choice", lang, v=self.action, choices=", ".join(BULK_ACTIONS))]})
        if access is not None and access.scope(self.entity.name, BULK_VERBS[self.action]) == "no":
            raise self._forbidden()
        if not self.ids:
            raise ValidationFailed({"ids": [text("no_rows", lang)]})
        if self.action == "update":
            if not self.values and not self.input_errors:
                raise ValidationFailed({"field": [text("no_fields", lang)]})
            probe = UpdateRecord(self.ctx, self.entity.name, None, self.values, self.input_errors)
            probe._refuse_fields()  # a field the user may not write: refused for all rows (400)
            if self.input_errors:  # a value that does not parse is wrong for every row
                raise ValidationFailed(self.input_errors)
        if self.action == "reassign":
            errors = owner_errors(self.ctx, self.entity, self.owner)
            if errors:
                raise ValidationFailed({"owner": errors})

    def run(self, progress: Callable[[int, int, int], None] | None = None,
            cancelled: Callable[[], bool] | None = None) -> BulkOutcome:
        self.validate()
        outcome = BulkOutcome(self.action)
        unknown = [i for i in self.ids if not is_record_id(i)]
        for i in unknown:
            outcome.failed.append(RowFailure(int(i) if isinstance(i, int) else 0, None,
                                             text("not_found", self.ctx.lang)))
        ids = [int(i) for i in self.ids if is_record_id(i)]
        handled = len(unknown)
        for start in range(0, len(ids), CHUNK):
            if cancelled is not None and cancelled():
                break
            chunk = ids[start:start + CHUNK]
            self._run_chunk(chunk, outcome)
            handled += len(chunk)
            if progress is not None:
                progress(handled, len(self.ids), len(outcome.failed))
        return outcome

    def _read(self, chunk: list[int]) -> dict[int, Any]:
        stmt = sa.select(self.model).where(self.model.id.in_(chunk))
        if self.ctx.access is not None:  # a record the user cannot read does not exist for them
            stmt = self.ctx.access.records(self.ctx.models, self.entity.name).where(stmt)
        return {r.id: r for r in self.ctx.session.scalars(stmt)}

    def _in_bulk_scope(self, records: list[Any]) -> set[int]:
        """Ids the bulk verb's scope admits (own/team/all decided in Python, per the Access)."""
        access, verb = self.ctx.access, BULK_VERBS[self.action]
        return {r.id for r in records if access is None or access.allows(self.entity.name, verb, r)}

    def _run_chunk(self, chunk: list[int], outcome: BulkOutcome) -> None:
        lang = self.ctx.lang
        found = self._read(chunk)
        admitted = self._in_bulk_scope(list(found.values()))
        titles = {pk: str(record) for pk, record in found.items()}  # read now: a commit expires them
        verb = text(f"verb_{self.action}", lang)
        for pk in chunk:
            record = found.get(pk)
            if record is None:
                outcome.failed.append(RowFailure(pk, None, text("not_found", lang)))
            elif pk not in admitted:
                outcome.failed.append(RowFailure(pk, titles[pk], text("out_of_scope", lang, action=verb)))
            else:
                self._run_row(pk, record, titles[pk], outcome)

    def _run_row(self, pk: int, record: Any, title: str, outcome: BulkOutcome) -> None:
        try:
            self._command(record).run()
        except CommandError as exc:
            self.ctx.session.rollback()  # nothing of this row stays; the next rows go on
            outcome.failed.append(RowFailure(pk, title, reason_of(exc, self.entity, self.ctx.lang)))
        else:
            outcome.done.append(pk)

    def _command(self, record: Any) -> Any:
        if self.action == "update":
            return UpdateRecord(self.ctx, self.entity.name, record, dict(self.values))
        if self.action == "delete":
            return DeleteRecord(self.ctx, self.entity.name, record)
        return ReassignRecords(self.ctx, self.entity.name, [record.id], self.owner)


__all__ = ["BULK_ACTIONS", "BULK_VERBS", "BulkOutcome", "BulkRecords", "FieldsRefused", "RowFailure"]
