"""The lead pool (公海) on the API: `GET /api/v1/<entity>/pool` lists what may be claimed,
`POST /api/v1/<entity>/<id>/claim` claims one (app/automations/claim.py decides who may).

FAB's can_read opens the routes; the claim command checks the pool's roles (403), that
the record is still in the pool (409) and the rep's daily limit (422 naming claim_limit).
"""

from __future__ import annotations

from typing import Any

from flask_appbuilder.api import expose, safe
from flask_appbuilder.security.decorators import permission_name, protect

from app.automations.claim import claim, may_claim, pool_of, pool_records
from app.events.values import field_json
from app.records.commands import RecordNotFound

POOL_METHOD_PERMISSIONS = {"pool": "read", "claim": "read"}


def pool_row(entity: Any, record: Any, hidden: set[str]) -> dict[str, Any]:
    """What the pool shows of a record: its list columns a role may see (plain fields), never its owner."""
    row: dict[str, Any] = {"id": record.id}
    for name in entity.list.columns:
        f = entity.field_map.get(name)
        if f is None or name in hidden or name == "owner" or f.is_many or f.is_link or not f.has_column:
            continue
        row[name] = field_json(f, getattr(record, f.column_name, None))
    return row


class PoolEndpoints:
    """Mixed into every entity API (app/web/api.py); entities without a pool answer 404."""

    @expose("/pool", methods=["GET"])
    @protect()
    @safe
    @permission_name("pool")
    def pool(self) -> Any:
        """Records in the pool that the user may claim.
        ---
        get:
          responses:
            200: {description: "{result: [{id, ...list columns}], claim_limit}"}
            403: {description: The role may not claim from this pool}
            404: {description: The entity has no pool}
        """
        ctx = self._ctx()  # type: ignore[attr-defined]
        pool = pool_of(ctx.models.spec, self.entity.name)  # type: ignore[attr-defined]
        if pool is None:
            return self.response_404()  # type: ignore[attr-defined]
        if not may_claim(ctx.access, pool):
            return self.response(403, message="forbidden")  # type: ignore[attr-defined]
        hidden = ctx.access.hidden_fields(self.entity) if ctx.access is not None else set()  # type: ignore[attr-defined]
        rows = [pool_row(self.entity, r, hidden)  # type: ignore[attr-defined]
                for r in pool_records(ctx.session, ctx.models, pool)]
        return self.response(200, result=rows, claim_limit=pool.claim_limit)  # type: ignore[attr-defined]

    @expose("/<int:pk>/claim", methods=["POST"])
    @protect()
    @safe
    @permission_name("claim")
    def claim(self, pk: int) -> Any:
        """Claim a record from the pool: the user becomes its owner.
        ---
        post:
          parameters:
          - {in: path, name: pk, required: true, schema: {type: integer}}
          responses:
            200: {description: "Claimed: {id, owner}"}
            403: {description: The role may not claim from this pool}
            404: {description: No such record, or the entity has no pool}
            409: {description: The record is not in the pool (claimed already)}
            422: {description: "The user's daily claim limit is reached (claim_limit)"}
        """
        ctx = self._ctx()  # type: ignore[attr-defined]
        try:
            return self._run(_Claim(ctx, self.entity.name, pk),  # type: ignore[attr-defined]
                             lambda record: self.response(200, id=record.id, owner=record.owner_id))  # type: ignore[attr-defined]
        except RecordNotFound:
            return self.response_404()  # type: ignore[attr-defined]


class _Claim:
    """The claim as a command object, so the API's _run maps its errors like every other."""

    def __init__(self, ctx: Any, entity: str, pk: int):
        self.ctx, self.entity, self.pk = ctx, entity, pk

    def run(self) -> Any:
        try:
            return claim(self.ctx, self.entity, self.pk)
        except Exception:
            self.ctx.session.rollback()
            raise
