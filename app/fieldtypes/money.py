"""money: an amount in the CRM's currency, two decimals, typed with its sign (¥1,280) or units (万)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.records.normalise import NormaliseError, money_text

from .base import NUMERIC, LangFormatter
from .decimal import DecimalType
from .values import FieldValueError


class MoneyType(DecimalType):
    name = "money"
    doc = ("An amount in the CRM's currency, two decimals; typed with its sign and "
           "thousands separators too (¥1,280).")
    options = NUMERIC | {"units"}
    example = "amount: {type: money, min: 0}"

    def scale_of(self, field: Any) -> int:
        return 2

    def parse(self, field: Any, raw: Any, lang: str | None) -> Any:
        if isinstance(raw, str) and not isinstance(raw, bool):  # ¥1,280 / ￥3,500.00 / 12万 (units)
            try:
                raw = money_text(field, raw, lang)
            except NormaliseError as exc:
                raise FieldValueError(str(exc)) from None
        return super().parse(field, raw, lang)

    def card_text(self, field: Any, value: Any, spec: Any, lang: str) -> str:
        from app.i18n.formats import money
        return money(value, spec.currency, lang)  # `lang`: a mail or history is not always the page's

    def formatter(self, field: Any, spec: Any) -> Callable[[Any], Any]:
        from app.i18n.formats import money
        return LangFormatter(lambda v, lang: "" if v is None else money(v, spec.currency, lang))


TYPE = MoneyType()
