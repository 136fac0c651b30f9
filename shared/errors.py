"""Domain errors and the one table that maps them to HTTP problem details (RFC 9457).

Domain and use-case code raise these; it never imports HTTP. `shared.http` turns them into
`application/problem+json` responses from `PROBLEM_TABLE`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")


class DomainError(Exception):
    """Base of every error a client can cause; `detail` is shown to the client as is."""

    def __init__(self, detail: str, **extensions: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extensions = extensions


class NotFound(DomainError):
    """The addressed record does not exist."""


class Conflict(DomainError):
    """The request contradicts the current state of a record."""


class InvalidTransition(Conflict):
    """A business action that the current state does not allow."""

    def __init__(self, action: str, state: str, allowed: Sequence[str], *, why: str = "") -> None:
        """`state` is the record's status as its API shows it; `why` explains a refusal that the status
        alone does not (a time window that has passed)."""
        super().__init__(
            f"'{action}' is not allowed while the record is '{state}'" + (f": {why}" if why else ""),
            state=state,
            allowed_actions=sorted(allowed),
        )


class RuleViolation(DomainError):
    """Valid input that breaks a business rule."""

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail, **({"errors": [{"field": field, "reason": detail}]} if field else {}))

    @classmethod
    def of_fields(cls, errors: Sequence[tuple[str, str]]) -> RuleViolation:
        """One violation naming several fields: `[(field, reason), ...]`."""
        error = cls("; ".join(f"{name}: {reason}" for name, reason in errors))
        error.extensions["errors"] = [{"field": name, "reason": reason} for name, reason in errors]
        return error


class PreconditionFailed(DomainError):
    """A stale `If-Match` version."""


class PreconditionRequired(DomainError):
    """An update without `If-Match`: the client must say which version it changes."""


class Unauthenticated(DomainError):
    """No credentials, or credentials that do not verify."""


class Forbidden(DomainError):
    """Authenticated, but without a role that allows this."""


@dataclass(frozen=True)
class Problem:
    status: int
    title: str
    slug: str


PROBLEM_TABLE: dict[type[DomainError], Problem] = {
    NotFound: Problem(404, "Not found", "not-found"),
    InvalidTransition: Problem(409, "Action not allowed in this state", "invalid-transition"),
    Conflict: Problem(409, "Conflict", "conflict"),
    RuleViolation: Problem(422, "Business rule violated", "rule-violation"),
    PreconditionFailed: Problem(412, "Precondition failed", "precondition-failed"),
    PreconditionRequired: Problem(428, "Precondition required", "precondition-required"),
    Unauthenticated: Problem(401, "Unauthenticated", "unauthenticated"),
    Forbidden: Problem(403, "Forbidden", "forbidden"),
    DomainError: Problem(400, "Bad request", "bad-request"),
}


def problem_for(error: DomainError) -> Problem:
    for cls in type(error).__mro__:
        if cls in PROBLEM_TABLE:
            return PROBLEM_TABLE[cls]
    return PROBLEM_TABLE[DomainError]


def found(record: T | None, what: str) -> T:
    """Load-or-404: `found(await repo.get(change_id), f"change {change_id}")`."""
    if record is None:
        raise NotFound(f"{what} does not exist")
    return record


def check_version(what: str, version: int, expected: int | None) -> None:
    """Optimistic concurrency in a use case: PreconditionFailed (412) when the caller read `what`
    at another version than the one it is at now; `expected` None (no If-Match) checks nothing."""
    if expected is not None and expected != version:
        raise PreconditionFailed(f"{what} is at version {version}, not {expected}")
