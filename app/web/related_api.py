"""Many-to-many read from the other side: the records whose `links` field lists this one.

`GET /api/v1/contact/<id>/related/campaign/contacts` answers a contact's campaigns, as the
contact's record page lists them; the campaign side is its own `contacts` field. The parent
must be readable, and the related records are those of the user's read scope.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_appbuilder.api import expose, safe
from flask_appbuilder.security.decorators import permission_name, protect

from app.security.access import current_access
from app.security.scoped import Records

RELATED_METHOD_PERMISSIONS = {"related": "read"}


class RelatedEndpoints:
    """Mixed into RecordApi: one endpoint per (source entity, links field) pointing here."""

    @expose("/<int:pk>/related/<source>/<field>", methods=["GET"])
    @protect()
    @safe
    @permission_name("related")
    def related(self, pk: int, source: str, field: str) -> Any:
        """Records of `source` whose links field `field` lists this record (id and title).
        ---
        get:
          parameters:
          - {in: path, name: pk, schema: {type: integer}}
          - {in: path, name: source, schema: {type: string}}
          - {in: path, name: field, schema: {type: string}}
          responses:
            200: {description: The related records the user may read, by title}
            403: {description: The user may not read the source entity}
            404: {description: No such record in the user's scope, or no such links field}
        """
        models = self.crm_models  # type: ignore[attr-defined]
        spec = models.spec
        links = next((f for s, f in spec.links_to(self.entity.name)  # type: ignore[attr-defined]
                      if s.name == source and f.name == field and f.type == "links"), None)
        item = self.datamodel.get(pk, self._base_filters)  # type: ignore[attr-defined]
        if links is None or not item:
            return self.response_404()  # type: ignore[attr-defined]
        access = current_access()
        if access.scope(source, "read") == "no":
            return self.response(403, message=f"You may not read {spec.entity(source).plural.get()}.")  # type: ignore[attr-defined]
        table = models.link_tables[(source, field)]
        records = Records(access, models, source)
        ids = sa.select(table.c.source_id).where(table.c.target_id == pk)
        session = self.datamodel.session  # type: ignore[attr-defined]
        found = list(session.scalars(records.where(sa.select(records.model.id).where(records.model.id.in_(ids))
                                                   .order_by(records.model.id))))
        titles = records.titles(session, found)
        return self.response(200, result=[{"id": i, "title": titles[i]} for i in found])  # type: ignore[attr-defined]
