"""The home page: the user's first dashboard, else the CRM's menu as tiles."""

from __future__ import annotations

from flask import current_app, g
from flask_appbuilder import IndexView, expose

from app.security.access import current_access

from .dashboards import dashboard_page, visible_dashboards
from .labels import current_lang


class HomeView(IndexView):
    index_template = "crm/home.html"

    @expose("/")
    def index(self):  # type: ignore[no-untyped-def]
        spec = current_app.extensions["crm"].spec
        user = getattr(g, "user", None)
        if user is not None and user.is_authenticated:
            dashboards = visible_dashboards(spec, current_access())
            if dashboards:
                return dashboard_page(self, dashboards[0])
        return self.render_template(self.index_template, appbuilder=self.appbuilder,
                                    crm_spec=spec, crm_lang=current_lang())
