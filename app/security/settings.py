"""Who may use the Settings pages (the web metadata editor): Admin, and roles with `settings:`.

`settings: edit` sees and saves, `settings: read` sees only; every other role is refused
(403). The decision is read from the spec in force, so a role given the key by a web edit
may use the pages as soon as the new version is served; the FAB permissions below only
show the menu entries (`crm sync` and every applied version that changes roles.yaml).
"""

from __future__ import annotations

from app.metadata.spec import CrmSpec

ADMIN_ROLE = "Admin"
SETTINGS_VIEW = "metadata_settings"
HISTORY_VIEW = "metadata_history"
SETTINGS_CATEGORY = "Settings"


def settings_mode(spec: CrmSpec, roles: list[str]) -> str | None:
    """"edit", "read" or None for a user with these roles (their best `settings:`)."""
    if ADMIN_ROLE in roles:
        return "edit"
    modes = {spec.role_map[r].settings for r in roles if r in spec.role_map}
    return "edit" if "edit" in modes else "read" if "read" in modes else None


def settings_permissions(spec: CrmSpec, role: str) -> set[tuple[str, str]]:
    """The FAB pairs that show the Settings menu to a role of roles.yaml that has `settings:`."""
    mode = spec.role_map[role].settings if role in spec.role_map else None
    if mode is None:
        return set()
    pairs = {("can_read", SETTINGS_VIEW), ("menu_access", SETTINGS_VIEW), ("can_read", HISTORY_VIEW),
             ("menu_access", HISTORY_VIEW), ("menu_access", SETTINGS_CATEGORY)}
    if mode == "edit":
        pairs.add(("can_write", SETTINGS_VIEW))
    return pairs
