"""In-memory fakes of the change service's repositories, for use-case tests without a database."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from datetime import datetime
from uuid import UUID

from services.change.domain.changes import Change, ChangeStatus, IncidentLink
from services.change.domain.continuity import ContinuityImpact
from services.change.domain.maintenance import MaintenanceWindow
from services.change.domain.schedule import Blackout, Slot
from services.change.store.changes import ChangeRepository, KnownCIs
from services.change.store.continuity import ContinuityRepository
from services.change.store.schedule import ON_THE_SCHEDULE, ScheduleRepository
from shared.ci_read_model import CIRecord
from shared.errors import PreconditionFailed
from shared.testing import FakeRepository, FakeUnitOfWork, InMemoryEventSink, InMemoryTable

FINISHED = {ChangeStatus.IMPLEMENTED, ChangeStatus.FAILED, ChangeStatus.REVIEWED, ChangeStatus.CLOSED}


class FakeChangeRepository(FakeRepository):
    """Changes by id, as the database would hold them: what was saved, without pending events."""

    def __init__(self, *changes: Change) -> None:
        self.rows: InMemoryTable[UUID, Change] = InMemoryTable({c.id: _stored(c) for c in changes})
        self._numbers = len(changes)

    async def next_number(self) -> int:
        self._numbers += 1
        return self._numbers

    async def add(self, item: Change) -> None:
        if item.id in self.rows:
            raise AssertionError(f"change {item.id} is added twice")
        self.rows.put(item.id, _stored(item))

    async def save(self, item: Change, expected_version: int) -> None:
        stored = self.rows.get(item.id)
        if stored is None or stored.version != expected_version:
            raise PreconditionFailed(f"{item.number} was changed by someone else meanwhile; read it again")
        self.rows.put(item.id, _stored(item))

    async def get(self, change_id: UUID, *, for_update: bool = False) -> Change | None:
        return self.rows.get(change_id)

    async def exists(self, change_id: UUID) -> bool:
        return change_id in self.rows

    async def link_incident(self, change_id: UUID, link: IncidentLink) -> None:
        item = self.rows.get(change_id)
        assert item is not None, "the real one links only changes that exist (a foreign key)"
        if all(i.incident_id != link.incident_id for i in item.incidents):
            item.incidents = tuple(sorted((*item.incidents, link), key=lambda i: (i.linked_at, i.incident_number)))
            self.rows.put(change_id, item)

    async def recent_history(self, ci_ids: Sequence[UUID], since: datetime, *, exclude: UUID) -> tuple[int, int]:
        found = [
            c
            for c in self.rows.values()
            if c.id != exclude
            and c.status in FINISHED
            and c.updated_at >= since
            and set(ci_ids) & set(c.affected_ci_ids)
        ]
        return len(found), sum(1 for c in found if c.failed_at is not None)


def _stored(item: Change) -> Change:
    """What reading the change back gives: its state, none of its unpublished events."""
    stored = copy.deepcopy(item)
    stored.pending_events.clear()
    return stored


class FakeKnownCIs:
    """The CI read model: the CIs config told us about."""

    def __init__(self, *records: CIRecord) -> None:
        self.records = {r.id: r for r in records}

    async def get_many(self, ci_ids: Sequence[UUID]) -> dict[UUID, CIRecord]:
        return {i: self.records[i] for i in ci_ids if i in self.records}

    async def is_empty(self) -> bool:
        return not self.records


class FakeScheduleRepository(FakeRepository):
    """The schedule around a change: the changes of `changes` on the schedule, blackouts, CI
    relationships (source, target) and the services' maintenance windows."""

    def __init__(
        self,
        changes: FakeChangeRepository,
        *,
        blackouts: Iterable[Blackout] = (),
        relationships: Iterable[tuple[UUID, UUID]] = (),
        windows: Iterable[MaintenanceWindow] = (),
    ) -> None:
        self._changes = changes
        self.blackouts: InMemoryTable[UUID, Blackout] = InMemoryTable({b.id: b for b in blackouts})
        self._relationships = set(relationships)
        self._windows = list(windows)

    async def related_cis(self, ci_ids: Iterable[UUID], depth: int) -> dict[UUID, frozenset[UUID]]:
        related = {}
        for root in set(ci_ids):
            around, edge = {root}, {root}
            for _ in range(depth):
                edge = {b for a, b in self._pairs() if a in edge} - around
                around |= edge
            related[root] = frozenset(around - {root})
        return related

    def _pairs(self) -> set[tuple[UUID, UUID]]:
        return self._relationships | {(b, a) for a, b in self._relationships}

    async def slots_touching(self, ci_ids: Iterable[UUID], start: datetime, end: datetime) -> list[Slot]:
        wanted = set(ci_ids)
        slots = [
            Slot(c.id, c.number, c.planned_start, c.planned_end, frozenset(wanted & set(c.affected_ci_ids)))
            for c in self._changes.rows.values()
            if c.status.value in ON_THE_SCHEDULE
            and c.planned_start is not None
            and c.planned_end is not None
            and c.planned_start < end
            and c.planned_end > start
            and wanted & set(c.affected_ci_ids)
        ]
        return sorted(slots, key=lambda s: s.start)

    async def blackouts_between(self, start: datetime, end: datetime) -> list[Blackout]:
        return sorted((b for b in self.blackouts.values() if b.start < end and b.end > start), key=lambda b: b.start)

    async def maintenance_windows(self, service_ids: Iterable[UUID]) -> dict[UUID, list[MaintenanceWindow]]:
        wanted = set(service_ids)
        found: dict[UUID, list[MaintenanceWindow]] = {}
        for window in self._windows:
            if window.service_id in wanted:
                found.setdefault(window.service_id, []).append(window)
        return found

    async def add_blackout(self, blackout: Blackout, *, actor: str, now: datetime) -> None:
        self.blackouts.put(blackout.id, blackout)


class FakeContinuity(FakeRepository):
    """The services continuity plans cover (none unless a test adds them) and the stated impacts."""

    def __init__(self, covered: Iterable[UUID] = ()) -> None:
        self.covered = set(covered)
        self.impacts: dict[UUID, ContinuityImpact] = {}

    async def covered_services(self) -> set[UUID]:
        return set(self.covered)

    async def record_plan(self, plan_id: UUID, version: int, service_ids: list[UUID], now: datetime) -> None:
        self.covered |= set(service_ids)

    async def impact_of(self, change_id: UUID) -> ContinuityImpact | None:
        return self.impacts.get(change_id)

    async def state_impact(self, change_id: UUID, impact: ContinuityImpact, actor: str, now: datetime) -> None:
        self.impacts[change_id] = impact


def fake_unit_of_work(
    *changes: Change,
    cis: Iterable[CIRecord] = (),
    blackouts: Iterable[Blackout] = (),
    relationships: Iterable[tuple[UUID, UUID]] = (),
) -> tuple[FakeUnitOfWork, FakeChangeRepository, InMemoryEventSink]:
    """A fake unit of work over these changes, CIs and blackouts; its change repository; its sink."""
    repo = FakeChangeRepository(*changes)
    schedule = FakeScheduleRepository(repo, blackouts=blackouts, relationships=relationships)
    sink = InMemoryEventSink()
    uow = FakeUnitOfWork(
        {
            ChangeRepository: repo,
            KnownCIs: FakeKnownCIs(*cis),
            ScheduleRepository: schedule,
            ContinuityRepository: FakeContinuity(),
        },
        sink=sink,
        source="change",
    )
    return uow, repo, sink
