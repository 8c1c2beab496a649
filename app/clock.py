"""The CRM's clock: instants are stored as naive UTC, people see and type the CRM time zone,
or their own when they chose one (*My settings*: kept in their session at login, app/web/my_settings.py).

`crm.yaml`'s `timezone:` decides what "today" is and how a datetime typed without an offset
is read (Shanghai is already tomorrow after 16:00 UTC). `CRM_FROZEN_NOW` (an ISO instant with
an offset) stops the clock for demos and tests; it is read at each call, so an app's clock can
be moved without rebuilding it.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app, has_app_context, has_request_context, session

USER_ZONE_KEY = "crm_tz"  # the session key holding the signed-in user's own time zone


def utc_now() -> dt.datetime:
    """Now, naive UTC to the second (as timestamps are stored)."""
    frozen = current_app.config.get("CRM_FROZEN_NOW") if has_app_context() else None
    if frozen:
        moment = dt.datetime.fromisoformat(str(frozen))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        return moment.astimezone(dt.UTC).replace(tzinfo=None, microsecond=0)
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


def crm_zone() -> ZoneInfo:
    """The viewer's time zone: their own in a request of theirs that has one, else the CRM's
    (jobs, automations and token API clients: the CRM's); UTC outside an app."""
    if not has_app_context() or "crm" not in current_app.extensions:
        return ZoneInfo("UTC")
    own = session.get(USER_ZONE_KEY) if has_request_context() else None
    if own:
        try:
            return ZoneInfo(str(own))
        except (ZoneInfoNotFoundError, ValueError):
            pass  # a zone this server does not know: the CRM's
    return ZoneInfo(current_app.extensions["crm"].spec.timezone or "UTC")


def local_now(zone: ZoneInfo | None = None) -> dt.datetime:
    """Now on the CRM's wall clock, naive (what a form shows as `now`)."""
    return to_local(utc_now(), zone)


def crm_today(zone: ZoneInfo | None = None) -> dt.date:
    """Today's date in the CRM time zone."""
    return local_now(zone).date()


def to_local(utc: dt.datetime, zone: ZoneInfo | None = None) -> dt.datetime:
    """A stored (naive UTC) instant on the CRM's wall clock, naive."""
    return utc.replace(tzinfo=dt.UTC).astimezone(zone or crm_zone()).replace(tzinfo=None)


def to_utc(moment: dt.datetime, zone: ZoneInfo | None = None) -> dt.datetime:
    """Naive UTC for an instant: an offset is kept, a naive time is the CRM's wall clock."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone or crm_zone())
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


def day_bounds_utc(start: dt.date, end: dt.date, zone: ZoneInfo | None = None) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of calendar days in the CRM time zone, as naive UTC bounds for a datetime column."""
    return (to_utc(dt.datetime.combine(start, dt.time()), zone),
            to_utc(dt.datetime.combine(end, dt.time()), zone))
