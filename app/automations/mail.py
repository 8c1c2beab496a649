"""Send one e-mail over SMTP (settings CRM_SMTP_*, CRM_MAIL_FROM); raise on any failure."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from typing import Any


class DeliveryFailed(Exception):
    """An e-mail or webhook that did not go out; the message is the reason shown in the run log."""


def send_mail(config: Any, payload: dict[str, Any]) -> str:
    host = config.get("CRM_SMTP_HOST")
    if not host:
        raise DeliveryFailed("no SMTP server configured (CRM_SMTP_HOST)")
    if not payload.get("to"):
        raise DeliveryFailed("no recipient: the address expression is empty for this record")
    message = EmailMessage()
    message["From"] = config.get("CRM_MAIL_FROM", "crm@localhost")
    message["To"] = payload["to"]
    message["Subject"] = payload["subject"]
    message.set_content(payload["body"])
    try:
        with smtplib.SMTP(host, int(config.get("CRM_SMTP_PORT", 25)), timeout=10) as smtp:
            if config.get("CRM_SMTP_TLS"):
                smtp.starttls()
            if config.get("CRM_SMTP_USER"):
                smtp.login(config["CRM_SMTP_USER"], config.get("CRM_SMTP_PASSWORD", ""))
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryFailed(f"SMTP {host}: {exc}") from exc
    return f"sent to {payload['to']}"
