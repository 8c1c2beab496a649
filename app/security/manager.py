"""MetaCRM's SecurityManager: FAB's own extension point for auth and access.

Passed to AppBuilder as a class object (a mistyped dotted path in config
silently falls back to the stock manager, FAB_NOTES).
"""

from __future__ import annotations

from flask_appbuilder.security.sqla.manager import SecurityManager


class CrmSecurityManager(SecurityManager):
    """Row, field and team rules (roles.yaml) attach here."""
