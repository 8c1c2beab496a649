"""datetime: a date and time, stored as naive UTC; typed and shown in the CRM time zone
(an offset typed in is kept, a time without one is the CRM's wall clock)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from app.clock import crm_zone, to_utc
from app.records.messages import msg

from .base import COMMON, FieldType, LangFormatter
from .values import FieldValueError


class DatetimeType(FieldType):
    name = "datetime"
    doc = "A date and time."
    options = COMMON
    example = "due: {type: datetime}"
    python_type = dt.datetime

    def column_type(self, field: Any) -> sa.types.TypeEngine:
        return sa.DateTime()

    def parse(self, field: Any, raw: Any, lang: str | None) -> Any:
        try:
            if not isinstance(raw, str):
                raise ValueError
            moment = dt.datetime.fromisoformat(raw)
        except ValueError:
            raise FieldValueError(msg("datetime", lang)) from None
        return to_utc(moment)  # without an offset: the CRM's wall clock (crm.yaml timezone)

    def default_error(self, value: Any, choices: tuple[Any, ...], values: dict[str, Any]) -> str:
        return "" if isinstance(value, dt.datetime) else "is not a date and time or now"

    def form_widget(self) -> Any:
        from app.web.forms import DateTextWidget
        return DateTextWidget("YYYY-MM-DD HH:MM")

    def output_field(self, field: Any) -> Any:
        from app.web.schemas import UtcDateTime
        return UtcDateTime(allow_none=True)

    def card_text(self, field: Any, value: Any, spec: Any, lang: str) -> str:
        return str(self.formatter(field, spec)(value))

    def formatter(self, field: Any, spec: Any) -> Callable[[Any], Any]:
        """On screens in the CRM time zone (stored UTC); the zone is the page's (crm.yaml)."""
        from app.i18n.formats import moment
        return LangFormatter(lambda v, lang: "" if v is None else moment(v, crm_zone(), lang))

    def plain_text(self, field: Any, value: Any, lang: str) -> str:
        """Exports say which zone: the CRM's wall clock with its offset (2026-06-11 00:30+08:00)."""
        local = value.replace(tzinfo=dt.UTC).astimezone(crm_zone())
        return local.isoformat(sep=" ", timespec="minutes")

    def demo_value(self, entity: Any, field: Any, index: int, rng: Any, today: Any, plan: Any) -> Any:
        from app.demo.values import generic_date, generic_time
        return generic_time(generic_date(field, rng, today), rng)


TYPE = DatetimeType()
