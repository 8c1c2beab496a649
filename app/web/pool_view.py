"""The pool page (`/crm/<entity>/pool/`): records in the pool (公海) and a Claim button each.

The screen side of app/automations/claim.py: the same checks as the API (the pool's
roles, still in the pool, the daily limit), the outcome flashed. FAB's can_read opens
the routes; a role the pool does not admit gets 403.
"""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect
from flask_appbuilder import expose, has_access

from app.automations.claim import claim, claims_today, may_claim, pool_of, pool_records, say
from app.i18n import _t
from app.models.events import utcnow
from app.records.commands import CommandError, RecordNotFound, ValidationFailed

from .labels import current_lang
from .pool_api import pool_row

POOL_VIEW_PERMISSIONS = {"pool": "read", "claim": "read"}
UI = {
    "claim": _t("Claim"), "none": _t("The pool is empty."),
    "today": _t("Claimed today: {n} of {limit}"),
}


class PoolViewMixin:
    """Mixed into RecordModelView (app/web/modelviews.py); entities without a pool answer 404."""

    def pool_label(self) -> str | None:
        """The pool's name for the list's button; None: no pool, or the user may not claim."""
        pool = pool_of(current_app.extensions["crm"].spec, self.entity.name)  # type: ignore[attr-defined]
        if pool is None or not may_claim(self._access(), pool):  # type: ignore[attr-defined]
            return None
        return pool.label.get(current_lang())

    def _pool(self) -> Any:
        ctx = self._ctx()  # type: ignore[attr-defined]
        pool = pool_of(ctx.models.spec, self.entity.name)  # type: ignore[attr-defined]
        if pool is None:
            abort(404)
        if not may_claim(ctx.access, pool):
            abort(403)
        return ctx, pool

    @expose("/pool/")
    @has_access
    def pool(self) -> Any:
        ctx, pool = self._pool()
        lang = current_lang()
        hidden = ctx.access.hidden_fields(self.entity) if ctx.access is not None else set()  # type: ignore[attr-defined]
        rows = [pool_row(self.entity, r, hidden) for r in pool_records(ctx.session, ctx.models, pool)]  # type: ignore[attr-defined]
        columns = [c for c in (rows[0] if rows else {}) if c != "id"]
        labels = {c: self.entity.field(c).label.get(lang) for c in columns}  # type: ignore[attr-defined]
        done = claims_today(ctx, pool, ctx.user_id, utcnow()) if ctx.user_id is not None else 0
        ui = {k: v.get(lang) for k, v in UI.items()}
        ui["today"] = ui["today"].format(n=done, limit=pool.claim_limit)
        return self.render_template("crm/pool.html", title=pool.label.get(lang), rows=rows,  # type: ignore[attr-defined]
                                    columns=columns, labels=labels, ui=ui, route=self.route_base)  # type: ignore[attr-defined]

    @expose("/pool/claim/<int:pk>", methods=["POST"])
    @has_access
    def claim(self, pk: int) -> Any:
        ctx, _ = self._pool()
        try:
            claim(ctx, self.entity.name, pk)  # type: ignore[attr-defined]
        except RecordNotFound:
            ctx.session.rollback()
            abort(404)
        except ValidationFailed as exc:
            ctx.session.rollback()
            flash(" ".join(m for messages in exc.errors.values() for m in messages), "danger")
        except CommandError as exc:
            ctx.session.rollback()
            flash(str(exc), "danger")
        else:
            flash(say("claimed", current_lang()), "success")
            return redirect(f"{self.route_base}/show/{pk}")  # type: ignore[attr-defined]
        return redirect(f"{self.route_base}/pool/")  # type: ignore[attr-defined]
