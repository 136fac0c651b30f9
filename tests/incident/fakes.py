"""In-memory fakes of the incident service's repositories, for use-case tests without a database."""

from __future__ import annotations

import copy
import itertools
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, TypeVar
from uuid import UUID

from services.incident.domain.catalogue import CatalogueItem
from services.incident.domain.incident_lifecycle import IncidentChanged, IncidentStatus
from services.incident.domain.incidents import Incident
from services.incident.domain.priority import AffectedCI
from services.incident.domain.requests import RequestChanged, ServiceRequest
from services.incident.domain.sla import SlaPolicy, TicketKind
from services.incident.domain.sla_calendars import BusinessCalendar
from services.incident.domain.timeline import Note
from services.incident.store.catalogue import CatalogueRepository
from services.incident.store.incidents import IdempotencyKeys, IncidentRepository, KnownCIs
from services.incident.store.requests import RequestRepository
from services.incident.store.sla import SlaClockRepository, StoredClock
from shared.errors import PreconditionFailed, RuleViolation
from shared.history import history_rows
from shared.idempotency import HEADER, IdempotentCreate, Replay, StoredResponse
from shared.numbering import format_number
from shared.testing import FakeRepository, FakeUnitOfWork, InMemoryEventSink, InMemoryTable

T = TypeVar("T")


class FakeIncidentRepository(FakeRepository):
    """Incidents by id as the database would hold them (what was saved, without pending events),
    with the field history and the notes written."""

    def __init__(self, *incidents: Incident) -> None:
        self.rows: InMemoryTable[UUID, Incident] = InMemoryTable({i.id: _stored(i) for i in incidents})
        self.history: InMemoryTable[int, dict[str, Any]] = InMemoryTable()
        self.notes: InMemoryTable[int, Note] = InMemoryTable()
        # A sequence: numbers are never given back, even by a rollback (as PostgreSQL's).
        self._numbers = itertools.count(len(incidents) + 1)
        self._row_ids = itertools.count(1)

    async def next_number(self) -> int:
        return next(self._numbers)

    async def add(self, item: Incident) -> None:
        if item.id in self.rows:
            raise AssertionError(f"incident {item.id} is added twice")
        self.rows.put(item.id, _stored(item))

    async def add_numbered(self, item: Incident) -> None:
        item.number = format_number("INC", await self.next_number())
        await self.add(item)

    async def get(self, incident_id: UUID, *, for_update: bool = False) -> Incident | None:
        return self.rows.get(incident_id)

    async def id_of_number(self, number: str) -> UUID | None:
        return next((i.id for i in self.rows.values() if i.number == number), None)

    async def lock_available(self, incident_ids: Collection[UUID]) -> dict[UUID, Incident]:
        found = {i: self.rows.get(i) for i in incident_ids}
        return {i: incident for i, incident in found.items() if incident is not None}

    async def save(self, item: Incident, expected_version: int) -> None:
        stored = self.rows.get(item.id)
        if stored is None or stored.version != expected_version:
            raise PreconditionFailed(f"{item.number} was changed by someone else meanwhile; read it again")
        self.rows.put(item.id, _stored(item))
        changed = [e for e in item.pending_events if isinstance(e, IncidentChanged)]
        for row in history_rows("incident_id", item.id, item.version, item.updated_at, changed):
            self.history.put(next(self._row_ids), row)

    async def add_note(self, note: Note) -> int:
        row_id = next(self._row_ids)
        self.notes.put(row_id, note)
        return row_id

    async def claim_resolved_before(self, cutoff: datetime, limit: int) -> list[Incident]:
        found = [
            i
            for i in self.rows.values()
            if i.status is IncidentStatus.RESOLVED
            and i.resolved_at is not None
            and i.resolved_at <= cutoff
            and (not i.major or i.review is not None)
        ]
        return sorted(found, key=lambda i: (i.resolved_at, i.id))[:limit]

    def history_of(self, incident_id: UUID) -> list[tuple[str, str]]:
        """(action, field) of each history row of the incident, in the order written."""
        return [(r["action"], r["field"]) for r in self.history.values() if r["incident_id"] == incident_id]


def _stored(item: Incident) -> Incident:
    """What reading the incident back gives: its state, none of its unpublished events."""
    stored = copy.deepcopy(item)
    stored.pending_events.clear()
    return stored


class FakeKnownCIs:
    """The CI read model: the CIs config told us about."""

    def __init__(self, *cis: AffectedCI) -> None:
        self.cis = {c.id: c for c in cis}

    async def affected_ci(self, ci_id: UUID) -> AffectedCI | None:
        return self.cis.get(ci_id)


class FakeIdempotencyKeys(FakeRepository):
    """Idempotency keys by (scope, key): the request's fingerprint and the response remembered.
    Keys do not expire here (the expiry is the real store's, tested against the database)."""

    def __init__(self) -> None:
        self.keys: InMemoryTable[tuple[str, str], tuple[str, StoredResponse | None]] = InMemoryTable()

    async def claim(self, once: IdempotentCreate[Any]) -> Replay | None:
        found = self.keys.get((once.scope, once.key))
        if found is None:
            self.keys.put((once.scope, once.key), (once.fingerprint, None))
            return None
        fingerprint, stored = found
        if fingerprint != once.fingerprint:
            raise RuleViolation(f"the {HEADER} {once.key!r} was used with another request body", field=HEADER)
        assert stored is not None, "claimed and not remembered: the first create did not finish"
        return Replay(stored)

    async def remember(self, once: IdempotentCreate[T], result: T) -> None:
        self.keys.put((once.scope, once.key), (once.fingerprint, once.render(result)))


