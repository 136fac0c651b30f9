"""Supplier attribution through the SQL the reports run, on PostgreSQL and on SQLite: one supplier,
two contracts whose coverage and term change over time (activated after its start, an amendment
moving a CI, a future start, a renewal, a termination) and eleven incidents, hand-sorted into
counted or not; applied shuffled, then rebuilt from the log.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from services.reporting.domain.report_filters import ReportFilters
from services.reporting.store import projections as store
from services.reporting.store import tables
from services.reporting.usecases import projections as usecases
from services.reporting.usecases import reports
from shared.events import CloudEvent, EventData, new_event
from shared.events.incident import IncidentCreated
from shared.events.supplier import (
    ContractActivated,
    ContractAmended,
    ContractRenewed,
    ContractTerminated,
    SupplierCreated,
)
from shared.uow import UnitOfWork

pytestmark = pytest.mark.asyncio(loop_scope="session")

T = datetime(2026, 10, 5, tzinfo=UTC)
D = timedelta(days=1)


def uid(name: str) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"itsm-test/attribution/{name}")


# Days after T; incidents carry no supplier unless said.
SUPPLIER, OTHER = uid("initech"), uid("umbrella")
C1, C2 = uid("c1"), uid("c2")
X, Y, SVC, ELSEWHERE = uid("ci-x"), uid("ci-y"), uid("svc"), uid("svc-elsewhere")
NOW = T + 5.2 * D

INCIDENTS: list[tuple[str, float, dict[str, Any], bool]] = [
    ("INC0000001", 0.5, {"ci_id": X}, False),  # C1 not yet activated (its term started on day 0)
    ("INC0000002", 2, {"ci_id": X}, True),  # C1 covers X
    ("INC0000003", 4, {"ci_id": X}, False),  # the amendment of day 3 took X out of C1
    ("INC0000004", 2, {"ci_id": Y}, False),  # ... and put Y in, from day 3
    ("INC0000005", 4, {"ci_id": Y}, True),
    ("INC0000006", 1, {"service_id": SVC}, False),  # C2 starts on day 2
    ("INC0000007", 4.5, {"service_id": SVC}, True),  # C2 ended on day 4, renewed to day 6 on day 3
    ("INC0000008", 5.5, {"service_id": SVC}, False),  # C2 terminated on day 5
    ("INC0000009", 2.5, {"service_id": SVC, "ci_id": X}, True),  # C1 by X and C2 by SVC: once
    ("INC0000010", 8, {"supplier_id": SUPPLIER, "service_id": ELSEWHERE}, True),  # assigned
    ("INC0000011", 2, {"supplier_id": OTHER, "ci_id": X}, True),  # assigned to another, on X: both
]


def _event(data: EventData, subject: uuid.UUID, at: datetime) -> CloudEvent:
    event_id = uid(f"{data.routing_key}/{subject}/{at}")
    return new_event(data, source="/itsm/x", subject=str(subject), time=at, event_id=event_id)


def attribution_events() -> list[CloudEvent]:
    def contract(cid: uuid.UUID, number: str, status: str, at: datetime) -> dict[str, Any]:
        return {
            "contract_id": cid,
            "number": number,
            "supplier_id": SUPPLIER,
            "status": status,
            "actor": "a",
            "occurred_at": at,
        }

    events = [
        _event(
            SupplierCreated(
                supplier_id=SUPPLIER, number="SUP1", name="Initech", category="services", status="active", created_at=T
            ),
            SUPPLIER,
            T,
        ),
        _event(
            ContractActivated(**contract(C1, "CTR1", "active", T + D), starts_on=T, ends_on=T + 10 * D, ci_ids=[X]),
            C1,
            T + D,
        ),
        _event(
            ContractAmended(
                **contract(C1, "CTR1", "active", T + 3 * D),
                amendment=1,
                reason="moved",
                changes={"ci_ids": [[str(X)], [str(Y)]]},
            ),
            C1,
            T + 3 * D,
        ),
        _event(
            ContractActivated(
                **contract(C2, "CTR2", "active", T), starts_on=T + 2 * D, ends_on=T + 4 * D, service_ids=[SVC]
            ),
            C2,
            T,
        ),
        _event(ContractRenewed(**contract(C2, "CTR2", "active", T + 3 * D), ends_on=T + 6 * D), C2, T + 3 * D),
        _event(ContractTerminated(**contract(C2, "CTR2", "terminated", T + 5 * D), reason="r"), C2, T + 5 * D),
    ]
    for number, day, where, _ in INCIDENTS:
        at = T + day * D
        incident_id = uid(number)
        created = IncidentCreated(
            incident_id=incident_id,
            number=number,
            title="t",
            impact=3,
            urgency=3,
            priority=4,
            caller="c",
            opened_at=at,
            **where,
        )
        events.append(_event(created, incident_id, at))
    return events


async def _report(engine: AsyncEngine, name: str, **filters: Any) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    async with engine.connect() as conn:
        produced = await reports.produce(conn, name, ReportFilters(**filters), now=NOW)
    return produced.rows, produced.totals


async def test_incidents_count_toward_the_supplier_whose_contract_covered_them_when_they_opened(
    engine: AsyncEngine,
) -> None:
    events = attribution_events()
    random.Random(3).shuffle(events)
    for i in range(0, len(events), 4):
        async with engine.begin() as conn:
            await usecases.project(conn, events[i : i + 4])
    counted = sum(1 for *_, yes in INCIDENTS if yes)

    rows, totals = await _report(engine, "suppliers")
    cards = {r["supplier_id"]: r for r in rows}
    assert (cards[str(SUPPLIER)]["incidents"], cards[str(SUPPLIER)]["active_contracts"]) == (counted, 1)  # C2 ended
    assert cards[str(OTHER)]["incidents"] == 1  # INC11, assigned to it
    assert totals["incidents"] == counted + 1

    _, totals = await _report(engine, "service-levels", supplier_id=SUPPLIER)
    assert totals["incidents"] == counted
    _, totals = await _report(engine, "incidents", supplier_id=SUPPLIER, start=T + 2 * D, end=T + 5 * D)
    assert totals["opened"] == 5  # INC2, INC5, INC7, INC9, INC11 (not INC3, INC4)
    rows, totals = await _report(engine, "hotspots", supplier_id=SUPPLIER)
    assert {r["ci_id"]: r["incidents"] for r in rows} == {str(X): 3, str(Y): 1}  # X: INC2, INC9, INC11
    assert totals["incidents_without_ci"] == 2  # INC7, INC10

    async with engine.connect() as conn:
        before = await store.projection_snapshot(conn)
    rebuilt = await usecases.rebuild(UnitOfWork(engine, tables.outbox, source="/itsm/reporting"), batch_size=5)
    assert rebuilt.events == len(events)
    async with engine.connect() as conn:
        assert await store.projection_snapshot(conn) == before
