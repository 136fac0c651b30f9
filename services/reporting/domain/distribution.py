"""Distribution of stored runs as pure rules: a delivery's states and when a failed one is tried again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from shared.backoff import doubling_delay

DeliveryStatus = Literal["pending", "delivered", "failed"]


@dataclass(frozen=True)
class RetryPolicy:
    first_delay: timedelta
    max_delay: timedelta
    max_attempts: int

    def after_failure(self, attempts: int, now: datetime) -> datetime | None:
        """When to try again after `attempts` failed attempts (doubling), or None: give up."""
        if attempts >= self.max_attempts:
            return None
        return now + doubling_delay(self.first_delay, self.max_delay, attempts)