class FakeSlaClockRepository(FakeRepository):
    """SLA policies with their calendars, and the clocks of each ticket."""

    def __init__(self, policies: Iterable[SlaPolicy] = (), calendars: dict[UUID, BusinessCalendar] | None = None):
        self.policies = list(policies)
        self.calendars = dict(calendars or {})
        self.clocks: InMemoryTable[int, StoredClock] = InMemoryTable()
        self._row_ids = itertools.count(1)

    async def clocks_of(self, ticket_id: UUID, *, for_update: bool = False) -> list[StoredClock]:
        found = [c for c in self.clocks.values() if c.ticket.id == ticket_id]
        return sorted(found, key=lambda c: c.clock.target.value, reverse=True)

    async def policies_and_calendars(
        self,
        kind: TicketKind,
        priority: int,
        service_id: UUID | None,
        extra_policy_ids: Iterable[UUID],
        customer_id: UUID | None = None,
    ) -> tuple[list[SlaPolicy], dict[UUID, BusinessCalendar]]:
        extra = set(extra_policy_ids)
        found = [
            p
            for p in self.policies
            if p.id in extra
            or (
                p.ticket_kind is kind
                and p.priority == priority
                and p.service_id in (None, service_id)
                and p.customer_id in (None, customer_id)
            )
        ]
        return found, {p.calendar_id: self.calendars[p.calendar_id] for p in found}

    async def save_clocks(self, clocks: Sequence[StoredClock]) -> None:
        for stored in clocks:
            row_id = stored.row_id if stored.row_id is not None else next(self._row_ids)
            self.clocks.put(row_id, replace(stored, row_id=row_id))

    def clocks_of_ticket(self, ticket_id: UUID) -> dict[str, StoredClock]:
        """The ticket's stored clocks by target ("response", "resolution")."""
        return {c.clock.target.value: c for c in self.clocks.values() if c.ticket.id == ticket_id}


class FakeRequestRepository(FakeRepository):
    """Service requests by id as saved, with their field history."""

    def __init__(self) -> None:
        self.rows: InMemoryTable[UUID, ServiceRequest] = InMemoryTable()
        self.history: InMemoryTable[int, dict[str, Any]] = InMemoryTable()
        self._numbers = itertools.count(1)
        self._row_ids = itertools.count(1)

    async def add_numbered(self, request: ServiceRequest) -> None:
        request.number = format_number("REQ", next(self._numbers))
        self.rows.put(request.id, _stored_request(request))

    async def get(self, request_id: UUID, *, for_update: bool = False) -> ServiceRequest | None:
        return self.rows.get(request_id)

    async def save(self, request: ServiceRequest, expected_version: int) -> None:
        stored = self.rows.get(request.id)
        if stored is None or stored.version != expected_version:
            raise PreconditionFailed(f"{request.number} was changed by someone else meanwhile; read it again")
        self.rows.put(request.id, _stored_request(request))
        changed = [e for e in request.pending_events if isinstance(e, RequestChanged)]
        for row in history_rows("request_id", request.id, request.version, request.updated_at, changed):
            self.history.put(next(self._row_ids), row)


def _stored_request(request: ServiceRequest) -> ServiceRequest:
    stored = copy.deepcopy(request)
    stored.pending_events.clear()
    return stored


class FakeCatalogueRepository:
    """The request catalogue: its items, changed at `changed_at`."""

    def __init__(self, *items: CatalogueItem, changed_at: datetime) -> None:
        self.items = {i.id: i for i in items}
        self.changed_at = changed_at

    async def get(self, item_id: UUID) -> tuple[CatalogueItem, datetime] | None:
        item = self.items.get(item_id)
        return (item, self.changed_at) if item else None


@dataclass
class IncidentFakes:
    """A fake unit of work over the incident service's fake repositories, and its sink."""

    uow: FakeUnitOfWork
    incidents: FakeIncidentRepository
    clocks: FakeSlaClockRepository
    keys: FakeIdempotencyKeys
    requests: FakeRequestRepository
    sink: InMemoryEventSink


def fake_unit_of_work(
    *incidents: Incident,
    cis: Iterable[AffectedCI] = (),
    policies: Iterable[SlaPolicy] = (),
    calendars: dict[UUID, BusinessCalendar] | None = None,
    catalogue: Iterable[CatalogueItem] = (),
) -> IncidentFakes:
    """A fake unit of work over these incidents, known CIs, SLA policies (on `calendars`) and
    catalogue items (service requests start with none)."""
    repo = FakeIncidentRepository(*incidents)
    clocks = FakeSlaClockRepository(policies, calendars)
    keys = FakeIdempotencyKeys()
    requests = FakeRequestRepository()
    sink = InMemoryEventSink()
    uow = FakeUnitOfWork(
        {
            IncidentRepository: repo,
            KnownCIs: FakeKnownCIs(*cis),
            IdempotencyKeys: keys,
            SlaClockRepository: clocks,
            RequestRepository: requests,
            CatalogueRepository: FakeCatalogueRepository(*catalogue, changed_at=datetime(2026, 1, 1, tzinfo=UTC)),
        },
        sink=sink,
        source="incident",
    )
    return IncidentFakes(uow, repo, clocks, keys, requests, sink)
