"""Known error records (ISO/IEC 20000-1 8.2): a root cause with a workaround, kept in step with its
problem, and which incidents it applies to (no I/O)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from services.incident.domain.problems import Problem
from shared.errors import RuleViolation


class KnownErrorStatus(StrEnum):
    ACTIVE = "active"
    RETIRED = "retired"


@dataclass
class KnownError:
    """A known error database entry: a root cause with a workaround, offered on matching incidents."""

    id: UUID
    number: str
    problem_id: UUID
    title: str
    symptoms: str
    root_cause: str
    workaround: str
    status: KnownErrorStatus
    created_at: datetime
    updated_at: datetime
    ci_id: UUID | None = None
    service_id: UUID | None = None
    category: str | None = None
    usage_count: int = 0

    @classmethod
    def of_problem(cls, problem: Problem, *, known_error_id: UUID, number: str, now: datetime) -> KnownError:
        return cls(
            id=known_error_id,
            number=number,
            problem_id=problem.id,
            title=problem.title,
            symptoms=problem.description,
            root_cause=problem.root_cause,
            workaround=problem.workaround,
            status=KnownErrorStatus.ACTIVE,
            created_at=now,
            updated_at=now,
            ci_id=problem.ci_id,
            service_id=problem.service_id,
            category=problem.category,
        )


def require_match_scope(ci_id: UUID | None, service_id: UUID | None, category: str | None) -> None:
    """A known error entered directly must say what it applies to, or it can never be offered."""
    if ci_id is None and (service_id is None or not category):
        raise RuleViolation.of_fields(
            [("ci_id", "give the CI, or the service and category, the known error applies to")]
        )


def known_error_matches(
    known_error: KnownError, *, ci_id: UUID | None, service_id: UUID | None, category: str | None
) -> bool:
    """Same CI, or same service and category (case-insensitive)."""
    if known_error.status is not KnownErrorStatus.ACTIVE:
        return False
    if ci_id is not None and known_error.ci_id == ci_id:
        return True
    return (
        service_id is not None
        and bool(category)
        and known_error.service_id == service_id
        and (known_error.category or "").lower() == (category or "").lower()
    )
