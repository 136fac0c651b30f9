"""A customer's agreed SLA drives the clocks (ISO/IEC 20000-1 6.1): config publishes each agreed
version with its targets (`agreement.agreed.v1`); this service makes one incident policy per
service and priority it covers, for that customer's incidents (`Incident.customer_id`), and keeps
them in step with the version in force. A retired agreement's policies are removed: the
customer's incidents fall back to the service's or the default policy.

OLAs (agreements with an internal group) are not applied to the clocks here: they are recorded
in config and reported on, the clocks measure the customer's targets."""

from __future__ import annotations

from dataclasses import replace
from uuid import UUID, uuid4

from services.incident.domain.sla import SlaPolicy, TicketKind
from services.incident.store import sla as sla_store
from services.incident.store import sla_calendars
from shared import clock
from shared.errors import RuleViolation
from shared.events.agreement import AgreementAgreed, AgreementRetired, AgreementSuperseded
from shared.uow import UnitOfWork

NAME_MAX = 100


async def on_agreement_agreed(data: AgreementAgreed, uow: UnitOfWork) -> None:
    """Set the agreement's policies to the agreed version's targets (new ones made, changed ones
    replaced, those it no longer covers removed)."""
    if data.kind != "sla" or data.customer_id is None:
        return
    conn = uow.connection
    calendar_id = await sla_calendars.calendar_named(conn, data.calendar)
    if calendar_id is None:
        # Retried, then dead-lettered with this reason: create the calendar and replay the event.
        raise RuleViolation(f"{data.number} counts in calendar {data.calendar!r}, which this service does not have")
    now = clock.now()
    current: dict[tuple[UUID | None, int], SlaPolicy] = {
        (r.policy.service_id, r.policy.priority): r.policy
        for r in await sla_store.policies_of_agreement(conn, data.number)
    }
    wanted: set[tuple[UUID | None, int]] = set()
    for service_id in data.service_ids:
        for target in data.targets:
            key: tuple[UUID | None, int] = (service_id, target.priority)
            wanted.add(key)
            old = current.get(key)
            policy = _policy(
                data, service_id, target.priority, target.response_minutes, target.resolution_minutes, calendar_id, old
            )
            if old is None:
                await sla_store.add_policy(conn, policy, now)
            elif replace(policy, version=old.version) != old:
                await sla_store.replace_policy(conn, policy, old.version, now)
    for key, old in current.items():
        if key not in wanted:
            await sla_store.delete_policy(conn, old.id)


async def on_agreement_superseded(data: AgreementSuperseded, uow: UnitOfWork) -> None:
    """Nothing to undo: the newer version's `agreement.agreed.v1` set the policies."""


async def on_agreement_retired(data: AgreementRetired, uow: UnitOfWork) -> None:
    if data.kind != "sla":
        return
    for record in await sla_store.policies_of_agreement(uow.connection, data.number):
        await sla_store.delete_policy(uow.connection, record.policy.id)


def _policy(
    data: AgreementAgreed,
    service_id: UUID,
    priority: int,
    response_minutes: int,
    resolution_minutes: int,
    calendar_id: UUID,
    old: SlaPolicy | None,
) -> SlaPolicy:
    who = data.customer_name or str(data.customer_id)
    return SlaPolicy(
        id=old.id if old else uuid4(),
        name=f"{data.number} v{data.document_version} {who} P{priority}"[:NAME_MAX],
        ticket_kind=TicketKind.INCIDENT,
        service_id=service_id,
        priority=priority,
        response_s=response_minutes * 60,
        resolution_s=resolution_minutes * 60,
        calendar_id=calendar_id,
        warn_share=old.warn_share if old else 0.75,
        on_warning=old.on_warning if old else None,
        on_breach=old.on_breach if old else None,
        version=old.version + 1 if old else 1,
        customer_id=data.customer_id,
        agreement_number=data.number,
    )
