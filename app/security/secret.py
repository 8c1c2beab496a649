"""The secret key: where it comes from, and refusing to serve with a weak one.

Flask signs session cookies and FAB signs JWTs with SECRET_KEY: whoever knows
it logs in as anyone. The shipped placeholder is public, so outside debug and
testing the app refuses it (and any key under 32 bytes). `flask crm secret-key`
writes a random key once into instance/secret_key (git-ignored); `make run`
calls it, so a fresh checkout still just works.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

DEFAULT_SECRET_KEY = "dev-only-secret-change-me"
MIN_KEY_BYTES = 32
KEY_FILE_SETTING = "CRM_SECRET_KEY_FILE"


class InsecureSecretKey(RuntimeError):
    """The app would sign sessions and tokens with a guessable key."""


def key_file(settings: dict[str, Any]) -> Path:
    return Path(settings[KEY_FILE_SETTING])


def resolve_secret_key(settings: dict[str, Any]) -> str:
    """SECRET_KEY from environment/config/overrides, else the key file, else the placeholder."""
    key = settings.get("SECRET_KEY") or DEFAULT_SECRET_KEY
    if key != DEFAULT_SECRET_KEY:
        return str(key)
    path = key_file(settings)
    if path.is_file():
        return path.read_text(encoding="utf-8").strip() or DEFAULT_SECRET_KEY
    return DEFAULT_SECRET_KEY


def key_problem(key: str) -> str | None:
    if key == DEFAULT_SECRET_KEY:
        return "SECRET_KEY is the public placeholder shipped with MetaCRM"
    if len(key.encode("utf-8")) < MIN_KEY_BYTES:
        return f"SECRET_KEY is shorter than {MIN_KEY_BYTES} bytes"
    return None


def require_strong_secret(config: dict[str, Any], debug: bool) -> None:
    """Refuse to serve with a weak key unless in debug or testing (where it is harmless)."""
    if debug or config.get("TESTING"):
        return
    problem = key_problem(str(config.get("SECRET_KEY") or DEFAULT_SECRET_KEY))
    if problem is None:
        return
    raise InsecureSecretKey(
        f"refusing to start: {problem}; anyone could sign a session cookie or API token as any user.\n"
        f"Set one of:\n"
        f"  - the SECRET_KEY environment variable (at least {MIN_KEY_BYTES} random bytes, e.g. "
        f"`python3 -c 'import secrets; print(secrets.token_urlsafe(48))'`),\n"
        f"  - a key file: `flask --app run.py crm secret-key` writes one to {config.get(KEY_FILE_SETTING)} "
        f"(another path: {KEY_FILE_SETTING}),\n"
        f"  - or SECRET_KEY in config.py / CRM_CONFIG."
    )


def write_key_file(path: Path) -> bool:
    """Write a random key to path unless one is there; True when written. Owner-only permissions."""
    if path.is_file() and path.read_text(encoding="utf-8").strip():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(secrets.token_urlsafe(48) + "\n")
    return True
