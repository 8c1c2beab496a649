"""The base of every REST API of ours (FAB `BaseApi` subclasses and the generated record APIs).

FAB's APIs catch every exception (`@safe`) and answer 500. A read PostgreSQL cancelled at the
web statement timeout (app/web/readtimeout.py) is not a fault of ours but a request too broad
for one page: it answers 503 naming the request's filters, its transaction rolled back. The
behaviour lives on our classes, not on FAB's `BaseApi` (FAB's own APIs keep theirs).
"""

from __future__ import annotations

import sys
from typing import Any

from flask import current_app
from flask_appbuilder.api import BaseApi, ModelRestApi

from app.models.statement_timeout import SETTING, is_timeout

from .labels import current_lang
from .readtimeout import request_filters, rollback_cancelled_read, timeout_message


class CrmApi(BaseApi):
    """A FAB API that answers a cancelled read with 503 instead of 500."""

    def response_500(self, message: str | None = None, **kwargs: Any) -> Any:
        if is_timeout(sys.exc_info()[1]) and current_app.config.get(SETTING):
            rollback_cancelled_read()
            return self.response(503, message=timeout_message(current_lang()), filters=request_filters())
        return super().response_500(message, **kwargs)


class CrmModelApi(CrmApi, ModelRestApi):
    """A FAB model API (the generated record APIs) with `CrmApi`'s answers."""
