"""Service continuity and availability (ISO/IEC 20000-1 6.3), pure rules: what a plan must hold,
who may change it (an approved change, like any controlled CI), when its next test is due (on
schedule, or sooner after a major change to the service environment), and an invocation's
lifecycle from invoked to returned to normal to reviewed."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

from services.config.domain.items import ChangeWindow
from shared.errors import InvalidTransition, RuleViolation

RETEST_DAYS = 30
"""A re-test after a major change to the service environment is due within this many days."""
WARN_DAYS = 30
"""A plan's test shows as due this many days before it falls due."""


class PlanKind(StrEnum):
    CONTINUITY = "continuity"
    AVAILABILITY = "availability"


class ContinuityTestType(StrEnum):
    TABLETOP = "tabletop"
    FAILOVER = "failover"
    FULL_DR = "full_dr"
    BACKUP_RESTORE = "backup_restore"


class InvocationStatus(StrEnum):
    INVOKED = "invoked"
    RETURNED_TO_NORMAL = "returned_to_normal"
    REVIEWED = "reviewed"


class DueStatus(StrEnum):
    """Where a plan stands against its testing: tested on time, a test due soon, or overdue."""

    OK = "ok"
    DUE = "due"
    OVERDUE = "overdue"


@dataclass(frozen=True)
class RecoveryTarget:
    """How fast one covered service must be back (RTO) and how much data it may lose (RPO)."""

    service_id: UUID
    rto_minutes: int
    rpo_minutes: int


def validate_plan(services: Sequence[UUID], recovery: Iterable[RecoveryTarget]) -> None:
    """A plan covers at least one service, each once, and states RTO/RPO only for those it covers;
    every continuity-covered service has its RTO and RPO."""
    if not services:
        raise RuleViolation("a plan covers at least one service", field="service_ids")
    if len(set(services)) != len(services):
        raise RuleViolation("a service is listed twice", field="service_ids")
    covered = set(services)
    seen: set[UUID] = set()
    for index, target in enumerate(recovery):
        if target.service_id not in covered:
            raise RuleViolation(
                f"recovery target {index} names a service the plan does not cover", field="recovery_targets"
            )
        if target.service_id in seen:
            raise RuleViolation(f"recovery target {index} repeats a service", field="recovery_targets")
        seen.add(target.service_id)


def require_approved_change(
    services: Iterable[UUID], plan_id: UUID, change: ChangeWindow | None, change_number: str | None, now: datetime
) -> None:
    """A plan changes only under an approved change, in its window, that names the plan or one of
    the services it covers among its affected CIs (6.3.2: changes to the plans go through change
    management). The refusal names `change_number`."""
    if change_number is None:
        raise RuleViolation("a continuity plan changes only under an approved change: name it", field="change_number")
    if change is None:
        raise RuleViolation(f"change {change_number} is not known to the CMDB", field="change_number")
    reasons = [change.authorises(ci_id, now) for ci_id in (plan_id, *services)]
    if any(reason is None for reason in reasons):
        return
    wrong_ci = f"change {change.number} does not list this CI among its affected CIs"
    useful = [r for r in reasons if r is not None and r != wrong_ci]
    reason = useful[0] if useful else f"change {change.number} names neither the plan nor a service it covers"
    raise RuleViolation(reason, field="change_number")


def next_test_due(last_tested_at: datetime | None, created_at: datetime, interval_days: int) -> datetime:
    """The scheduled test: one interval after the last test, or after the plan was first recorded."""
    return (last_tested_at or created_at) + timedelta(days=interval_days)


def retest_due_by(scheduled: datetime, implemented_at: datetime, retest_days: int) -> datetime:
    """After a major change to the service environment a re-test is due within `retest_days`, or
    on schedule if that comes first (6.3.3)."""
    return min(scheduled, implemented_at + timedelta(days=retest_days))


def due_status(due_by: datetime, now: datetime, warn_days: int) -> DueStatus:
    if now > due_by:
        return DueStatus.OVERDUE
    if now >= due_by - timedelta(days=warn_days):
        return DueStatus.DUE
    return DueStatus.OK


INVOCATION_ACTIONS: dict[str, tuple[InvocationStatus, InvocationStatus]] = {
    "return": (InvocationStatus.INVOKED, InvocationStatus.RETURNED_TO_NORMAL),
    "review": (InvocationStatus.RETURNED_TO_NORMAL, InvocationStatus.REVIEWED),
}


def advance(status: InvocationStatus, action: str) -> InvocationStatus:
    """invoked -(return)-> returned_to_normal -(review)-> reviewed; anything else is refused (409)."""
    source, target = INVOCATION_ACTIONS[action]
    if status != source:
        allowed = [name for name, (s, _) in INVOCATION_ACTIONS.items() if s == status]
        raise InvalidTransition(action, status.value, allowed)
    return target


def check_return(invoked_at: datetime, returned_at: datetime, now: datetime) -> None:
    if returned_at < invoked_at:
        raise RuleViolation("the return to normal comes after the invocation", field="returned_to_normal_at")
    if returned_at > now:
        raise RuleViolation("the return to normal cannot be in the future", field="returned_to_normal_at")
