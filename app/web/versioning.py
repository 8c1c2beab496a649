"""Record versions on the web: read the version a client sent, answer a stale write.

The API takes the version from `If-Match` (the ETag a GET returned, `"3"`),
else from `version` in the JSON body, else from `?version=`; none means
last-write-wins. A stale write is a 409 whose body says what changed and shows
the current record through the same field rules as a GET.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, request

from app.i18n import _t
from app.records.commands import StaleVersion
from app.records.messages import msg
from app.records.versions import VersionInvalid, parse_version

from .labels import current_lang

STALE_FIELD = _t("Changed by someone else since you opened the form; now: {value}")


class BadVersion(Exception):
    """The version sent is not a version number: a 400 naming `version`."""

    def __init__(self) -> None:
        self.errors = {"version": [msg("version_invalid", current_lang())]}
        super().__init__(self.errors["version"][0])


def client_version(body: Any = None) -> int | None:
    """The version the client read; takes `version` out of a JSON body (it is not a field)."""
    raw: Any = request.headers.get("If-Match")
    from_body = body.pop("version", None) if isinstance(body, dict) else None
    if raw in (None, ""):
        raw = from_body if from_body is not None else request.args.get("version")
    try:
        return parse_version(raw)
    except VersionInvalid:
        raise BadVersion() from None


def stale_body(exc: StaleVersion, current: dict[str, Any]) -> dict[str, Any]:
    """The 409 body: message, versions, the visible fields changed since, the current record."""
    return {"message": str(exc), "version": exc.version, "your_version": exc.your_version,
            "changed": exc.changed, "current": current}


def with_etag(response: Any, record: Any) -> Any:
    if getattr(record, "version", None) is not None:
        response.headers["ETag"] = f'"{record.version}"'
    return response


def request_version() -> int | None:
    """The version a screen action (delete, convert) posted: form field or query string."""
    try:
        return parse_version(request.values.get("version"))
    except VersionInvalid:
        abort(400, msg("version_invalid", current_lang()))


def form_version(form: Any) -> int | None:
    """The version an edit form was opened at (its hidden field)."""
    field = getattr(form, "version", None)
    try:
        return parse_version(field.data if field is not None else None)
    except VersionInvalid:
        abort(400, msg("version_invalid", current_lang()))


def _shown(entity: Any, record: Any, name: str, lang: str) -> str:
    """The current value as the form would show it; links say only that they changed."""
    f = entity.field(name)
    if f.type in ("link", "links", "user"):
        return "…"
    value = getattr(record, name, None)
    if value in (None, "", []):
        return "—"
    labels = {c.value: c.label.get(lang) for c in f.choices}
    if isinstance(value, list):
        return ", ".join(str(labels.get(v, v)) for v in value)
    return str(labels.get(value, value))


def show_stale(form: Any, entity: Any, exc: StaleVersion) -> None:
    """Re-show the user's form: the message (what changed), the current value next to each
    changed field, and the current version, so saving again overwrites knowingly."""
    lang = current_lang() or "en"
    flash(str(exc), "warning")
    for name in exc.changed:
        if name in form:
            note = STALE_FIELD.get(lang, STALE_FIELD["en"]).format(value=_shown(entity, exc.record, name, lang))
            form[name].errors = [*form[name].errors, note]
    if "version" in form:
        form["version"].data = str(exc.version)
