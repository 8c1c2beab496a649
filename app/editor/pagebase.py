"""What every Settings page shares: the template folder, the words in the user's language and
whether the user may save (read-only users get pages without save buttons)."""

from __future__ import annotations

from typing import Any

from flask_appbuilder import BaseView

from app.web.labels import current_lang

from . import gate
from .text import words


class SettingsPage(BaseView):
    def page(self, template: str, **values: Any) -> str:
        lang = current_lang()
        return self.render_template(f"crm/settings/{template}.html", ui=words(lang), lang=lang,
                                    editable=gate.mode() == "edit", **values)
