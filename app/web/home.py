"""The home page: the CRM's menu as tiles (dashboards replace it later)."""

from __future__ import annotations

from flask_appbuilder import IndexView, expose

from .labels import current_lang


class HomeView(IndexView):
    index_template = "crm/home.html"

    @expose("/")
    def index(self):  # type: ignore[no-untyped-def]
        from flask import current_app
        spec = current_app.extensions["crm"].spec
        return self.render_template(self.index_template, appbuilder=self.appbuilder,
                                    crm_spec=spec, crm_lang=current_lang())
