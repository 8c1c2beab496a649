"""Password policy for database users: FAB's password-complexity hook.

FAB calls FAB_PASSWORD_COMPLEXITY_VALIDATOR on the user add form and on every
password change (own and admin reset). The policy follows NIST SP 800-63B:
length over composition rules, and no password an attacker tries first.
"""

from __future__ import annotations

import secrets

import click
from flask_appbuilder.exceptions import PasswordComplexityValidationError

MIN_LENGTH = 10
COMMON = frozenset({
    "password", "password1", "password12", "password123", "passw0rd", "admin", "admin123", "admin1234",
    "administrator", "qwerty", "qwertyuiop", "letmein", "welcome", "welcome1", "iloveyou", "changeme",
    "demo1234", "1234567890", "0123456789", "1q2w3e4r5t", "abc123456", "abcdefghij", "metacrm", "woaini1314",
})


def password_problem(password: str) -> str | None:
    """Why the password is refused, or None when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return f"Password must have at least {MIN_LENGTH} characters."
    if password.lower() in COMMON or len(set(password)) < 4:
        return "Password is too easy to guess: choose a longer, less common one."
    return None


class PasswordRefused(PasswordComplexityValidationError, click.ClickException):
    """A password refused outside a form (FAB's `fab create-admin`, `create-user`, `reset-password`):
    click prints the reason and exits 1 instead of a traceback, or a "reseted" that did not happen."""

    def __init__(self, problem: str) -> None:
        PasswordComplexityValidationError.__init__(self, problem)
        click.ClickException.__init__(self, problem)


def refuse_weak_password(password: str) -> None:
    """The policy on every path that sets a password, forms or not."""
    problem = password_problem(password or "")
    if problem:
        raise PasswordRefused(problem)


def check_password_policy(password: str) -> None:
    """FAB_PASSWORD_COMPLEXITY_VALIDATOR: raise FAB's error with the reason."""
    problem = password_problem(password or "")
    if problem:
        raise PasswordComplexityValidationError(problem)


def random_password() -> str:
    """A password that meets the policy, for a first admin nobody chose one for."""
    return secrets.token_urlsafe(12)
