"""The automations' vocabulary (triggers, actions, run states) as the screens name it.

The codes stay what roles.yaml/automations.yaml and the API use; screens show these labels.
"""

from __future__ import annotations

from app.i18n import Msg, _t

TRIGGERS = {
    "created": _t("created"), "updated": _t("updated"), "saved": _t("saved"), "field_changed": _t("field changed"),
    "stage_changed": _t("stage changed"), "deleted": _t("deleted"), "schedule": _t("schedule"),
    "date": _t("on a date"), "inactive": _t("inactive"),
}
ACTIONS = {
    "set": _t("set fields"), "create": _t("create a record"), "email": _t("e-mail"), "webhook": _t("webhook"),
    "assign": _t("assign"), "notify": _t("notify"), "points": _t("points"), "tag": _t("tag"),
    "hook": _t("plugin"), "rule": _t("rule"), "score": _t("score"), "sla_due": _t("service deadline"),
    "pool": _t("return to the pool"),
}
STATES = {
    "done": _t("done"), "sent": _t("sent"), "fired": _t("fired"), "skipped": _t("skipped"), "failed": _t("failed"),
    "pending": _t("pending"), "retrying": _t("retrying"),
}


def word(table: dict[str, Msg], code: str | None, lang: str) -> str:
    """A code's label in `lang`; an unknown code (a plugin's) as it is."""
    return table[code].get(lang) if code in table else (code or "")
