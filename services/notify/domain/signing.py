"""A webhook delivery as the Standard Webhooks specification has it: the headers that sign a body
(`webhook-id`, `webhook-timestamp`, `webhook-signature`: `v1,` and the base64 HMAC-SHA256 of
`id.timestamp.body`, one per secret, space-separated), on a CloudEvent in the HTTP binding's
structured mode."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence

from services.notify.domain.subscriptions import key_of

CLOUDEVENTS_JSON = "application/cloudevents+json; charset=utf-8"


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """`v1,<base64 HMAC-SHA256 of "id.timestamp.body">` with the secret's key."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(key_of(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def signed_headers(secrets: Sequence[str], message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The headers of one delivery: content type, id, timestamp and a signature per secret."""
    return {
        "content-type": CLOUDEVENTS_JSON,
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(signature(s, message_id, timestamp, body) for s in secrets),
    }
