"""Delivery preferences as pure rules: whether a rule's mail may be unsubscribed, digested or held
(mandatory rules may not), a recipient's quiet hours (a window of local time in their time zone,
possibly over midnight: non-urgent mail is held until it ends), the digest's period and how
messages are gathered into one, and the signed unsubscribe link (RFC 8058 one-click)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import Any, TypeVar
from uuid import UUID
from zoneinfo import ZoneInfo

from services.notify.domain.recipients import Person

T = TypeVar("T")


class Digest(StrEnum):
    OFF = "off"
    HOURLY = "hourly"
    DAILY = "daily"
    WEEKLY = "weekly"


DIGEST_HOUR = 8
"""A daily digest goes at 08:00 in the recipient's time zone; a weekly one at 08:00 on Monday."""
DIGEST_WEEKDAY = 0
"""A weekly digest's day (Monday, as `date.weekday()` counts)."""


@dataclass(frozen=True)
class Preferences:
    time_zone: str = "UTC"
    quiet_start: time | None = None
    quiet_end: time | None = None
    digest: Digest = Digest.OFF


def in_quiet_hours(local: time, start: time, end: time) -> bool:
    """Whether local time `local` is in [start, end); a window with start after end runs over
    midnight (22:00-07:00); start equal to end is no window."""
    if start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end


def quiet_until(now: datetime, prefs: Preferences) -> datetime | None:
    """When the recipient's quiet hours around `now` (aware) end, or None when they are not quiet."""
    if prefs.quiet_start is None or prefs.quiet_end is None:
        return None
    zone = ZoneInfo(prefs.time_zone)
    local = now.astimezone(zone)
    if not in_quiet_hours(local.time().replace(tzinfo=None), prefs.quiet_start, prefs.quiet_end):
        return None
    end = datetime.combine(local.date(), prefs.quiet_end, tzinfo=zone)
    if end <= local:
        end += timedelta(days=1)
    return end.astimezone(now.tzinfo)


def digest_at(now: datetime, prefs: Preferences) -> datetime | None:
    """When the digest that a message of `now` joins is sent: the next full hour (hourly), the
    next 08:00 local (daily), the next Monday 08:00 local (weekly); None without a digest."""
    if prefs.digest is Digest.OFF:
        return None
    zone = ZoneInfo(prefs.time_zone)
    local = now.astimezone(zone)
    if prefs.digest is Digest.HOURLY:
        slot = local.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        return slot.astimezone(now.tzinfo)
    day = local.date()
    if prefs.digest is Digest.WEEKLY:
        day += timedelta(days=(DIGEST_WEEKDAY - day.weekday()) % 7)
    slot = datetime.combine(day, time(DIGEST_HOUR), tzinfo=zone)  # 08:00 wall-clock, whatever the offset
    if slot <= local:
        slot = datetime.combine(
            day + timedelta(days=7 if prefs.digest is Digest.WEEKLY else 1), time(DIGEST_HOUR), tzinfo=zone
        )
    return slot.astimezone(now.tzinfo)


def send_at(now: datetime, prefs: Preferences | None, *, mandatory: bool) -> tuple[datetime, bool]:
    """(when a message is due, whether it waits for a digest): a mandatory rule's at once; else the
    digest's time, or the end of quiet hours, or now."""
    if mandatory or prefs is None:
        return now, False
    digest = digest_at(now, prefs)
    if digest is not None:
        return digest, True
    return quiet_until(now, prefs) or now, False


def preferences_of(person: Person) -> Preferences | None:
    """A directory person's preferences, or None when they have neither quiet hours nor a digest."""
    digest = Digest(person.digest)
    if (person.quiet_start is None or person.quiet_end is None) and digest is Digest.OFF:
        return None
    return Preferences(
        time_zone=person.time_zone,
        quiet_start=time.fromisoformat(person.quiet_start) if person.quiet_start else None,
        quiet_end=time.fromisoformat(person.quiet_end) if person.quiet_end else None,
        digest=digest,
    )


def digest_groups(messages: Iterable[T], key: Any) -> list[list[T]]:
    """Messages gathered into one digest per recipient (`key(message)`), in first-seen order."""
    groups: dict[str, list[T]] = {}
    for message in messages:
        groups.setdefault(str(key(message)).lower(), []).append(message)
    return list(groups.values())


def digest_subject(subjects: Sequence[str]) -> str:
    return f"{len(subjects)} notifications" if len(subjects) != 1 else subjects[0]


# ---------------------------------------------------------------------------- unsubscribe links


def _mac(secret: bytes, payload: str) -> str:
    digest = hmac.new(secret, b"unsubscribe:" + payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def unsubscribe_token(address: str, rule_id: UUID, secret: bytes) -> str:
    """`<rule id>.<address, base64url>.<HMAC>`: what the link carries (no expiry: a mail read a
    year later may still unsubscribe)."""
    if not secret:
        raise ValueError("an unsubscribe link needs a secret")
    encoded = base64.urlsafe_b64encode(address.lower().encode()).decode().rstrip("=")
    payload = f"{rule_id}.{encoded}"
    return f"{payload}.{_mac(secret, payload)}"


def verify_unsubscribe(token: str, secret: bytes) -> tuple[str, UUID] | None:
    """(address, rule id) of a token this secret signed, else None."""
    parts = token.split(".")
    if len(parts) != 3 or not secret or len(token) > 1000:
        return None
    if not hmac.compare_digest(_mac(secret, f"{parts[0]}.{parts[1]}"), parts[2]):
        return None
    try:
        rule_id = UUID(parts[0])
        address = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    return address, rule_id
