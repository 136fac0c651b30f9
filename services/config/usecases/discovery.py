"""A discovery run: reconcile what a tool observed with the CMDB, in one transaction.

New items are created, uncontrolled CIs take the observed values (a new version only when
something differs, so a repeated run changes nothing), and a controlled CI that differs without
an approved change covering it is left as recorded: the difference becomes an unauthorised-change
finding, published once. Every item's outcome goes into the run's stored report.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

from services.config import events
from services.config.domain.discovery import (
    MAX_ITEMS,
    Ambiguous,
    IdentifierIndex,
    ItemReport,
    ObservedItem,
    ObservedRelationship,
    Outcome,
    RunReport,
    differences,
    observed_values,
)
from services.config.domain.items import Cause, ChangeWindow, CIStatus, ConfigItem, Criticality
from services.config.domain.relationships import Relationship, RelationshipType
from services.config.domain.types import CIType
from services.config.store.change_control import open_change_windows
from services.config.store.discovery import get_run, record_finding, save_run
from services.config.store.items import ConfigItemRepository
from services.config.store.relationships import RelationshipRepository
from services.config.store.types import TypeRepository
from shared import clock
from shared.errors import DomainError, RuleViolation
from shared.events.config import ConfigDiscoveryRunCompleted, ConfigItemUnauthorisedChangeDetected
from shared.numbering import format_number, next_numbers
from shared.uow import UnitOfWork


@dataclass(frozen=True)
class DiscoveryRun:
    source: str
    actor: str
    items: Sequence[ObservedItem]
    relationships: Sequence[ObservedRelationship] = ()


async def run_discovery(run: DiscoveryRun, uow: UnitOfWork) -> Any:
    """The run's row as stored, with its report (read in its transaction: the answer needs no second
    connection)."""
    if len(run.items) > MAX_ITEMS:
        raise RuleViolation(f"a run holds at most {MAX_ITEMS} items; split it", field="items")
    keys = [item.key for item in run.items]
    if len(set(keys)) != len(keys):
        raise RuleViolation("each observed item needs its own key", field="items")
    run_id = uuid4()
    report = RunReport(source=run.source, started_at=clock.now())
    cause = Cause("discovery", run.actor, f"{run.source}:{run_id}")
    async with uow:
        reconciler = _Reconciler(uow, run, run_id, report, cause)
        await reconciler.prepare()
        await reconciler.reconcile_items()
        await reconciler.reconcile_relationships()
        finished = clock.now()
        counts = report.counts()
        await save_run(
            uow.connection,
            {
                "id": run_id,
                "source": run.source,
                "actor": run.actor,
                "started_at": report.started_at,
                "finished_at": finished,
                "counts": counts,
                "report": _stored_report(report),
            },
        )
        uow.emit(
            ConfigDiscoveryRunCompleted(
                run_id=run_id, source=run.source, counts=counts, started_at=report.started_at, finished_at=finished
            ),
            subject=str(run_id),
        )
        stored = await get_run(uow.connection, run_id)
        await uow.commit()
    return stored


class _Reconciler:
    def __init__(self, uow: UnitOfWork, run: DiscoveryRun, run_id: UUID, report: RunReport, cause: Cause) -> None:
        self.uow = uow
        self.run = run
        self.run_id = run_id
        self.report = report
        self.cause = cause
        self.items = ConfigItemRepository(uow.connection)
        self.index = IdentifierIndex([])
        self.types: dict[str, CIType | None] = {}
        self.windows: list[ChangeWindow] = []
        self.by_key: dict[str, UUID] = {}

    async def prepare(self) -> None:
        wanted: dict[str, set[str]] = {}
        for observed in self.run.items:
            for kind, value in observed.identifier_values():
                wanted.setdefault(kind, set()).add(value)
        await self.items.lock_identifiers(wanted)
        self.index = IdentifierIndex(await self.items.matching(wanted))
        self.windows = await open_change_windows(self.uow.connection)
        types = TypeRepository(self.uow.connection)
        for name in {o.type for o in self.run.items}:
            self.types[name] = await types.get(name)

    async def reconcile_items(self) -> None:
        now = clock.now()
        to_create: list[tuple[ObservedItem, CIType]] = []
        updated: list[tuple[ConfigItem, dict[str, Any]]] = []
        updated_by: dict[UUID, str] = {}  # CI -> the key of the item that updated it in this run
        seen: list[UUID] = []
        for observed in self.run.items:
            try:
                match = self.index.match(observed)
            except Ambiguous as exc:
                self.report.items.append(ItemReport(observed.key, Outcome.ERROR, detail=str(exc)))
                continue
            if match is None:
                ci_type = self.types.get(observed.type)
                if ci_type is None:
                    self.report.items.append(
                        ItemReport(observed.key, Outcome.ERROR, detail=f"there is no CI type {observed.type!r}")
                    )
                    continue
                to_create.append((observed, ci_type))
                continue
            seen.append(match.id)
            self.by_key[observed.key] = match.id
            values = observed_values(match, observed)
            if not values:
                self.report.items.append(ItemReport(observed.key, Outcome.UNCHANGED, match.id, match.number))
                continue
            if (earlier := updated_by.get(match.id)) is not None:
                # One version per CI and run: a second update would be saved over a stale version.
                detail = f"the same CI as item {earlier!r} of this run, with other values; the first is kept"
                self.report.items.append(ItemReport(observed.key, Outcome.ERROR, match.id, match.number, detail))
                continue
            if match.controlled and not any(w.authorises(match.id, now) is None for w in self.windows):
                await self._unauthorised(observed, match, differences(match, values), now)
                continue
            try:
                ci_type = self.types.get(match.ci_type) or await TypeRepository(self.uow.connection).get(match.ci_type)
                assert ci_type is not None
                changes = match.update(values, ci_type, now=now, cause=self.cause)
            except DomainError as exc:
                self.report.items.append(ItemReport(observed.key, Outcome.ERROR, match.id, match.number, exc.detail))
                continue
            updated.append((match, changes))
            updated_by[match.id] = observed.key
            self.report.items.append(ItemReport(observed.key, Outcome.UPDATED, match.id, match.number, changes=changes))
        await self.items.save_many(updated, self.cause)
        for item, _ in updated:
            self.uow.emit_pending(item, events.to_contract)
        created = await self._create(to_create, now)
        await self.items.mark_seen([*seen, *(c.id for c in created)], now, self.run.source)

    async def _create(self, to_create: list[tuple[ObservedItem, CIType]], now: Any) -> list[ConfigItem]:
        numbers = iter(await next_numbers(self.uow.connection, "ci", len(to_create)))
        created: list[ConfigItem] = []
        for observed, ci_type in to_create:
            # An item seen twice in one run (same identifiers, another key) is the one just created.
            if (earlier := self.index.match(observed)) is not None:
                self.by_key[observed.key] = earlier.id
                self.report.items.append(ItemReport(observed.key, Outcome.UNCHANGED, earlier.id, earlier.number))
                continue
            try:
                item = ConfigItem.register(
                    ci_id=uuid4(),
                    number=format_number("CI", next(numbers)),
                    name=observed.name,
                    ci_type=ci_type,
                    status=CIStatus.LIVE,
                    criticality=Criticality.MEDIUM,
                    owner=None,
                    attributes=observed.attributes,
                    identifiers=observed.identifiers,
                    product_version=observed.product_version,
                    now=now,
                    cause=self.cause,
                )
            except DomainError as exc:
                self.report.items.append(ItemReport(observed.key, Outcome.ERROR, detail=exc.detail))
                continue
            self.index.add(item)
            self.by_key[observed.key] = item.id
            created.append(item)
            self.report.items.append(ItemReport(observed.key, Outcome.CREATED, item.id, item.number))
        await self.items.add_many(created, self.cause)
        for item in created:
            self.uow.emit_pending(item, events.to_contract)
        return created

    async def _unauthorised(
        self, observed: ObservedItem, item: ConfigItem, found: dict[str, dict[str, Any]], now: Any
    ) -> None:
        fingerprint = hashlib.sha256(
            json.dumps([str(item.id), found], sort_keys=True, default=str).encode()
        ).hexdigest()
        finding_id = uuid4()
        fresh = await record_finding(
            self.uow.connection,
            {
                "id": finding_id,
                "ci_id": item.id,
                "run_id": self.run_id,
                "source": self.run.source,
                "detected_at": now,
                "differences": found,
                "fingerprint": fingerprint,
            },
        )
        detail = "a controlled CI differs with no approved change covering it" + ("" if fresh else " (known)")
        self.report.items.append(ItemReport(observed.key, Outcome.UNAUTHORISED, item.id, item.number, detail, found))
        if fresh:
            self.uow.emit(
                ConfigItemUnauthorisedChangeDetected(
                    finding_id=finding_id,
                    ci_id=item.id,
                    number=item.number,
                    name=item.name,
                    criticality=int(item.criticality),
                    source=self.run.source,
                    run_id=self.run_id,
                    differences=found,
                    detected_at=now,
                ),
                subject=str(item.id),
            )

    async def reconcile_relationships(self) -> None:
        relationships = RelationshipRepository(self.uow.connection)
        now = clock.now()
        wanted: list[tuple[UUID, RelationshipType, UUID]] = []
        for observed in self.run.relationships:
            source, target = self.by_key.get(observed.source_key), self.by_key.get(observed.target_key)
            if source is None or target is None:
                missing = observed.source_key if source is None else observed.target_key
                self.report.relationship_errors.append(f"{missing}: no CI for this key in the run")
                continue
            try:
                kind = RelationshipType(observed.type)
            except ValueError:
                self.report.relationship_errors.append(f"{observed.type}: not a relationship type")
                continue
            if kind is RelationshipType.SUPPORTED_BY or source == target:
                self.report.relationship_errors.append(f"{observed.source_key} {observed.type}: not between two CIs")
                continue
            wanted.append((source, kind, target))
        # Those already recorded in one query, not one each; one observed twice is added once.
        known = await relationships.existing(wanted)
        added: list[Relationship] = []
        for source, kind, target in wanted:
            if (source, kind.value, target) in known:
                continue
            known.add((source, kind.value, target))
            relationship = Relationship.link(
                relationship_id=uuid4(), source_id=source, kind=kind, target_id=target, now=now
            )
            added.append(relationship)
            self.uow.emit(events.relationship_changed(relationship, "added", self.cause, now), subject=str(source))
            self.report.relationships_added += 1
        await relationships.add_many(added, self.cause)


def _stored_report(report: RunReport) -> dict[str, Any]:
    # Unchanged items are only counted: a nightly run of 10,000 mostly-unchanged hosts stays small.
    return {
        "items": [
            {
                "key": i.key,
                "outcome": i.outcome.value,
                "ci_id": str(i.ci_id) if i.ci_id else None,
                "number": i.number,
                "detail": i.detail,
                "changes": i.changes,
            }
            for i in report.items
            if i.outcome is not Outcome.UNCHANGED
        ],
        "relationship_errors": report.relationship_errors,
    }
