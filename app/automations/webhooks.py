"""Call one webhook: POST the JSON body, signed with HMAC-SHA256 (CRM_WEBHOOK_SECRET).

The receiver checks `X-CRM-Signature: sha256=<hex of HMAC(secret, raw body)>`;
`X-CRM-Delivery` is the delivery id, the same on every retry (so a receiver can
ignore a repeat). Any answer but 2xx is a failure, retried with backoff.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.request
from typing import Any

from .mail import DeliveryFailed

SIGNATURE_HEADER = "X-CRM-Signature"


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def call_webhook(config: Any, payload: dict[str, Any], delivery_id: int) -> str:
    body = json.dumps(payload["body"], ensure_ascii=False, sort_keys=True).encode()
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "MetaCRM",
               "X-CRM-Delivery": str(delivery_id)}
    secret = config.get("CRM_WEBHOOK_SECRET")
    if secret:
        headers[SIGNATURE_HEADER] = signature(secret, body)
    request = urllib.request.Request(payload["url"], data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=float(config.get("CRM_WEBHOOK_TIMEOUT", 10))) as answer:
            return f"HTTP {answer.status}"
    except urllib.error.HTTPError as exc:
        raise DeliveryFailed(f"{payload['url']} answered HTTP {exc.code}") from exc
    except (OSError, ValueError) as exc:
        raise DeliveryFailed(f"{payload['url']}: {getattr(exc, 'reason', exc)}") from exc
