"""What every Settings page shares: the template folder, the words in the user's language,
whether the user may save (read-only users get pages without save buttons) and the viewer's
clock for the stored UTC instants (`crm_local_stamp`, as on the jobs page)."""

from __future__ import annotations

from typing import Any

from flask_appbuilder import BaseView

from app.web.labels import current_lang
from app.web.record_page import local_stamp

from . import gate
from .text import words

HEADINGS = {"history": "history", "version": "history", "plan": "plan"}  # the tab's name; else the editor's


class SettingsPage(BaseView):
    def page(self, template: str, **values: Any) -> str:
        lang = current_lang()
        ui = words(lang)
        values.setdefault("title", ui[HEADINGS.get(template, "editor")])  # the browser tab's name
        return self.render_template(f"crm/settings/{template}.html", ui=ui, lang=lang,
                                    editable=gate.mode() == "edit", crm_local_stamp=local_stamp, **values)
