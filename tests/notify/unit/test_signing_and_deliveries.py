"""Signing per Standard Webhooks (checked against the `standardwebhooks` package), the retry
policy over a bounded period, the ordering key and the answer's excerpt."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from services.notify.domain.deliveries import (
    RetryPolicy,
    disabled_reason,
    excerpt,
    is_success,
    ordering_key,
)
from services.notify.domain.signing import signature, signed_headers
from services.notify.domain.subscriptions import secret_of

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
KEY = bytes(range(32))
SECRET = secret_of(KEY)


def test_the_signature_is_hmac_sha256_of_id_timestamp_body() -> None:
    body = b'{"id":"x"}'
    expected = base64.b64encode(hmac.new(KEY, b"msg_1.1700000000." + body, hashlib.sha256).digest()).decode()
    assert signature(SECRET, "msg_1", 1700000000, body) == "v1," + expected


def test_the_headers_verify_with_the_standardwebhooks_package() -> None:
    body = b'{"specversion":"1.0"}'
    stamp = int(datetime.now(UTC).timestamp())
    headers = signed_headers([SECRET], "evt-1", stamp, body)
    assert headers["webhook-id"] == "evt-1"
    assert headers["webhook-timestamp"] == str(stamp)
    assert headers["content-type"] == "application/cloudevents+json; charset=utf-8"
    assert Webhook(SECRET).verify(body, headers) == {"specversion": "1.0"}
    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(body + b" ", headers)


def test_two_secrets_give_two_space_separated_signatures_each_verifying() -> None:
    other = secret_of(b"9" * 32)
    body = b"{}"
    stamp = int(datetime.now(UTC).timestamp())
    headers = signed_headers([SECRET, other], "evt-2", stamp, body)
    first, second = headers["webhook-signature"].split(" ")
    assert first == signature(SECRET, "evt-2", stamp, body)
    assert second == signature(other, "evt-2", stamp, body)
    Webhook(SECRET).verify(body, headers)
    Webhook(other).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret_of(b"7" * 32)).verify(body, headers)


POLICY = RetryPolicy(first_delay=timedelta(seconds=10), max_delay=timedelta(seconds=60), period=timedelta(minutes=5))


def test_retries_double_up_to_the_longest_delay() -> None:
    first = NOW
    assert POLICY.next_attempt(1, first, NOW) == NOW + timedelta(seconds=10)
    assert POLICY.next_attempt(2, first, NOW) == NOW + timedelta(seconds=20)
    assert POLICY.next_attempt(3, first, NOW) == NOW + timedelta(seconds=40)
    assert POLICY.next_attempt(4, first, NOW) == NOW + timedelta(seconds=60)
    assert POLICY.next_attempt(9, first, NOW) == NOW + timedelta(seconds=60)
    assert POLICY.next_attempt(0, first, NOW) == NOW + timedelta(seconds=10)


def test_retries_stop_at_the_end_of_the_period() -> None:
    first = NOW
    at_edge = NOW + timedelta(minutes=4)
    assert POLICY.next_attempt(5, first, at_edge) == first + timedelta(minutes=5), "the last one lands on the end"
    assert POLICY.next_attempt(5, first, at_edge + timedelta(seconds=1)) is None
    assert POLICY.next_attempt(1, first, NOW + timedelta(minutes=6)) is None


def test_an_attempt_counts_keeps_the_first_time_and_says_when_to_try_again() -> None:
    first = POLICY.after_attempt(0, None, NOW, "timed out")
    assert (first.attempts, first.first_attempt_at, first.last_attempt_at) == (1, NOW, NOW)
    assert first.retry_at == NOW + timedelta(seconds=10) and not first.succeeded and not first.gave_up
    later = NOW + timedelta(seconds=30)
    second = POLICY.after_attempt(1, NOW, later, None)
    assert second.succeeded and second.retry_at is None and not second.gave_up
    assert second.values() == {
        "attempts": 2,
        "first_attempt_at": NOW,  # kept from the first attempt
        "last_attempt_at": later,
        "last_error": None,
        "next_attempt_at": None,
    }
    last = POLICY.after_attempt(6, NOW, NOW + timedelta(minutes=5), "refused")
    assert last.gave_up and last.values()["next_attempt_at"] is None and last.values()["last_error"] == "refused"


def test_the_ordering_key_is_the_subject_or_the_event() -> None:
    event = UUID(int=7)
    assert ordering_key("INC1", event) == "s:INC1"
    assert ordering_key(None, event) == f"e:{event}"
    assert ordering_key("", event) == f"e:{event}"
    assert ordering_key(str(event), event) != ordering_key(None, event)


def test_success_is_a_2xx() -> None:
    assert [c for c in (199, 200, 204, 299, 300, 404, 503) if is_success(c)] == [200, 204, 299]


def test_the_excerpt_is_bounded_and_marked_when_cut() -> None:
    assert excerpt("short", 10) == "short"
    assert excerpt("0123456789", 10) == "0123456789"
    assert excerpt("0123456789ab", 10) == "012345678…"
    assert len(excerpt("x" * 5000, 500)) == 500
    assert excerpt("abc", 0) == "…"[:0] + "…"


def test_the_disabled_reason_is_bounded() -> None:
    reason = disabled_reason(7, "HTTP 503")
    assert reason == "delivery failed 7 times over the retry period; last: HTTP 503"
    assert len(disabled_reason(1, "x" * 2000)) == 500
