"""Delivery preferences (pure): quiet hours in the recipient's time zone (also over midnight),
the digest's time and grouping, mandatory rules never held, and the signed unsubscribe link."""

from __future__ import annotations

from datetime import UTC, datetime, time
from uuid import uuid4

import pytest

from services.notify.domain.preferences import (
    Digest,
    Preferences,
    digest_at,
    digest_groups,
    digest_subject,
    in_quiet_hours,
    quiet_until,
    send_at,
    unsubscribe_token,
    verify_unsubscribe,
)

BERLIN_NIGHT = Preferences(time_zone="Europe/Berlin", quiet_start=time(22, 0), quiet_end=time(7, 0))


@pytest.mark.parametrize(
    ("local", "start", "end", "quiet"),
    [
        (time(23, 0), time(22, 0), time(7, 0), True),
        (time(3, 0), time(22, 0), time(7, 0), True),
        (time(22, 0), time(22, 0), time(7, 0), True),
        (time(7, 0), time(22, 0), time(7, 0), False),
        (time(12, 0), time(22, 0), time(7, 0), False),
        (time(12, 0), time(12, 0), time(13, 0), True),
        (time(13, 0), time(12, 0), time(13, 0), False),
        (time(11, 59), time(12, 0), time(13, 0), False),
        (time(12, 0), time(12, 0), time(12, 0), False),
    ],
)
def test_quiet_hours_window(local: time, start: time, end: time, quiet: bool) -> None:
    assert in_quiet_hours(local, start, end) is quiet


def test_mail_in_quiet_hours_is_held_until_they_end_in_the_recipients_zone() -> None:
    # 21:30 UTC in December is 22:30 in Berlin: quiet until 07:00 Berlin = 06:00 UTC next day
    assert quiet_until(datetime(2026, 12, 7, 21, 30, tzinfo=UTC), BERLIN_NIGHT) == datetime(
        2026, 12, 8, 6, 0, tzinfo=UTC
    )
    # 02:00 UTC is 03:00 Berlin: until 06:00 UTC the same day
    assert quiet_until(datetime(2026, 12, 8, 2, 0, tzinfo=UTC), BERLIN_NIGHT) == datetime(2026, 12, 8, 6, 0, tzinfo=UTC)
    assert quiet_until(datetime(2026, 12, 8, 12, 0, tzinfo=UTC), BERLIN_NIGHT) is None
    assert quiet_until(datetime(2026, 12, 8, 2, 0, tzinfo=UTC), Preferences()) is None


def test_mandatory_mail_is_never_held_and_no_preferences_mean_now() -> None:
    night = datetime(2026, 12, 7, 23, 0, tzinfo=UTC)
    assert send_at(night, BERLIN_NIGHT, mandatory=True) == (night, False)
    assert send_at(night, None, mandatory=False) == (night, False)
    assert send_at(night, BERLIN_NIGHT, mandatory=False) == (datetime(2026, 12, 8, 6, 0, tzinfo=UTC), False)
    hourly = Preferences(digest=Digest.HOURLY, quiet_start=time(0, 0), quiet_end=time(23, 59))
    assert send_at(night, hourly, mandatory=False) == (datetime(2026, 12, 8, 0, 0, tzinfo=UTC), True)


def test_digest_times() -> None:
    now = datetime(2026, 12, 7, 9, 15, tzinfo=UTC)
    assert digest_at(now, Preferences()) is None
    assert digest_at(now, Preferences(digest=Digest.HOURLY)) == datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
    # daily at 08:00 Berlin (07:00 UTC): already past today, so tomorrow
    daily = Preferences(time_zone="Europe/Berlin", digest=Digest.DAILY)
    assert digest_at(now, daily) == datetime(2026, 12, 8, 7, 0, tzinfo=UTC)
    assert digest_at(datetime(2026, 12, 7, 6, 0, tzinfo=UTC), daily) == datetime(2026, 12, 7, 7, 0, tzinfo=UTC)

    # weekly: Monday 08:00 local; 2026-12-07 is a Monday
    weekly = Preferences(time_zone="Europe/Berlin", digest=Digest.WEEKLY)
    assert digest_at(datetime(2026, 12, 7, 6, 59, tzinfo=UTC), weekly) == datetime(2026, 12, 7, 7, 0, tzinfo=UTC)
    assert digest_at(now, weekly) == datetime(2026, 12, 14, 7, 0, tzinfo=UTC)  # past this Monday's: the next
    assert digest_at(datetime(2026, 12, 10, 12, 0, tzinfo=UTC), weekly) == datetime(2026, 12, 14, 7, 0, tzinfo=UTC)
    # over the change to summer time (Berlin, 2027-03-28): still 08:00 on the wall, 06:00 UTC
    assert digest_at(datetime(2027, 3, 24, 12, 0, tzinfo=UTC), weekly) == datetime(2027, 3, 29, 6, 0, tzinfo=UTC)
    assert digest_at(datetime(2027, 3, 27, 12, 0, tzinfo=UTC), daily) == datetime(2027, 3, 28, 6, 0, tzinfo=UTC)


def test_digest_groups_per_recipient_in_order() -> None:
    messages = [("ada@x.test", "a"), ("bob@x.test", "b"), ("ADA@x.test", "c")]
    assert digest_groups(messages, lambda m: m[0]) == [[messages[0], messages[2]], [messages[1]]]
    assert digest_subject(["one"]) == "one"
    assert digest_subject(["one", "two"]) == "2 notifications"


def test_an_unsubscribe_token_verifies_only_with_its_secret_and_unaltered() -> None:
    rule = uuid4()
    token = unsubscribe_token("Ada@Example.test", rule, b"k1")
    assert verify_unsubscribe(token, b"k1") == ("ada@example.test", rule)
    assert verify_unsubscribe(token, b"k2") is None
    rule_part, address_part, mac = token.split(".")
    other = unsubscribe_token("bob@example.test", rule, b"k1").split(".")[1]
    assert verify_unsubscribe(f"{rule_part}.{other}.{mac}", b"k1") is None
    assert verify_unsubscribe(f"{uuid4()}.{address_part}.{mac}", b"k1") is None
    assert verify_unsubscribe("a.b", b"k1") is None
    assert verify_unsubscribe(token, b"") is None
    with pytest.raises(ValueError, match="needs a secret"):
        unsubscribe_token("a@b.test", rule, b"")
