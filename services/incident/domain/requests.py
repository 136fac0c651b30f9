"""Service requests as pure domain code (ISO/IEC 20000-1 8.1): the request record made from a
catalogue item, and its lifecycle table (no I/O)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Final
from uuid import UUID

from services.incident.domain.catalogue import CatalogueItem
from shared.errors import Forbidden, InvalidTransition, RuleViolation

ADMIN_ROLE: Final = "admin"


class RequestStatus(StrEnum):
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    IN_FULFILMENT = "in_fulfilment"
    FULFILLED = "fulfilled"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class RequestAction(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    START = "start"
    FULFIL = "fulfil"
    CLOSE = "close"
    CANCEL = "cancel"


S, A = RequestStatus, RequestAction
# The lifecycle as a table: status -> action -> the status it leads to.
TRANSITIONS: Final[dict[RequestStatus, dict[RequestAction, RequestStatus]]] = {
    S.SUBMITTED: {A.APPROVE: S.APPROVED, A.REJECT: S.REJECTED, A.START: S.IN_FULFILMENT, A.CANCEL: S.CANCELLED},
    S.APPROVED: {A.START: S.IN_FULFILMENT, A.CANCEL: S.CANCELLED},
    S.IN_FULFILMENT: {A.FULFIL: S.FULFILLED, A.CANCEL: S.CANCELLED},
    S.FULFILLED: {A.CLOSE: S.CLOSED},
    S.REJECTED: {},
    S.CLOSED: {},
    S.CANCELLED: {},
}
# From `submitted` the item decides the way: approve or reject when it needs approval, else
# start fulfilment straight away.
ONLY_WITH_APPROVAL: Final = frozenset({A.APPROVE, A.REJECT})
ONLY_WITHOUT_APPROVAL: Final = frozenset({A.START})


@dataclass(frozen=True)
class RequestSubmitted:
    request_id: UUID


@dataclass(frozen=True)
class RequestChanged:
    """An action changed the request; `changes` is field -> (old, new)."""

    request_id: UUID
    action: RequestAction
    actor: str
    previous_status: RequestStatus
    status: RequestStatus
    changes: dict[str, tuple[Any, Any]]
    reason: str


@dataclass
class ServiceRequest:
    id: UUID
    number: str
    title: str
    description: str
    catalogue_item_id: UUID
    catalogue_item: str
    service_id: UUID | None
    needs_approval: bool
    approver_role: str | None
    requester: str
    requested_for: str
    priority: int
    status: RequestStatus
    assignment_group: str
    submitted_at: datetime
    updated_at: datetime
    version: int = 1
    assignee: str | None = None
    approver: str | None = None
    decided_at: datetime | None = None
    fulfilment_started_at: datetime | None = None
    fulfilled_at: datetime | None = None
    fulfilment_notes: str = ""
    closed_at: datetime | None = None
    pending_events: list[RequestSubmitted | RequestChanged] = field(default_factory=list, compare=False, repr=False)

    @classmethod
    def submit(
        cls,
        *,
        request_id: UUID,
        item: CatalogueItem,
        title: str,
        description: str,
        requester: str,
        requested_for: str | None,
        priority: int | None,
        now: datetime,
    ) -> ServiceRequest:
        if not item.active:
            raise RuleViolation(f"catalogue item {item.name!r} is withdrawn", field="catalogue_item_id")
        chosen = item.default_priority if priority is None else priority
        if not 1 <= chosen <= 5:
            raise RuleViolation("priorities are 1 (critical) to 5 (planning)", field="priority")
        request = cls(
            id=request_id,
            number="",
            title=title.strip() or item.name,
            description=description,
            catalogue_item_id=item.id,
            catalogue_item=item.name,
            service_id=item.service_id,
            needs_approval=item.needs_approval,
            approver_role=item.approver_role,
            requester=requester,
            requested_for=(requested_for or "").strip() or requester,
            priority=chosen,
            status=RequestStatus.SUBMITTED,
            assignment_group=item.fulfilment_group,
            submitted_at=now,
            updated_at=now,
        )
        request.pending_events.append(RequestSubmitted(request_id))
        return request

    def allowed_actions(self) -> list[str]:
        return sorted(a.value for a in TRANSITIONS[self.status] if self._fits_item(a))

    def _fits_item(self, action: RequestAction) -> bool:
        if self.status is not RequestStatus.SUBMITTED:
            return True
        return action not in (ONLY_WITHOUT_APPROVAL if self.needs_approval else ONLY_WITH_APPROVAL)

    def _act(self, action: RequestAction, actor: str, now: datetime, reason: str = "", **values: Any) -> None:
        target = TRANSITIONS[self.status].get(action)
        if target is None or not self._fits_item(action):
            raise InvalidTransition(action.value, self.status.value, self.allowed_actions())
        changes: dict[str, tuple[Any, Any]] = {}
        if target is not self.status:
            changes["status"] = (self.status.value, target.value)
        for name, value in values.items():
            old = getattr(self, name)
            if old != value:
                changes[name] = (_plain(old), _plain(value))
                setattr(self, name, value)
        previous, self.status = self.status, target
        self.version += 1
        self.updated_at = now
        self.pending_events.append(RequestChanged(self.id, action, actor, previous, target, changes, reason))

    def _check_approver(self, action: RequestAction, approver: str, roles: Collection[str]) -> None:
        # Only checked when the action is allowed at all (a 409 says more than a 403 then).
        if TRANSITIONS[self.status].get(action) is None or not self._fits_item(action):
            raise InvalidTransition(action.value, self.status.value, self.allowed_actions())
        if approver in (self.requester, self.requested_for):
            raise Forbidden("separation of duties: nobody approves or rejects a request they made or is made for them")
        if ADMIN_ROLE not in roles and self.approver_role not in roles:
            raise Forbidden(f"approving {self.catalogue_item!r} needs the role {self.approver_role}")

    def approve(self, approver: str, roles: Collection[str], now: datetime, reason: str = "") -> None:
        self._check_approver(RequestAction.APPROVE, approver, roles)
        self._act(RequestAction.APPROVE, approver, now, reason, approver=approver, decided_at=now)

    def reject(self, approver: str, roles: Collection[str], now: datetime, reason: str) -> None:
        self._check_approver(RequestAction.REJECT, approver, roles)
        if not reason.strip():
            raise RuleViolation("say why the request is rejected", field="reason")
        self._act(RequestAction.REJECT, approver, now, reason, approver=approver, decided_at=now)

    def start(self, actor: str, now: datetime, assignee: str | None = None) -> None:
        self._act(RequestAction.START, actor, now, assignee=assignee or actor, fulfilment_started_at=now)

    def fulfil(self, actor: str, now: datetime, notes: str = "") -> None:
        self._act(RequestAction.FULFIL, actor, now, notes, fulfilled_at=now, fulfilment_notes=notes)

    def close(self, actor: str, now: datetime) -> None:
        self._act(RequestAction.CLOSE, actor, now, closed_at=now)

    def cancel(self, actor: str, now: datetime, reason: str) -> None:
        # Who may cancel (the requester, or an agent) is the service's authorisation table's rule.
        if not reason.strip():
            raise RuleViolation("say why the request is cancelled", field="reason")
        self._act(RequestAction.CANCEL, actor, now, reason)


def _plain(value: Any) -> Any:
    """A value as the history and the events record it (JSON-friendly)."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, StrEnum):
        return value.value
    return value
