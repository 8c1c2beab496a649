"""Register every entity's screen and API with AppBuilder, menu as crm.yaml says."""

from __future__ import annotations

from typing import Any

from flask_appbuilder import AppBuilder

from app.models import ModelSet

from .access_view import register_access_view
from .api import UserDirectoryApi, build_api
from .automation_log import register_automation_log
from .dashboards import register_dashboards
from .imports_view import register_imports
from .jobs import register_jobs
from .labels import lazy
from .list_views_api import ListViewsApi
from .modelviews import build_model_view
from .my_settings import register_my_settings
from .my_tasks import register_my_tasks
from .notifications import register_notifications
from .openapi import register_openapi
from .reports import register_reports
from .rule_check import register_rule_check
from .search_views import register_search
from .searchbar import CachedSearchWidget
from .teams import register_teams


def register_entities(appbuilder: AppBuilder, models: ModelSet, api_prefix: str) -> dict[str, Any]:
    spec = models.spec
    views = {e.name: build_model_view(e, models, api_prefix) for e in spec.entities}
    for view in views.values():
        view.search_widget = CachedSearchWidget  # the filter bar's inputs once per version (searchbar.py)
    for entity in spec.entities:
        related = []
        for source, f in spec.links_to(entity.name):
            # link: the records that point here; links (many-to-many): the records that list this
            # one (a contact's campaigns), FAB filters those through the association table
            if f.type in ("link", "links") and views[source.name] not in related:
                related.append(views[source.name])
        for f in entity.declared_fields:  # many-to-many from this side too: a campaign's contacts
            if f.type == "links" and f.to != entity.name and views[f.to] not in related:
                related.append(views[f.to])
        views[entity.name].related_views = related
    for group in spec.menu:
        for name in group.entities:
            entity = spec.entity(name)
            appbuilder.add_view(views[name], name, label=lazy(entity.plural), icon=entity.icon,
                                category=group.name, category_label=lazy(group.label))
    for entity in spec.entities:
        appbuilder.add_api(build_api(entity, models))
    directory = type("UserDirectory", (UserDirectoryApi,), {"crm_models": models})
    appbuilder.add_api(directory)
    appbuilder.add_api(ListViewsApi)  # saved list views, default view, chosen columns (each user their own)
    register_dashboards(appbuilder, spec)
    register_reports(appbuilder, models)
    register_teams(appbuilder, models)
    register_access_view(appbuilder)
    register_search(appbuilder)
    register_jobs(appbuilder)
    register_automation_log(appbuilder)  # automations: rules and run log (Admin)
    register_notifications(appbuilder)  # the bell, the notifications page and API (each user their own)
    register_my_settings(appbuilder)  # each user's own time zone (app/web/my_settings.py)
    register_rule_check(appbuilder)  # which rules would fire for a record (Admin, like the automations page)
    register_my_tasks(appbuilder)  # My tasks and the home widget (reminders: in automations.yaml)
    register_imports(appbuilder)
    register_openapi(appbuilder)
    from app.editor.views import register_settings  # the editor sits above the web layer

    register_settings(appbuilder)
    return views
