"""Saved reports (core table crm_saved_report): private to the owner, or shared with roles.

A viewer sees their own reports and those shared with one of their roles
(Admin sees all); only the owner or Admin changes or deletes one. What is
stored is the definition as its owner was allowed to see it; whoever opens
it is checked again (report_definition, lenient).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from app.metadata.spec import CrmSpec
from app.security.access import Access

from .report_definition import ReportDefinition, ReportError

MAX_NAME = 200


@dataclass(frozen=True)
class SavedReport:
    id: int
    name: str
    entity: str
    definition: dict[str, Any]
    shared_roles: tuple[str, ...]
    owner_id: int
    created_on: dt.datetime
    changed_on: dt.datetime

    def to_json(self, viewer: Access) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "entity": self.entity, "shared_roles": list(self.shared_roles),
                "owner_id": self.owner_id, "mine": self.owner_id == viewer.user_id,
                "can_change": may_change(self, viewer), "changed_on": self.changed_on.isoformat()}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


def _loads(text: str | None, default: Any) -> Any:
    try:
        return json.loads(text) if text else default
    except ValueError:
        return default


def _report(row: Any) -> SavedReport:
    roles = _loads(row.shared_roles, [])
    return SavedReport(row.id, row.name, row.entity, _loads(row.definition, {}),
                       tuple(r for r in roles if isinstance(r, str)) if isinstance(roles, list) else (),
                       row.owner_id, row.created_on, row.changed_on)


def _may_see(report: SavedReport, viewer: Access) -> bool:
    return viewer.is_admin or report.owner_id == viewer.user_id or bool(set(report.shared_roles) & set(viewer.roles))


def may_change(report: SavedReport, viewer: Access) -> bool:
    return viewer.is_admin or (viewer.user_id is not None and report.owner_id == viewer.user_id)


def visible_reports(session: Any, table: sa.Table, viewer: Access) -> list[SavedReport]:
    """The viewer's own reports and those shared with one of their roles, by name."""
    stmt = sa.select(table).order_by(table.c.name, table.c.id)
    if not viewer.is_admin:
        shared = [table.c.shared_roles.like(f"%{json.dumps(role, ensure_ascii=False)}%") for role in viewer.roles]
        stmt = stmt.where(sa.or_(table.c.owner_id == viewer.user_id, *shared))
    return [r for r in map(_report, session.execute(stmt)) if _may_see(r, viewer)]


def find_report(session: Any, table: sa.Table, report_id: int, viewer: Access) -> SavedReport | None:
    """The report if the viewer may see it; None otherwise (answered as 404, like records)."""
    row = session.execute(sa.select(table).where(table.c.id == report_id)).first()
    report = _report(row) if row is not None else None
    return report if report is not None and _may_see(report, viewer) else None


def checked_name_and_roles(name: Any, roles: Any, spec: CrmSpec) -> tuple[str, list[str]]:
    """ReportError naming the problem with a report's name or its shared roles."""
    if not isinstance(name, str) or not name.strip():
        raise ReportError("name: give the report a name")
    if len(name.strip()) > MAX_NAME:
        raise ReportError(f"name: at most {MAX_NAME} characters")
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise ReportError("shared_roles: a list of role names")
    for role in roles:
        if role not in spec.role_map:
            raise ReportError(f"shared_roles: unknown role '{role}' ({', '.join(spec.role_map)})")
    return name.strip(), sorted(set(roles))


def save_report(session: Any, table: sa.Table, name: str, definition: ReportDefinition, roles: list[str],
                owner_id: int) -> int:
    now = _now()
    result = session.execute(sa.insert(table).values(
        name=name, entity=definition.entity, definition=json.dumps(definition.to_json(), ensure_ascii=False),
        shared_roles=json.dumps(roles, ensure_ascii=False), owner_id=owner_id, created_on=now, changed_on=now))
    session.commit()
    return int(result.inserted_primary_key[0])


def update_report(session: Any, table: sa.Table, report: SavedReport, name: str,
                  definition: ReportDefinition | None, roles: list[str]) -> None:
    values: dict[str, Any] = {"name": name, "shared_roles": json.dumps(roles, ensure_ascii=False),
                              "changed_on": _now()}
    if definition is not None:
        values |= {"entity": definition.entity,
                   "definition": json.dumps(definition.to_json(), ensure_ascii=False)}
    session.execute(sa.update(table).where(table.c.id == report.id).values(**values))
    session.commit()


def delete_report(session: Any, table: sa.Table, report: SavedReport) -> None:
    session.execute(sa.delete(table).where(table.c.id == report.id))
    session.commit()
