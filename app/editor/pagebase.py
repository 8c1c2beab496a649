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
        ui = words(lang)
        values.setdefault("title", ui["history" if template in ("history", "version") else "editor"])
        return self.render_template(f"crm/settings/{template}.html", ui=ui, lang=lang,
                                    editable=gate.mode() == "edit", **values)
