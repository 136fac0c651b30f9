"""Complaint use cases (ISO/IEC 20000-1 7.1): receive a complaint, work it through its lifecycle,
escalate it to the customer's relationship manager, and link the records it concerns."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy.ext.asyncio import AsyncConnection

from services.incident import events
from services.incident.domain.complaints import (
    Complaint,
    ComplaintChannel,
    ComplaintLink,
    ComplaintLinkKind,
    ComplaintTargets,
)
from services.incident.store.complaints import ComplaintRepository, request_numbers
from services.incident.store.incident_queries import incident_numbers
from services.incident.store.known_changes import known_change_number
from shared import clock
from shared.errors import RuleViolation, check_version, found
from shared.uow import UnitOfWork


@dataclass(frozen=True)
class ReceiveComplaint:
    title: str
    complainant: str
    actor: str
    description: str = ""
    received_via: ComplaintChannel = ComplaintChannel.PORTAL
    category: str | None = None
    service_id: UUID | None = None
    relationship_manager: str | None = None


async def receive_complaint(cmd: ReceiveComplaint, targets: ComplaintTargets, uow: UnitOfWork) -> Complaint:
    async with uow:
        complaint = await receive_within(uow, cmd, targets)
        await uow.commit()
    return complaint


async def receive_within(
    uow: UnitOfWork, cmd: ReceiveComplaint, targets: ComplaintTargets, links: Sequence[ComplaintLink] = ()
) -> Complaint:
    """Receive a complaint in a unit of work already open (a low survey score opens one in the
    answer's own transaction), linked to `links` (already checked) from the start."""
    now = clock.now()
    complaint = Complaint.receive(
        complaint_id=uuid4(),
        title=cmd.title,
        description=cmd.description,
        complainant=cmd.complainant,
        received_via=cmd.received_via,
        actor=cmd.actor,
        now=now,
        targets=targets,
        category=cmd.category,
        service_id=cmd.service_id,
        relationship_manager=cmd.relationship_manager,
    )
    repo = ComplaintRepository(uow.connection)
    await repo.add_numbered(complaint)
    if links:
        read_version = complaint.version
        complaint.link(list(links), cmd.actor, now)
        await repo.save(complaint, read_version)
    uow.emit_pending(complaint, events.complaint_contract)
    return complaint


@dataclass(frozen=True)
class ActOnComplaint:
    complaint_id: UUID
    actor: str
    expected_version: int | None = None


async def _act(
    cmd: ActOnComplaint,
    uow: UnitOfWork,
    apply: Callable[[Complaint, datetime], None],
    *,
    before: Callable[[AsyncConnection], Awaitable[None]] | None = None,
) -> Complaint:
    """Apply one action in one transaction; `before` looks up what the action needs (on the same
    connection), once the complaint is found and its version checked: a 404 or 412 comes first."""
    async with uow:
        repo = ComplaintRepository(uow.connection)
        complaint = found(await repo.get(cmd.complaint_id, for_update=True), f"complaint {cmd.complaint_id}")
        check_version(complaint.number, complaint.version, cmd.expected_version)
        if before is not None:
            await before(uow.connection)
        read_version = complaint.version
        apply(complaint, clock.now())
        if complaint.version != read_version:
            await repo.save(complaint, read_version)
        uow.emit_pending(complaint, events.complaint_contract)
        await uow.commit()
    return complaint


# ---------------------------------------------------------------------------- the named actions
# Each is `_act` with its domain action; `cmd.actor` is who does it.


async def update_complaint(
    cmd: ActOnComplaint, uow: UnitOfWork, *, changes: dict[str, Any], reason: str = ""
) -> Complaint:
    return await _act(cmd, uow, lambda c, now: c.update(changes, cmd.actor, now, reason))


async def acknowledge_complaint(cmd: ActOnComplaint, uow: UnitOfWork, *, owner: str | None = None) -> Complaint:
    return await _act(cmd, uow, lambda c, now: c.acknowledge(cmd.actor, now, owner))


async def investigate_complaint(cmd: ActOnComplaint, uow: UnitOfWork, *, notes: str = "") -> Complaint:
    return await _act(cmd, uow, lambda c, now: c.investigate(cmd.actor, now, notes))


async def take_action(cmd: ActOnComplaint, uow: UnitOfWork, *, actions: str) -> Complaint:
    return await _act(cmd, uow, lambda c, now: c.take_action(actions, cmd.actor, now))


async def resolve_complaint(cmd: ActOnComplaint, uow: UnitOfWork, *, resolution: str) -> Complaint:
    return await _act(cmd, uow, lambda c, now: c.resolve(resolution, cmd.actor, now))


async def confirm_complaint(cmd: ActOnComplaint, uow: UnitOfWork, *, comment: str = "") -> Complaint:
    return await _act(cmd, uow, lambda c, now: c.confirm(cmd.actor, now, comment))


async def close_complaint(cmd: ActOnComplaint, uow: UnitOfWork, *, reason: str) -> Complaint:
    return await _act(cmd, uow, lambda c, now: c.close(reason, cmd.actor, now))


async def escalate_complaint(
    cmd: ActOnComplaint, uow: UnitOfWork, *, reason: str, relationship_manager: str | None = None
) -> Complaint:
    """To the relationship manager named now, else the one on the complaint (422 when neither)."""
    return await _act(cmd, uow, lambda c, now: c.escalate(reason, cmd.actor, now, relationship_manager))


async def reopen_complaint(cmd: ActOnComplaint, uow: UnitOfWork, *, reason: str) -> Complaint:
    return await _act(cmd, uow, lambda c, now: c.reopen(reason, cmd.actor, now))


@dataclass(frozen=True)
class Links:
    """The records to link, by id: each checked against what the service knows (suppliers excepted)."""

    incident_ids: Sequence[UUID] = ()
    request_ids: Sequence[UUID] = ()
    change_ids: Sequence[UUID] = ()
    supplier_ids: Sequence[UUID] = ()
    reason: str = ""


async def link_records(cmd: ActOnComplaint, uow: UnitOfWork, links: Links) -> Complaint:
    """Incidents and requests of this service, changes it has learnt from the change service's
    events (422 naming the field of any it does not know); suppliers are recorded unchecked."""
    checked: list[ComplaintLink] = []

    async def check(conn: AsyncConnection) -> None:
        checked.extend(await _checked_links(conn, links))

    def apply(complaint: Complaint, now: datetime) -> None:
        complaint.link(checked, cmd.actor, now, links.reason)

    return await _act(cmd, uow, apply, before=check)


async def _checked_links(conn: AsyncConnection, links: Links) -> list[ComplaintLink]:
    incidents = await incident_numbers(conn, links.incident_ids) if links.incident_ids else {}
    requests = await request_numbers(conn, links.request_ids)
    changes = {c: number for c in dict.fromkeys(links.change_ids) if (number := await known_change_number(conn, c))}
    given: list[tuple[str, ComplaintLinkKind, Sequence[UUID], dict[UUID, str] | None]] = [
        ("incident_ids", ComplaintLinkKind.INCIDENT, links.incident_ids, incidents),
        ("request_ids", ComplaintLinkKind.REQUEST, links.request_ids, requests),
        ("change_ids", ComplaintLinkKind.CHANGE, links.change_ids, changes),
        ("supplier_ids", ComplaintLinkKind.SUPPLIER, links.supplier_ids, None),
    ]
    errors = []
    for name, kind, ids, numbers in given:
        missing = [str(i) for i in ids if numbers is not None and i not in numbers]
        if missing:
            errors.append((name, f"no such {kind.value} known to the incident service: {', '.join(missing)}"))
    if errors:
        raise RuleViolation.of_fields(errors)
    return [
        ComplaintLink(kind, record_id, numbers[record_id] if numbers is not None else None)
        for _, kind, ids, numbers in given
        for record_id in dict.fromkeys(ids)
    ]
